/* queue_time.c - the times play --start takes: seconds, M:SS or H:MM:SS,
 * each with an optional fraction. */
#include <string.h>

#include "queue_time.h"

/* most fraction digits read (milliseconds) */
#define QUEUE_TIME_FRACTION_DIGITS 3
/* most ':'-separated fields: hours, minutes, seconds */
#define QUEUE_TIME_MAX_FIELDS 3

int
queue_time_parse(const char *text, long *ms)
{
	long fields[QUEUE_TIME_MAX_FIELDS], frac = 0, total = 0;
	size_t nfields = 0;
	const char *p = text;

	for (;;) {
		long v = 0;
		size_t digits = 0;

		if (nfields == QUEUE_TIME_MAX_FIELDS)
			return -1;
		while (*p >= '0' && *p <= '9') {
			if (v > QUEUE_MAX_START_S)
				return -1;
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0)
			return -1;
		/* a minute or second field after a ':' is below 60 */
		if (nfields > 0 && (digits > 2 || v >= 60))
			return -1;
		fields[nfields++] = v;
		if (*p != ':')
			break;
		p++;
	}
	if (*p == '.') {
		size_t digits = 0;
		long scale = 100;

		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits < QUEUE_TIME_FRACTION_DIGITS)
				frac += (*p - '0') * scale;
			scale /= 10;
		}
		if (digits == 0)
			return -1;
	}
	if (*p != '\0')
		return -1;
	for (size_t i = 0; i < nfields; i++)
		total = total * 60 + fields[i];
	if (total > QUEUE_MAX_START_S)
		return -1;
	*ms = total * 1000 + frac;
	return 0;
}

size_t
queue_segment_at(const struct playlist *pl, long ms, long *into_ms)
{
	long at = 0;

	for (size_t i = 0; i < pl->count; i++) {
		if (ms < at + pl->segs[i].duration_ms || i + 1 == pl->count) {
			*into_ms = ms - at;
			return i;
		}
		at += pl->segs[i].duration_ms;
	}
	*into_ms = 0;
	return 0;
}

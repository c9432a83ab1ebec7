/* lograte.c - refusals logged at most once per interval per reason and
 * source, with a count of what was folded. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "p2pm/clock.h"
#include "p2pm/lograte.h"

/* what a line that folds others ends with; and a line that only tells
 * the count of a reason gone quiet, repeating its last line */
#define LOGRATE_FOLDED_FMT "%s (and %lu more like it since the last such line)"
#define LOGRATE_QUIET_FMT "%s (repeated %lu more time(s) since it was logged)"

/* A line to be written once the lock is let go. */
struct lograte_out {
	enum log_level level;
	char line[LOGRATE_LINE_MAX + 96];	/* and the count */
};

void
lograte_init(struct lograte *lr)
{
	memset(lr->slot, 0, sizeof(lr->slot));
	pthread_mutex_init(&lr->lock, NULL);
}

static void
lograte_write(const struct lograte_out *o)
{
	switch (o->level) {
	case LOG_LEVEL_ERROR:
		log_error("%s", o->line);
		break;
	case LOG_LEVEL_WARN:
		log_warn("%s", o->line);
		break;
	case LOG_LEVEL_INFO:
		log_info("%s", o->line);
		break;
	case LOG_LEVEL_DEBUG:
	default:
		log_debug("%s", o->line);
		break;
	}
}

/* Moves the count of slot s into out (its last line, with the count) and
 * clears it. */
static void
lograte_take_folded(struct lograte_slot *s, struct lograte_out *out)
{
	out->level = s->level;
	snprintf(out->line, sizeof(out->line), LOGRATE_QUIET_FMT, s->line, s->folded);
	s->folded = 0;
}

void
lograte_destroy(struct lograte *lr)
{
	struct lograte_out out;

	for (size_t i = 0; i < LOGRATE_SLOTS; i++) {
		struct lograte_slot *s = &lr->slot[i];
		if (s->logged_ms != 0 && s->folded > 0) {
			lograte_take_folded(s, &out);
			lograte_write(&out);
		}
	}
	pthread_mutex_destroy(&lr->lock);
}

/* The slot of reason and source (cut to their bounds), or the one to take
 * for them: a free one, else the one logged longest ago (its count, if
 * any, goes to evicted, and *nevicted is set). Lock held. */
static struct lograte_slot *
lograte_find(struct lograte *lr, const char *reason, const char *source,
    struct lograte_out *evicted, int *nevicted)
{
	struct lograte_slot *free_slot = NULL, *oldest = NULL;

	for (size_t i = 0; i < LOGRATE_SLOTS; i++) {
		struct lograte_slot *s = &lr->slot[i];
		if (s->logged_ms == 0) {
			if (free_slot == NULL)
				free_slot = s;
			continue;
		}
		if (strncmp(s->reason, reason, LOGRATE_REASON_MAX) == 0 &&
		    strncmp(s->source, source, LOGRATE_SOURCE_MAX) == 0)
			return s;
		if (oldest == NULL || s->logged_ms < oldest->logged_ms)
			oldest = s;
	}
	if (free_slot == NULL) {
		free_slot = oldest;
		if (free_slot->folded > 0) {
			lograte_take_folded(free_slot, evicted);
			*nevicted = 1;
		}
	}
	memset(free_slot, 0, sizeof(*free_slot));
	snprintf(free_slot->reason, sizeof(free_slot->reason), "%s", reason);
	snprintf(free_slot->source, sizeof(free_slot->source), "%s", source);
	return free_slot;
}

void
lograte_log(struct lograte *lr, enum log_level level, const char *reason,
    const char *source, const char *fmt, ...)
{
	struct lograte_out out[LOGRATE_FLUSH_MAX + 2];
	struct lograte_slot *s;
	long long now = clock_now_ms();
	int n = 0, evicted = 0;
	va_list ap;

	/* below the level nothing would be printed: nothing to count either */
	if (level > log_get_level())
		return;
	if (now <= 0)
		now = 1;
	pthread_mutex_lock(&lr->lock);
	s = lograte_find(lr, reason, source, &out[0], &evicted);
	n = evicted;
	if (s->logged_ms != 0 && now - s->logged_ms < LOGRATE_INTERVAL_MS) {
		s->folded++;
	} else {
		s->level = level;
		va_start(ap, fmt);
		vsnprintf(s->line, sizeof(s->line), fmt, ap);
		va_end(ap);
		out[n].level = level;
		if (s->folded > 0)
			snprintf(out[n].line, sizeof(out[n].line), LOGRATE_FOLDED_FMT,
			    s->line, s->folded);
		else
			snprintf(out[n].line, sizeof(out[n].line), "%s", s->line);
		n++;
		s->folded = 0;
		s->logged_ms = now;
	}
	/* reasons gone quiet with a count not yet told */
	for (size_t i = 0; i < LOGRATE_SLOTS && n < LOGRATE_FLUSH_MAX + 2; i++) {
		struct lograte_slot *q = &lr->slot[i];
		if (q != s && q->logged_ms != 0 && q->folded > 0 &&
		    now - q->logged_ms >= LOGRATE_INTERVAL_MS) {
			lograte_take_folded(q, &out[n++]);
			q->logged_ms = now;
		}
	}
	pthread_mutex_unlock(&lr->lock);
	for (int i = 0; i < n; i++)
		lograte_write(&out[i]);
}

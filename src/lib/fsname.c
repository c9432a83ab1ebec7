/* fsname.c - safe file names made from song names. */
#include <string.h>

#include "p2pm/fsname.h"

size_t
fsname_from_song(const char *name, char *out, size_t outlen)
{
	size_t max = outlen - 1, n = 0;

	if (max > FSNAME_MAX)
		max = FSNAME_MAX;
	for (const unsigned char *p = (const unsigned char *)name;
	    *p != '\0' && n < max; p++) {
		unsigned char c = *p;
		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
			c = '_';
		if (n == 0 && (c == '.' || c == '-'))
			c = '_';
		out[n++] = (char)c;
	}
	/* a cut must not leave half a UTF-8 sequence at the end */
	if (name[n] != '\0' && n > 0) {
		size_t start = n;
		while (start > 0 && ((unsigned char)out[start - 1] & 0xC0) == 0x80)
			start--;
		if (start > 0 && ((unsigned char)out[start - 1] & 0xC0) == 0xC0) {
			unsigned char lead = (unsigned char)out[start - 1];
			size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
			if (n - (start - 1) < want)
				n = start - 1;
		}
	}
	if (n == 0) {
		size_t fl = strlen(FSNAME_FALLBACK);
		if (fl > max)
			fl = max;
		memcpy(out, FSNAME_FALLBACK, fl);
		n = fl;
	}
	out[n] = '\0';
	return n;
}

/* fuzz.h - what every libFuzzer target in tests/fuzz/ shares: the entry
 * point libFuzzer (or tests/fuzz/replay.c) calls, and a NUL-terminated copy
 * of the input, since the parsers read C strings. */
#ifndef P2PM_FUZZ_H
#define P2PM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Feeds one input to the parsers; aborts when a parser breaks a promise
 * its header makes. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd copy of data with a NUL after it (free it), or NULL. */
static inline char *
fuzz_cstring(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif

/* fuzz_textsafe.c - the sanitizer for text from elsewhere: whatever the
 * bytes, what comes out is valid UTF-8 without control codes or bidi
 * controls, no longer than what went in, cut whole when the room is
 * small, and the same when sanitized again. */
#include "fuzz.h"
#include "p2pm/textsafe.h"
#include "p2pm/utf8.h"

/* Aborts unless the n bytes of s are valid UTF-8 holding no code point
 * textsafe takes out. */
static void
fuzz_check_safe(const char *s, size_t n)
{
	for (size_t i = 0; i < n; ) {
		uint32_t cp;
		size_t k = utf8_decode(s + i, n - i, &cp);
		if ((cp == UTF8_REPLACEMENT && k == 1) || textsafe_is_unsafe(cp))
			abort();
		i += k;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char *out = malloc(size + 1), *again = malloc(size + 1);
	/* a room that is smaller than the text, from its first byte */
	size_t room = size > 0 ? (size_t)data[0] % (size + 1) + 1 : 1;
	const char *nul = memchr(in, '\0', size);
	size_t whole = nul != NULL ? (size_t)(nul - in) : size;
	size_t n, m;

	if (out == NULL || again == NULL) {
		free(out);
		free(again);
		return 0;
	}
	n = textsafe_copy(out, size + 1, in, size);
	if (n > size || out[n] != '\0' || strlen(out) != n)
		abort();
	fuzz_check_safe(out, n);
	if (!textsafe_is_safe(out, n))
		abort();
	/* safe text is left as it is */
	m = textsafe_copy(again, size + 1, out, n);
	if (m != n || memcmp(again, out, n) != 0)
		abort();
	/* a small room: a prefix of the whole result, cut at a code point */
	m = textsafe_copy(again, room, in, size);
	if (m >= room || again[m] != '\0' || m > n || memcmp(again, out, m) != 0)
		abort();
	fuzz_check_safe(again, m);
	/* in place, on a NUL-terminated copy: the text before the first NUL,
	 * whose result is where the whole one's begins */
	memcpy(again, in, size);
	again[size] = '\0';
	m = strlen(textsafe_fix(again));
	if (m > whole || memcmp(again, out, m) != 0 || (nul == NULL && m != n))
		abort();
	fuzz_check_safe(again, m);
	free(out);
	free(again);
	return 0;
}

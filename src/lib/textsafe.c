/* textsafe.c - the one sanitizer for text from elsewhere: invalid UTF-8,
 * control codes and bidi controls become '?'. */
#include <string.h>

#include "p2pm/textsafe.h"
#include "p2pm/utf8.h"

int
textsafe_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

int
textsafe_is_bidi(uint32_t cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

int
textsafe_is_invisible(uint32_t cp)
{
	return textsafe_is_bidi(cp) || (cp >= 0x200B && cp <= 0x200F) ||
	    cp == 0x2060 || cp == 0xFEFF;
}

int
textsafe_is_unsafe(uint32_t cp)
{
	return textsafe_is_control(cp) || textsafe_is_bidi(cp);
}

/* Decodes one code point at s (len > 0 bytes left): its length in bytes,
 * with *bad set when it is to be replaced (invalid or unsafe). A real
 * U+FFFD in the text is kept; utf8_decode's U+FFFD for an invalid byte
 * is told apart by the length it takes. */
static size_t
textsafe_next(const char *s, size_t len, int *bad)
{
	uint32_t cp;
	size_t n = utf8_decode(s, len, &cp);

	*bad = (cp == UTF8_REPLACEMENT && n == 1) || textsafe_is_unsafe(cp);
	return n;
}

size_t
textsafe_copy(char *out, size_t outlen, const char *s, size_t len)
{
	size_t o = 0;

	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < len; ) {
		int bad;
		size_t n = textsafe_next(s + i, len - i, &bad);
		size_t w = bad ? 1 : n;

		if (o + w >= outlen)
			break;
		if (bad)
			out[o] = TEXTSAFE_MARK;
		else
			memmove(out + o, s + i, n);
		o += w;
		i += n;
	}
	out[o] = '\0';
	return o;
}

char *
textsafe_fix(char *s)
{
	size_t len = strlen(s);

	/* writing never overtakes reading: the output is never longer */
	textsafe_copy(s, len + 1, s, len);
	return s;
}

int
textsafe_is_safe(const char *s, size_t len)
{
	for (size_t i = 0; i < len; ) {
		int bad;
		i += textsafe_next(s + i, len - i, &bad);
		if (bad)
			return 0;
	}
	return 1;
}

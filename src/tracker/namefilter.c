/* namefilter.c - linear-time case-insensitive substring search. */
#include <string.h>

#include "namefilter.h"

static unsigned char
namefilter_fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

void
namefilter_init(struct namefilter *f, const char *text, size_t len)
{
	if (len > PROTO_MAX_FILTER)
		len = PROTO_MAX_FILTER;
	f->len = len;
	for (size_t i = 0; i < len; i++)
		f->pat[i] = namefilter_fold((unsigned char)text[i]);
	/* fail[i]: length of the longest proper border of pat[0..i] */
	if (len > 0)
		f->fail[0] = 0;
	for (size_t i = 1, k = 0; i < len; i++) {
		while (k > 0 && f->pat[i] != f->pat[k])
			k = f->fail[k - 1];
		if (f->pat[i] == f->pat[k])
			k++;
		f->fail[i] = k;
	}
}

int
namefilter_match(const struct namefilter *f, const char *name, size_t len)
{
	size_t k = 0;

	if (f->len == 0)
		return 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = namefilter_fold((unsigned char)name[i]);
		while (k > 0 && c != f->pat[k])
			k = f->fail[k - 1];
		if (c == f->pat[k] && ++k == f->len)
			return 1;
	}
	return 0;
}

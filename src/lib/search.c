/* search.c - folding for search, word matching, and the nearest word by
 * a bounded Damerau-Levenshtein distance. */
#include <string.h>

#include "p2pm/search.h"
#include "p2pm/utf8.h"

/* Latin letters (already case folded) and the base letters they stand
 * for: one row a run of code points with the same base. */
static const struct search_base {
	unsigned short first, last;
	const char *base;
} search_bases[] = {
	{ 0x00DF, 0x00DF, "ss" }, { 0x00E0, 0x00E5, "a" }, { 0x00E6, 0x00E6, "ae" },
	{ 0x00E7, 0x00E7, "c" }, { 0x00E8, 0x00EB, "e" }, { 0x00EC, 0x00EF, "i" },
	{ 0x00F0, 0x00F0, "d" }, { 0x00F1, 0x00F1, "n" }, { 0x00F2, 0x00F6, "o" },
	{ 0x00F8, 0x00F8, "o" }, { 0x00F9, 0x00FC, "u" }, { 0x00FD, 0x00FD, "y" },
	{ 0x00FE, 0x00FE, "th" }, { 0x00FF, 0x00FF, "y" },
	{ 0x0100, 0x0105, "a" }, { 0x0106, 0x010D, "c" }, { 0x010E, 0x0111, "d" },
	{ 0x0112, 0x011B, "e" }, { 0x011C, 0x0123, "g" }, { 0x0124, 0x0127, "h" },
	{ 0x0128, 0x0131, "i" }, { 0x0132, 0x0133, "ij" }, { 0x0134, 0x0135, "j" },
	{ 0x0136, 0x0138, "k" }, { 0x0139, 0x0142, "l" }, { 0x0143, 0x014B, "n" },
	{ 0x014C, 0x0151, "o" }, { 0x0152, 0x0153, "oe" }, { 0x0154, 0x0159, "r" },
	{ 0x015A, 0x0161, "s" }, { 0x0162, 0x0167, "t" }, { 0x0168, 0x0173, "u" },
	{ 0x0174, 0x0175, "w" }, { 0x0176, 0x0178, "y" }, { 0x0179, 0x017E, "z" },
	{ 0x017F, 0x017F, "s" },
};

/* The base letters of a folded Latin letter, or NULL if it has none. */
static const char *
search_base_of(uint32_t cp)
{
	if (cp < 0xDF || cp > 0x17F)
		return NULL;
	for (size_t i = 0; i < sizeof(search_bases) / sizeof(search_bases[0]); i++)
		if (cp >= search_bases[i].first && cp <= search_bases[i].last)
			return search_bases[i].base;
	return NULL;
}

long
search_fold(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return -1;
	if (len > SEARCH_MAX_TEXT)
		len = SEARCH_MAX_TEXT;
	for (size_t i = 0; i < len; ) {
		char buf[UTF8_MAX_SEQ];
		const char *piece;
		uint32_t cp;
		size_t n;

		i += utf8_decode(s + i, len - i, &cp);
		if (cp >= 0x0300 && cp <= 0x036F)
			continue;	/* a combining mark */
		cp = utf8_fold(cp);
		piece = search_base_of(cp);
		if (piece != NULL) {
			n = strlen(piece);
		} else {
			n = utf8_encode(cp, buf);
			piece = buf;
		}
		if (o + n >= outlen) {
			out[o] = '\0';
			return -1;
		}
		memcpy(out + o, piece, n);
		o += n;
	}
	out[o] = '\0';
	return (long)o;
}

void
search_query_init(struct search_query *q, const char *text)
{
	char *p = q->buf;

	q->nwords = 0;
	if (search_fold(text, strlen(text), q->buf, sizeof(q->buf)) < 0)
		q->buf[0] = '\0';	/* cannot happen: the room is for the longest */
	while (*p != '\0' && q->nwords < SEARCH_MAX_WORDS) {
		if (*p == ' ' || *p == '\t') {
			p++;
			continue;
		}
		q->word[q->nwords++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

int
search_matches(const struct search_query *q, const char *const *fields,
    size_t nfields)
{
	/* the folded fields, made when the first word needs them */
	char folded[8][SEARCH_FOLDED_LEN];
	int have[8] = { 0 };

	if (nfields > 8)
		nfields = 8;
	for (size_t w = 0; w < q->nwords; w++) {
		int found = 0;
		for (size_t f = 0; f < nfields && !found; f++) {
			if (fields[f] == NULL)
				continue;
			if (!have[f]) {
				if (search_fold(fields[f], strlen(fields[f]), folded[f],
				    sizeof(folded[f])) < 0)
					folded[f][0] = '\0';
				have[f] = 1;
			}
			found = strstr(folded[f], q->word[w]) != NULL;
		}
		if (!found)
			return 0;
	}
	return 1;
}

/* Decodes the folded form of s into at most SEARCH_MAX_CODEPOINTS code
 * points. Returns how many. */
static size_t
search_codepoints(const char *s, uint32_t *cps)
{
	char folded[SEARCH_FOLDED_LEN];
	size_t n = 0, len;

	if (search_fold(s, strlen(s), folded, sizeof(folded)) < 0)
		return 0;
	len = strlen(folded);
	for (size_t i = 0; i < len && n < SEARCH_MAX_CODEPOINTS; )
		i += utf8_decode(folded + i, len - i, &cps[n++]);
	return n;
}

size_t
search_distance(const char *a, const char *b, size_t max)
{
	uint32_t x[SEARCH_MAX_CODEPOINTS], y[SEARCH_MAX_CODEPOINTS];
	/* three rows of the table, row r in rows[(r + 1) % 3]: the one being
	 * filled, the one before, and the one before that (transpositions) */
	size_t rows[3][SEARCH_MAX_CODEPOINTS + 1];
	size_t m, n;

	if (max > SEARCH_MAX_DISTANCE)
		max = SEARCH_MAX_DISTANCE;
	m = search_codepoints(a, x);
	n = search_codepoints(b, y);
	if ((m > n ? m - n : n - m) > max)
		return max + 1;
	for (size_t j = 0; j <= n; j++)
		rows[1][j] = j;
	for (size_t i = 1; i <= m; i++) {
		size_t *cur = rows[(i + 1) % 3], *prev = rows[i % 3], *two = rows[(i + 2) % 3];
		size_t best = cur[0] = i;
		for (size_t j = 1; j <= n; j++) {
			size_t cost = x[i - 1] == y[j - 1] ? 0 : 1;
			size_t d = prev[j - 1] + cost;
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 && x[i - 1] == y[j - 2] &&
			    x[i - 2] == y[j - 1] && two[j - 2] + 1 < d)
				d = two[j - 2] + 1;
			cur[j] = d;
			if (d < best)
				best = d;
		}
		if (best > max)
			return max + 1;	/* every later row is at least this */
	}
	return rows[(m + 1) % 3][n] > max ? max + 1 : rows[(m + 1) % 3][n];
}

size_t
search_distance_limit(size_t len)
{
	size_t d = len / 3;

	return d < 1 ? 1 : d > SEARCH_MAX_DISTANCE ? SEARCH_MAX_DISTANCE : d;
}

long
search_nearest(const char *typed, const char *const *candidates,
    size_t ncandidates)
{
	uint32_t cps[SEARCH_MAX_CODEPOINTS];
	size_t limit = search_distance_limit(search_codepoints(typed, cps));
	size_t best_d = limit + 1;
	long best = -1;

	for (size_t i = 0; i < ncandidates && best_d > 0; i++) {
		size_t d;
		if (candidates[i] == NULL)
			continue;
		d = search_distance(typed, candidates[i], best_d - 1 < limit ?
		    best_d - 1 : limit);
		if (d < best_d) {
			best_d = d;
			best = (long)i;
		}
	}
	return best;
}

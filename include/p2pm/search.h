/* search.h - finding songs as people type them: text folded for matching
 * (case folded as utf8_fold does, Latin letters stripped of their
 * diacritics, so that "bjork" finds "Björk"), a query matched word by word
 * against a song's name and tags, and the nearest of a list of words by a
 * bounded Damerau-Levenshtein distance ("did you mean ...?"). Allocates
 * nothing; every text is bounded by SEARCH_MAX_TEXT. */
#ifndef P2PM_SEARCH_H
#define P2PM_SEARCH_H

#include <stddef.h>

/* longest text matched or compared, in bytes (a name, a tag, a query);
 * a longer one is cut there */
#define SEARCH_MAX_TEXT 512
/* room for the folded form of any text of SEARCH_MAX_TEXT bytes: folding
 * writes at most 3 bytes per input byte (an invalid byte becomes U+FFFD) */
#define SEARCH_FOLDED_LEN (3 * SEARCH_MAX_TEXT + 1)
/* most words of a query that count; the rest are ignored */
#define SEARCH_MAX_WORDS 16
/* longest text, in code points, that search_distance compares */
#define SEARCH_MAX_CODEPOINTS 256
/* the largest edit distance search_nearest ever accepts */
#define SEARCH_MAX_DISTANCE 8

/* Writes the search form of s (len bytes; at most SEARCH_MAX_TEXT are read)
 * into out (outlen bytes, NUL terminated): each code point case folded
 * (utf8_fold), then a Latin-1 Supplement or Latin Extended-A letter
 * replaced by its base letter or letters ("ö" -> "o", "ß" -> "ss", "æ" ->
 * "ae", "ł" -> "l"), combining marks (U+0300..U+036F, as in decomposed
 * text) dropped, and every invalid byte written as U+FFFD. Returns the
 * length written, or -1 if out is too small (out then holds a cut,
 * terminated text); SEARCH_FOLDED_LEN bytes always suffice. */
long search_fold(const char *s, size_t len, char *out, size_t outlen);

/* A query prepared once for many matches: its folded words. */
struct search_query {
	size_t nwords;
	const char *word[SEARCH_MAX_WORDS];	/* into buf */
	char buf[SEARCH_FOLDED_LEN];
};

/* Folds text and splits it on spaces into words. An empty or blank text
 * gives no words, which every song matches. */
void search_query_init(struct search_query *q, const char *text);

/* Does every word of q occur (as a substring of the folded text) in at
 * least one of the nfields texts? NULL fields are skipped. Returns 1 or 0. */
int search_matches(const struct search_query *q, const char *const *fields,
    size_t nfields);

/* The Damerau-Levenshtein distance (optimal string alignment: insertions,
 * deletions, substitutions and transpositions of neighbours, each 1)
 * between the folded forms of a and b, counted in code points, or max + 1
 * as soon as it is known to be more than max (max at most
 * SEARCH_MAX_DISTANCE). Texts are cut at SEARCH_MAX_CODEPOINTS. */
size_t search_distance(const char *a, const char *b, size_t max);

/* The largest distance at which a candidate is offered for a typed text of
 * len code points: a third of it, at least 1, at most SEARCH_MAX_DISTANCE. */
size_t search_distance_limit(size_t len);

/* The index of the candidate nearest to typed (search_distance, within
 * search_distance_limit of typed's length; the first of a tie), or -1 if
 * none is near enough. NULL candidates are skipped. */
long search_nearest(const char *typed, const char *const *candidates,
    size_t ncandidates);

#endif

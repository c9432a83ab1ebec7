/* utf8.h - UTF-8 text as people see it: code points, simple case folding
 * (Latin-1 Supplement, Latin Extended-A, Greek, Cyrillic) and the columns
 * a string takes on a terminal. */
#ifndef P2PM_UTF8_H
#define P2PM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* the code point that stands for a byte that is not valid UTF-8 */
#define UTF8_REPLACEMENT 0xFFFDu
/* the most bytes one code point takes */
#define UTF8_MAX_SEQ 4

/* Decodes the code point starting at s (len > 0 bytes left). Returns how
 * many bytes it took (1..4) and sets *cp; a byte that does not start a
 * valid, shortest-form sequence takes 1 and gives UTF8_REPLACEMENT. */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Writes cp as UTF-8 into out (room for UTF8_MAX_SEQ bytes). Returns the
 * bytes written; a code point beyond U+10FFFF or a surrogate is written as
 * UTF8_REPLACEMENT. */
size_t utf8_encode(uint32_t cp, char *out);

/* The simple case folding of cp (Unicode CaseFolding.txt, statuses C and S)
 * for ASCII, Latin-1 Supplement, Latin Extended-A, Greek and Coptic, and
 * Cyrillic with its Supplement; any other code point is its own fold. */
uint32_t utf8_fold(uint32_t cp);

/* Writes the case folding of s (len bytes) into out (outlen bytes, NUL
 * terminated), every invalid byte as UTF8_REPLACEMENT. Returns the length
 * written, or -1 if out is too small (then out holds a cut, terminated
 * text). Folding never makes a text longer by more than 3 bytes per input
 * byte (an invalid byte becomes 3), so 3 * len + 1 bytes always suffice. */
long utf8_fold_string(const char *s, size_t len, char *out, size_t outlen);

/* Does the NUL-terminated text contain needle, ignoring case as utf8_fold
 * does? An empty needle is found in every text. Allocates nothing; returns
 * 1, 0, or -1 if either is longer than UTF8_MAX_COMPARE bytes. */
#define UTF8_MAX_COMPARE 4096
int utf8_contains_folded(const char *text, const char *needle);

/* Columns cp takes on a terminal: 0 for combining marks, zero-width
 * characters and control codes, 2 for East Asian wide and fullwidth
 * characters (and emoji), 1 for the rest. */
int utf8_cp_width(uint32_t cp);

/* Columns the NUL-terminated text takes on a terminal (utf8_cp_width
 * summed; an invalid byte counts 1, as it is shown as a replacement). */
size_t utf8_width(const char *s);

/* Is every byte of the NUL-terminated text ASCII? */
int utf8_is_ascii(const char *s);

#endif

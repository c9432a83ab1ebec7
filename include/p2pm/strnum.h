/* strnum.h - checked conversion of decimal text to numbers. */
#ifndef P2PM_STRNUM_H
#define P2PM_STRNUM_H

/* Parses all of s as a decimal integer in [min, max]. Returns 0 and sets
 * *out, or -1 (empty text, trailing junk, out of range). */
int strnum_parse(const char *s, long min, long max, long *out);

#endif

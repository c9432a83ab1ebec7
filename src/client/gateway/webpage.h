/* webpage.h - the player page `client serve` gives at "/". */
#ifndef P2PM_WEBPAGE_H
#define P2PM_WEBPAGE_H

#include <stddef.h>

/* The page: HTML with its CSS and script inline. */
extern const char webpage_html[];
extern const size_t webpage_html_len;

#endif

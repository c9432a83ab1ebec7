/* namefilter.h - the LIST filter: does a name contain a text, ASCII case
 * ignored? Knuth-Morris-Pratt over ASCII-folded bytes, so one test costs
 * time linear in the name whatever the text, and a filter that matches
 * nothing cannot make LIST slow. */
#ifndef P2PM_TRACKER_NAMEFILTER_H
#define P2PM_TRACKER_NAMEFILTER_H

#include <stddef.h>

#include "p2pm/proto.h"

struct namefilter {
	unsigned char pat[PROTO_MAX_FILTER];	/* the text, folded to lower case */
	size_t len;				/* 0: matches every name */
	size_t fail[PROTO_MAX_FILTER];		/* KMP failure function */
};

/* Prepares f for text (len bytes, at most PROTO_MAX_FILTER; longer is
 * cut). An empty text matches everything. */
void namefilter_init(struct namefilter *f, const char *text, size_t len);

/* True if name (len bytes) contains f's text, ASCII case ignored. */
int namefilter_match(const struct namefilter *f, const char *name, size_t len);

#endif

/* list.h - the list command: the songs as tab-separated lines, an aligned
 * table on a terminal, or JSON lines (--json). */
#ifndef P2PM_CLIENT_LIST_H
#define P2PM_CLIENT_LIST_H

#include "commands.h"

/* The songs whose names or tags hold filter (NULL: all). Returns an exit
 * code. */
int cmd_list(const struct client_opts *o, const char *filter);

#endif

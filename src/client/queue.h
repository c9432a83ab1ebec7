/* queue.h - cat and play of several songs, one after the other into one
 * stream (stdout, or one player's stdin), the next song fetched while the
 * current one is written. */
#ifndef P2PM_CLIENT_QUEUE_H
#define P2PM_CLIENT_QUEUE_H

#include <stddef.h>

#include "commands.h"

/* songs are the names given on the command line (nsongs may be 0 with
 * --playlist or --album). Each returns an exit code. */
int cmd_cat(const struct client_opts *o, const char *const *songs,
    size_t nsongs);
int cmd_play(const struct client_opts *o, const char *const *songs,
    size_t nsongs);

#endif

/* save.h - the save command: the song as one audio file, remuxed by
 * ffmpeg. */
#ifndef P2PM_CLIENT_SAVE_H
#define P2PM_CLIENT_SAVE_H

#include "commands.h"

/* Saves song as one audio file (-o, else a name made from the song's).
 * Returns an exit code. */
int cmd_save(const struct client_opts *o, const char *song);

#endif

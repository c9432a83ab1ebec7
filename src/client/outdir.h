/* outdir.h - a song as a song directory (include/p2pm/songdir.h). */
#ifndef P2PM_CLIENT_OUTDIR_H
#define P2PM_CLIENT_OUTDIR_H

#include <stddef.h>

#include "p2pm/sha256.h"
#include "swarm.h"

struct outdir;

/* Creates the missing parent directories of path, as mkdir -p does (the
 * last component is left to the caller). Returns 0, or -1 with errno set. */
int outdir_make_parents(const char *path);

/* Looks at the directory path (it need not exist): refuses (-1, reason in
 * err) a path that is not a directory, or a directory holding anything but
 * one whole song; fills *have_id with the content id of the song it holds,
 * or "" if it is empty or absent. Nothing is written yet. */
struct outdir *outdir_open(const char *path, const char *song,
    char have_id[SHA256_HEX_LEN], char *err, size_t errlen);
/* The sink writing a song directory at od's path. */
void outdir_sink(struct outdir *od, struct fetch_sink *sink);
/* Removes what an unfinished fetch left, then frees od. */
void outdir_close(struct outdir *od);

#endif

/* names.h - the names songs of the -L trees are shared under: "Artist -
 * Title" when the file's tags have both, else its path below the -L
 * directory without the ending (what library.c gives); two files that
 * would get the same name are told apart by " (2)", " (3)", ... in byte
 * order of their paths, with one log line. The tags are known once a job
 * has probed the file: what they name is kept here by the file's path and
 * identity, so that a rescan costs no more than the stats it does anyway.
 * One lock guards it. */
#ifndef P2PM_PEER_NAMES_H
#define P2PM_PEER_NAMES_H

#include <stddef.h>

#include "cache.h"
#include "filekey.h"
#include "library.h"
#include "probe.h"

struct names;

/* An empty set (free with names_free), or NULL if out of memory. changed
 * is called (from any thread) when a file turns out to have another name
 * than the one it was queued under, to have the library looked at again. */
struct names *names_new(void (*changed)(void));

/* Frees n and all it holds; NULL is ignored. */
void names_free(struct names *n);

/* Writes the name the tags of info give ("Artist - Title"), or "" if
 * they lack one of the two or it is not a valid song name. */
void names_of_tags(const struct probe_info *info, char out[PROTO_MAX_NAME + 1]);

/* Records that the song file at path, of identity id, is named tagname
 * by its tags ("" for none), as a job queued it under name. Returns 1 (and
 * calls the changed callback) if name is not the one it is shared under
 * now, so it must not be published under it; 0 if it is. */
int names_set(struct names *n, const char *path, const struct filekey_id *id,
    const char *tagname, const char *name);

/* Renames the entries lib->v[from] on (the files of the -L trees): each
 * audio file whose tags are known for its identity gets its tag name
 * (with all, files not yet known are looked up in their records in the
 * cache c), then names given twice are told apart. Forgets the files no
 * longer listed. Returns 0, or -1 if out of memory (names left as found). */
int names_apply(struct names *n, struct cache *c, struct library *lib,
    size_t from, int all);

#endif

/* shared.h - song directories shared in place from the -L directories
 * (docs/protocol.md: index.m3u8, its <sha256>.ts segments, song.name):
 * checked whole with songdir_verify before they are served, and the
 * result kept by the identity (device, inode, size, mtime, ctime) of every
 * entry of the directory, so that looking again costs a stat per entry and
 * hashes nothing that has not changed. One lock guards it. */
#ifndef P2PM_PEER_SHARED_H
#define P2PM_PEER_SHARED_H

#include <stddef.h>

#include "p2pm/proto.h"
#include "hlsdir.h"

/* most entries of one song directory looked at */
#define SHARED_MAX_DIR_ENTRIES (PLAYLIST_MAX_SEGMENTS + 16)

struct shared;

/* An empty set (free with shared_free), or NULL if out of memory. */
struct shared *shared_new(void);

/* Frees sh and all it holds; NULL is ignored. */
void shared_free(struct shared *sh);

/* Writes the song name the song directory dir gives in its song.name,
 * read again only when song.name changed since the last call for dir.
 * Returns 0, or -1 if there is no valid song.name, logged once per change
 * of song.name. */
int shared_name(struct shared *sh, const char *dir, char name[PROTO_MAX_NAME + 1]);

/* Checks the song directory dir, shared as the song name: verified whole
 * (songdir_verify) unless no entry of it changed since the last check;
 * its song.name must still give name; dir itself must not be a link. On
 * success fills hd with its playlist and content id, and hd->held with the
 * directory held open and its segments' identities as checked, and the
 * check's serial number, the same while nothing changed (free with
 * hlsdir_free) and returns 0. On
 * failure returns -1 with a reason naming the directory or the file in
 * why, and sets *fresh to 1 if that is news (the first failure since the
 * directory changed), 0 if the same failure was reported before. */
int shared_check(struct shared *sh, const char *dir, const char *name,
    struct hlsdir *hd, int *fresh, char *why, size_t whylen);

/* Forgets every directory shared_name was not asked about since the last
 * sweep (those no longer in any -L directory). */
void shared_sweep(struct shared *sh);

#endif

/* songdir.h - one song directory of the cache, songs/<key>: a playlist
 * (PLAYLIST_INDEX_NAME) and the MPEG-TS segments it lists. Checked before
 * it is served or renamed into songs/, loaded, and flushed to disk. */
#ifndef P2PM_PEER_SONGDIR_H
#define P2PM_PEER_SONGDIR_H

#include <stddef.h>

#include "p2pm/playlist.h"
#include "cache.h"

/* the largest playlist the peer serves (what a client accepts) */
#define SONGDIR_MAX_PLAYLIST_BYTES PROTO_MAX_PLAYLIST_BYTES
/* an MPEG-TS segment is a whole number of packets of this size */
#define SONGDIR_TS_PACKET 188

/* A checked song directory: the playlist bytes, served as they are, and
 * the segments it lists. Owns its memory. */
struct songdir {
	char *text;
	size_t len;
	struct playlist pl;
};

/* Frees what sd holds and empties it; an empty sd is fine. */
void songdir_free(struct songdir *sd);

/* Checks the song directory open as dfd for the content key key: the
 * playlist must be an HLS VOD playlist (#EXTM3U, #EXT-X-TARGETDURATION,
 * #EXT-X-PLAYLIST-TYPE:VOD, #EXTINF before each segment, #EXT-X-ENDLIST)
 * of at most SONGDIR_MAX_PLAYLIST_BYTES, every segment named
 * <key>-<n>.ts, and each a non-empty regular file (not a link) of whole
 * MPEG-TS packets. Fills sd (free with songdir_free) and returns 0, or
 * returns -1 with a reason in why and sd empty. */
int songdir_check(int dfd, const char *key, struct songdir *sd, char *why,
    size_t whylen);

/* Flushes to disk the playlist and segments of the checked directory dfd
 * (sd is what songdir_check gave), then the directory itself, so that a
 * crash after a rename cannot leave a song whose files are cut short.
 * Returns 0, or -1 with a reason in why. */
int songdir_sync(int dfd, const struct songdir *sd, char *why, size_t whylen);

/* Loads songs/<key> of cache c with songdir_check, and writes the
 * directory's path into path. Returns 0, or -1 with a reason in why (a
 * key that is not a content key is refused before any file is opened). */
int songdir_load(const struct cache *c, const char *key, struct songdir *sd,
    char *path, size_t pathlen, char *why, size_t whylen);

#endif

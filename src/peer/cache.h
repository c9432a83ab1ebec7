/* cache.h - the peer's on-disk cache of segmented songs.
 *
 * Layout under the cache directory:
 *   songs/<key>/index.m3u8    the playlist ffmpeg wrote, checked
 *   songs/<key>/<key>-<n>.ts  its segments
 *   files/<sha256 of path>    what we knew of a song file: device, inode,
 *                             size and mtime, and its key
 *   tmp-<pid>-<n>             work in progress, renamed into songs/ when
 *                             complete; left-overs of dead peers are removed
 * <key> is the first CACHE_KEY_LEN hex digits of the SHA-256 of the song
 * file's content, so names are stable and a changed file gets a new key. */
#ifndef P2PM_PEER_CACHE_H
#define P2PM_PEER_CACHE_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "p2pm/playlist.h"

#define CACHE_KEY_LEN 16
/* bytes read at a time while hashing a song file */
#define CACHE_HASH_CHUNK (64 * 1024)
/* the largest file record we read */
#define CACHE_RECORD_MAX (PATH_MAX + 256)
#define CACHE_DIR_MODE 0755
/* the largest playlist the peer serves (what a client accepts) */
#define CACHE_MAX_PLAYLIST_BYTES PROTO_MAX_PLAYLIST_BYTES

/* One segmented song as found in the cache: the playlist bytes, served as
 * they are, and the segments it lists. Owns its memory. */
struct cache_song {
	char *text;
	size_t len;
	struct playlist pl;
};

void cache_song_free(struct cache_song *cs);

struct cache {
	char dir[PATH_MAX];
	pthread_mutex_t lock;	/* guards seq */
	unsigned long seq;	/* numbers this process's temporaries */
};

/* Creates the cache directory and its subdirectories if missing (like
 * mkdir -p) and removes temporaries left by peers that are no longer
 * running. Returns NULL with a reason in err on failure. */
struct cache *cache_open(const char *dir, char *err, size_t errlen);
void cache_close(struct cache *c);

/* Finds the content key of the song file at path. The file is hashed only
 * when its record (device, inode, size, mtime) is missing or out of date;
 * *hashed tells which. Hashing stops early when *stop becomes non-zero.
 * Returns 0, or -1 with a reason in why. */
int cache_file_key(struct cache *c, const char *path, const atomic_int *stop,
    char key[CACHE_KEY_LEN + 1], int *hashed, char *why, size_t whylen);

/* Loads songs/<key>: the playlist must be an HLS VOD playlist (#EXTM3U,
 * #EXT-X-TARGETDURATION, #EXT-X-PLAYLIST-TYPE:VOD, #EXTINF before each
 * segment, #EXT-X-ENDLIST), every segment named <key>-<n>.ts, and each a
 * non-empty regular file. Fills cs and writes the song's directory into
 * songdir. Returns 0, or -1 with a reason in why. */
int cache_load(struct cache *c, const char *key, struct cache_song *cs,
    char *songdir, size_t songdirlen, char *why, size_t whylen);

/* Segments the song file at path with ffmpeg into a temporary directory,
 * checks the result, and renames it to songs/<key>. Nothing half-made is
 * ever left under songs/. Returns 0, or -1 with a reason in why. */
int cache_build(struct cache *c, const char *ffmpeg, const char *path,
    const char *key, const atomic_int *stop, char *why, size_t whylen);

#endif

/* cache.h - the peer's on-disk cache of segmented songs.
 *
 * Layout under the cache directory:
 *   songs/<key>/index.m3u8    the playlist ffmpeg wrote, checked
 *   songs/<key>/<key>-<n>.ts  its segments
 *   files/<sha256 of path>    what we knew of a song file: device, inode,
 *                             size and mtime, and its key
 *   tmp-<pid>-<n>             work in progress, renamed into songs/ when
 *                             complete, or a song directory being removed;
 *                             left-overs of dead peers are removed
 * <key> is the first CACHE_KEY_LEN hex digits of the SHA-256 of the song
 * file's content, so names are stable and a changed file gets a new key. */
#ifndef P2PM_PEER_CACHE_H
#define P2PM_PEER_CACHE_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "p2pm/playlist.h"

#define CACHE_KEY_LEN 16
/* bytes read at a time while hashing a song file */
#define CACHE_HASH_CHUNK (64 * 1024)
/* the largest file record we read */
#define CACHE_RECORD_MAX (PATH_MAX + 256)
#define CACHE_DIR_MODE 0755
/* the largest playlist the peer serves (what a client accepts) */
#define CACHE_MAX_PLAYLIST_BYTES PROTO_MAX_PLAYLIST_BYTES
/* an MPEG-TS segment is a whole number of packets of this size */
#define CACHE_TS_PACKET 188

/* What tells one version of a song file from another without reading it. */
struct cache_file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* How cache_build ended. */
enum cache_build_result {
	CACHE_BUILD_OK = 0,
	CACHE_BUILD_STOPPED,		/* asked to stop */
	CACHE_BUILD_BAD_INPUT,		/* ffmpeg cannot make segments of the file */
	CACHE_BUILD_CACHE_ERROR,	/* the cache cannot be written */
	CACHE_BUILD_CHANGED		/* the file changed since its key was taken */
};

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
 * mkdir -p), checks that files can be created in each of them, and removes
 * temporaries left by peers that are no longer running. Returns NULL with a
 * one-line reason naming the directory in err on failure. */
struct cache *cache_open(const char *dir, char *err, size_t errlen);
void cache_close(struct cache *c);

/* Finds the content key of the song file at path. The file is hashed only
 * when its record (device, inode, size, mtime) is missing or out of date;
 * *hashed tells which. *id is the file's identity as seen before the key
 * was taken, for cache_build. Hashing stops early when *stop becomes
 * non-zero. Returns 0, or -1 with a reason in why. */
int cache_file_key(struct cache *c, const char *path, const atomic_int *stop,
    char key[CACHE_KEY_LEN + 1], struct cache_file_id *id, int *hashed,
    char *why, size_t whylen);

/* Loads songs/<key>: the playlist must be an HLS VOD playlist (#EXTM3U,
 * #EXT-X-TARGETDURATION, #EXT-X-PLAYLIST-TYPE:VOD, #EXTINF before each
 * segment, #EXT-X-ENDLIST), every segment named <key>-<n>.ts, and each a
 * non-empty regular file of whole MPEG-TS packets. Fills cs and writes the song's directory into
 * songdir. Returns 0, or -1 with a reason in why. */
int cache_load(struct cache *c, const char *key, struct cache_song *cs,
    char *songdir, size_t songdirlen, char *why, size_t whylen);

/* Segments the song file at path with ffmpeg into a temporary directory,
 * checks the result, makes it durable (fsync) and renames it to
 * songs/<key>. key and id are what cache_file_key gave; if the file is no
 * longer the one with that identity once ffmpeg is done, the result is
 * thrown away (CACHE_BUILD_CHANGED), so segments of other content are never
 * kept under key. Nothing half-made is ever left under songs/. Returns
 * CACHE_BUILD_OK, or another enum cache_build_result with a reason in why. */
enum cache_build_result cache_build(struct cache *c, const char *ffmpeg,
    const char *path, const char *key, const struct cache_file_id *id,
    const atomic_int *stop, char *why, size_t whylen);

/* What cache_evict removed, or would have removed. */
struct cache_evict_stats {
	size_t songs;			/* song directories */
	unsigned long long bytes;	/* the space their files took */
	size_t records;			/* file records */
};

/* Removes what no shared song needs any more: every songs/<key> directory
 * whose key is neither in keys (the songs being served) nor in the file
 * record of one of paths (the song files still wanted), and every file
 * record that is not one of paths' or no longer matches its file. With
 * dry_run only counts. Stops early once *cancel becomes non-zero. Only
 * entries with the names this cache gives are touched, symbolic links are
 * never followed, and a song directory is renamed out of songs/ before
 * its files go. Call it only while no song is being prepared: a directory
 * just made would not be in keys yet. Fills st; returns 0, 1 if
 * cancelled, or -1 (logged) if the cache could not be read or memory ran
 * out. */
int cache_evict(struct cache *c, const char *const *keys, size_t nkeys,
    const char *const *paths, size_t npaths, int dry_run,
    const atomic_int *cancel, struct cache_evict_stats *st);

#endif

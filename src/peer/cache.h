/* cache.h - the peer's on-disk cache of segmented songs: the directory,
 * its layout, and the temporaries all work is done in.
 *
 * Layout under the cache directory:
 *   layout                    CACHE_LAYOUT_MAGIC and the layout's version
 *   songs/<key>/index.m3u8    the canonical playlist (docs/protocol.md)
 *   songs/<key>/<sha256>.ts   its segments, each named by its SHA-256
 *   files/<sha256 of path>    what we knew of a song file: device, inode,
 *                             size, mtime, real path and key
 *   tmp-<pid>-<n>             work in progress, renamed into songs/ when
 *                             complete, or a song directory being removed;
 *                             left-overs of dead peers are removed
 * <key> is a song file's content key (filekey.h). Who does what:
 * filekey.c keeps files/, hlsdir.c checks and loads a songs/<key>,
 * build.c makes one with the segmenter, evict.c removes what is unused,
 * migrate.c brings a cache of an older layout up to date. Layout 1 (no
 * layout file) named segments <key>-<n>.ts and kept ffmpeg's playlist. */
#ifndef P2PM_PEER_CACHE_H
#define P2PM_PEER_CACHE_H

#include <stddef.h>

#define CACHE_DIR_MODE 0755
/* the subdirectory of song directories, each named by its key */
#define CACHE_SONGS "songs"
/* the subdirectory of file records, each named by its path's hash */
#define CACHE_FILES "files"
/* how the names of temporaries begin */
#define CACHE_TMP_PREFIX "tmp-"
/* bytes of a temporary's name, with its NUL, at most */
#define CACHE_TMP_NAME_MAX 64
/* the file saying which layout the cache has, and its first word */
#define CACHE_LAYOUT "layout"
#define CACHE_LAYOUT_MAGIC "p2pm-cache-layout"
/* the layout this peer writes; a cache without a layout file has layout 1 */
#define CACHE_LAYOUT_VERSION 2
/* the largest layout file read, in bytes */
#define CACHE_LAYOUT_MAX 64

struct cache;

/* Creates the cache directory and its subdirectories if missing (like
 * mkdir -p), checks that files can be created in each of them, and removes
 * temporaries left by peers that are no longer running. A relative dir is
 * kept as a whole path, from the working directory now. Returns the cache
 * (free with cache_close), or NULL with a one-line reason naming the
 * directory in err. */
struct cache *cache_open(const char *dir, char *err, size_t errlen);

/* Frees c; NULL is ignored. */
void cache_close(struct cache *c);

/* The cache directory, a whole path (see cache_open); valid as long as c. */
const char *cache_dir(const struct cache *c);

/* Writes the path of name in the cache's subdirectory sub (CACHE_SONGS or
 * CACHE_FILES), or of sub itself when name is NULL. Returns 0, or -1 if it
 * does not fit in outlen bytes. */
int cache_path(const struct cache *c, const char *sub, const char *name,
    char *out, size_t outlen);

/* Writes the name of a new temporary, "tmp-<pid>-<n>", never given before
 * by this process (safe from any thread). Returns 0, or -1 if it does not
 * fit in outlen bytes. */
int cache_tmp_name(struct cache *c, char *out, size_t outlen);

/* Like cache_tmp_name, but writes the temporary's full path in the cache
 * directory. */
int cache_tmp_path(struct cache *c, char *out, size_t outlen);

/* The layout version of the cache: 1 when it has no layout file, the
 * number in it otherwise, or -1 if it cannot be read or is not one. */
int cache_layout(const struct cache *c);

/* Writes the layout file for CACHE_LAYOUT_VERSION (to a temporary, then
 * renamed). Returns 0, or -1 with a reason in err. */
int cache_layout_mark(struct cache *c, char *err, size_t errlen);

/* Removes the temporary name (a file, or a directory holding only files)
 * in the directory parentfd, or at the path name with AT_FDCWD, without
 * following symbolic links; logs a warning if it stays. */
void cache_tmp_remove(int parentfd, const char *name);

#endif

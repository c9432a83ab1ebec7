/* art.h - the cover art of the peer's songs: a cover.jpg or folder.jpg
 * (or .png) beside the song file, else the picture embedded in it (read
 * out, once per content key, by the ffmpeg run that segments the file,
 * else by one of its own), kept in the cache as
 * art/<sha256>.jpg or .png, advertised with the song as the tag word
 * art=<name> and served by REQUEST_SEGMENT <name> (docs/protocol.md).
 *
 * Layout under the cache directory:
 *   art/<sha256>.jpg|.png  a picture, named by the SHA-256 of its bytes
 *   art/<key>              what the song file of content key <key> embeds:
 *                          a picture's name, or "none"
 *
 * The pictures found are kept in one table for the whole process (they
 * are the same whichever cache or index asks), the only way a name in a
 * request becomes a picture file. Safe to call from many threads. */
#ifndef P2PM_PEER_ART_H
#define P2PM_PEER_ART_H

#include <stdatomic.h>
#include <stddef.h>

#include "p2pm/picture.h"
#include "cache.h"

/* the cache's subdirectory of pictures */
#define ART_DIR "art"
/* the names looked for beside a song file, in this order */
#define ART_FILE_NAMES { "cover.jpg", "cover.png", "folder.jpg", "folder.png", \
	"Cover.jpg", "Cover.png", "Folder.jpg", "Folder.png" }
/* an ffmpeg reading a picture out taking longer than this, in seconds,
 * is killed */
#define ART_TIMEOUT_S 30
/* how often a running ffmpeg is checked for the stop request, in ms */
#define ART_POLL_MS 100
/* picture files beside songs whose names are remembered (by device,
 * inode, size and mtime), so that an album's cover is hashed once */
#define ART_MEMO_SIZE 64
/* most pictures served; past it, songs go on without their art */
#define ART_MAX_PICTURES 100000

/* Finds the cover art of the song file at path, whose content key is key
 * (filekey.h), puts the picture into c's art/ if it is not there, and
 * appends " art=<name>" to the tag words in tags (tagslen bytes, at most
 * PROTO_MAX_TAG_BYTES of words) when it fits. Runs ffmpeg (the executable
 * at ffmpeg) only for a key that neither it nor art_embedded_take has
 * looked at before (see art_embedded_wanted), killed after
 * ART_TIMEOUT_S or when *stop becomes non-zero. A song without art, or
 * art that cannot be had, leaves tags as they are (logged at debug).
 * Returns 1 if a picture was added, 0 if not. */
int art_tag(struct cache *c, const char *ffmpeg, const char *path,
    const char *key, const atomic_int *stop, char *tags, size_t tagslen);

/* True if art_tag would run ffmpeg for the song file at path, of content
 * key key: no picture is beside it and what it embeds is not remembered.
 * The ffmpeg run that segments such a file reads its picture out as well
 * (SEGMENTER_PICTURE), for art_embedded_take. */
int art_embedded_wanted(struct cache *c, const char *path, const char *key);

/* Takes what a segmenting run wrote as file (SEGMENTER_PICTURE_FILE) in
 * the directory dirfd for the song file at path (for the log) of content
 * key key, a run that exited 0 on the file of that key: the picture it
 * embeds, kept as art_tag keeps one (JPEG or PNG, at most
 * PICTURE_MAX_BYTES), or, for an empty file or a picture not taken, none;
 * and remembers which under key, so that art_tag runs no ffmpeg for it.
 * Does not remove file. Returns 1 for a picture, 0 for none, -1 if file
 * cannot be read (nothing remembered: art_tag reads the picture out with
 * ffmpeg of its own). */
int art_embedded_take(struct cache *c, const char *path, const char *key,
    int dirfd, const char *file);

/* Opens, read-only, the picture called name if art_tag gave it to a song
 * of this process. Returns the descriptor, or -1 (errno ENOENT for a name
 * it does not serve). */
int art_open_picture(const char *name);

#endif

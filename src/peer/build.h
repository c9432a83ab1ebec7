/* build.h - making a song directory of the cache from a song file:
 * a temporary directory, the segmenter, the check, then the durable
 * rename to songs/<key>. The only part of the cache that runs the
 * segmenter. */
#ifndef P2PM_PEER_BUILD_H
#define P2PM_PEER_BUILD_H

#include <stdatomic.h>
#include <stddef.h>

#include "cache.h"
#include "filekey.h"
#include "probe.h"

/* How build_song ended. */
enum build_result {
	BUILD_OK = 0,
	BUILD_STOPPED,		/* asked to stop */
	BUILD_BAD_INPUT,	/* ffmpeg cannot make segments of the file */
	BUILD_CACHE_ERROR,	/* the cache cannot be written */
	BUILD_CHANGED,		/* the file changed since its key was taken */
	BUILD_NOT_AUDIO,	/* ffmpeg finds no audio in the file */
	BUILD_TRANSCODE		/* probed: the audio is not MP3 or AAC, so it
				 * is to be encoded (build_song again with a
				 * bitrate, under its own key) */
};

/* Segments the song file at path with the ffmpeg executable ffmpeg (its
 * audio copied, or encoded to AAC at aac_kbps kb/s when that is > 0) into a
 * temporary directory, names the segments by their SHA-256 and writes the
 * canonical playlist (hlsdir_address), checks the result, makes it durable
 * (fsync) and renames it to songs/<key>. key and id are what filekey_get
 * gave; if the file is no longer the one with that identity once ffmpeg is
 * done, the result is thrown away (BUILD_CHANGED), so segments of other
 * content are never kept under key. A good songs/<key> already there is
 * kept, a broken one replaced. Nothing half-made is ever left under
 * songs/. Stops early when *stop becomes non-zero.
 *
 * With probed not NULL (a file not probed before; aac_kbps must be 0, so
 * key is the file's own content key), the same ffmpeg run reads what the
 * file holds into *probed (duration 0): if its audio is MP3 or AAC the
 * segments are kept as above, else nothing is kept and the result is
 * BUILD_TRANSCODE. That run also reads out the picture the file embeds,
 * for the cover art (art_embedded_take), unless art_embedded_wanted says
 * it is not needed. Returns BUILD_OK, or
 * another enum build_result with a reason in why. */
enum build_result build_song(struct cache *c, const char *ffmpeg,
    const char *path, const char *key, const struct filekey_id *id,
    int aac_kbps, struct probe_info *probed, const atomic_int *stop,
    char *why, size_t whylen);

/* Only reads what the song file at path (of identity id) holds into
 * *probed, with one ffmpeg run that writes no segments, for a file whose
 * segments are in the cache but not what it holds. Returns BUILD_OK (MP3,
 * AAC or other audio alike), or another enum build_result with a reason
 * in why. */
enum build_result build_probe(struct cache *c, const char *ffmpeg,
    const char *path, const struct filekey_id *id, struct probe_info *probed,
    const atomic_int *stop, char *why, size_t whylen);

#endif

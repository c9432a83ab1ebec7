/* migrate.h - bringing a cache made by an older peer to the layout this
 * one writes (cache.h), once, at start. */
#ifndef P2PM_PEER_MIGRATE_H
#define P2PM_PEER_MIGRATE_H

#include <stddef.h>

#include "cache.h"

/* Brings the cache c to CACHE_LAYOUT_VERSION if it has an older layout:
 * each song directory of layout 1 (songs/<key> with ffmpeg's playlist and
 * <key>-<n>.ts segments) gets its segments named by their SHA-256 and the
 * canonical playlist (hlsdir_address), without running ffmpeg; one that
 * cannot be converted is removed, so that its song is segmented again.
 * Entries of songs/ the peer did not make (links, files, other names) are
 * left alone. Then the layout file is written. Logs what it did. Returns
 * 0, or -1 with a reason in err (a cache of a newer layout, or one whose
 * layout file cannot be read or written). */
int migrate_cache(struct cache *c, char *err, size_t errlen);

#endif

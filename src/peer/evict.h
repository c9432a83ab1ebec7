/* evict.h - removing from the cache the song directories and file
 * records that no shared song needs any more. */
#ifndef P2PM_PEER_EVICT_H
#define P2PM_PEER_EVICT_H

#include <stdatomic.h>
#include <stddef.h>

#include "cache.h"

/* What evict_unused removed, or would have removed. */
struct evict_stats {
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
int evict_unused(struct cache *c, const char *const *keys, size_t nkeys,
    const char *const *paths, size_t npaths, int dry_run,
    const atomic_int *cancel, struct evict_stats *st);

#endif

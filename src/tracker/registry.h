/* registry.h - which live peers hold which songs.
 *
 * Two hash tables (song name -> song, peer address -> peer) linked both
 * ways, so QUERY, REGISTER and UNREGISTER cost the same with ten songs or a
 * million. Every peer holds a lease; expired peers are invisible at once and
 * swept out lazily. One mutex, owned by the registry, guards it all. */
#ifndef P2PM_REGISTRY_H
#define P2PM_REGISTRY_H

#include <stddef.h>

#include "p2pm/net.h"

struct registry;

struct registry_stats {
	size_t peers;
	size_t songs;
	size_t pairs;
};

/* One LIST row, copied out of the registry; name is owned by the array. */
struct registry_entry {
	char *name;
	size_t namelen;
	size_t peers;
};

/* A REGISTER body under construction: names stored back to back. */
struct registry_names {
	char *buf;
	size_t len, cap;
	size_t *offs;	/* start of each name in buf */
	size_t *lens;
	size_t count, offcap;
};

/* A registry whose leases last ttl_s seconds, holding at most max_peers
 * peers and max_pairs (song, peer) pairs. */
struct registry *registry_new(int ttl_s, size_t max_peers, size_t max_pairs);
void registry_free(struct registry *reg);

/* Appends a name to a REGISTER body; -1 if out of memory. */
int registry_names_add(struct registry_names *names, const char *name, size_t len);
void registry_names_free(struct registry_names *names);

#define REGISTRY_FULL (-2)

/* Replaces the song set of peer `addr` with `names` and renews its lease
 * until now_ms + ttl. Duplicate names count once. Returns 0; REGISTRY_FULL,
 * changing nothing, if a new peer would pass max_peers or the pairs would
 * pass max_pairs; or -1 if memory ran out (the peer then holds the songs
 * attached before that). */
int registry_register(struct registry *reg, const char *addr,
    const struct registry_names *names, long long now_ms);

/* Forgets a peer and its songs. Returns 1 if it was known, 0 if not. */
int registry_unregister(struct registry *reg, const char *addr);

/* Copies into out (up to max entries) the addresses of live peers holding
 * the song, shuffled. Returns how many live peers hold it in all. */
size_t registry_query(struct registry *reg, const char *name, size_t namelen,
    char (*out)[NET_ADDR_MAX], size_t max, long long now_ms);

/* Returns a malloc'd array of the songs with at least one live peer whose
 * name contains filter (ASCII case ignored; filter NULL or empty: all),
 * sorted by name, and its length in *count. NULL with *count 0 if none or
 * out of memory (*oom set then). Free with registry_entries_free. */
struct registry_entry *registry_list(struct registry *reg, const char *filter,
    size_t filterlen, long long now_ms, size_t *count, int *oom);
void registry_entries_free(struct registry_entry *entries, size_t count);

void registry_stats(struct registry *reg, long long now_ms, struct registry_stats *st);

#endif

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
#include "p2pm/proto.h"

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

/* One LOCATE row, copied out of the registry. */
struct registry_source {
	char addr[NET_ADDR_MAX];
	unsigned char id[PROTO_CONTENT_ID_LEN];
	int has_id;		/* 0: registered without a content id */
};

/* One name of a REGISTER body and the content id it came with. */
struct registry_name {
	size_t off;		/* start of the name in registry_names.buf */
	size_t len;
	unsigned char id[PROTO_CONTENT_ID_LEN];
	int has_id;
};

/* A REGISTER body under construction: names stored back to back. */
struct registry_names {
	char *buf;
	size_t len, cap;
	struct registry_name *items;
	size_t count, itemcap;
};

/* How much the registry holds, in all and per source address. */
struct registry_limits {
	size_t max_peers;		/* peers */
	size_t max_pairs;		/* (song, peer) pairs */
	size_t max_peers_per_source;	/* peers registered from one address */
	size_t max_pairs_per_source;	/* their pairs */
};

/* A registry whose leases last ttl_s seconds, within the limits given
 * (copied). NULL if out of memory. */
struct registry *registry_new(int ttl_s, const struct registry_limits *lim);
void registry_free(struct registry *reg);

/* Appends a name and its content id (id NULL: none) to a REGISTER body;
 * -1 if out of memory. */
int registry_names_add(struct registry_names *names, const char *name, size_t len,
    const unsigned char *id);
void registry_names_free(struct registry_names *names);

/* registry_register refusals (nothing changed) */
#define REGISTRY_FULL (-2)		/* max_peers or max_pairs */
#define REGISTRY_SOURCE_PEERS (-3)	/* max_peers_per_source */
#define REGISTRY_SOURCE_PAIRS (-4)	/* max_pairs_per_source */

/* Replaces the song set of peer `addr` with `names` (each with its content
 * id or none), records src_ip (canonical) as where it comes from, and
 * renews its lease until now_ms + ttl. Duplicate names count once, with
 * the content id of their first line. The per-source limits apply only
 * when `limited` is set. Returns 0; one of the refusals above, changing
 * nothing, if the peer, its pairs (duplicates counted) or what src_ip has
 * registered would pass a limit; or -1 if memory ran out (the peer then
 * holds the songs attached before that). */
int registry_register(struct registry *reg, const char *addr, const char *src_ip,
    int limited, const struct registry_names *names, long long now_ms);

/* Forgets a peer and its songs. Returns 1 if it was known, 0 if not. */
int registry_unregister(struct registry *reg, const char *addr);

/* Copies into out (up to max entries) the addresses of live peers holding
 * the song, shuffled. Returns how many live peers hold it in all. */
size_t registry_query(struct registry *reg, const char *name, size_t namelen,
    char (*out)[NET_ADDR_MAX], size_t max, long long now_ms);

/* Copies into out (up to max rows) the live registrations of the song,
 * grouped by content id: the ids held by the most peers first (ties: rows
 * with an id before rows without, then by id), each group shuffled and cut
 * to per_id rows. Returns the number of rows written. */
size_t registry_locate(struct registry *reg, const char *name, size_t namelen,
    size_t per_id, struct registry_source *out, size_t max, long long now_ms);

/* Returns a malloc'd array of the songs with at least one live peer whose
 * name contains filter (ASCII case ignored; filter NULL or empty: all),
 * sorted by name, and its length in *count. NULL with *count 0 if none or
 * out of memory (*oom set then). Free with registry_entries_free. */
struct registry_entry *registry_list(struct registry *reg, const char *filter,
    size_t filterlen, long long now_ms, size_t *count, int *oom);
void registry_entries_free(struct registry_entry *entries, size_t count);

void registry_stats(struct registry *reg, long long now_ms, struct registry_stats *st);

#endif

/* registry.h - which live peers hold which songs.
 *
 * A song table (name -> song) and a peer table (address -> peer) linked
 * both ways, so QUERY, REGISTER and UNREGISTER cost the same with ten
 * songs or a million; songs are also kept in name order for LIST. Every
 * peer holds a lease; expired peers are invisible at once and swept out
 * lazily. One mutex, owned by the registry, guards it all. Memory is
 * counted as malloc hands it out and kept within a budget. */
#ifndef P2PM_REGISTRY_H
#define P2PM_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "p2pm/net.h"
#include "p2pm/proto.h"
#include "namefilter.h"

/* the tracker's default registry size (--max-peers, --max-pairs,
 * --max-memory in MiB): 10 peers of 100,000 songs each, or 1,000 peers of
 * 1,000, with content ids and tags, fit either way (docs/protocol.md,
 * Memory, has the bytes a song and a pair take) */
#define REGISTRY_DEFAULT_MAX_PEERS 10000
#define REGISTRY_DEFAULT_MAX_PAIRS 2000000L
#define REGISTRY_DEFAULT_MAX_MIB 384L

/* most songs one registry_list_page call examines, so that a filter that
 * matches little cannot hold the lock long */
#define REGISTRY_LIST_SCAN 4096

struct registry;

struct registry_stats {
	size_t peers;
	size_t songs;
	size_t pairs;
	size_t bytes;	/* memory held, counted against the budget */
};

/* One LIST row, copied out of the registry. */
struct registry_entry {
	char name[PROTO_MAX_NAME + 1];
	size_t namelen;
	size_t peers;
	char tags[PROTO_MAX_TAG_BYTES + 1];	/* of one live holder, "" if none */
};

/* One LOCATE row, copied out of the registry. */
struct registry_source {
	char addr[NET_ADDR_MAX];
	unsigned char id[PROTO_CONTENT_ID_LEN];
	int has_id;		/* 0: registered without a content id */
	char tags[PROTO_MAX_TAG_BYTES + 1];	/* its tag words, "" if none */
	int nat;		/* registered reach=nat: behind a NAT */
	int mapped;		/* registered reach=mapped: reachable through
				 * its router's port mapping */
	char relay[NET_ADDR_MAX];	/* the relay it registered, "" if none */
};

/* One name of a REGISTER body and what came with it: the name at off in
 * registry_names.buf, its tag words right after it. */
struct registry_name {
	uint32_t off;
	uint16_t tagslen;	/* 0: none */
	uint8_t len;
	uint8_t has_id;
	unsigned char id[PROTO_CONTENT_ID_LEN];
};

/* A REGISTER body under construction: names stored back to back. Zero
 * it, then set max_bytes to bound what it allocates (0: no bound). */
struct registry_names {
	char *buf;
	size_t len, cap;
	struct registry_name *items;
	size_t count, itemcap;
	size_t max_bytes;
	int nat;		/* the REGISTER said reach=nat or relay= */
	int mapped;		/* the REGISTER said reach=mapped */
	const char *relay;	/* its relay= "host:port", NULL or "" for none */
};

/* How much the registry holds, in all and per source address. */
struct registry_limits {
	size_t max_peers;		/* peers */
	size_t max_pairs;		/* (song, peer) pairs */
	size_t max_peers_per_source;	/* peers registered from one address */
	size_t max_pairs_per_source;	/* their pairs */
	size_t max_bytes;		/* memory budget of the tables, bytes */
};

/* A registry whose leases last ttl_s seconds, within the limits given
 * (copied). NULL if out of memory. */
struct registry *registry_new(int ttl_s, const struct registry_limits *lim);
void registry_free(struct registry *reg);

#define REGISTRY_NAMES_FULL (-2)

/* Appends a name and its content id (id NULL: none) to a REGISTER body.
 * Returns 0; REGISTRY_NAMES_FULL (nothing added) if its allocations would
 * pass names->max_bytes; -1 if out of memory. */
int registry_names_add(struct registry_names *names, const char *name, size_t len,
    const unsigned char *id);
/* The same with tag words (tagslen bytes, at most PROTO_MAX_TAG_BYTES;
 * 0: none), kept with the registration and counted in the budget. */
int registry_names_add_tags(struct registry_names *names, const char *name,
    size_t len, const unsigned char *id, const char *tags, size_t tagslen);

/* Bytes the body has allocated. */
size_t registry_names_bytes(const struct registry_names *names);
/* Frees what the body holds and empties it (max_bytes is kept). */
void registry_names_free(struct registry_names *names);

/* registry_register refusals (nothing changed) */
#define REGISTRY_FULL (-2)		/* max_peers, max_pairs or max_bytes */
#define REGISTRY_SOURCE_PEERS (-3)	/* max_peers_per_source */
#define REGISTRY_SOURCE_PAIRS (-4)	/* max_pairs_per_source */

/* Replaces the song set of peer `addr` with `names` (each with its content
 * id or none), records src_ip (canonical) as where it comes from, and
 * renews its lease until now_ms + ttl. Duplicate names count once, with
 * the content id of their first line. The peer is recorded as behind a
 * NAT when names->nat is set (as reachable otherwise, through a port
 * mapping when names->mapped is set). The per-source limits apply only
 * when `limited` is set. Returns 0; one of the refusals above, changing
 * nothing, if the peer, its pairs (duplicates counted) or what src_ip has
 * registered would pass a limit; or -1 if memory ran out (the peer then
 * holds the songs attached before that). */
int registry_register(struct registry *reg, const char *addr, const char *src_ip,
    int limited, const struct registry_names *names, long long now_ms);

/* Forgets a peer and its songs. Returns 1 if it was known, 0 if not. */
int registry_unregister(struct registry *reg, const char *addr);

/* the most peers one registry_query copies out */
#define REGISTRY_QUERY_MAX 64

/* Copies into out (up to max entries, at most REGISTRY_QUERY_MAX) the
 * addresses of live peers holding the song, a uniform random pick in
 * random order, leaving out those behind a NAT (a version-1 reader cannot
 * reach them). Returns how many such live peers hold it in all. */
size_t registry_query(struct registry *reg, const char *name, size_t namelen,
    char (*out)[NET_ADDR_MAX], size_t max, long long now_ms);

/* Copies into out (up to max rows) the live registrations of the song,
 * grouped by content id: the ids held by the most peers first (ties: rows
 * with an id before rows without, then by id), each group shuffled and cut
 * to per_id rows. Returns the number of rows written. */
size_t registry_locate(struct registry *reg, const char *name, size_t namelen,
    size_t per_id, struct registry_source *out, size_t max, long long now_ms);

/* One page of LIST: copies into out (up to max rows; out NULL only
 * counts) the songs with a live peer whose name matches f, in name order
 * (bytes), starting after the name `after` (NULL: from the first, with
 * expired peers swept out first). Examines at most REGISTRY_LIST_SCAN
 * songs and holds the lock only meanwhile. When songs remain beyond the
 * last one examined, sets *more and copies that name to next (NUL-ended)
 * and its length to *nextlen, to be passed as `after` for the next page;
 * otherwise *more is 0. Returns the rows written. */
size_t registry_list_page(struct registry *reg, const struct namefilter *f,
    const char *after, size_t afterlen, struct registry_entry *out, size_t max,
    long long now_ms, char next[PROTO_MAX_NAME + 1], size_t *nextlen, int *more);

void registry_stats(struct registry *reg, long long now_ms, struct registry_stats *st);

#endif

/* aliases.h - the other names songs are found by: a peer registers a song
 * named by its tags ("Artist - Title") with the tag word alias=<the file's
 * own name>, and RESOLVE of that file name gives the song's name. Kept
 * apart from the registry: one table, alias -> name, each entry living as
 * long as a lease after the last REGISTER that named it, bounded in bytes.
 * One lock guards it. */
#ifndef P2PM_TRACKER_ALIASES_H
#define P2PM_TRACKER_ALIASES_H

#include <pthread.h>
#include <stddef.h>

#include "p2pm/htable.h"
#include "p2pm/proto.h"

/* bytes the table may hold (names and entries), at most; past it a new
 * alias is not recorded (expired ones are swept out first) */
#define ALIASES_MAX_BYTES (32 * 1024 * 1024)
/* bytes counted for one entry besides its two names */
#define ALIASES_ENTRY_BYTES 96

struct aliases {
	pthread_mutex_t lock;
	struct htable table;	/* alias -> struct alias_entry */
	size_t bytes;
	long long ttl_ms;
};

/* Makes a an empty table whose entries live ttl_s seconds. Returns 0, or
 * -1 if out of memory. */
int aliases_init(struct aliases *a, int ttl_s);

/* Frees what a holds. */
void aliases_free(struct aliases *a);

/* Records that alias (aliaslen bytes, decoded) names the song name
 * (namelen bytes) until now_ms plus the lease, replacing what alias named
 * before. Returns 0, or -1 if the table is full or memory ran out. */
int aliases_put(struct aliases *a, const char *alias, size_t aliaslen,
    const char *name, size_t namelen, long long now_ms);

/* Copies the name alias names into out (PROTO_MAX_NAME + 1 bytes) and
 * returns its length, or returns -1 if it names none (or no longer). */
long aliases_get(struct aliases *a, const char *alias, size_t aliaslen,
    long long now_ms, char out[PROTO_MAX_NAME + 1]);

/* Finds the alias= word among tag words (tagslen bytes: "key=value ...",
 * values percent-encoded) and decodes its value into out. Returns its
 * length, or -1 if there is none or it is not a valid name. */
long aliases_from_tags(const char *tags, size_t tagslen,
    char out[PROTO_MAX_NAME + 1]);

#endif

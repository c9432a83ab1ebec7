/* htable.h - a hash table from byte-string keys to pointers.
 *
 * Chained, doubling its buckets to keep chains short, hashed with SipHash
 * under a random key per table, so keys that come from the network cannot
 * be chosen to collide. The table copies keys (NUL-terminated, so string
 * keys read back as C strings) but not values. It takes no lock: its
 * owner does. */
#ifndef P2PM_HTABLE_H
#define P2PM_HTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "p2pm/siphash.h"

#define HTABLE_MIN_BUCKETS 64

struct htable_entry {
	struct htable_entry *next;
	uint64_t hash;
	void *val;
	size_t keylen;
	char key[];		/* keylen bytes and a NUL */
};

struct htable {
	struct htable_entry **buckets;
	size_t nbuckets;	/* a power of two */
	size_t count;
	uint8_t sipkey[SIPHASH_KEY_LEN];
};

struct htable_iter {
	const struct htable *t;
	size_t bucket;
	struct htable_entry *next;
};

/* Returns 0, or -1 if out of memory. */
int htable_init(struct htable *t);
/* Frees the entries and buckets, not the values. */
void htable_free(struct htable *t);

/* The value stored under key, or NULL. */
void *htable_get(const struct htable *t, const void *key, size_t keylen);

/* Adds key -> val; key must not be present. Returns the new entry (its
 * key lives as long as the entry), or NULL if out of memory. */
struct htable_entry *htable_put(struct htable *t, const void *key, size_t keylen,
    void *val);

/* Removes key; returns the value it had, or NULL if absent. */
void *htable_del(struct htable *t, const void *key, size_t keylen);

/* Walks every entry once, in no order. The entry just returned may be
 * deleted before the next call; other changes to the table end the walk's
 * guarantees. */
void htable_iter_start(struct htable_iter *it, const struct htable *t);
struct htable_entry *htable_iter_next(struct htable_iter *it);

#endif

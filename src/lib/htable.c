/* htable.c - chained hash table with keyed hashing. */
#include <stdlib.h>
#include <string.h>

#include "p2pm/htable.h"

int
htable_init(struct htable *t)
{
	t->buckets = calloc(HTABLE_MIN_BUCKETS, sizeof(*t->buckets));
	t->nbuckets = HTABLE_MIN_BUCKETS;
	t->count = 0;
	siphash_random_key(t->sipkey);
	return t->buckets != NULL ? 0 : -1;
}

void
htable_free(struct htable *t)
{
	for (size_t i = 0; t->buckets != NULL && i < t->nbuckets; i++) {
		struct htable_entry *e = t->buckets[i], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
	t->count = 0;
}

/* The link that points at key's entry, or the empty link ending its chain. */
static struct htable_entry **
htable_slot(const struct htable *t, const void *key, size_t keylen, uint64_t h)
{
	struct htable_entry **e = &t->buckets[h & (t->nbuckets - 1)];

	while (*e != NULL && ((*e)->hash != h || (*e)->keylen != keylen ||
	    memcmp((*e)->key, key, keylen) != 0))
		e = &(*e)->next;
	return e;
}

void *
htable_get(const struct htable *t, const void *key, size_t keylen)
{
	uint64_t h = siphash24(t->sipkey, key, keylen);
	struct htable_entry *e = *htable_slot(t, key, keylen, h);

	return e != NULL ? e->val : NULL;
}

/* Doubles the bucket array; a failed allocation just leaves the chains
 * longer. */
static void
htable_grow(struct htable *t)
{
	size_t n = t->nbuckets * 2;
	struct htable_entry **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct htable_entry *e = t->buckets[i], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

struct htable_entry *
htable_put(struct htable *t, const void *key, size_t keylen, void *val)
{
	struct htable_entry *e = malloc(sizeof(*e) + keylen + 1);

	if (e == NULL)
		return NULL;
	if (t->count >= t->nbuckets)
		htable_grow(t);
	e->hash = siphash24(t->sipkey, key, keylen);
	e->val = val;
	e->keylen = keylen;
	memcpy(e->key, key, keylen);
	e->key[keylen] = '\0';
	e->next = t->buckets[e->hash & (t->nbuckets - 1)];
	t->buckets[e->hash & (t->nbuckets - 1)] = e;
	t->count++;
	return e;
}

void *
htable_del(struct htable *t, const void *key, size_t keylen)
{
	uint64_t h = siphash24(t->sipkey, key, keylen);
	struct htable_entry **slot = htable_slot(t, key, keylen, h), *e = *slot;
	void *val;

	if (e == NULL)
		return NULL;
	*slot = e->next;
	val = e->val;
	free(e);
	t->count--;
	return val;
}

void
htable_iter_start(struct htable_iter *it, const struct htable *t)
{
	it->t = t;
	it->bucket = 0;
	it->next = t->nbuckets > 0 ? t->buckets[0] : NULL;
}

struct htable_entry *
htable_iter_next(struct htable_iter *it)
{
	struct htable_entry *e;

	while (it->next == NULL) {
		if (++it->bucket >= it->t->nbuckets)
			return NULL;
		it->next = it->t->buckets[it->bucket];
	}
	e = it->next;
	it->next = e->next;	/* read now: e may be deleted by the caller */
	return e;
}

/* aliases.c - alias -> song name, with leases and a byte budget. */
#include <stdlib.h>
#include <string.h>

#include "aliases.h"

/* One alias: the name it gives and until when. */
struct alias_entry {
	long long expires_ms;
	size_t namelen;
	char name[];
};

int
aliases_init(struct aliases *a, int ttl_s)
{
	if (htable_init(&a->table) < 0)
		return -1;
	pthread_mutex_init(&a->lock, NULL);
	a->bytes = 0;
	a->ttl_ms = (long long)ttl_s * 1000;
	return 0;
}

void
aliases_free(struct aliases *a)
{
	struct htable_iter it;
	struct htable_entry *e;

	htable_iter_start(&it, &a->table);
	while ((e = htable_iter_next(&it)) != NULL)
		free(e->val);
	htable_free(&a->table);
	pthread_mutex_destroy(&a->lock);
}

/* Bytes entry e of an alias of aliaslen bytes counts for. */
static size_t
aliases_cost(size_t aliaslen, size_t namelen)
{
	return ALIASES_ENTRY_BYTES + aliaslen + namelen;
}

/* Removes the entry of key (keylen bytes), if any. Lock held. */
static void
aliases_drop(struct aliases *a, const char *key, size_t keylen)
{
	struct alias_entry *old = htable_del(&a->table, key, keylen);

	if (old != NULL) {
		a->bytes -= aliases_cost(keylen, old->namelen);
		free(old);
	}
}

/* Removes every expired entry. Lock held. */
static void
aliases_sweep(struct aliases *a, long long now_ms)
{
	struct htable_iter it;
	struct htable_entry *e;

	htable_iter_start(&it, &a->table);
	while ((e = htable_iter_next(&it)) != NULL) {
		struct alias_entry *ae = e->val;
		if (ae->expires_ms <= now_ms)
			aliases_drop(a, e->key, e->keylen);
	}
}

int
aliases_put(struct aliases *a, const char *alias, size_t aliaslen,
    const char *name, size_t namelen, long long now_ms)
{
	struct alias_entry *ae;
	size_t cost = aliases_cost(aliaslen, namelen);
	int rc = 0;

	if (aliaslen == 0 || aliaslen > PROTO_MAX_NAME || namelen == 0 ||
	    namelen > PROTO_MAX_NAME)
		return -1;
	pthread_mutex_lock(&a->lock);
	ae = htable_get(&a->table, alias, aliaslen);
	if (ae != NULL && ae->namelen == namelen && memcmp(ae->name, name, namelen) == 0) {
		ae->expires_ms = now_ms + a->ttl_ms;
		pthread_mutex_unlock(&a->lock);
		return 0;
	}
	aliases_drop(a, alias, aliaslen);
	if (a->bytes + cost > ALIASES_MAX_BYTES)
		aliases_sweep(a, now_ms);
	if (a->bytes + cost > ALIASES_MAX_BYTES ||
	    (ae = malloc(sizeof(*ae) + namelen + 1)) == NULL) {
		pthread_mutex_unlock(&a->lock);
		return -1;
	}
	ae->expires_ms = now_ms + a->ttl_ms;
	ae->namelen = namelen;
	memcpy(ae->name, name, namelen);
	ae->name[namelen] = '\0';
	if (htable_put(&a->table, alias, aliaslen, ae) == NULL) {
		free(ae);
		rc = -1;
	} else
		a->bytes += cost;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

long
aliases_get(struct aliases *a, const char *alias, size_t aliaslen,
    long long now_ms, char out[PROTO_MAX_NAME + 1])
{
	struct alias_entry *ae;
	long len = -1;

	pthread_mutex_lock(&a->lock);
	ae = htable_get(&a->table, alias, aliaslen);
	if (ae != NULL && ae->expires_ms <= now_ms) {
		aliases_drop(a, alias, aliaslen);
		ae = NULL;
	}
	if (ae != NULL) {
		memcpy(out, ae->name, ae->namelen + 1);
		len = (long)ae->namelen;
	}
	pthread_mutex_unlock(&a->lock);
	return len;
}

long
aliases_from_tags(const char *tags, size_t tagslen, char out[PROTO_MAX_NAME + 1])
{
	static const char key[] = "alias=";
	const char *p = tags, *end = tags + tagslen;

	while (p < end) {
		const char *w = p, *sp = memchr(p, ' ', (size_t)(end - p));
		const char *wend = sp != NULL ? sp : end;
		p = sp != NULL ? sp + 1 : end;
		if ((size_t)(wend - w) <= sizeof(key) - 1 ||
		    memcmp(w, key, sizeof(key) - 1) != 0)
			continue;
		w += sizeof(key) - 1;
		long n = proto_decode_name(w, (size_t)(wend - w), out,
		    PROTO_MAX_NAME + 1, PROTO_MAX_NAME);
		if (n <= 0 || !proto_name_valid(out, (size_t)n))
			return -1;
		return n;
	}
	return -1;
}

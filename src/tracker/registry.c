/* registry.c - song and peer tables with leases. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/htable.h"
#include "registry.h"

/* expired peers are swept out at most this often */
#define REGISTRY_SWEEP_MS 1000

struct reg_peer;

struct reg_song {
	const char *name;	/* the key of its table entry */
	size_t namelen;
	struct reg_peer **peers;
	size_t npeers, cap;
	unsigned long mark;	/* last REGISTER generation that named it */
};

struct reg_peer {
	const char *addr;	/* the key of its table entry */
	long long expires_ms;
	struct reg_song **songs;
	size_t nsongs;
};

struct registry {
	pthread_mutex_t lock;	/* guards every field below */
	struct htable songs;	/* name -> struct reg_song */
	struct htable peers;	/* "host:port" -> struct reg_peer */
	size_t pairs;
	long long ttl_ms;
	long long next_sweep_ms;
	unsigned long generation;
	uint64_t rng;
	size_t max_peers, max_pairs;
};

static uint64_t
registry_random(struct registry *reg)
{
	uint64_t x = reg->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	reg->rng = x;
	return x;
}

static void
registry_song_free(struct registry *reg, struct reg_song *s)
{
	htable_del(&reg->songs, s->name, s->namelen);
	free(s->peers);
	free(s);
}

/* Removes p from s's peer set; drops the song when nobody holds it. */
static void
registry_song_drop_peer(struct registry *reg, struct reg_song *s, struct reg_peer *p)
{
	for (size_t i = 0; i < s->npeers; i++)
		if (s->peers[i] == p) {
			s->peers[i] = s->peers[--s->npeers];
			reg->pairs--;
			break;
		}
	if (s->npeers == 0)
		registry_song_free(reg, s);
}

static void
registry_peer_free(struct registry *reg, struct reg_peer *p)
{
	for (size_t i = 0; i < p->nsongs; i++)
		registry_song_drop_peer(reg, p->songs[i], p);
	free(p->songs);
	htable_del(&reg->peers, p->addr, strlen(p->addr));
	free(p);
}

/* Forgets every peer whose lease has run out. Runs at most once per
 * REGISTRY_SWEEP_MS unless forced. */
static void
registry_sweep(struct registry *reg, long long now_ms, int force)
{
	struct htable_iter it;
	struct htable_entry *e;

	if (!force && now_ms < reg->next_sweep_ms)
		return;
	reg->next_sweep_ms = now_ms + REGISTRY_SWEEP_MS;
	htable_iter_start(&it, &reg->peers);
	while ((e = htable_iter_next(&it)) != NULL)
		if (((struct reg_peer *)e->val)->expires_ms <= now_ms)
			registry_peer_free(reg, e->val);
}

struct registry *
registry_new(int ttl_s, size_t max_peers, size_t max_pairs)
{
	struct registry *reg = calloc(1, sizeof(*reg));
	uint8_t seed[SIPHASH_KEY_LEN];

	if (reg == NULL)
		return NULL;
	if (htable_init(&reg->songs) < 0 || htable_init(&reg->peers) < 0) {
		htable_free(&reg->songs);
		htable_free(&reg->peers);
		free(reg);
		return NULL;
	}
	pthread_mutex_init(&reg->lock, NULL);
	reg->ttl_ms = (long long)ttl_s * 1000;
	siphash_random_key(seed);
	reg->rng = siphash24(seed, "rng", 3) | 1;
	reg->max_peers = max_peers;
	reg->max_pairs = max_pairs;
	return reg;
}

void
registry_free(struct registry *reg)
{
	struct htable_iter it;
	struct htable_entry *e;

	if (reg == NULL)
		return;
	htable_iter_start(&it, &reg->peers);
	while ((e = htable_iter_next(&it)) != NULL)
		registry_peer_free(reg, e->val);
	htable_free(&reg->songs);
	htable_free(&reg->peers);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

int
registry_names_add(struct registry_names *names, const char *name, size_t len)
{
	if (names->len + len > names->cap) {
		size_t cap = names->cap ? names->cap * 2 : 4096;
		while (cap < names->len + len)
			cap *= 2;
		char *b = realloc(names->buf, cap);
		if (b == NULL)
			return -1;
		names->buf = b;
		names->cap = cap;
	}
	if (names->count == names->offcap) {
		size_t cap = names->offcap ? names->offcap * 2 : 64;
		size_t *o = realloc(names->offs, cap * sizeof(*o));
		if (o == NULL)
			return -1;
		names->offs = o;
		size_t *l = realloc(names->lens, cap * sizeof(*l));
		if (l == NULL)
			return -1;
		names->lens = l;
		names->offcap = cap;
	}
	memcpy(names->buf + names->len, name, len);
	names->offs[names->count] = names->len;
	names->lens[names->count] = len;
	names->len += len;
	names->count++;
	return 0;
}

void
registry_names_free(struct registry_names *names)
{
	free(names->buf);
	free(names->offs);
	free(names->lens);
	memset(names, 0, sizeof(*names));
}

/* Finds or creates the song and makes sure p is among its holders. */
static struct reg_song *
registry_attach(struct registry *reg, const char *name, size_t len, struct reg_peer *p)
{
	struct reg_song *s = htable_get(&reg->songs, name, len);
	struct htable_entry *e = NULL;

	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL || (e = htable_put(&reg->songs, name, len, s)) == NULL) {
			free(s);
			return NULL;
		}
		s->name = e->key;
		s->namelen = len;
	}
	for (size_t i = 0; i < s->npeers; i++)
		if (s->peers[i] == p)
			return s;
	if (s->npeers == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 2;
		struct reg_peer **np = realloc(s->peers, cap * sizeof(*np));
		if (np == NULL) {
			if (s->npeers == 0)
				registry_song_free(reg, s);
			return NULL;
		}
		s->peers = np;
		s->cap = cap;
	}
	s->peers[s->npeers++] = p;
	reg->pairs++;
	return s;
}

int
registry_register(struct registry *reg, const char *addr,
    const struct registry_names *names, long long now_ms)
{
	struct reg_song **newsongs = NULL;
	size_t nnew = 0;
	int rc = 0;

	if (names->count > 0) {
		newsongs = malloc(names->count * sizeof(*newsongs));
		if (newsongs == NULL)
			return -1;
	}
	pthread_mutex_lock(&reg->lock);
	registry_sweep(reg, now_ms, 0);
	struct reg_peer *p = htable_get(&reg->peers, addr, strlen(addr));
	/* room for this peer and (counting duplicates too) its pairs? */
	if ((p == NULL && reg->peers.count >= reg->max_peers) ||
	    reg->pairs - (p != NULL ? p->nsongs : 0) + names->count > reg->max_pairs) {
		pthread_mutex_unlock(&reg->lock);
		free(newsongs);
		return REGISTRY_FULL;
	}
	if (p == NULL) {
		struct htable_entry *e = NULL;
		p = calloc(1, sizeof(*p));
		if (p == NULL || (e = htable_put(&reg->peers, addr, strlen(addr), p)) == NULL) {
			pthread_mutex_unlock(&reg->lock);
			free(p);
			free(newsongs);
			return -1;
		}
		p->addr = e->key;
	}
	p->expires_ms = now_ms + reg->ttl_ms;

	/* attach the new set, marking each song with this generation */
	unsigned long gen = ++reg->generation;
	for (size_t i = 0; i < names->count; i++) {
		struct reg_song *s = registry_attach(reg, names->buf + names->offs[i],
		    names->lens[i], p);
		if (s == NULL) {
			rc = -1;
			break;
		}
		if (s->mark == gen)
			continue;	/* named twice in one body */
		s->mark = gen;
		newsongs[nnew++] = s;
	}
	/* detach the songs the peer no longer names */
	for (size_t i = 0; i < p->nsongs; i++)
		if (p->songs[i]->mark != gen)
			registry_song_drop_peer(reg, p->songs[i], p);
	free(p->songs);
	p->songs = newsongs;
	p->nsongs = nnew;
	pthread_mutex_unlock(&reg->lock);
	return rc;
}

int
registry_unregister(struct registry *reg, const char *addr)
{
	pthread_mutex_lock(&reg->lock);
	struct reg_peer *p = htable_get(&reg->peers, addr, strlen(addr));
	if (p != NULL)
		registry_peer_free(reg, p);
	pthread_mutex_unlock(&reg->lock);
	return p != NULL;
}

size_t
registry_query(struct registry *reg, const char *name, size_t namelen,
    char (*out)[NET_ADDR_MAX], size_t max, long long now_ms)
{
	struct reg_peer **live;
	size_t nlive = 0;

	pthread_mutex_lock(&reg->lock);
	registry_sweep(reg, now_ms, 0);
	struct reg_song *s = htable_get(&reg->songs, name, namelen);
	if (s == NULL || (live = malloc(s->npeers * sizeof(*live))) == NULL) {
		pthread_mutex_unlock(&reg->lock);
		return 0;
	}
	for (size_t i = 0; i < s->npeers; i++)
		if (s->peers[i]->expires_ms > now_ms)
			live[nlive++] = s->peers[i];
	/* partial Fisher-Yates: the first `max` are a uniform random pick */
	for (size_t i = 0; i < nlive && i < max; i++) {
		size_t j = i + (size_t)(registry_random(reg) % (nlive - i));
		struct reg_peer *t = live[i];
		live[i] = live[j];
		live[j] = t;
		snprintf(out[i], NET_ADDR_MAX, "%s", live[i]->addr);
	}
	pthread_mutex_unlock(&reg->lock);
	free(live);
	return nlive;
}

/* ASCII case-insensitive substring test. */
static int
registry_name_matches(const char *name, size_t len, const char *filter, size_t flen)
{
	if (flen == 0)
		return 1;
	for (size_t i = 0; i + flen <= len; i++) {
		size_t k = 0;
		while (k < flen) {
			unsigned char a = (unsigned char)name[i + k];
			unsigned char b = (unsigned char)filter[k];
			if (a >= 'A' && a <= 'Z')
				a = (unsigned char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (unsigned char)(b - 'A' + 'a');
			if (a != b)
				break;
			k++;
		}
		if (k == flen)
			return 1;
	}
	return 0;
}

static int
registry_entry_cmp(const void *a, const void *b)
{
	const struct registry_entry *x = a, *y = b;
	size_t n = x->namelen < y->namelen ? x->namelen : y->namelen;
	int c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	return (x->namelen > y->namelen) - (x->namelen < y->namelen);
}

void
registry_entries_free(struct registry_entry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(entries[i].name);
	free(entries);
}

struct registry_entry *
registry_list(struct registry *reg, const char *filter, size_t filterlen,
    long long now_ms, size_t *count, int *oom)
{
	struct registry_entry *e = NULL;
	struct htable_iter it;
	struct htable_entry *he;
	size_t n = 0;

	*count = 0;
	*oom = 0;
	pthread_mutex_lock(&reg->lock);
	registry_sweep(reg, now_ms, 1);
	if (reg->songs.count > 0) {
		e = malloc(reg->songs.count * sizeof(*e));
		if (e == NULL)
			goto oom;
	}
	htable_iter_start(&it, &reg->songs);
	while ((he = htable_iter_next(&it)) != NULL) {
		struct reg_song *s = he->val;
		if (!registry_name_matches(s->name, s->namelen, filter, filterlen))
			continue;
		e[n].name = malloc(s->namelen + 1);
		if (e[n].name == NULL)
			goto oom;
		memcpy(e[n].name, s->name, s->namelen + 1);
		e[n].namelen = s->namelen;
		e[n].peers = s->npeers;
		n++;
	}
	pthread_mutex_unlock(&reg->lock);
	if (n > 1)
		qsort(e, n, sizeof(*e), registry_entry_cmp);
	if (n == 0) {
		free(e);
		e = NULL;
	}
	*count = n;
	return e;
oom:
	pthread_mutex_unlock(&reg->lock);
	registry_entries_free(e, n);
	*oom = 1;
	return NULL;
}

void
registry_stats(struct registry *reg, long long now_ms, struct registry_stats *st)
{
	pthread_mutex_lock(&reg->lock);
	registry_sweep(reg, now_ms, 1);
	st->peers = reg->peers.count;
	st->songs = reg->songs.count;
	st->pairs = reg->pairs;
	pthread_mutex_unlock(&reg->lock);
}

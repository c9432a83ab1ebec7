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

/* one peer holding a song, and the content id it announced for it */
struct reg_holder {
	struct reg_peer *peer;
	unsigned char id[PROTO_CONTENT_ID_LEN];
	unsigned char has_id;
};

struct reg_song {
	const char *name;	/* the key of its table entry */
	size_t namelen;
	struct reg_holder *peers;
	size_t npeers, cap;
	unsigned long mark;	/* last REGISTER generation that named it */
};

/* a source address and what is registered from it */
struct reg_source {
	const char *ip;		/* the key of its table entry */
	size_t peers;		/* peers registered from it */
	size_t pairs;		/* their (song, peer) pairs */
};

struct reg_peer {
	const char *addr;	/* the key of its table entry */
	struct reg_source *src;	/* where its last REGISTER came from */
	long long expires_ms;
	struct reg_song **songs;
	size_t nsongs;
};

struct registry {
	pthread_mutex_t lock;	/* guards every field below */
	struct htable songs;	/* name -> struct reg_song */
	struct htable peers;	/* "host:port" -> struct reg_peer */
	struct htable sources;	/* canonical source IP -> struct reg_source */
	size_t pairs;
	long long ttl_ms;
	long long next_sweep_ms;
	unsigned long generation;
	uint64_t rng;
	struct registry_limits lim;
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
		if (s->peers[i].peer == p) {
			s->peers[i] = s->peers[--s->npeers];
			reg->pairs--;
			break;
		}
	if (s->npeers == 0)
		registry_song_free(reg, s);
}

/* Takes p (with its nsongs pairs) off its source's counts, dropping a
 * source nothing is registered from any more. */
static void
registry_source_detach(struct registry *reg, struct reg_peer *p)
{
	struct reg_source *src = p->src;

	if (src == NULL)
		return;
	src->peers--;
	src->pairs -= p->nsongs;
	p->src = NULL;
	if (src->peers == 0) {
		htable_del(&reg->sources, src->ip, strlen(src->ip));
		free(src);
	}
}

static void
registry_peer_free(struct registry *reg, struct reg_peer *p)
{
	registry_source_detach(reg, p);
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
registry_new(int ttl_s, const struct registry_limits *lim)
{
	struct registry *reg = calloc(1, sizeof(*reg));
	uint8_t seed[SIPHASH_KEY_LEN];

	if (reg == NULL)
		return NULL;
	if (htable_init(&reg->songs) < 0 || htable_init(&reg->peers) < 0 ||
	    htable_init(&reg->sources) < 0) {
		htable_free(&reg->songs);
		htable_free(&reg->peers);
		htable_free(&reg->sources);
		free(reg);
		return NULL;
	}
	pthread_mutex_init(&reg->lock, NULL);
	reg->ttl_ms = (long long)ttl_s * 1000;
	siphash_random_key(seed);
	reg->rng = siphash24(seed, "rng", 3) | 1;
	reg->lim = *lim;
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
	htable_free(&reg->sources);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

int
registry_names_add(struct registry_names *names, const char *name, size_t len,
    const unsigned char *id)
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
	if (names->count == names->itemcap) {
		size_t cap = names->itemcap ? names->itemcap * 2 : 64;
		struct registry_name *it = realloc(names->items, cap * sizeof(*it));
		if (it == NULL)
			return -1;
		names->items = it;
		names->itemcap = cap;
	}
	struct registry_name *it = &names->items[names->count];
	memcpy(names->buf + names->len, name, len);
	it->off = names->len;
	it->len = len;
	it->has_id = id != NULL;
	if (id != NULL)
		memcpy(it->id, id, PROTO_CONTENT_ID_LEN);
	names->len += len;
	names->count++;
	return 0;
}

void
registry_names_free(struct registry_names *names)
{
	free(names->buf);
	free(names->items);
	memset(names, 0, sizeof(*names));
}

/* Finds or creates the song and makes sure p is among its holders; the
 * holder's entry is left in *holder. */
static struct reg_song *
registry_attach(struct registry *reg, const char *name, size_t len, struct reg_peer *p,
    struct reg_holder **holder)
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
		if (s->peers[i].peer == p) {
			*holder = &s->peers[i];
			return s;
		}
	if (s->npeers == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 2;
		struct reg_holder *np = realloc(s->peers, cap * sizeof(*np));
		if (np == NULL) {
			if (s->npeers == 0)
				registry_song_free(reg, s);
			return NULL;
		}
		s->peers = np;
		s->cap = cap;
	}
	*holder = &s->peers[s->npeers++];
	memset(*holder, 0, sizeof(**holder));
	(*holder)->peer = p;
	reg->pairs++;
	return s;
}

/* Which limit, if any, a REGISTER of count names for peer p (NULL: new)
 * from src (NULL: a source not seen yet) would pass. Duplicates count. */
static int
registry_check_limits(const struct registry *reg, const struct reg_peer *p,
    const struct reg_source *src, int limited, size_t count)
{
	size_t src_peers = src != NULL ? src->peers : 0;
	size_t src_pairs = src != NULL ? src->pairs : 0;
	int same_src = p != NULL && src != NULL && p->src == src;

	if ((p == NULL && reg->peers.count >= reg->lim.max_peers) ||
	    reg->pairs - (p != NULL ? p->nsongs : 0) + count > reg->lim.max_pairs)
		return REGISTRY_FULL;
	if (!limited)
		return 0;
	if (!same_src && src_peers >= reg->lim.max_peers_per_source)
		return REGISTRY_SOURCE_PEERS;
	if (src_pairs - (same_src ? p->nsongs : 0) + count > reg->lim.max_pairs_per_source)
		return REGISTRY_SOURCE_PAIRS;
	return 0;
}

/* Makes src_ip the source of p, creating its record. -1 if out of memory. */
static int
registry_source_attach(struct registry *reg, struct reg_peer *p, const char *src_ip)
{
	struct reg_source *src = htable_get(&reg->sources, src_ip, strlen(src_ip));

	if (src != NULL && p->src == src)
		return 0;
	if (src == NULL) {
		struct htable_entry *e = NULL;
		src = calloc(1, sizeof(*src));
		if (src == NULL ||
		    (e = htable_put(&reg->sources, src_ip, strlen(src_ip), src)) == NULL) {
			free(src);
			return -1;
		}
		src->ip = e->key;
	}
	registry_source_detach(reg, p);
	p->src = src;
	src->peers++;
	src->pairs += p->nsongs;
	return 0;
}

int
registry_register(struct registry *reg, const char *addr, const char *src_ip,
    int limited, const struct registry_names *names, long long now_ms)
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
	struct reg_source *src = htable_get(&reg->sources, src_ip, strlen(src_ip));
	int over = registry_check_limits(reg, p, src, limited, names->count);
	if (over != 0) {
		pthread_mutex_unlock(&reg->lock);
		free(newsongs);
		return over;
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
	if (registry_source_attach(reg, p, src_ip) < 0) {
		if (p->src == NULL)
			registry_peer_free(reg, p);
		pthread_mutex_unlock(&reg->lock);
		free(newsongs);
		return -1;
	}
	p->expires_ms = now_ms + reg->ttl_ms;

	/* attach the new set, marking each song with this generation */
	unsigned long gen = ++reg->generation;
	for (size_t i = 0; i < names->count; i++) {
		const struct registry_name *nm = &names->items[i];
		struct reg_holder *h;
		struct reg_song *s = registry_attach(reg, names->buf + nm->off,
		    nm->len, p, &h);
		if (s == NULL) {
			rc = -1;
			break;
		}
		if (s->mark == gen)
			continue;	/* named twice in one body */
		s->mark = gen;
		h->has_id = (unsigned char)nm->has_id;
		if (nm->has_id)
			memcpy(h->id, nm->id, PROTO_CONTENT_ID_LEN);
		newsongs[nnew++] = s;
	}
	/* detach the songs the peer no longer names */
	for (size_t i = 0; i < p->nsongs; i++)
		if (p->songs[i]->mark != gen)
			registry_song_drop_peer(reg, p->songs[i], p);
	free(p->songs);
	p->src->pairs = p->src->pairs - p->nsongs + nnew;
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
		if (s->peers[i].peer->expires_ms > now_ms)
			live[nlive++] = s->peers[i].peer;
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

/* Orders holders by content id: those with one first, then by its bytes. */
static int
registry_holder_cmp(const void *a, const void *b)
{
	const struct reg_holder *x = *(struct reg_holder *const *)a;
	const struct reg_holder *y = *(struct reg_holder *const *)b;

	if (x->has_id != y->has_id)
		return x->has_id ? -1 : 1;
	return x->has_id ? memcmp(x->id, y->id, PROTO_CONTENT_ID_LEN) : 0;
}

/* a run of live holders sharing one content id */
struct reg_group {
	size_t start, count;
};

/* Most holders first; equal counts keep the holders' order (by id). */
static int
registry_group_cmp(const void *a, const void *b)
{
	const struct reg_group *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

size_t
registry_locate(struct registry *reg, const char *name, size_t namelen,
    size_t per_id, struct registry_source *out, size_t max, long long now_ms)
{
	struct reg_holder **live = NULL;
	struct reg_group *groups = NULL;
	size_t nlive = 0, ngroups = 0, n = 0;

	pthread_mutex_lock(&reg->lock);
	registry_sweep(reg, now_ms, 0);
	struct reg_song *s = htable_get(&reg->songs, name, namelen);
	if (s == NULL || (live = malloc(s->npeers * sizeof(*live))) == NULL ||
	    (groups = malloc(s->npeers * sizeof(*groups))) == NULL)
		goto out;
	for (size_t i = 0; i < s->npeers; i++)
		if (s->peers[i].peer->expires_ms > now_ms)
			live[nlive++] = &s->peers[i];
	if (nlive > 1)
		qsort(live, nlive, sizeof(*live), registry_holder_cmp);
	for (size_t i = 0; i < nlive; i++) {
		if (i == 0 || registry_holder_cmp(&live[i - 1], &live[i]) != 0)
			groups[ngroups++] = (struct reg_group){ i, 0 };
		groups[ngroups - 1].count++;
	}
	if (ngroups > 1)
		qsort(groups, ngroups, sizeof(*groups), registry_group_cmp);
	for (size_t g = 0; g < ngroups && n < max; g++) {
		struct reg_holder **h = live + groups[g].start;
		size_t cnt = groups[g].count;
		/* partial Fisher-Yates: a uniform random pick of per_id */
		for (size_t i = 0; i < cnt && i < per_id && n < max; i++) {
			size_t j = i + (size_t)(registry_random(reg) % (cnt - i));
			struct reg_holder *t = h[i];
			h[i] = h[j];
			h[j] = t;
			snprintf(out[n].addr, NET_ADDR_MAX, "%s", h[i]->peer->addr);
			out[n].has_id = h[i]->has_id;
			memcpy(out[n].id, h[i]->id, PROTO_CONTENT_ID_LEN);
			n++;
		}
	}
out:
	pthread_mutex_unlock(&reg->lock);
	free(live);
	free(groups);
	return n;
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

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
/* levels of the skip list that keeps songs in name order (enough for
 * 4^24 songs at one level in four) */
#define REGISTRY_SKIP_LEVELS 24
/* what malloc adds to each block, for the memory budget, bytes */
#define REGISTRY_ALLOC_OVERHEAD 16

struct reg_peer;

/* one peer holding a song, and the content id it announced for it */
struct reg_holder {
	struct reg_peer *peer;
	unsigned char id[PROTO_CONTENT_ID_LEN];
	unsigned char has_id;
	char *tags;		/* its tag words (NUL-ended), or NULL */
};

struct reg_song {
	const char *name;	/* the key of its table entry */
	size_t namelen;
	struct reg_holder *peers;
	size_t npeers, cap;
	unsigned long mark;	/* last REGISTER generation that named it */
	unsigned levels;	/* how many of next[] it is linked on */
	struct reg_song *next[];	/* the next song in name order, per level */
};

/* Memory the budget counts, in bytes: per song (plus its name), per
 * (song, peer) pair and per peer, each with its share of table buckets,
 * skip-list links, array slack and malloc's overhead. */
#define REGISTRY_SONG_BYTES (sizeof(struct reg_song) + 2 * sizeof(void *) + \
	sizeof(struct htable_entry) + 1 + 2 * sizeof(void *) + 2 * REGISTRY_ALLOC_OVERHEAD)
#define REGISTRY_PAIR_BYTES (2 * sizeof(struct reg_holder) + 2 * sizeof(void *))
#define REGISTRY_TAG_BYTES(len) ((len) + 1 + REGISTRY_ALLOC_OVERHEAD)
#define REGISTRY_PEER_BYTES (sizeof(struct reg_peer) + sizeof(struct htable_entry) + \
	64 + 2 * sizeof(void *) + 4 * REGISTRY_ALLOC_OVERHEAD)

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
	int nat;		/* registered reach=nat */
	char relay[NET_ADDR_MAX];	/* registered relay=, "" for none */
};

struct registry {
	pthread_mutex_t lock;	/* guards every field below */
	struct htable songs;	/* name -> struct reg_song */
	struct htable peers;	/* "host:port" -> struct reg_peer */
	struct htable sources;	/* canonical source IP -> struct reg_source */
	struct reg_song *head[REGISTRY_SKIP_LEVELS];	/* the skip list */
	size_t pairs;
	size_t song_bytes;	/* REGISTRY_SONG_BYTES + name, summed over songs */
	size_t tag_bytes;	/* REGISTRY_TAG_BYTES(len), summed over holders' tags */
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

static int
registry_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/* Points update[l] at the link, on each level l, after which a song named
 * name belongs: the last song before it in name order. */
static void
registry_index_find(struct registry *reg, const char *name, size_t len,
    struct reg_song **update[REGISTRY_SKIP_LEVELS])
{
	struct reg_song **row = reg->head;

	for (int l = REGISTRY_SKIP_LEVELS - 1; l >= 0; l--) {
		while (row[l] != NULL &&
		    registry_name_cmp(row[l]->name, row[l]->namelen, name, len) < 0)
			row = row[l]->next;
		update[l] = &row[l];
	}
}

static void
registry_index_insert(struct registry *reg, struct reg_song *s)
{
	struct reg_song **update[REGISTRY_SKIP_LEVELS];

	registry_index_find(reg, s->name, s->namelen, update);
	for (unsigned l = 0; l < s->levels; l++) {
		s->next[l] = *update[l];
		*update[l] = s;
	}
}

static void
registry_index_remove(struct registry *reg, struct reg_song *s)
{
	struct reg_song **update[REGISTRY_SKIP_LEVELS];

	registry_index_find(reg, s->name, s->namelen, update);
	for (unsigned l = 0; l < s->levels; l++)
		if (*update[l] == s)
			*update[l] = s->next[l];
}

static void
registry_song_free(struct registry *reg, struct reg_song *s)
{
	registry_index_remove(reg, s);
	reg->song_bytes -= REGISTRY_SONG_BYTES + s->namelen;
	htable_del(&reg->songs, s->name, s->namelen);
	free(s->peers);
	free(s);
}

/* Frees the tag words of h. */
static void
registry_holder_untag(struct registry *reg, struct reg_holder *h)
{
	if (h->tags != NULL) {
		reg->tag_bytes -= REGISTRY_TAG_BYTES(strlen(h->tags));
		free(h->tags);
		h->tags = NULL;
	}
}

/* Removes p from s's peer set; drops the song when nobody holds it. */
static void
registry_song_drop_peer(struct registry *reg, struct reg_song *s, struct reg_peer *p)
{
	for (size_t i = 0; i < s->npeers; i++)
		if (s->peers[i].peer == p) {
			registry_holder_untag(reg, &s->peers[i]);
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

/* The capacity to grow to from cap (elements of size sz) to hold need,
 * doubling, but so that the body's allocations stay within `room` bytes
 * (0: no bound). Returns 0 if need does not fit. */
static size_t
registry_names_grow(size_t cap, size_t need, size_t sz, size_t first, size_t room,
    int bounded)
{
	size_t ncap = cap ? cap : first;

	while (ncap < need)
		ncap *= 2;
	if (bounded) {
		if (need > room / sz)
			return 0;
		if (ncap > room / sz)
			ncap = room / sz;
	}
	return ncap;
}

int
registry_names_add(struct registry_names *names, const char *name, size_t len,
    const unsigned char *id)
{
	return registry_names_add_tags(names, name, len, id, NULL, 0);
}

int
registry_names_add_tags(struct registry_names *names, const char *name,
    size_t len, const unsigned char *id, const char *tags, size_t tagslen)
{
	int bounded = names->max_bytes != 0;
	size_t itembytes = names->itemcap * sizeof(struct registry_name);

	if (tagslen > PROTO_MAX_TAG_BYTES)
		tagslen = 0;	/* not kept */
	if (names->len + len + tagslen > names->cap) {
		if (bounded && itembytes > names->max_bytes)
			return REGISTRY_NAMES_FULL;
		size_t cap = registry_names_grow(names->cap, names->len + len + tagslen, 1, 4096,
		    names->max_bytes - itembytes, bounded);
		if (cap == 0)
			return REGISTRY_NAMES_FULL;
		char *b = realloc(names->buf, cap);
		if (b == NULL)
			return -1;
		names->buf = b;
		names->cap = cap;
	}
	if (names->count == names->itemcap) {
		if (bounded && names->cap > names->max_bytes)
			return REGISTRY_NAMES_FULL;
		size_t cap = registry_names_grow(names->itemcap, names->count + 1,
		    sizeof(struct registry_name), 64, names->max_bytes - names->cap, bounded);
		if (cap == 0)
			return REGISTRY_NAMES_FULL;
		struct registry_name *it = realloc(names->items, cap * sizeof(*it));
		if (it == NULL)
			return -1;
		names->items = it;
		names->itemcap = cap;
	}
	struct registry_name *it = &names->items[names->count];
	memcpy(names->buf + names->len, name, len);
	if (tagslen > 0)
		memcpy(names->buf + names->len + len, tags, tagslen);
	it->off = names->len;
	it->len = len;
	it->tagsoff = names->len + len;
	it->tagslen = tagslen;
	it->has_id = id != NULL;
	if (id != NULL)
		memcpy(it->id, id, PROTO_CONTENT_ID_LEN);
	names->len += len + tagslen;
	names->count++;
	return 0;
}

size_t
registry_names_bytes(const struct registry_names *names)
{
	return names->cap + names->itemcap * sizeof(struct registry_name);
}

void
registry_names_free(struct registry_names *names)
{
	free(names->buf);
	free(names->items);
	size_t max = names->max_bytes;
	memset(names, 0, sizeof(*names));
	names->max_bytes = max;
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
		unsigned levels = 1;
		while (levels < REGISTRY_SKIP_LEVELS && (registry_random(reg) & 3) == 0)
			levels++;
		s = calloc(1, sizeof(*s) + levels * sizeof(s->next[0]));
		if (s == NULL || (e = htable_put(&reg->songs, name, len, s)) == NULL) {
			free(s);
			return NULL;
		}
		s->name = e->key;
		s->namelen = len;
		s->levels = levels;
		registry_index_insert(reg, s);
		reg->song_bytes += REGISTRY_SONG_BYTES + len;
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

static size_t
registry_bytes_of(size_t song_bytes, size_t pairs, size_t peers)
{
	return song_bytes + pairs * REGISTRY_PAIR_BYTES + peers * REGISTRY_PEER_BYTES;
}

/* The tag words a REGISTER body adds, as the budget counts them. */
static size_t
registry_names_tag_bytes(const struct registry_names *names)
{
	size_t bytes = 0;

	for (size_t i = 0; i < names->count; i++)
		if (names->items[i].tagslen > 0)
			bytes += REGISTRY_TAG_BYTES(names->items[i].tagslen);
	return bytes;
}

/* Would the registry stay within its memory budget after a REGISTER of
 * names for peer p (NULL: new)? Counts the songs not known yet (a name
 * given twice in the body twice) and the pairs as if all were new. */
static int
registry_fits_budget(const struct registry *reg, const struct reg_peer *p,
    const struct registry_names *names)
{
	size_t pairs = reg->pairs - (p != NULL ? p->nsongs : 0) + names->count;
	size_t peers = reg->peers.count + (p == NULL);
	/* the body's tags come; those the peer holds now are counted as if
	 * they stayed, and names->len counts the body's once more: an upper
	 * bound */
	size_t songs = reg->song_bytes + reg->tag_bytes + registry_names_tag_bytes(names);

	/* cheap bound first: every name new */
	if (registry_bytes_of(songs + names->count * REGISTRY_SONG_BYTES + names->len,
	    pairs, peers) <= reg->lim.max_bytes)
		return 1;
	for (size_t i = 0; i < names->count; i++) {
		const struct registry_name *nm = &names->items[i];
		if (htable_get(&reg->songs, names->buf + nm->off, nm->len) == NULL)
			songs += REGISTRY_SONG_BYTES + nm->len;
	}
	return registry_bytes_of(songs, pairs, peers) <= reg->lim.max_bytes;
}

/* Which limit, if any, a REGISTER of names for peer p (NULL: new) from
 * src (NULL: a source not seen yet) would pass. Duplicates count. */
static int
registry_check_limits(const struct registry *reg, const struct reg_peer *p,
    const struct reg_source *src, int limited, const struct registry_names *names)
{
	size_t src_peers = src != NULL ? src->peers : 0;
	size_t src_pairs = src != NULL ? src->pairs : 0;
	size_t count = names->count;
	int same_src = p != NULL && src != NULL && p->src == src;

	if ((p == NULL && reg->peers.count >= reg->lim.max_peers) ||
	    reg->pairs - (p != NULL ? p->nsongs : 0) + count > reg->lim.max_pairs ||
	    !registry_fits_budget(reg, p, names))
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
	int over = registry_check_limits(reg, p, src, limited, names);
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
		registry_holder_untag(reg, h);
		if (nm->tagslen > 0 && (h->tags = malloc(nm->tagslen + 1)) != NULL) {
			memcpy(h->tags, names->buf + nm->tagsoff, nm->tagslen);
			h->tags[nm->tagslen] = '\0';
			reg->tag_bytes += REGISTRY_TAG_BYTES(nm->tagslen);
		}
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
			out[n].nat = h[i]->peer->nat;
			snprintf(out[n].relay, NET_ADDR_MAX, "%s", h[i]->peer->relay);
			out[n].has_id = h[i]->has_id;
			memcpy(out[n].id, h[i]->id, PROTO_CONTENT_ID_LEN);
			snprintf(out[n].tags, sizeof(out[n].tags), "%s",
			    h[i]->tags != NULL ? h[i]->tags : "");
			n++;
		}
	}
out:
	pthread_mutex_unlock(&reg->lock);
	free(live);
	free(groups);
	return n;
}

size_t
registry_list_page(struct registry *reg, const struct namefilter *f,
    const char *after, size_t afterlen, struct registry_entry *out, size_t max,
    long long now_ms, char next[PROTO_MAX_NAME + 1], size_t *nextlen, int *more)
{
	struct reg_song **update[REGISTRY_SKIP_LEVELS];
	struct reg_song *s, *last = NULL;
	size_t n = 0, examined = 0;

	pthread_mutex_lock(&reg->lock);
	/* a listing starts from exact counts; later pages sweep as usual */
	registry_sweep(reg, now_ms, after == NULL);
	if (after == NULL) {
		s = reg->head[0];
	} else {
		registry_index_find(reg, after, afterlen, update);
		s = *update[0];
		if (s != NULL && registry_name_cmp(s->name, s->namelen, after, afterlen) == 0)
			s = s->next[0];
	}
	for (; s != NULL && n < max && examined < REGISTRY_LIST_SCAN; s = s->next[0]) {
		examined++;
		last = s;
		if (s->npeers == 0 || !namefilter_match(f, s->name, s->namelen))
			continue;
		if (out != NULL) {
			memcpy(out[n].name, s->name, s->namelen + 1);
			out[n].namelen = s->namelen;
			out[n].peers = s->npeers;
			out[n].tags[0] = '\0';
			for (size_t i = 0; i < s->npeers; i++)
				if (s->peers[i].tags != NULL &&
				    s->peers[i].peer->expires_ms > now_ms) {
					snprintf(out[n].tags, sizeof(out[n].tags), "%s",
					    s->peers[i].tags);
					break;
				}
		}
		n++;
	}
	*more = s != NULL;
	if (*more) {
		memcpy(next, last->name, last->namelen + 1);
		*nextlen = last->namelen;
	}
	pthread_mutex_unlock(&reg->lock);
	return n;
}

void
registry_stats(struct registry *reg, long long now_ms, struct registry_stats *st)
{
	pthread_mutex_lock(&reg->lock);
	registry_sweep(reg, now_ms, 1);
	st->peers = reg->peers.count;
	st->songs = reg->songs.count;
	st->pairs = reg->pairs;
	st->bytes = registry_bytes_of(reg->song_bytes + reg->tag_bytes, reg->pairs,
	    reg->peers.count);
	pthread_mutex_unlock(&reg->lock);
}

void
registry_set_reach(struct registry *reg, const char *addr, int nat,
    const char *relay)
{
	pthread_mutex_lock(&reg->lock);
	struct reg_peer *p = htable_get(&reg->peers, addr, strlen(addr));
	if (p != NULL) {
		p->nat = nat;
		snprintf(p->relay, sizeof(p->relay), "%s", relay != NULL ? relay : "");
	}
	pthread_mutex_unlock(&reg->lock);
}

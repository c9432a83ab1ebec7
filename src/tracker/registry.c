/* registry.c - song and peer tables with leases.
 *
 * Laid out for size, since a tracker holds millions of (song, peer)
 * pairs:
 *
 * - a song is one allocation: its counts, its skip-list links and its
 *   name; the song table is an open-addressing array of pointers to
 *   them, with a byte of each name's hash beside it so that a probe
 *   rarely touches a song it does not want;
 * - a peer is known to songs by a 32-bit id (its index in peer_by_id),
 *   not by address: a pair costs 8 bytes on the song's side (struct
 *   reg_holder, in one array per song sorted by peer id, kept inside the
 *   song while one peer holds it) and a pointer on the peer's side;
 * - what a pair announced besides the name (content id, tag words) is
 *   kept once per song and distinct announcement (struct reg_variant),
 *   shared by every holder that announced the same, and not at all for
 *   a name registered bare.
 *
 * Every allocation is counted in reg->bytes as the chunk malloc takes
 * for it (registry_chunk), so the memory budget counts what is really
 * held.
 *
 * One read-write lock guards it all: QUERY and LOCATE, the requests a
 * tracker answers most, only read and share it (their random picks come
 * from a generator of each thread's own), and everything that changes the
 * registry (REGISTER, UNREGISTER, the sweep of expired leases, and LIST
 * and STATS, which sweep first) holds it alone. */
#include <pthread.h>
#include <stdatomic.h>
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
/* skip-list levels the budget check counts for a song it would add (one
 * level in four goes up, so songs average 4/3) */
#define REGISTRY_LEVELS_COUNTED 2
/* what glibc's malloc adds to each request (its size word), how it
 * rounds, and its smallest chunk, bytes */
#define REGISTRY_MALLOC_HEADER 8
#define REGISTRY_MALLOC_ALIGN 16
#define REGISTRY_MALLOC_MIN 32
/* slots in an empty song table (a power of two); the table doubles past
 * three quarters full and halves below one eighth */
#define REGISTRY_SONGTAB_MIN 64
/* a holder's variant when its pair announced no content id and no tags */
#define REGISTRY_PLAIN UINT32_MAX
/* peer ids the id table starts with */
#define REGISTRY_PEER_IDS_MIN 64

/* one peer holding a song: the peer's id and what it announced */
struct reg_holder {
	uint32_t peer;		/* index into reg->peer_by_id */
	uint32_t variant;	/* index into the song's variants, or REGISTRY_PLAIN */
};

/* a content id and tag words some holders of a song announced alike */
struct reg_variant {
	unsigned char id[PROTO_CONTENT_ID_LEN];
	char *tags;		/* NUL-ended, or NULL */
	uint32_t refs;		/* holders naming it; 0: a free slot */
	uint16_t tagslen;
	uint8_t has_id;
};

struct reg_song {
	union {
		struct reg_holder one;	/* capshift 0: the only holder */
		struct reg_holder *many;	/* else 1 << capshift of them */
	} h;
	struct reg_variant *variants;	/* nvariants slots, or NULL */
	uint32_t nholders;
	uint32_t mark;		/* last generation that named it */
	uint32_t nvariants;
	uint8_t capshift;
	uint8_t namelen;
	uint8_t levels;		/* how many of next[] it is linked on */
	struct reg_song *next[];	/* per level the next song in name order;
					 * then the name and a NUL */
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
	int nat;		/* its last REGISTER said reach=nat or relay= */
	int mapped;		/* its last REGISTER said reach=mapped */
	struct reg_song **songs;
	size_t nsongs;
	char *relay;		/* its last REGISTER's relay= "host:port", NUL-ended
				 * and counted in reg->bytes; NULL for none */
	uint32_t id;		/* its index in reg->peer_by_id */
};

/* name -> song, open addressing with linear probing */
struct reg_songtab {
	struct reg_song **slot;	/* cap pointers, NULL where empty */
	uint8_t *tag;		/* beside each, a byte of its name's hash */
	size_t cap;		/* a power of two */
	size_t count;
	uint8_t key[SIPHASH_KEY_LEN];
};

struct registry {
	pthread_rwlock_t lock;	/* guards every field below but rng_key and
				 * rng_streams */
	struct reg_songtab songs;
	struct htable peers;	/* "host:port" -> struct reg_peer */
	struct htable sources;	/* canonical source IP -> struct reg_source */
	struct reg_peer **peer_by_id;	/* peer_cap slots, NULL where free */
	uint32_t *free_ids;	/* nfree ids of free slots below peer_top, room for ids_cap */
	size_t peer_cap, ids_cap, peer_top, nfree;
	struct reg_song *head[REGISTRY_SKIP_LEVELS];	/* the skip list */
	size_t pairs;
	size_t bytes;		/* malloc chunks the registry holds */
	size_t holder_bytes;	/* of them, the songs' holder arrays */
	long long ttl_ms;
	long long next_sweep_ms;
	uint32_t generation;
	/* each thread's random generator is seeded with this key and the
	 * count of threads seeded before it */
	uint8_t rng_key[SIPHASH_KEY_LEN];
	atomic_uint_fast64_t rng_streams;
	struct registry_limits lim;
};

/* The bytes malloc takes for a request of n bytes (0: nothing). */
static size_t
registry_chunk(size_t n)
{
	size_t c;

	if (n == 0)
		return 0;
	c = (n + REGISTRY_MALLOC_HEADER + REGISTRY_MALLOC_ALIGN - 1) &
	    ~(size_t)(REGISTRY_MALLOC_ALIGN - 1);
	return c < REGISTRY_MALLOC_MIN ? REGISTRY_MALLOC_MIN : c;
}

/* malloc, realloc and free of n bytes, counted in reg->bytes. */
static void *
registry_alloc(struct registry *reg, size_t n)
{
	void *p = malloc(n);

	if (p != NULL)
		reg->bytes += registry_chunk(n);
	return p;
}

static void *
registry_resize(struct registry *reg, void *p, size_t oldn, size_t newn)
{
	void *q = realloc(p, newn);

	if (q != NULL)
		reg->bytes = reg->bytes - registry_chunk(oldn) + registry_chunk(newn);
	return q;
}

static void
registry_release(struct registry *reg, void *p, size_t n)
{
	if (p != NULL) {
		reg->bytes -= registry_chunk(n);
		free(p);
	}
}

/* The chunks of an htable's bucket array and of an entry under a key of
 * keylen bytes. */
static size_t
registry_htable_bytes(const struct htable *t)
{
	return registry_chunk(t->nbuckets * sizeof(t->buckets[0]));
}

static size_t
registry_entry_bytes(size_t keylen)
{
	return registry_chunk(sizeof(struct htable_entry) + keylen + 1);
}

/* htable_put and htable_del, counted. */
static struct htable_entry *
registry_htable_put(struct registry *reg, struct htable *t, const char *key, void *val)
{
	size_t before = registry_htable_bytes(t), len = strlen(key);
	struct htable_entry *e = htable_put(t, key, len, val);

	if (e != NULL)
		reg->bytes = reg->bytes - before + registry_htable_bytes(t) +
		    registry_entry_bytes(len);
	return e;
}

static void
registry_htable_del(struct registry *reg, struct htable *t, const char *key)
{
	size_t len = strlen(key);

	reg->bytes -= registry_entry_bytes(len);
	htable_del(t, key, len);
}

/* the calling thread's xorshift state (0: not seeded yet) */
static _Thread_local uint64_t registry_rng;

/* A pseudo-random number from the calling thread's own generator, so that
 * readers sharing the lock draw without writing to the registry. */
static uint64_t
registry_random(struct registry *reg)
{
	uint64_t x = registry_rng;

	if (x == 0) {
		uint64_t stream = atomic_fetch_add(&reg->rng_streams, 1);
		x = siphash24(reg->rng_key, &stream, sizeof(stream)) | 1;
	}
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	registry_rng = x;
	return x;
}

static const char *
registry_song_name(const struct reg_song *s)
{
	return (const char *)&s->next[s->levels];
}

static size_t
registry_song_size(unsigned levels, size_t namelen)
{
	return sizeof(struct reg_song) + levels * sizeof(struct reg_song *) + namelen + 1;
}

static struct reg_holder *
registry_holders(struct reg_song *s)
{
	return s->capshift == 0 ? &s->h.one : s->h.many;
}

static size_t
registry_holder_cap(const struct reg_song *s)
{
	return (size_t)1 << s->capshift;
}

static int
registry_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/* ---- the song table */

static uint64_t
registry_songtab_hash(const struct reg_songtab *t, const char *name, size_t len)
{
	return siphash24(t->key, name, len);
}

/* the byte kept beside a slot: never 0, so 0 can mean empty */
static uint8_t
registry_songtab_tag(uint64_t h)
{
	return (uint8_t)((h >> 56) | 1);
}

static size_t
registry_songtab_bytes(size_t cap)
{
	return registry_chunk(cap * sizeof(struct reg_song *)) + registry_chunk(cap);
}

/* The slot that holds name, or the empty slot where it would go. */
static size_t
registry_songtab_find(const struct reg_songtab *t, const char *name, size_t len,
    uint64_t h)
{
	size_t mask = t->cap - 1, i = (size_t)h & mask;
	uint8_t tag = registry_songtab_tag(h);

	for (; t->slot[i] != NULL; i = (i + 1) & mask)
		if (t->tag[i] == tag && t->slot[i]->namelen == len &&
		    memcmp(registry_song_name(t->slot[i]), name, len) == 0)
			break;
	return i;
}

static struct reg_song *
registry_songtab_get(const struct reg_songtab *t, const char *name, size_t len)
{
	uint64_t h = registry_songtab_hash(t, name, len);

	return t->slot[registry_songtab_find(t, name, len, h)];
}

/* Moves the table to cap slots. Returns 0, or -1 if out of memory (the
 * table is then unchanged). */
static int
registry_songtab_resize(struct registry *reg, size_t cap)
{
	struct reg_songtab *t = &reg->songs;
	struct reg_song **slot = calloc(cap, sizeof(*slot));
	uint8_t *tag = calloc(cap, 1);

	if (slot == NULL || tag == NULL) {
		free(slot);
		free(tag);
		return -1;
	}
	for (size_t i = 0; i < t->cap; i++) {
		struct reg_song *s = t->slot[i];
		if (s == NULL)
			continue;
		uint64_t h = registry_songtab_hash(t, registry_song_name(s), s->namelen);
		size_t j = (size_t)h & (cap - 1);
		while (slot[j] != NULL)
			j = (j + 1) & (cap - 1);
		slot[j] = s;
		tag[j] = registry_songtab_tag(h);
	}
	reg->bytes = reg->bytes - registry_songtab_bytes(t->cap) + registry_songtab_bytes(cap);
	free(t->slot);
	free(t->tag);
	t->slot = slot;
	t->tag = tag;
	t->cap = cap;
	return 0;
}

/* The table's capacity once it holds count songs. */
static size_t
registry_songtab_cap_for(size_t cap, size_t count)
{
	while (count > cap / 4 * 3)
		cap *= 2;
	return cap;
}

/* Adds s (not present). Returns 0, or -1 if out of memory. */
static int
registry_songtab_put(struct registry *reg, struct reg_song *s)
{
	struct reg_songtab *t = &reg->songs;
	size_t cap = registry_songtab_cap_for(t->cap, t->count + 1);

	if (cap != t->cap && registry_songtab_resize(reg, cap) < 0)
		return -1;
	uint64_t h = registry_songtab_hash(t, registry_song_name(s), s->namelen);
	size_t i = registry_songtab_find(t, registry_song_name(s), s->namelen, h);
	t->slot[i] = s;
	t->tag[i] = registry_songtab_tag(h);
	t->count++;
	return 0;
}

/* Removes s (present), shifting back the entries after it so that no
 * probe sequence is cut. */
static void
registry_songtab_del(struct registry *reg, struct reg_song *s)
{
	struct reg_songtab *t = &reg->songs;
	size_t mask = t->cap - 1;
	uint64_t h = registry_songtab_hash(t, registry_song_name(s), s->namelen);
	size_t i = registry_songtab_find(t, registry_song_name(s), s->namelen, h);

	for (size_t j = (i + 1) & mask; t->slot[j] != NULL; j = (j + 1) & mask) {
		struct reg_song *o = t->slot[j];
		size_t home = (size_t)registry_songtab_hash(t, registry_song_name(o),
		    o->namelen) & mask;
		/* o may move to i if its home is not within (i, j] */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			t->slot[i] = o;
			t->tag[i] = t->tag[j];
			i = j;
		}
	}
	t->slot[i] = NULL;
	t->tag[i] = 0;
	t->count--;
	if (t->cap > REGISTRY_SONGTAB_MIN && t->count < t->cap / 8)
		registry_songtab_resize(reg, t->cap / 2);	/* a failure keeps it big */
}

/* ---- the skip list */

/* Points update[l] at the link, on each level l, after which a song named
 * name belongs: the last song before it in name order. */
static void
registry_index_find(struct registry *reg, const char *name, size_t len,
    struct reg_song **update[REGISTRY_SKIP_LEVELS])
{
	struct reg_song **row = reg->head;

	for (int l = REGISTRY_SKIP_LEVELS - 1; l >= 0; l--) {
		while (row[l] != NULL && registry_name_cmp(registry_song_name(row[l]),
		    row[l]->namelen, name, len) < 0)
			row = row[l]->next;
		update[l] = &row[l];
	}
}

static void
registry_index_insert(struct registry *reg, struct reg_song *s)
{
	struct reg_song **update[REGISTRY_SKIP_LEVELS];

	registry_index_find(reg, registry_song_name(s), s->namelen, update);
	for (unsigned l = 0; l < s->levels; l++) {
		s->next[l] = *update[l];
		*update[l] = s;
	}
}

static void
registry_index_remove(struct registry *reg, struct reg_song *s)
{
	struct reg_song **update[REGISTRY_SKIP_LEVELS];

	registry_index_find(reg, registry_song_name(s), s->namelen, update);
	for (unsigned l = 0; l < s->levels; l++)
		if (*update[l] == s)
			*update[l] = s->next[l];
}

/* ---- variants */

/* Does variant v say what a body line announced (id NULL: no id)? */
static int
registry_variant_is(const struct reg_variant *v, const unsigned char *id,
    const char *tags, size_t tagslen)
{
	if (v->refs == 0 || v->has_id != (id != NULL) || v->tagslen != tagslen)
		return 0;
	if (id != NULL && memcmp(v->id, id, PROTO_CONTENT_ID_LEN) != 0)
		return 0;
	return tagslen == 0 || memcmp(v->tags, tags, tagslen) == 0;
}

/* The variant of s that says this, or REGISTRY_PLAIN if none does. */
static uint32_t
registry_variant_find(const struct reg_song *s, const unsigned char *id,
    const char *tags, size_t tagslen)
{
	for (uint32_t i = 0; i < s->nvariants; i++)
		if (registry_variant_is(&s->variants[i], id, tags, tagslen))
			return i;
	return REGISTRY_PLAIN;
}

/* What registry_variant_get would allocate for this announcement. */
static size_t
registry_variant_cost(const struct reg_song *s, const unsigned char *id,
    const char *tags, size_t tagslen)
{
	size_t n;

	if (id == NULL && tagslen == 0)
		return 0;
	if (s != NULL && registry_variant_find(s, id, tags, tagslen) != REGISTRY_PLAIN)
		return 0;
	n = s != NULL ? s->nvariants : 0;
	return registry_chunk((n + 1) * sizeof(struct reg_variant)) -
	    registry_chunk(n * sizeof(struct reg_variant)) +
	    (tagslen > 0 ? registry_chunk(tagslen + 1) : 0);
}

/* registry_variant_get: out of memory */
#define REGISTRY_VARIANT_NOMEM (UINT32_MAX - 1)
/* A reference to the variant of s saying this, made if need be. Returns
 * its index, REGISTRY_PLAIN for an announcement of nothing, or
 * REGISTRY_VARIANT_NOMEM. */
static uint32_t
registry_variant_get(struct registry *reg, struct reg_song *s, const unsigned char *id,
    const char *tags, size_t tagslen)
{
	uint32_t i, free_slot = REGISTRY_PLAIN;
	char *copy = NULL;

	if (id == NULL && tagslen == 0)
		return REGISTRY_PLAIN;
	for (i = 0; i < s->nvariants; i++) {
		if (registry_variant_is(&s->variants[i], id, tags, tagslen)) {
			s->variants[i].refs++;
			return i;
		}
		if (s->variants[i].refs == 0 && free_slot == REGISTRY_PLAIN)
			free_slot = i;
	}
	if (tagslen > 0) {
		if ((copy = registry_alloc(reg, tagslen + 1)) == NULL)
			return REGISTRY_VARIANT_NOMEM;
		memcpy(copy, tags, tagslen);
		copy[tagslen] = '\0';
	}
	if (free_slot == REGISTRY_PLAIN) {
		struct reg_variant *v = registry_resize(reg, s->variants,
		    s->nvariants * sizeof(*v), (s->nvariants + 1u) * sizeof(*v));
		if (v == NULL) {
			registry_release(reg, copy, tagslen + 1);
			return REGISTRY_VARIANT_NOMEM;
		}
		s->variants = v;
		free_slot = s->nvariants++;
	}
	struct reg_variant *v = &s->variants[free_slot];
	memset(v, 0, sizeof(*v));
	v->refs = 1;
	v->has_id = id != NULL;
	if (id != NULL)
		memcpy(v->id, id, PROTO_CONTENT_ID_LEN);
	v->tags = copy;
	v->tagslen = (uint16_t)tagslen;
	return free_slot;
}

/* Drops a reference to variant i of s, freeing it (and the free slots at
 * the end of the array) when nobody names it any more. */
static void
registry_variant_put(struct registry *reg, struct reg_song *s, uint32_t i)
{
	struct reg_variant *v;

	if (i == REGISTRY_PLAIN || --s->variants[i].refs > 0)
		return;
	v = &s->variants[i];
	registry_release(reg, v->tags, (size_t)v->tagslen + 1);
	v->tags = NULL;
	size_t n = s->nvariants;
	while (n > 0 && s->variants[n - 1].refs == 0)
		n--;
	if (n == s->nvariants)
		return;
	if (n == 0) {
		registry_release(reg, s->variants, s->nvariants * sizeof(*v));
		s->variants = NULL;
	} else {
		v = registry_resize(reg, s->variants, s->nvariants * sizeof(*v), n * sizeof(*v));
		if (v == NULL)
			return;	/* keep the longer array */
		s->variants = v;
	}
	s->nvariants = (uint32_t)n;
}

/* ---- holders */

/* Where peer id is, or would go, in s's holders (sorted by id); *found
 * says whether it is there. */
static size_t
registry_holder_find(struct reg_song *s, uint32_t peer, int *found)
{
	struct reg_holder *h = registry_holders(s);
	size_t lo = 0, hi = s->nholders;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h[mid].peer < peer)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->nholders && h[lo].peer == peer;
	return lo;
}

/* What adding a holder to s would allocate. */
static size_t
registry_holder_cost(const struct reg_song *s)
{
	size_t cap = registry_holder_cap(s);

	if (s->nholders < cap)
		return 0;
	return registry_chunk(2 * cap * sizeof(struct reg_holder)) -
	    (s->capshift > 0 ? registry_chunk(cap * sizeof(struct reg_holder)) : 0);
}

/* Moves s's holders to an array of 1 << shift (0: into the song). */
static int
registry_holder_recap(struct registry *reg, struct reg_song *s, unsigned shift)
{
	size_t oldbytes = s->capshift > 0 ? registry_holder_cap(s) * sizeof(struct reg_holder) : 0;
	size_t newbytes = shift > 0 ? ((size_t)1 << shift) * sizeof(struct reg_holder) : 0;

	if (shift == 0) {
		struct reg_holder *many = s->h.many;
		if (s->nholders > 0)
			s->h.one = many[0];
		registry_release(reg, many, oldbytes);
	} else if (s->capshift == 0) {
		struct reg_holder *many = registry_alloc(reg, newbytes);
		if (many == NULL)
			return -1;
		if (s->nholders > 0)
			many[0] = s->h.one;
		s->h.many = many;
	} else {
		struct reg_holder *many = registry_resize(reg, s->h.many, oldbytes, newbytes);
		if (many == NULL)
			return -1;
		s->h.many = many;
	}
	reg->holder_bytes = reg->holder_bytes - registry_chunk(oldbytes) +
	    registry_chunk(newbytes);
	s->capshift = (uint8_t)shift;
	return 0;
}

/* Inserts holder {peer, variant} at pos. Returns 0, or -1 if out of memory. */
static int
registry_holder_insert(struct registry *reg, struct reg_song *s, size_t pos,
    uint32_t peer, uint32_t variant)
{
	if (s->nholders == registry_holder_cap(s) &&
	    registry_holder_recap(reg, s, s->capshift + 1u) < 0)
		return -1;
	struct reg_holder *h = registry_holders(s);
	memmove(h + pos + 1, h + pos, (s->nholders - pos) * sizeof(*h));
	h[pos].peer = peer;
	h[pos].variant = variant;
	s->nholders++;
	reg->pairs++;
	return 0;
}

static void
registry_song_free(struct registry *reg, struct reg_song *s)
{
	registry_index_remove(reg, s);
	registry_songtab_del(reg, s);
	if (s->capshift > 0)
		registry_holder_recap(reg, s, 0);
	for (uint32_t i = 0; i < s->nvariants; i++)
		registry_release(reg, s->variants[i].tags, (size_t)s->variants[i].tagslen + 1);
	registry_release(reg, s->variants, s->nvariants * sizeof(struct reg_variant));
	registry_release(reg, s, registry_song_size(s->levels, s->namelen));
}

/* Removes peer from s's holders; drops the song when nobody holds it. */
static void
registry_song_drop_peer(struct registry *reg, struct reg_song *s, uint32_t peer)
{
	int found;
	size_t pos = registry_holder_find(s, peer, &found);

	if (found) {
		struct reg_holder *h = registry_holders(s);
		registry_variant_put(reg, s, h[pos].variant);
		memmove(h + pos, h + pos + 1, (s->nholders - pos - 1) * sizeof(*h));
		s->nholders--;
		reg->pairs--;
		/* a quarter full: halve (into the song for one holder) */
		if (s->capshift > 0 && s->nholders <= registry_holder_cap(s) / 4)
			registry_holder_recap(reg, s, s->nholders <= 1 ? 0 : s->capshift - 1u);
	}
	if (s->nholders == 0)
		registry_song_free(reg, s);
}

/* The song named name, made (with no holder) if it is not known. NULL if
 * out of memory. */
static struct reg_song *
registry_song_get(struct registry *reg, const char *name, size_t len)
{
	struct reg_song *s = registry_songtab_get(&reg->songs, name, len);
	unsigned levels = 1;

	if (s != NULL)
		return s;
	while (levels < REGISTRY_SKIP_LEVELS && (registry_random(reg) & 3) == 0)
		levels++;
	s = registry_alloc(reg, registry_song_size(levels, len));
	if (s == NULL)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->namelen = (uint8_t)len;
	s->levels = (uint8_t)levels;
	memcpy((char *)registry_song_name(s), name, len);
	((char *)registry_song_name(s))[len] = '\0';
	if (registry_songtab_put(reg, s) < 0) {
		registry_release(reg, s, registry_song_size(levels, len));
		return NULL;
	}
	registry_index_insert(reg, s);
	return s;
}

/* ---- peers and sources */

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
		registry_htable_del(reg, &reg->sources, src->ip);
		registry_release(reg, src, sizeof(*src));
	}
}

static void
registry_peer_free(struct registry *reg, struct reg_peer *p)
{
	registry_source_detach(reg, p);
	for (size_t i = 0; i < p->nsongs; i++)
		registry_song_drop_peer(reg, p->songs[i], p->id);
	registry_release(reg, p->songs, p->nsongs * sizeof(p->songs[0]));
	if (p->relay != NULL)
		registry_release(reg, p->relay, strlen(p->relay) + 1);
	reg->peer_by_id[p->id] = NULL;
	reg->free_ids[reg->nfree++] = p->id;
	registry_htable_del(reg, &reg->peers, p->addr);
	registry_release(reg, p, sizeof(*p));
}

/* What the peer tables would allocate for one more peer. */
static size_t
registry_peer_cost(const struct registry *reg, size_t addrlen)
{
	size_t bytes = registry_chunk(sizeof(struct reg_peer)) + registry_entry_bytes(addrlen);

	if (reg->peers.count >= reg->peers.nbuckets)
		bytes += registry_chunk(2 * reg->peers.nbuckets * sizeof(void *));
	if (reg->nfree == 0 && reg->peer_top == reg->peer_cap) {
		size_t cap = reg->peer_cap ? 2 * reg->peer_cap : REGISTRY_PEER_IDS_MIN;
		bytes += registry_chunk(cap * sizeof(struct reg_peer *)) +
		    registry_chunk(cap * sizeof(uint32_t));
	}
	return bytes;
}

/* A free peer id for p, growing the id table if need be (the stack of
 * free ids first, so that freeing a peer never needs memory). -1 if out
 * of memory. */
static int
registry_peer_id(struct registry *reg, struct reg_peer *p)
{
	if (reg->nfree == 0 && reg->peer_top == reg->peer_cap) {
		size_t cap = reg->peer_cap ? 2 * reg->peer_cap : REGISTRY_PEER_IDS_MIN;
		if (cap >= REGISTRY_VARIANT_NOMEM)
			return -1;
		if (reg->ids_cap < cap) {
			uint32_t *ids = registry_resize(reg, reg->free_ids,
			    reg->ids_cap * sizeof(*ids), cap * sizeof(*ids));
			if (ids == NULL)
				return -1;
			reg->free_ids = ids;
			reg->ids_cap = cap;
		}
		struct reg_peer **by = registry_resize(reg, reg->peer_by_id,
		    reg->peer_cap * sizeof(*by), cap * sizeof(*by));
		if (by == NULL)
			return -1;
		reg->peer_by_id = by;
		reg->peer_cap = cap;
	}
	p->id = reg->nfree > 0 ? reg->free_ids[--reg->nfree] : (uint32_t)reg->peer_top++;
	reg->peer_by_id[p->id] = p;
	return 0;
}

/* Forgets every peer whose lease has run out. Runs at most once per
 * REGISTRY_SWEEP_MS unless forced. */
static void
registry_sweep(struct registry *reg, long long now_ms, int force)
{
	if (!force && now_ms < reg->next_sweep_ms)
		return;
	reg->next_sweep_ms = now_ms + REGISTRY_SWEEP_MS;
	for (size_t i = 0; i < reg->peer_top; i++) {
		struct reg_peer *p = reg->peer_by_id[i];
		if (p != NULL && p->expires_ms <= now_ms)
			registry_peer_free(reg, p);
	}
}

/* Makes the registry's lock prefer writers: a REGISTER waits only for
 * the readers already in, not for every QUERY that comes after it. */
static void
registry_lock_init(pthread_rwlock_t *lock)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
#ifdef __GLIBC__
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
	pthread_rwlock_init(lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

/* Takes the lock to read, or, when a sweep of expired leases is due, to
 * write, and sweeps. Either way the caller only reads, then unlocks. */
static void
registry_lock_read(struct registry *reg, long long now_ms)
{
	pthread_rwlock_rdlock(&reg->lock);
	if (now_ms < reg->next_sweep_ms)
		return;
	pthread_rwlock_unlock(&reg->lock);
	pthread_rwlock_wrlock(&reg->lock);
	registry_sweep(reg, now_ms, 0);
}

struct registry *
registry_new(int ttl_s, const struct registry_limits *lim)
{
	struct registry *reg = calloc(1, sizeof(*reg));

	if (reg == NULL)
		return NULL;
	reg->songs.slot = calloc(REGISTRY_SONGTAB_MIN, sizeof(*reg->songs.slot));
	reg->songs.tag = calloc(REGISTRY_SONGTAB_MIN, 1);
	reg->songs.cap = REGISTRY_SONGTAB_MIN;
	if (reg->songs.slot == NULL || reg->songs.tag == NULL ||
	    htable_init(&reg->peers) < 0 || htable_init(&reg->sources) < 0) {
		free(reg->songs.slot);
		free(reg->songs.tag);
		htable_free(&reg->peers);
		htable_free(&reg->sources);
		free(reg);
		return NULL;
	}
	siphash_random_key(reg->songs.key);
	registry_lock_init(&reg->lock);
	reg->ttl_ms = (long long)ttl_s * 1000;
	siphash_random_key(reg->rng_key);
	atomic_init(&reg->rng_streams, 0);
	reg->lim = *lim;
	reg->bytes = registry_chunk(sizeof(*reg)) + registry_songtab_bytes(reg->songs.cap) +
	    registry_htable_bytes(&reg->peers) + registry_htable_bytes(&reg->sources);
	return reg;
}

void
registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->peer_top; i++)
		if (reg->peer_by_id[i] != NULL)
			registry_peer_free(reg, reg->peer_by_id[i]);
	free(reg->songs.slot);
	free(reg->songs.tag);
	free(reg->peer_by_id);
	free(reg->free_ids);
	htable_free(&reg->peers);
	htable_free(&reg->sources);
	pthread_rwlock_destroy(&reg->lock);
	free(reg);
}

/* ---- REGISTER bodies */

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
	if (len > PROTO_MAX_NAME || names->len + len + tagslen > UINT32_MAX)
		return REGISTRY_NAMES_FULL;
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
	it->off = (uint32_t)names->len;
	it->len = (uint8_t)len;
	it->tagslen = (uint16_t)tagslen;
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

/* The next generation, for marking the songs one pass names; when the
 * counter wraps, every mark is cleared first. */
static uint32_t
registry_next_generation(struct registry *reg)
{
	if (++reg->generation == 0) {
		for (struct reg_song *s = reg->head[0]; s != NULL; s = s->next[0])
			s->mark = 0;
		reg->generation = 1;
	}
	return reg->generation;
}

/* What a new song for name nm would allocate (its links counted at
 * REGISTRY_LEVELS_COUNTED levels). */
static size_t
registry_new_song_cost(const struct registry_names *names, const struct registry_name *nm)
{
	return registry_chunk(registry_song_size(REGISTRY_LEVELS_COUNTED, nm->len)) +
	    registry_variant_cost(NULL, nm->has_id ? nm->id : NULL,
	    names->buf + nm->off + nm->len, nm->tagslen);
}

/* How many bytes a REGISTER of names for peer p (NULL: new, at an
 * address of addrlen bytes) would add, at most: frees are not counted,
 * a name given twice in the body counts twice unless its song is known,
 * and, while the registry is far from its budget, every name counts as
 * a new song and every holder array as doubled (a REGISTER adds at most
 * one holder to a song). */
static size_t
registry_register_cost(struct registry *reg, const struct reg_peer *p, size_t addrlen,
    const struct registry_names *names)
{
	size_t bytes = p == NULL ? registry_peer_cost(reg, addrlen) : 0;
	size_t newsongs = 0, newsong_bytes = 0;

	bytes += registry_chunk(names->count * sizeof(struct reg_song *));
	for (size_t i = 0; i < names->count; i++)
		newsong_bytes += registry_new_song_cost(names, &names->items[i]);
	size_t table = registry_songtab_bytes(registry_songtab_cap_for(reg->songs.cap,
	    reg->songs.count + names->count)) - registry_songtab_bytes(reg->songs.cap);
	size_t cheap = bytes + newsong_bytes + reg->holder_bytes + table;
	if (reg->bytes + cheap <= reg->lim.max_bytes)
		return cheap;

	/* near the budget: look each name up */
	uint32_t gen = registry_next_generation(reg);
	for (size_t i = 0; i < names->count; i++) {
		const struct registry_name *nm = &names->items[i];
		const char *name = names->buf + nm->off;
		const unsigned char *id = nm->has_id ? nm->id : NULL;
		struct reg_song *s = registry_songtab_get(&reg->songs, name, nm->len);
		int found = 0;
		if (s == NULL) {
			bytes += registry_new_song_cost(names, nm);
			newsongs++;
			continue;
		}
		if (s->mark == gen)
			continue;
		s->mark = gen;
		size_t pos = p != NULL ? registry_holder_find(s, p->id, &found) : 0;
		if (found) {
			uint32_t v = registry_holders(s)[pos].variant;
			if (v == REGISTRY_PLAIN ? id == NULL && nm->tagslen == 0 :
			    registry_variant_is(&s->variants[v], id, name + nm->len, nm->tagslen))
				continue;
		} else {
			bytes += registry_holder_cost(s);
		}
		bytes += registry_variant_cost(s, id, name + nm->len, nm->tagslen);
	}
	return bytes + registry_songtab_bytes(registry_songtab_cap_for(reg->songs.cap,
	    reg->songs.count + newsongs)) - registry_songtab_bytes(reg->songs.cap);
}

/* Which limit, if any, a REGISTER of names for peer p (NULL: new) from
 * src (NULL: a source not seen yet) would pass. Duplicates count. */
static int
registry_check_limits(struct registry *reg, const struct reg_peer *p, const char *addr,
    const struct reg_source *src, const char *src_ip, int limited,
    const struct registry_names *names)
{
	size_t src_peers = src != NULL ? src->peers : 0;
	size_t src_pairs = src != NULL ? src->pairs : 0;
	size_t count = names->count;
	int same_src = p != NULL && src != NULL && p->src == src;

	if ((p == NULL && reg->peers.count >= reg->lim.max_peers) ||
	    reg->pairs - (p != NULL ? p->nsongs : 0) + count > reg->lim.max_pairs)
		return REGISTRY_FULL;
	size_t bytes = registry_register_cost(reg, p, strlen(addr), names);
	if (names->relay != NULL && names->relay[0] != '\0')
		bytes += registry_chunk(strlen(names->relay) + 1);
	if (src == NULL)
		bytes += registry_chunk(sizeof(struct reg_source)) +
		    registry_entry_bytes(strlen(src_ip)) +
		    (reg->sources.count >= reg->sources.nbuckets ?
		    registry_chunk(2 * reg->sources.nbuckets * sizeof(void *)) : 0);
	if (reg->bytes + bytes > reg->lim.max_bytes)
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
		src = registry_alloc(reg, sizeof(*src));
		if (src == NULL ||
		    (e = registry_htable_put(reg, &reg->sources, src_ip, src)) == NULL) {
			registry_release(reg, src, sizeof(*src));
			return -1;
		}
		memset(src, 0, sizeof(*src));
		src->ip = e->key;
	}
	registry_source_detach(reg, p);
	p->src = src;
	src->peers++;
	src->pairs += p->nsongs;
	return 0;
}

/* Makes p hold the song of body line nm with what it announced. Returns
 * the song, NULL if the body named it before (nothing done), or sets
 * *nomem and returns NULL if memory ran out. */
static struct reg_song *
registry_attach(struct registry *reg, struct reg_peer *p, const struct registry_names *names,
    const struct registry_name *nm, uint32_t gen, int *nomem)
{
	const char *name = names->buf + nm->off;
	struct reg_song *s = registry_song_get(reg, name, nm->len);
	int found;

	if (s == NULL) {
		*nomem = 1;
		return NULL;
	}
	if (s->mark == gen)
		return NULL;	/* named twice in one body */
	size_t pos = registry_holder_find(s, p->id, &found);
	uint32_t v = registry_variant_get(reg, s, nm->has_id ? nm->id : NULL,
	    name + nm->len, nm->tagslen);
	if (v == REGISTRY_VARIANT_NOMEM) {
		*nomem = 1;
	} else if (found) {
		struct reg_holder *h = &registry_holders(s)[pos];
		uint32_t old = h->variant;
		h->variant = v;
		registry_variant_put(reg, s, old);
		s->mark = gen;
		return s;
	} else if (registry_holder_insert(reg, s, pos, p->id, v) == 0) {
		s->mark = gen;
		return s;
	} else {
		registry_variant_put(reg, s, v);
		*nomem = 1;
	}
	if (s->nholders == 0)
		registry_song_free(reg, s);
	return NULL;
}

/* Sets p's relay to relay (NULL or "": none), keeping the string it has
 * when it is the same. Returns 0, or -1 if out of memory (p keeps none). */
static int
registry_peer_set_relay(struct registry *reg, struct reg_peer *p, const char *relay)
{
	if (relay != NULL && relay[0] == '\0')
		relay = NULL;
	if (relay != NULL && p->relay != NULL && strcmp(relay, p->relay) == 0)
		return 0;
	if (p->relay != NULL)
		registry_release(reg, p->relay, strlen(p->relay) + 1);
	p->relay = NULL;
	if (relay == NULL)
		return 0;
	size_t len = strlen(relay) + 1;
	if ((p->relay = registry_alloc(reg, len)) == NULL)
		return -1;
	memcpy(p->relay, relay, len);
	return 0;
}

int
registry_register(struct registry *reg, const char *addr, const char *src_ip,
    int limited, const struct registry_names *names, long long now_ms)
{
	struct reg_song **newsongs = NULL;
	size_t nnew = 0;
	int rc = 0, nomem = 0;

	pthread_rwlock_wrlock(&reg->lock);
	registry_sweep(reg, now_ms, 0);
	struct reg_peer *p = htable_get(&reg->peers, addr, strlen(addr));
	struct reg_source *src = htable_get(&reg->sources, src_ip, strlen(src_ip));
	int over = registry_check_limits(reg, p, addr, src, src_ip, limited, names);
	if (over != 0) {
		pthread_rwlock_unlock(&reg->lock);
		return over;
	}
	if (names->count > 0 &&
	    (newsongs = registry_alloc(reg, names->count * sizeof(*newsongs))) == NULL) {
		pthread_rwlock_unlock(&reg->lock);
		return -1;
	}
	if (p == NULL) {
		struct htable_entry *e = NULL;
		p = registry_alloc(reg, sizeof(*p));
		if (p != NULL)
			memset(p, 0, sizeof(*p));
		if (p == NULL || registry_peer_id(reg, p) < 0 ||
		    (e = registry_htable_put(reg, &reg->peers, addr, p)) == NULL) {
			if (p != NULL && reg->peer_by_id != NULL && reg->peer_by_id[p->id] == p) {
				reg->peer_by_id[p->id] = NULL;
				reg->free_ids[reg->nfree++] = p->id;
			}
			registry_release(reg, p, sizeof(*p));
			registry_release(reg, newsongs, names->count * sizeof(*newsongs));
			pthread_rwlock_unlock(&reg->lock);
			return -1;
		}
		p->addr = e->key;
	}
	if (registry_source_attach(reg, p, src_ip) < 0) {
		if (p->src == NULL)
			registry_peer_free(reg, p);
		registry_release(reg, newsongs, names->count * sizeof(*newsongs));
		pthread_rwlock_unlock(&reg->lock);
		return -1;
	}
	p->expires_ms = now_ms + reg->ttl_ms;
	p->nat = names->nat;
	p->mapped = names->mapped && !names->nat;
	if (registry_peer_set_relay(reg, p, names->relay) < 0)
		nomem = 1;

	/* attach the new set, marking each song with this generation */
	uint32_t gen = registry_next_generation(reg);
	for (size_t i = 0; i < names->count && !nomem; i++) {
		struct reg_song *s = registry_attach(reg, p, names, &names->items[i], gen,
		    &nomem);
		if (s != NULL)
			newsongs[nnew++] = s;
	}
	if (nomem)
		rc = -1;
	/* detach the songs the peer no longer names */
	for (size_t i = 0; i < p->nsongs; i++)
		if (p->songs[i]->mark != gen)
			registry_song_drop_peer(reg, p->songs[i], p->id);
	registry_release(reg, p->songs, p->nsongs * sizeof(p->songs[0]));
	if (nnew < names->count) {
		/* names given twice: give back the slack */
		struct reg_song **fit = nnew == 0 ? NULL : registry_resize(reg, newsongs,
		    names->count * sizeof(*newsongs), nnew * sizeof(*newsongs));
		if (nnew == 0) {
			registry_release(reg, newsongs, names->count * sizeof(*newsongs));
			newsongs = NULL;
		} else if (fit != NULL) {
			newsongs = fit;
		} else {
			/* kept at the larger size: account it as nnew below */
			reg->bytes = reg->bytes - registry_chunk(names->count * sizeof(*newsongs)) +
			    registry_chunk(nnew * sizeof(*newsongs));
		}
	}
	p->src->pairs = p->src->pairs - p->nsongs + nnew;
	p->songs = newsongs;
	p->nsongs = nnew;
	pthread_rwlock_unlock(&reg->lock);
	return rc;
}

int
registry_unregister(struct registry *reg, const char *addr)
{
	pthread_rwlock_wrlock(&reg->lock);
	struct reg_peer *p = htable_get(&reg->peers, addr, strlen(addr));
	if (p != NULL)
		registry_peer_free(reg, p);
	pthread_rwlock_unlock(&reg->lock);
	return p != NULL;
}

size_t
registry_query(struct registry *reg, const char *name, size_t namelen,
    char (*out)[NET_ADDR_MAX], size_t max, long long now_ms)
{
	const struct reg_peer *pick[REGISTRY_QUERY_MAX];
	size_t nlive = 0;

	if (max > REGISTRY_QUERY_MAX)
		max = REGISTRY_QUERY_MAX;
	registry_lock_read(reg, now_ms);
	struct reg_song *s = registry_songtab_get(&reg->songs, name, namelen);
	if (s == NULL) {
		pthread_rwlock_unlock(&reg->lock);
		return 0;
	}
	/* After each live holder, pick holds a uniform random pick of up to
	 * max of those seen so far, in random order: the first max are
	 * shuffled in as they come (Fisher-Yates inside out), and each later
	 * one takes a random place with chance max / seen (a reservoir). */
	struct reg_holder *h = registry_holders(s);
	for (size_t i = 0; i < s->nholders; i++) {
		const struct reg_peer *p = reg->peer_by_id[h[i].peer];
		if (p->expires_ms <= now_ms || p->nat)
			continue;
		size_t j = (size_t)(registry_random(reg) % (nlive + 1));
		if (nlive < max) {
			if (j != nlive)
				pick[nlive] = pick[j];
			pick[j] = p;
		} else if (j < max) {
			pick[j] = p;
		}
		nlive++;
	}
	for (size_t i = 0; i < nlive && i < max; i++) {
		size_t a = strnlen(pick[i]->addr, NET_ADDR_MAX - 1);
		memcpy(out[i], pick[i]->addr, a);
		out[i][a] = '\0';
	}
	pthread_rwlock_unlock(&reg->lock);
	return nlive;
}

/* a live registration of the song being located */
struct reg_live {
	const struct reg_peer *peer;
	const struct reg_variant *v;	/* NULL: announced nothing */
};

static int
registry_live_has_id(const struct reg_live *x)
{
	return x->v != NULL && x->v->has_id;
}

/* Orders registrations by content id: those with one first, then by its
 * bytes. */
static int
registry_live_cmp(const void *a, const void *b)
{
	const struct reg_live *x = a, *y = b;
	int hx = registry_live_has_id(x), hy = registry_live_has_id(y);

	if (hx != hy)
		return hx ? -1 : 1;
	return hx ? memcmp(x->v->id, y->v->id, PROTO_CONTENT_ID_LEN) : 0;
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
	struct reg_live *live = NULL;
	struct reg_group *groups = NULL;
	size_t nlive = 0, ngroups = 0, n = 0;

	registry_lock_read(reg, now_ms);
	struct reg_song *s = registry_songtab_get(&reg->songs, name, namelen);
	if (s == NULL || (live = malloc(s->nholders * sizeof(*live))) == NULL ||
	    (groups = malloc(s->nholders * sizeof(*groups))) == NULL)
		goto out;
	struct reg_holder *h = registry_holders(s);
	for (size_t i = 0; i < s->nholders; i++) {
		const struct reg_peer *p = reg->peer_by_id[h[i].peer];
		if (p->expires_ms <= now_ms)
			continue;
		live[nlive].peer = p;
		live[nlive++].v = h[i].variant == REGISTRY_PLAIN ? NULL :
		    &s->variants[h[i].variant];
	}
	if (nlive > 1)
		qsort(live, nlive, sizeof(*live), registry_live_cmp);
	for (size_t i = 0; i < nlive; i++) {
		if (i == 0 || registry_live_cmp(&live[i - 1], &live[i]) != 0)
			groups[ngroups++] = (struct reg_group){ i, 0 };
		groups[ngroups - 1].count++;
	}
	if (ngroups > 1)
		qsort(groups, ngroups, sizeof(*groups), registry_group_cmp);
	for (size_t g = 0; g < ngroups && n < max; g++) {
		struct reg_live *l = live + groups[g].start;
		size_t cnt = groups[g].count;
		/* partial Fisher-Yates: a uniform random pick of per_id */
		for (size_t i = 0; i < cnt && i < per_id && n < max; i++) {
			size_t j = i + (size_t)(registry_random(reg) % (cnt - i));
			struct reg_live t = l[i];
			l[i] = l[j];
			l[j] = t;
			snprintf(out[n].addr, NET_ADDR_MAX, "%s", l[i].peer->addr);
			snprintf(out[n].relay, NET_ADDR_MAX, "%s",
			    l[i].peer->relay != NULL ? l[i].peer->relay : "");
			out[n].has_id = registry_live_has_id(&l[i]);
			out[n].nat = l[i].peer->nat;
			out[n].mapped = l[i].peer->mapped;
			if (out[n].has_id)
				memcpy(out[n].id, l[i].v->id, PROTO_CONTENT_ID_LEN);
			else
				memset(out[n].id, 0, PROTO_CONTENT_ID_LEN);
			snprintf(out[n].tags, sizeof(out[n].tags), "%s",
			    l[i].v != NULL && l[i].v->tags != NULL ? l[i].v->tags : "");
			n++;
		}
	}
out:
	pthread_rwlock_unlock(&reg->lock);
	free(live);
	free(groups);
	return n;
}

/* The tag words of one live holder of s, or NULL. */
static const char *
registry_song_tags(const struct registry *reg, struct reg_song *s, long long now_ms)
{
	struct reg_holder *h = registry_holders(s);

	for (size_t i = 0; i < s->nholders; i++) {
		if (h[i].variant == REGISTRY_PLAIN || s->variants[h[i].variant].tags == NULL)
			continue;
		if (reg->peer_by_id[h[i].peer]->expires_ms > now_ms)
			return s->variants[h[i].variant].tags;
	}
	return NULL;
}

size_t
registry_list_page(struct registry *reg, const struct namefilter *f,
    const char *after, size_t afterlen, struct registry_entry *out, size_t max,
    long long now_ms, char next[PROTO_MAX_NAME + 1], size_t *nextlen, int *more)
{
	struct reg_song **update[REGISTRY_SKIP_LEVELS];
	struct reg_song *s, *last = NULL;
	size_t n = 0, examined = 0;

	pthread_rwlock_wrlock(&reg->lock);
	/* a listing starts from exact counts; later pages sweep as usual */
	registry_sweep(reg, now_ms, after == NULL);
	if (after == NULL) {
		s = reg->head[0];
	} else {
		registry_index_find(reg, after, afterlen, update);
		s = *update[0];
		if (s != NULL && registry_name_cmp(registry_song_name(s), s->namelen, after,
		    afterlen) == 0)
			s = s->next[0];
	}
	for (; s != NULL && n < max && examined < REGISTRY_LIST_SCAN; s = s->next[0]) {
		examined++;
		last = s;
		if (s->nholders == 0 || !namefilter_match(f, registry_song_name(s), s->namelen))
			continue;
		if (out != NULL) {
			const char *tags = registry_song_tags(reg, s, now_ms);
			memcpy(out[n].name, registry_song_name(s), (size_t)s->namelen + 1);
			out[n].namelen = s->namelen;
			out[n].peers = s->nholders;
			snprintf(out[n].tags, sizeof(out[n].tags), "%s", tags != NULL ? tags : "");
		}
		n++;
	}
	*more = s != NULL;
	if (*more) {
		memcpy(next, registry_song_name(last), (size_t)last->namelen + 1);
		*nextlen = last->namelen;
	}
	pthread_rwlock_unlock(&reg->lock);
	return n;
}

void
registry_stats(struct registry *reg, long long now_ms, struct registry_stats *st)
{
	pthread_rwlock_wrlock(&reg->lock);
	registry_sweep(reg, now_ms, 1);
	st->peers = reg->peers.count;
	st->songs = reg->songs.count;
	st->pairs = reg->pairs;
	st->bytes = reg->bytes;
	pthread_rwlock_unlock(&reg->lock);
}

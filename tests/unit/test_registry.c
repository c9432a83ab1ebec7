/* test_registry.c - the tracker's registry: replacement, leases (with a
 * simulated clock), shuffled queries and their uniform pick, readers
 * beside writers, LIST filtering and order, counts. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/tracker/registry.h"
#include "tap.h"

#define TTL_S 60
#define TTL_MS (TTL_S * 1000LL)

static void
names_of(struct registry_names *n, const char *const *list)
{
	memset(n, 0, sizeof(*n));
	for (; *list != NULL; list++)
		registry_names_add(n, *list, strlen(*list), NULL);
}

static int
do_register(struct registry *reg, const char *addr, long long now,
    const char *const *list)
{
	struct registry_names n;
	int rc;

	names_of(&n, list);
	rc = registry_register(reg, addr, "127.0.0.1", 0, &n, now);
	registry_names_free(&n);
	return rc;
}

static size_t
query(struct registry *reg, const char *name, long long now, char (*out)[NET_ADDR_MAX],
    size_t max)
{
	return registry_query(reg, name, strlen(name), out, max, now);
}

/* registers one name under a content id made of one repeated byte (0:
 * none) for each peer 10.9.<i/256>.<i%256>:<port> of first..last; the
 * port tells the names apart, since a REGISTER replaces a peer's set */
static void
register_ids(struct registry *reg, const char *name, int first, int last,
    unsigned char fill, long long now)
{
	unsigned char id[PROTO_CONTENT_ID_LEN];

	memset(id, fill, sizeof(id));
	for (int i = first; i <= last; i++) {
		struct registry_names n;
		char addr[64];
		memset(&n, 0, sizeof(n));
		registry_names_add(&n, name, strlen(name), fill ? id : NULL);
		snprintf(addr, sizeof(addr), "10.9.%d.%d:%zu", i / 256, i % 256, strlen(name) % 100);
		registry_register(reg, addr, "127.0.0.1", 0, &n, now);
		registry_names_free(&n);
	}
}

static void
test_locate(void)
{
	struct registry_source rows[256];
	struct registry *reg = registry_new(TTL_S, &(struct registry_limits){ 1000, 1000000, 1000, 1000000, (size_t)1 << 30 });
	long long t = 5000;
	size_t n;

	/* 3 peers hold id 0xaa, 5 hold 0xbb, 2 registered without an id */
	register_ids(reg, "s", 1, 3, 0xaa, t);
	register_ids(reg, "s", 4, 8, 0xbb, t);
	register_ids(reg, "s", 9, 10, 0, t);
	n = registry_locate(reg, "s", 1, 64, rows, 256, t);
	int order = n == 10;
	for (size_t i = 0; order && i < n; i++) {
		unsigned char want = i < 5 ? 0xbb : i < 8 ? 0xaa : 0;
		order = want ? rows[i].has_id && rows[i].id[0] == want : !rows[i].has_id;
	}
	ok(order, "LOCATE groups by content id, the id most peers hold first, '-' by its count");
	ok(registry_locate(reg, "nothing", 7, 64, rows, 256, t) == 0,
	    "LOCATE of an unknown song has no rows");

	/* shuffled within a group */
	int first4 = 0;
	for (int i = 0; i < 200; i++) {
		registry_locate(reg, "s", 1, 64, rows, 256, t);
		if (strcmp(rows[0].addr, "10.9.0.4:1") == 0)
			first4++;
	}
	ok(first4 > 10 && first4 < 100, "rows within a content id are shuffled (%d/200 first)",
	    first4);

	/* per-id cap */
	register_ids(reg, "big", 1, 100, 0xcc, t);
	register_ids(reg, "big", 101, 103, 0xdd, t);
	n = registry_locate(reg, "big", 3, 64, rows, 256, t);
	ok(n == 67 && rows[0].id[0] == 0xcc && rows[63].id[0] == 0xcc && rows[64].id[0] == 0xdd,
	    "at most 64 rows per content id, then the next id (%zu rows)", n);
	ok(registry_locate(reg, "big", 3, 64, rows, 10, t) == 10, "and never more than asked");

	/* ties: rows with an id before rows without, then by id */
	register_ids(reg, "ties", 1, 2, 0, t);
	register_ids(reg, "ties", 3, 4, 0x22, t);
	register_ids(reg, "ties", 5, 6, 0x11, t);
	n = registry_locate(reg, "ties", 4, 64, rows, 256, t);
	ok(n == 6 && rows[0].id[0] == 0x11 && rows[2].id[0] == 0x22 && !rows[4].has_id,
	    "equal counts: ids in byte order, '-' last");

	/* a new REGISTER replaces the content id; expired peers drop out */
	register_ids(reg, "s", 1, 3, 0xbb, t + 10);
	n = registry_locate(reg, "s", 1, 64, rows, 256, t + 10);
	ok(n == 10 && rows[7].id[0] == 0xbb && !rows[8].has_id,
	    "re-registering with another content id moves the peer to it");
	n = registry_locate(reg, "s", 1, 64, rows, 256, t + TTL_MS + 5);
	ok(n == 3 && rows[0].id[0] == 0xbb, "only live registrations are located");

	/* a name twice in one body: the first line's id counts */
	struct registry_names two;
	unsigned char a[PROTO_CONTENT_ID_LEN], b[PROTO_CONTENT_ID_LEN];
	memset(a, 0x01, sizeof(a));
	memset(b, 0x02, sizeof(b));
	memset(&two, 0, sizeof(two));
	registry_names_add(&two, "dup", 3, a);
	registry_names_add(&two, "dup", 3, b);
	registry_register(reg, "10.8.0.1:1", "127.0.0.1", 0, &two, t);
	registry_names_free(&two);
	n = registry_locate(reg, "dup", 3, 64, rows, 256, t);
	ok(n == 1 && rows[0].id[0] == 0x01, "a name given twice keeps its first content id");
	registry_free(reg);
}

/* registers names song<first>..song<last> for addr from src, limited */
static int
register_from(struct registry *reg, const char *addr, const char *src, int limited,
    int first, int last, long long now)
{
	struct registry_names n;
	int rc;

	memset(&n, 0, sizeof(n));
	for (int i = first; i <= last; i++) {
		char name[32];
		int len = snprintf(name, sizeof(name), "song%d", i);
		registry_names_add(&n, name, (size_t)len, NULL);
	}
	rc = registry_register(reg, addr, src, limited, &n, now);
	registry_names_free(&n);
	return rc;
}

static void
test_per_source(void)
{
	struct registry *reg = registry_new(TTL_S,
	    &(struct registry_limits){ 100, 1000, 3, 10, (size_t)1 << 30 });
	struct registry_stats st;
	char peers[8][NET_ADDR_MAX];
	long long t = 7000;

	ok(register_from(reg, "10.0.0.9:1", "10.0.0.9", 1, 1, 4, t) == 0 &&
	    register_from(reg, "10.0.0.9:2", "10.0.0.9", 1, 1, 4, t) == 0 &&
	    register_from(reg, "10.0.0.9:3", "10.0.0.9", 1, 1, 2, t) == 0,
	    "one source registers 3 peers and 10 pairs, its limits");
	ok(register_from(reg, "10.0.0.9:4", "10.0.0.9", 1, 1, 1, t) == REGISTRY_SOURCE_PEERS,
	    "a fourth peer from that source is refused");
	ok(register_from(reg, "10.0.0.9:3", "10.0.0.9", 1, 1, 3, t) == REGISTRY_SOURCE_PAIRS,
	    "an 11th pair from that source is refused");
	ok(register_from(reg, "10.0.0.9:3", "10.0.0.9", 1, 5, 6, t) == 0,
	    "a peer may replace its set within the source's pairs");
	ok(register_from(reg, "10.0.0.8:1", "10.0.0.8", 1, 1, 10, t) == 0,
	    "another source is not affected");
	ok(register_from(reg, "10.0.0.9:5", "127.0.0.1", 0, 1, 50, t) == 0,
	    "an exempt source passes the per-source limits");
	registry_stats(reg, t, &st);
	ok(st.peers == 5 && st.pairs == 70, "refusals changed nothing (%zu peers, %zu pairs)",
	    st.peers, st.pairs);
	ok(registry_unregister(reg, "10.0.0.9:1") == 1 &&
	    register_from(reg, "10.0.0.9:4", "10.0.0.9", 1, 1, 4, t) == 0,
	    "unregistering a peer gives its source room again");
	/* a peer re-registered from another source moves to it */
	ok(register_from(reg, "10.0.0.9:2", "10.0.0.7", 1, 1, 10, t) == 0 &&
	    register_from(reg, "10.0.0.9:6", "10.0.0.9", 1, 1, 4, t) == 0,
	    "a peer moved to another source frees its place at the first");
	/* leases: an expired peer no longer counts for its source */
	ok(register_from(reg, "10.0.0.9:7", "10.0.0.9", 1, 1, 1, t) == REGISTRY_SOURCE_PEERS,
	    "the source is at its limit again");
	ok(register_from(reg, "10.0.0.9:7", "10.0.0.9", 1, 1, 1, t + TTL_MS + 2000) == 0,
	    "after the leases run out it may register again");
	ok(query(reg, "song1", t + TTL_MS + 2000, peers, 8) == 1, "and only that peer is live");
	registry_free(reg);
}

static void
test_namefilter(void)
{
	struct namefilter f;

	namefilter_init(&f, "aab", 3);
	ok(namefilter_match(&f, "xaaab", 5), "KMP finds aab in aaab (a partial match restarts)");
	ok(!namefilter_match(&f, "aab", 2), "not in a shorter name");
	namefilter_init(&f, "ÜBER", strlen("ÜBER"));
	ok(namefilter_match(&f, "My Über", strlen("My Über")) &&
	    !namefilter_match(&f, "My über", strlen("My über")),
	    "ASCII case is ignored, other bytes compare exactly");
	namefilter_init(&f, "abcabd", 6);
	ok(namefilter_match(&f, "abcabcabd", 9) && !namefilter_match(&f, "abcabcab", 8),
	    "overlapping candidates are found");
}

/* a 128-byte filter that matches nothing, over many long names, costs time
 * linear in the bytes: LIST cannot be made slow */
static void
test_list_scale(void)
{
	struct registry *reg = registry_new(TTL_S,
	    &(struct registry_limits){ 10, 200000, 10, 200000, (size_t)1 << 30 });
	struct registry_names n;
	struct registry_entry rows[16];
	struct namefilter f;
	char name[PROTO_MAX_NAME + 1], next[PROTO_MAX_NAME + 1], filter[129];
	size_t nextlen, total = 0, calls = 0;
	int more;

	memset(&n, 0, sizeof(n));
	memset(name, 'a', PROTO_MAX_NAME);
	for (int i = 0; i < 50000; i++) {
		int len = snprintf(name + 200, 40, "%08d", i);
		registry_names_add(&n, name, 200 + (size_t)len, NULL);
	}
	registry_register(reg, "10.3.0.1:1", "127.0.0.1", 0, &n, 1000);
	registry_names_free(&n);
	memset(filter, 'a', 128);
	filter[127] = 'b';
	namefilter_init(&f, filter, 128);
	const char *after = NULL;
	size_t alen = 0;
	do {
		size_t got = registry_list_page(reg, &f, after, alen, rows, 16, 1000, next,
		    &nextlen, &more);
		total += got;
		calls++;
		after = next;
		alen = nextlen;
	} while (more);
	ok(total == 0 && calls == (50000 + REGISTRY_LIST_SCAN - 1) / REGISTRY_LIST_SCAN,
	    "a filter matching nothing walks 50000 songs in %zu bounded steps", calls);
	namefilter_init(&f, "00049999", 8);
	after = NULL;
	alen = 0;
	do {
		total += registry_list_page(reg, &f, after, alen, rows, 16, 1000, next,
		    &nextlen, &more);
		after = next;
		alen = nextlen;
	} while (more);
	ok(total == 1, "and one that matches the last name finds it");
	registry_free(reg);
}

/* fills n with count songs "Artist <a> - Song <first + i>", each with a
 * content id made from its number and the tag words a peer sends (about
 * 110 bytes); with ids 0 bare names */
static void
names_real(struct registry_names *n, int first, int count, int ids)
{
	memset(n, 0, sizeof(*n));
	for (int i = first; i < first + count; i++) {
		char name[64], tags[192];
		unsigned char id[PROTO_CONTENT_ID_LEN];
		int len = snprintf(name, sizeof(name), "Artist %d - Song %07d", i % 97, i);
		int tlen = snprintf(tags, sizeof(tags), "artist=Artist%%20%d "
		    "album=Album%%20of%%20the%%20Year%%20%d title=Song%%20%07d track=%d "
		    "year=%d duration=%d", i % 97, i % 1000, i, 1 + i % 12, 1950 + i % 70,
		    120 + i % 200);
		memset(id, 0, sizeof(id));
		memcpy(id, &i, sizeof(i));
		if (ids)
			registry_names_add_tags(n, name, (size_t)len, id, tags, (size_t)tlen);
		else
			registry_names_add(n, name, (size_t)len, NULL);
	}
}

/* registers `peers` peers of `songs` songs each with the tracker's
 * default limits, distinct songs or the same ones; returns how many
 * REGISTERs answered 0 */
static int
register_many(struct registry *reg, int peers, int songs, int distinct, int ids)
{
	struct registry_names n;
	int fine = 0;

	if (!distinct)
		names_real(&n, 0, songs, ids);
	for (int p = 0; p < peers; p++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "10.7.%d.%d:7001", p / 256, p % 256);
		if (distinct)
			names_real(&n, p * songs, songs, ids);
		if (registry_register(reg, addr, "127.0.0.1", 0, &n, 1000) == 0)
			fine++;
		if (distinct)
			registry_names_free(&n);
	}
	if (!distinct)
		registry_names_free(&n);
	return fine;
}

/* The tracker's default budget holds a million pairs, spread either way,
 * with content ids and tags; songs of their own cost most, and are
 * measured at a tenth of the size (bench-tracker and t1060 register the
 * whole million) to keep this test quick. */
static void
test_defaults(void)
{
	static const struct {
		int peers, songs, distinct, ids;
		const char *what;
	} cases[] = {
		{ 10, 100000, 0, 0, "10 peers x the same 100,000 bare names" },
		{ 1000, 1000, 0, 1, "1,000 peers x the same 1,000 songs, with ids and tags" },
		{ 100, 1000, 1, 1, "a tenth of 1,000 peers x 1,000 songs of their own, with ids and tags" },
	};
	const struct registry_limits lim = { REGISTRY_DEFAULT_MAX_PEERS,
		REGISTRY_DEFAULT_MAX_PAIRS, 64, 200000,
		(size_t)REGISTRY_DEFAULT_MAX_MIB * 1024 * 1024 };

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct registry *reg = registry_new(TTL_S, &lim);
		struct registry_stats st;
		size_t pairs = (size_t)cases[c].peers * (size_t)cases[c].songs;
		/* the whole million in the budget, or its share of it */
		size_t room = lim.max_bytes / (1000000 / pairs);
		int fine = register_many(reg, cases[c].peers, cases[c].songs,
		    cases[c].distinct, cases[c].ids);
		registry_stats(reg, 1000, &st);
		ok(fine == cases[c].peers && st.pairs == pairs &&
		    st.songs == (cases[c].distinct ? pairs : (size_t)cases[c].songs) &&
		    st.bytes <= room,
		    "the default budget holds %s (%zu bytes of %zu, %zu a pair)", cases[c].what,
		    st.bytes, room, st.bytes / (st.pairs ? st.pairs : 1));
		registry_free(reg);
	}
}

/* What the registry counts goes back to where it was once what was added
 * is gone: every allocation is given back to the count. */
static void
test_accounting(void)
{
	struct registry *reg = registry_new(TTL_S,
	    &(struct registry_limits){ 1000, 1000000, 1000, 1000000, (size_t)1 << 30 });
	struct registry_stats st;
	struct registry_names n;
	size_t base;

	names_real(&n, 0, 5, 1);
	registry_register(reg, "10.6.0.1:1", "10.6.0.1", 0, &n, 1000);
	registry_names_free(&n);
	registry_stats(reg, 1000, &st);
	base = st.bytes;
	/* others share its songs with other ids and tags, and hold more */
	for (int p = 2; p < 42; p++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "10.6.0.%d:1", p);
		long long when = p < 30 ? 1000 : 500;
		names_real(&n, p % 3, 2000, p % 2);
		registry_register(reg, addr, "10.6.0.98", 0, &n, when);
		registry_names_free(&n);
		/* and renew with fewer, from elsewhere */
		if (p % 4 == 0) {
			names_real(&n, 1, 100, 1);
			registry_register(reg, addr, "10.6.0.99", 0, &n, when);
			registry_names_free(&n);
		}
	}
	registry_stats(reg, 1000, &st);
	ok(st.peers == 41 && st.bytes > base, "41 peers registered (%zu bytes)", st.bytes);
	for (int p = 2; p < 30; p++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "10.6.0.%d:1", p);
		registry_unregister(reg, addr);
	}
	/* the rest expires */
	names_real(&n, 0, 5, 1);
	registry_register(reg, "10.6.0.1:1", "10.6.0.1", 0, &n, 500 + TTL_MS);
	registry_names_free(&n);
	registry_stats(reg, 500 + TTL_MS, &st);
	ok(st.peers == 1 && st.pairs == 5 && st.bytes == base,
	    "once they are gone the count is back where it was (%zu, was %zu)",
	    st.bytes, base);
	char peers[4][NET_ADDR_MAX];
	ok(registry_query(reg, "Artist 1 - Song 0000001", 23, peers, 4, 500 + TTL_MS) == 1,
	    "and the first peer's songs are still found");
	registry_free(reg);
}

/* Content ids and tags are kept once per song and announcement, and each
 * holder still gets its own back. */
static void
test_variants(void)
{
	struct registry *reg = registry_new(TTL_S,
	    &(struct registry_limits){ 1000, 1000000, 1000, 1000000, (size_t)1 << 30 });
	struct registry_source rows[16];
	struct registry_stats st;
	unsigned char a[PROTO_CONTENT_ID_LEN], b[PROTO_CONTENT_ID_LEN];
	size_t one = 0, many = 0;

	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	for (int p = 0; p < 8; p++) {
		struct registry_names n;
		char addr[32];
		char tags[PROTO_MAX_TAG_BYTES + 1];
		memset(tags, 'x', PROTO_MAX_TAG_BYTES);
		memcpy(tags, p < 6 ? "title=X" : "title=Y", 7);
		tags[PROTO_MAX_TAG_BYTES] = '\0';
		memset(&n, 0, sizeof(n));
		registry_names_add_tags(&n, "song", 4, p < 7 ? a : b, tags, strlen(tags));
		snprintf(addr, sizeof(addr), "10.5.0.%d:1", p);
		registry_register(reg, addr, "127.0.0.1", 0, &n, 1000);
		registry_names_free(&n);
		registry_stats(reg, 1000, &st);
		if (p == 0)
			one = st.bytes;
		if (p == 5)
			many = st.bytes;
	}
	size_t n = registry_locate(reg, "song", 4, 64, rows, 16, 1000);
	int x = 0, y = 0, ida = 0;
	for (size_t i = 0; i < n; i++) {
		x += strncmp(rows[i].tags, "title=X", 7) == 0 &&
		    strlen(rows[i].tags) == PROTO_MAX_TAG_BYTES;
		y += strncmp(rows[i].tags, "title=Y", 7) == 0;
		ida += rows[i].id[0] == 0xa1;
	}
	ok(n == 8 && x == 6 && y == 2 && ida == 7 && rows[7].id[0] == 0xb2,
	    "each holder is located with its own id and tags, one id's group whatever its tags");
	ok(many - one < 5 * PROTO_MAX_TAG_BYTES,
	    "5 more holders of one song's id and %d bytes of tags cost %zu bytes in all "
	    "(the first %zu): the tags are not kept again", PROTO_MAX_TAG_BYTES,
	    many - one, one);
	registry_free(reg);
}

static void
test_budget(void)
{
	/* a budget that holds a few songs: a REGISTER past it is refused */
	struct registry *reg = registry_new(TTL_S,
	    &(struct registry_limits){ 100, 100000, 100, 100000, 4096 });
	struct registry_stats st;

	ok(register_from(reg, "10.4.0.1:1", "127.0.0.1", 0, 1, 5, 1000) == 0,
	    "a small REGISTER fits a 4 KiB budget");
	ok(register_from(reg, "10.4.0.2:1", "127.0.0.1", 0, 1, 100, 1000) == REGISTRY_FULL,
	    "one that would pass it is refused");
	registry_stats(reg, 1000, &st);
	ok(st.songs == 5 && st.pairs == 5 && st.bytes > 0 && st.bytes <= 4096,
	    "and nothing changed (%zu bytes counted)", st.bytes);
	ok(register_from(reg, "10.4.0.1:1", "127.0.0.1", 0, 1, 5, 1000) == 0,
	    "renewing the same songs near the budget still fits");
	registry_free(reg);

	struct registry_names n;
	memset(&n, 0, sizeof(n));
	n.max_bytes = 8192;
	int rc = 0, added = 0;
	while ((rc = registry_names_add(&n, "0123456789", 10, NULL)) == 0)
		added++;
	ok(rc == REGISTRY_NAMES_FULL && registry_names_bytes(&n) <= 8192 && added > 50,
	    "a staged body stops at its byte cap (%d names, %zu bytes)", added,
	    registry_names_bytes(&n));
	registry_names_free(&n);
}

/* a peer's relay= is kept with it, counted in the memory budget, and
 * replaced or dropped by its next REGISTER */
static void
test_relay(void)
{
	struct registry *reg = registry_new(TTL_S, &(struct registry_limits){ 10, 100, 10, 100, (size_t)1 << 20 });
	struct registry_source rows[4];
	struct registry_stats st;
	struct registry_names n;
	size_t before, with;
	long long t = 1000000;

	names_of(&n, (const char *const[]){ "song", NULL });
	registry_register(reg, "10.0.0.1:1", "10.0.0.1", 0, &n, t);
	registry_stats(reg, t, &st);
	before = st.bytes;
	n.nat = 1;
	n.relay = "[2001:db8::1]:7701";
	ok(registry_register(reg, "10.0.0.1:1", "10.0.0.1", 0, &n, t) == 0 &&
	    registry_locate(reg, "song", 4, 4, rows, 4, t) == 1 && rows[0].nat &&
	    strcmp(rows[0].relay, "[2001:db8::1]:7701") == 0,
	    "a REGISTER with relay= has LOCATE name the relay");
	registry_stats(reg, t, &st);
	with = st.bytes;
	ok(with > before, "  the relay's address is counted in the budget (%zu -> %zu)",
	    before, with);
	n.relay = "10.0.0.9:7701";
	registry_register(reg, "10.0.0.1:1", "10.0.0.1", 0, &n, t);
	ok(registry_locate(reg, "song", 4, 4, rows, 4, t) == 1 &&
	    strcmp(rows[0].relay, "10.0.0.9:7701") == 0, "  a new relay replaces it");
	n.nat = 0;
	n.relay = NULL;
	registry_register(reg, "10.0.0.1:1", "10.0.0.1", 0, &n, t);
	registry_stats(reg, t, &st);
	ok(registry_locate(reg, "song", 4, 4, rows, 4, t) == 1 && !rows[0].nat &&
	    rows[0].relay[0] == '\0' && st.bytes == before,
	    "  a REGISTER without one drops it and gives its bytes back");
	registry_names_free(&n);
	registry_free(reg);
}

/* a peer registered reach=mapped is located as mapped and counts as
 * reachable (QUERY names it); its next REGISTER says anew */
static void
test_mapped(void)
{
	struct registry *reg = registry_new(TTL_S, &(struct registry_limits){ 10, 100, 10, 100, (size_t)1 << 20 });
	struct registry_source rows[4];
	struct registry_names n;
	char peers[4][NET_ADDR_MAX];
	long long t = 1000000;

	names_of(&n, (const char *const[]){ "song", NULL });
	n.mapped = 1;
	ok(registry_register(reg, "198.18.2.1:7701", "198.18.2.1", 0, &n, t) == 0 &&
	    registry_locate(reg, "song", 4, 4, rows, 4, t) == 1 && rows[0].mapped &&
	    !rows[0].nat, "a REGISTER with reach=mapped is located as mapped");
	ok(registry_query(reg, "song", 4, peers, 4, t) == 1 &&
	    strcmp(peers[0], "198.18.2.1:7701") == 0, "  and QUERY names it: it is reachable");
	n.mapped = 0;
	registry_register(reg, "198.18.2.1:7701", "198.18.2.1", 0, &n, t);
	ok(registry_locate(reg, "song", 4, 4, rows, 4, t) == 1 && !rows[0].mapped,
	    "  a REGISTER without it is direct again");
	n.mapped = 1;
	n.nat = 1;
	registry_register(reg, "198.18.2.1:7701", "198.18.2.1", 0, &n, t);
	ok(registry_locate(reg, "song", 4, 4, rows, 4, t) == 1 && !rows[0].mapped &&
	    rows[0].nat, "  behind a NAT, it is not mapped");
	registry_names_free(&n);
	registry_free(reg);
}

/* QUERY of a song with more holders than it names: each holder is
 * picked, and first, about as often as any other, never twice in one
 * reply, and only live holders are named. Binomial counts: the bounds
 * are more than six standard deviations wide. */
static void
test_query_pick(void)
{
	enum { HOLDERS = 20, NAMED = 8, TURNS = 2000 };
	struct registry *reg = registry_new(TTL_S, &(struct registry_limits){ 1000, 1000000, 1000, 1000000, (size_t)1 << 30 });
	char out[NAMED][NET_ADDR_MAX];
	int picked[HOLDERS] = { 0 }, first[HOLDERS] = { 0 };
	int twice = 0, stranger = 0, short_reply = 0;
	long long t = 7000;

	/* a holder whose lease ran out is never named */
	do_register(reg, "10.3.1.1:1", t - TTL_MS, (const char *const[]){ "hot", NULL });
	for (int i = 0; i < HOLDERS; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "10.3.0.%d:1", i);
		do_register(reg, addr, t, (const char *const[]){ "hot", NULL });
	}
	for (int turn = 0; turn < TURNS; turn++) {
		int seen[HOLDERS] = { 0 };
		if (query(reg, "hot", t, out, NAMED) != HOLDERS)
			short_reply++;
		for (int i = 0; i < NAMED; i++) {
			int k;
			if (sscanf(out[i], "10.3.0.%d:1", &k) != 1 || k < 0 || k >= HOLDERS) {
				stranger++;
				continue;
			}
			twice += seen[k]++ > 0;
			picked[k]++;
			if (i == 0)
				first[k]++;
		}
	}
	int pmin = TURNS, pmax = 0, fmin = TURNS, fmax = 0;
	for (int k = 0; k < HOLDERS; k++) {
		pmin = picked[k] < pmin ? picked[k] : pmin;
		pmax = picked[k] > pmax ? picked[k] : pmax;
		fmin = first[k] < fmin ? first[k] : fmin;
		fmax = first[k] > fmax ? first[k] : fmax;
	}
	ok(short_reply == 0 && stranger == 0 && twice == 0,
	    "QUERY counts the live holders and names each at most once, none expired");
	/* expected TURNS * NAMED / HOLDERS = 800 (sd 22) and 100 (sd 10) */
	ok(pmin > 650 && pmax < 950, "each of 20 holders is among the 8 named about as often "
	    "(%d..%d of %d, 800 expected)", pmin, pmax, TURNS);
	ok(fmin > 40 && fmax < 160, "and named first about as often (%d..%d, 100 expected)",
	    fmin, fmax);
	registry_free(reg);
}

/* readers beside writers: threads QUERY and LOCATE while the main thread
 * registers, unregisters and lets leases expire (sweeps), all through the
 * registry's lock; under ThreadSanitizer this also shows there is no
 * data race */
enum { RW_READERS = 3, RW_ROUNDS = 400, RW_PEERS = 16 };
static struct registry *rw_reg;
static atomic_int rw_stop;
static atomic_llong rw_now;
static atomic_int rw_bad;

static void *
rw_reader(void *arg)
{
	char out[8][NET_ADDR_MAX];
	struct registry_source rows[16];
	long reads = 0;

	(void)arg;
	while (!atomic_load(&rw_stop) || reads == 0) {
		long long now = atomic_load(&rw_now);
		size_t n = registry_query(rw_reg, "shared", 6, out, 8, now);
		for (size_t i = 0; i < n && i < 8; i++)
			if (strncmp(out[i], "10.4.", 5) != 0)
				atomic_fetch_add(&rw_bad, 1);
		if (n > RW_PEERS)
			atomic_fetch_add(&rw_bad, 1);
		n = registry_locate(rw_reg, "shared", 6, 16, rows, 16, now);
		for (size_t i = 0; i < n; i++)
			if (strncmp(rows[i].addr, "10.4.", 5) != 0)
				atomic_fetch_add(&rw_bad, 1);
		reads++;
	}
	return NULL;
}

static void
test_readers_beside_writers(void)
{
	pthread_t th[RW_READERS];
	int started = 0;

	rw_reg = registry_new(TTL_S, &(struct registry_limits){ 1000, 1000000, 1000, 1000000, (size_t)1 << 30 });
	atomic_store(&rw_now, 1000000);
	for (int i = 0; i < RW_READERS; i++)
		started += pthread_create(&th[i], NULL, rw_reader, NULL) == 0;
	for (int round = 0; round < RW_ROUNDS; round++) {
		long long now = atomic_load(&rw_now);
		char addr[32];
		snprintf(addr, sizeof(addr), "10.4.0.%d:1", round % RW_PEERS);
		if (round % 5 == 4)
			registry_unregister(rw_reg, addr);
		else
			do_register(rw_reg, addr, now, (const char *const[]){ "shared", "other", NULL });
		/* now and then far enough on that the leases run out and the
		 * next reader sweeps them */
		atomic_store(&rw_now, now + (round % 50 == 49 ? TTL_MS + 1 : 7));
	}
	atomic_store(&rw_stop, 1);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	ok(started == RW_READERS && atomic_load(&rw_bad) == 0,
	    "%d readers QUERY and LOCATE while peers register, leave and expire: "
	    "every reply names only registered peers", RW_READERS);
	registry_free(rw_reg);
}

int
main(void)
{
	test_query_pick();
	test_readers_beside_writers();
	test_namefilter();
	test_defaults();
	test_accounting();
	test_variants();
	test_list_scale();
	test_budget();
	test_locate();
	test_per_source();
	test_mapped();
	test_relay();
	char peers[8][NET_ADDR_MAX];
	struct registry *reg = registry_new(TTL_S, &(struct registry_limits){ 1000, 1000000, 1000, 1000000, (size_t)1 << 30 });
	struct registry_stats st;
	size_t n;
	long long t = 1000000;

	ok(reg != NULL, "a registry is made");
	ok(do_register(reg, "10.0.0.1:1", t, (const char *const[]){ "a", "b", NULL }) == 0,
	    "a peer registers two songs");
	ok(do_register(reg, "10.0.0.2:1", t, (const char *const[]){ "b", "c", "c", NULL }) == 0,
	    "a second peer registers, naming one song twice");
	registry_stats(reg, t, &st);
	ok(st.peers == 2 && st.songs == 3 && st.pairs == 4,
	    "stats count 2 peers, 3 songs, 4 pairs (a duplicate counts once)");
	ok(query(reg, "b", t, peers, 8) == 2, "both peers hold b");
	ok(query(reg, "a", t, peers, 8) == 1 && strcmp(peers[0], "10.0.0.1:1") == 0,
	    "one peer holds a");
	ok(query(reg, "zzz", t, peers, 8) == 0, "nobody holds an unknown song");

	/* shuffling: over many queries each peer comes first sometimes */
	int first1 = 0, first2 = 0;
	for (int i = 0; i < 200; i++) {
		query(reg, "b", t, peers, 8);
		if (strcmp(peers[0], "10.0.0.1:1") == 0)
			first1++;
		else
			first2++;
	}
	ok(first1 > 20 && first2 > 20, "QUERY order is shuffled (%d/%d)", first1, first2);

	/* replacing the set */
	do_register(reg, "10.0.0.1:1", t + 10, (const char *const[]){ "d", NULL });
	ok(query(reg, "a", t + 10, peers, 8) == 0, "a song left out of a new REGISTER is gone");
	ok(query(reg, "b", t + 10, peers, 8) == 1, "a shared song loses only that peer");
	ok(query(reg, "d", t + 10, peers, 8) == 1, "the new song is there");

	/* leases: peer 2 was last registered at t, peer 1 at t + 10 */
	ok(query(reg, "c", t + TTL_MS - 1, peers, 8) == 1, "a lease holds until its ttl");
	ok(query(reg, "c", t + TTL_MS, peers, 8) == 0, "and is gone at the ttl");
	ok(query(reg, "d", t + TTL_MS, peers, 8) == 1, "a later lease still holds");
	registry_stats(reg, t + TTL_MS, &st);
	ok(st.peers == 1 && st.songs == 1 && st.pairs == 1,
	    "expired peers are swept from the counts");
	do_register(reg, "10.0.0.1:1", t + TTL_MS + 5, (const char *const[]){ "d", NULL });
	ok(query(reg, "d", t + 2 * TTL_MS, peers, 8) == 1, "renewing moves the lease on");

	/* LIST: sorted, case-insensitive filter, counts */
	do_register(reg, "10.0.0.3:1", t + TTL_MS + 5,
	    (const char *const[]){ "Zebra", "apple", "Apple Pie", "d", NULL });
	struct registry_entry rows[8];
	struct namefilter f;
	char next[PROTO_MAX_NAME + 1];
	size_t nextlen;
	int more;
	namefilter_init(&f, "", 0);
	n = registry_list_page(reg, &f, NULL, 0, rows, 8, t + TTL_MS + 6, next, &nextlen, &more);
	ok(n == 4 && !more && strcmp(rows[0].name, "Apple Pie") == 0 &&
	    strcmp(rows[1].name, "Zebra") == 0 && strcmp(rows[2].name, "apple") == 0 &&
	    strcmp(rows[3].name, "d") == 0 && rows[3].peers == 2,
	    "LIST is sorted by bytes and counts peers");
	n = registry_list_page(reg, &f, NULL, 0, rows, 2, t + TTL_MS + 6, next, &nextlen, &more);
	ok(n == 2 && more && strcmp(next, "Zebra") == 0, "a page stops at its limit, with a cursor");
	n = registry_list_page(reg, &f, next, nextlen, rows, 2, t + TTL_MS + 6, next, &nextlen,
	    &more);
	ok(n == 2 && strcmp(rows[0].name, "apple") == 0 && strcmp(rows[1].name, "d") == 0,
	    "and the next page goes on after the cursor");
	n = registry_list_page(reg, &f, "b", 1, rows, 8, t + TTL_MS + 6, next, &nextlen, &more);
	ok(n == 1 && strcmp(rows[0].name, "d") == 0 && !more,
	    "a cursor that is no song starts after where it would be");
	namefilter_init(&f, "APPLE", 5);
	n = registry_list_page(reg, &f, NULL, 0, rows, 8, t + TTL_MS + 6, next, &nextlen, &more);
	ok(n == 2, "LIST filters ignoring case");

	/* query cap */
	char many[8][NET_ADDR_MAX];
	for (int i = 0; i < 20; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "10.1.0.%d:1", i + 1);
		do_register(reg, addr, t + TTL_MS + 7, (const char *const[]){ "hot", NULL });
	}
	ok(query(reg, "hot", t + TTL_MS + 8, many, 8) == 20,
	    "QUERY counts all 20 holders while copying out at most 8");

	ok(registry_unregister(reg, "10.0.0.3:1") == 1, "UNREGISTER of a known peer");
	ok(registry_unregister(reg, "10.0.0.3:1") == 0, "UNREGISTER twice is harmless");
	ok(query(reg, "Zebra", t + TTL_MS + 8, peers, 8) == 0, "its songs are gone");

	/* a large body: the tables grow and every name stays reachable */
	struct registry_names big;
	memset(&big, 0, sizeof(big));
	for (int i = 0; i < 50000; i++) {
		char name[32];
		int len = snprintf(name, sizeof(name), "song%d", i);
		registry_names_add(&big, name, (size_t)len, NULL);
	}
	ok(registry_register(reg, "10.2.0.1:1", "127.0.0.1", 0, &big, t + TTL_MS + 9) == 0,
	    "a REGISTER of 50000 songs");
	registry_names_free(&big);
	int found = 1;
	for (int i = 0; i < 50000; i += 997) {
		char name[32];
		snprintf(name, sizeof(name), "song%d", i);
		if (query(reg, name, t + TTL_MS + 9, peers, 8) != 1)
			found = 0;
	}
	ok(found, "every one of them is found after the tables grew");

	registry_free(reg);

	/* capacity: 2 peers, 5 pairs */
	reg = registry_new(TTL_S, &(struct registry_limits){ 2, 5, 2, 5, (size_t)1 << 30 });
	ok(do_register(reg, "p1:1", t, (const char *const[]){ "a", "b", "c", NULL }) == 0 &&
	    do_register(reg, "p2:1", t, (const char *const[]){ "a", NULL }) == 0,
	    "two peers with 4 pairs fit a 2-peer, 5-pair registry");
	ok(do_register(reg, "p3:1", t, (const char *const[]){ "x", NULL }) == REGISTRY_FULL,
	    "a third peer is refused");
	ok(do_register(reg, "p2:1", t, (const char *const[]){ "a", "b", "c", NULL }) ==
	    REGISTRY_FULL, "growing past 5 pairs is refused");
	ok(query(reg, "a", t, peers, 8) == 2 && query(reg, "c", t, peers, 8) == 1,
	    "and a refused REGISTER changed nothing");
	ok(do_register(reg, "p1:1", t, (const char *const[]){ "d", "e", "f", "g", NULL }) == 0,
	    "a peer may replace its set within the limit");
	registry_free(reg);
	return done_testing();
}

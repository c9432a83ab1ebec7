/* tracker_client.c - the client's requests to its trackers: LOCATE (or
 * QUERY from a version-1 tracker), QUERY and LIST, each tracker asked in
 * the order given until one answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/cli.h"
#include "p2pm/log.h"
#include "p2pm/rpc.h"
#include "p2pm/sha256.h"
#include "p2pm/strnum.h"
#include "client.h"
#include "tracker_client.h"

#define TRACKER_PEERS_WORD "PEERS"
#define TRACKER_SONGS_WORD "SONGS"
#define TRACKER_SOURCES_WORD "SOURCES"
/* what a version-1 tracker answers to a command it does not know */
#define TRACKER_UNKNOWN_COMMAND 400
/* room for this many LIST entries at first; it doubles as needed */
#define TRACKER_LIST_INITIAL 256
/* songs asked for per LISTPAGE request, and its reply's first word */
#define TRACKER_LIST_PAGE PROTO_MAX_LIST_PAGE
#define TRACKER_PAGE_WORD "PAGE"

int
peer_list_add(struct peer_list *list, const char *addr)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->addr[i], addr) == 0)
			return 0;
	if (list->count == CLIENT_MAX_PEERS)
		return -1;
	snprintf(list->addr[list->count++], NET_ADDR_MAX, "%s", addr);
	return 0;
}

/* What asking one tracker came to. */
enum tracker_outcome {
	TRACKER_FAILED = -1,	/* unreachable, timed out, ERR or a bad reply */
	TRACKER_ANSWERED = 0,
	TRACKER_EMPTY = 1	/* answered, with nothing in the answer */
};

/* One request to one tracker, into arg: empties what arg holds first, and
 * leaves it empty unless the tracker answered; on TRACKER_FAILED writes
 * the reason, naming the tracker, into err. */
typedef enum tracker_outcome (*tracker_ask_fn)(const char *tracker, void *arg,
    int timeout_ms, char *err, size_t errlen);

/* Asks the trackers in order with ask until one answers with something;
 * one that fails, or answers with nothing (a tracker restarted a moment
 * ago knows nothing yet), hands over to the next. Returns 0 when some
 * tracker answered (arg then holds the first answer with something in it,
 * else the empty one), or -1 when every one failed, with the reasons in
 * err. what names the request in log lines. */
static int
tracker_ask(const struct cli_trackers *trackers, const char *what,
    tracker_ask_fn ask, void *arg, int timeout_ms, char *err, size_t errlen)
{
	char why[CLIENT_ERR_LEN];
	const char *empty = NULL;
	size_t failed = 0, used = 0;

	snprintf(err, errlen, "no tracker given");
	for (size_t i = 0; i < trackers->count; i++) {
		const char *t = trackers->addr[i];
		int last = i + 1 == trackers->count;

		switch (ask(t, arg, timeout_ms, why, sizeof(why))) {
		case TRACKER_ANSWERED:
			log_info("tracker %s answered %s", t, what);
			return 0;
		case TRACKER_EMPTY:
			if (empty == NULL)
				empty = t;
			if (!last)
				log_info("tracker %s has nothing for %s; asking the next",
				    t, what);
			continue;
		case TRACKER_FAILED:
			break;
		}
		if (!last)
			log_warn("%s; asking the next tracker", why);
		/* "REASON" alone, else "no tracker answered: R1; R2; ..." */
		if (failed == 0 && errlen > 0)
			err[0] = '\0';
		if (trackers->count > 1 && failed == 0 && used < errlen)
			used += (size_t)snprintf(err + used, errlen - used,
			    "no tracker answered: ");
		if (used < errlen)
			used += (size_t)snprintf(err + used, errlen - used, "%s%s",
			    failed > 0 ? "; " : "", why);
		failed++;
	}
	if (empty != NULL) {
		log_info("tracker %s answered %s, with nothing", empty, what);
		return 0;
	}
	return -1;
}

/* Connects to the tracker and sends one request, "<cmd>" or, with a
 * name, "<cmd> <name>", and with QUIT after it (rpc_quit) when it is the
 * only one (`only`). Returns the connection, or NULL with a reason in
 * err. */
static struct rpc_conn *
tracker_open(const char *tracker, const char *cmd, const char *name, int only,
    int timeout_ms, char *err, size_t errlen)
{
	char why[CLIENT_ERR_LEN];
	struct rpc_conn *c;
	enum rpc_result res;

	c = rpc_open(tracker, timeout_ms, timeout_ms, why, sizeof(why));
	if (c == NULL) {
		snprintf(err, errlen, "tracker unreachable: %s: %s", tracker, why);
		return NULL;
	}
	log_debug("tracker %s <- %s%s%s", tracker, cmd, name ? " " : "",
	    name ? name : "");
	res = name != NULL ? rpc_request_name(c, cmd, name) : rpc_request(c, "%s", cmd);
	if (res == RPC_OK && only)
		res = rpc_quit(c);
	if (res == RPC_OK)
		res = rpc_flush(c);
	if (res != RPC_OK) {
		snprintf(err, errlen, "tracker %s: cannot send the request: %s",
		    tracker, rpc_error(c));
		rpc_close(c);
		return NULL;
	}
	return c;
}

/* Words a failed first reply line, then says QUIT and hangs up. */
static int
tracker_failed(struct rpc_conn *c, enum rpc_result res, char *err,
    size_t errlen)
{
	if (res == RPC_REFUSED)
		snprintf(err, errlen, "tracker %s %s", rpc_addr(c), rpc_error(c));
	else if (res == RPC_IO || res == RPC_INTERRUPTED)
		snprintf(err, errlen, "tracker %s: no reply: %s", rpc_addr(c),
		    rpc_error(c));
	else
		snprintf(err, errlen, "tracker %s: %s", rpc_addr(c), rpc_error(c));
	rpc_close(c);
	return -1;
}

struct tracker_query_args {
	const char *song;
	struct peer_list *peers;
};

/* QUERY to one tracker (a tracker_ask_fn). */
static enum tracker_outcome
tracker_query_one(const char *tracker, void *arg, int timeout_ms, char *err,
    size_t errlen)
{
	struct tracker_query_args *q = arg;
	const char *song = q->song;
	struct peer_list *peers = q->peers;
	struct rpc_conn *c;
	enum rpc_result res;
	const char *rest;
	char addrs[PROTO_MAX_LINE + 1];

	peers->count = 0;
	c = tracker_open(tracker, "QUERY", song, 1, timeout_ms, err, errlen);
	if (c == NULL)
		return TRACKER_FAILED;
	res = rpc_expect_word(c, TRACKER_PEERS_WORD, &rest);
	if (res != RPC_OK) {
		tracker_failed(c, res, err, errlen);
		return TRACKER_FAILED;
	}
	snprintf(addrs, sizeof(addrs), "%s", rest);
	char *save = NULL;
	for (char *w = strtok_r(addrs, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		char host[NET_HOST_MAX];
		unsigned port;
		if (net_parse_hostport(w, host, sizeof(host), &port, 0) < 0) {
			log_warn("tracker %s: ignoring a bad peer address", tracker);
			continue;
		}
		if (peer_list_add(peers, w) < 0) {
			log_debug("more than %d peers; the rest are not tried",
			    CLIENT_MAX_PEERS);
			break;
		}
	}
	rpc_close(c);
	return peers->count > 0 ? TRACKER_ANSWERED : TRACKER_EMPTY;
}

int
tracker_query(const struct cli_trackers *trackers, const char *song,
    int timeout_ms, struct peer_list *peers, char *err, size_t errlen)
{
	struct tracker_query_args q = { song, peers };

	return tracker_ask(trackers, "QUERY", tracker_query_one, &q, timeout_ms,
	    err, errlen);
}

/* Reads one "<content-id> <host:port>[ <reach>]" line of a LOCATE reply
 * into e (reach: "direct", "mapped", "nat" or "relay=<host:port>"; none:
 * direct). */
static int
tracker_parse_source(const char *line, struct source_entry *e)
{
	const char *sp = strchr(line, ' ');
	char host[NET_HOST_MAX], addr[NET_ADDR_MAX];
	unsigned port;
	size_t idlen;

	memset(e, 0, sizeof(*e));
	if (sp == NULL)
		return -1;
	idlen = (size_t)(sp - line);
	if (idlen == 1 && line[0] == '-')
		e->id[0] = '\0';
	else if (content_id_ok(line, idlen)) {
		memcpy(e->id, line, idlen);
		e->id[idlen] = '\0';
	} else
		return -1;
	const char *a = sp + 1, *reach = strchr(a, ' ');
	size_t alen = reach != NULL ? (size_t)(reach - a) : strlen(a);
	if (alen >= sizeof(addr))
		return -1;
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	if (net_parse_hostport(addr, host, sizeof(host), &port, 0) < 0)
		return -1;
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	e->reach = SOURCE_DIRECT;
	if (reach == NULL)
		return 0;
	reach++;
	size_t rlen = strcspn(reach, " ");
	if (rlen == 3 && memcmp(reach, "nat", 3) == 0) {
		e->reach = SOURCE_NAT;
	} else if (rlen == 6 && memcmp(reach, "mapped", 6) == 0) {
		e->reach = SOURCE_MAPPED;
	} else if (rlen > 6 && rlen - 6 < sizeof(e->relay) &&
	    memcmp(reach, "relay=", 6) == 0) {
		memcpy(e->relay, reach + 6, rlen - 6);
		e->relay[rlen - 6] = '\0';
		if (net_parse_hostport(e->relay, host, sizeof(host), &port, 0) < 0)
			return -1;
		e->reach = SOURCE_RELAYED;
	}
	/* "direct", or a word not known yet: taken as direct */
	return 0;
}

int
content_id_ok(const char *text, size_t len)
{
	if (len != SHA256_HEX_LEN - 1)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((text[i] >= '0' && text[i] <= '9') ||
		    (text[i] >= 'a' && text[i] <= 'f')))
			return 0;
	return 1;
}

int
source_list_add_entry(struct source_list *list, const struct source_entry *e)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->e[i].addr, e->addr) == 0)
			return 0;
	if (list->count == CLIENT_MAX_SOURCES)
		return -1;
	list->e[list->count++] = *e;
	return 0;
}

void
source_list_relayed_last(struct source_list *list)
{
	struct source_entry *tmp = malloc(list->count * sizeof(*tmp) + 1);
	size_t n = 0;

	if (tmp == NULL)
		return;		/* the order stays as it was */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < list->count; i++)
			if ((list->e[i].reach == SOURCE_RELAYED) == pass)
				tmp[n++] = list->e[i];
	memcpy(list->e, tmp, n * sizeof(*tmp));
	free(tmp);
}

int
source_list_add(struct source_list *list, const char *addr, const char *id)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->e[i].addr, addr) == 0)
			return 0;
	if (list->count == CLIENT_MAX_SOURCES)
		return -1;
	snprintf(list->e[list->count].addr, NET_ADDR_MAX, "%s", addr);
	snprintf(list->e[list->count].id, SHA256_HEX_LEN, "%s", id ? id : "");
	list->e[list->count].reach = SOURCE_DIRECT;
	list->e[list->count].relay[0] = '\0';
	list->e[list->count].tracker[0] = '\0';
	list->count++;
	return 0;
}

/* Connects to tracker and sends "LOCATE <name>", with " reach" when
 * reach is set. NULL (err says why) on failure. */
static struct rpc_conn *
tracker_open_locate(const char *tracker, const char *song, int reach,
    int timeout_ms, char *err, size_t errlen)
{
	char enc[PROTO_MAX_ENCODED_NAME + 1], line[PROTO_MAX_ENCODED_NAME + 16];

	if (!reach)
		return tracker_open(tracker, "LOCATE", song, 1, timeout_ms, err, errlen);
	if (strlen(song) > PROTO_MAX_NAME ||
	    proto_encode_name(song, strlen(song), enc, sizeof(enc)) < 0) {
		snprintf(err, errlen, "tracker %s: song name too long", tracker);
		return NULL;
	}
	snprintf(line, sizeof(line), "LOCATE %s reach", enc);
	return tracker_open(tracker, line, NULL, 1, timeout_ms, err, errlen);
}

struct tracker_locate_args {
	const char *song;
	struct source_list *sources;
	int *version1;
};

/* LOCATE to one tracker (a tracker_ask_fn); a version-1 tracker is asked
 * QUERY instead. */
static enum tracker_outcome
tracker_locate_one(const char *tracker, void *arg, int timeout_ms, char *err,
    size_t errlen)
{
	struct tracker_locate_args *l = arg;
	struct source_list *sources = l->sources;
	struct rpc_conn *c;
	enum rpc_result res;
	const char *line;
	long n;

	sources->count = 0;
	*l->version1 = 0;
	/* "LOCATE <name> reach" first; a tracker that does not know the flag
	 * word answers ERR 400 and is asked again without it */
	c = tracker_open_locate(tracker, l->song, 1, timeout_ms, err, errlen);
	if (c == NULL)
		return TRACKER_FAILED;
	res = rpc_expect_count(c, TRACKER_SOURCES_WORD, CLIENT_MAX_LOCATE_LINES, &n);
	if (res == RPC_REFUSED && rpc_err_code(c) == TRACKER_UNKNOWN_COMMAND) {
		rpc_close(c);
		log_debug("tracker %s: no LOCATE ... reach; asking without it", tracker);
		c = tracker_open_locate(tracker, l->song, 0, timeout_ms, err, errlen);
		if (c == NULL)
			return TRACKER_FAILED;
		res = rpc_expect_count(c, TRACKER_SOURCES_WORD, CLIENT_MAX_LOCATE_LINES,
		    &n);
	}
	if (res == RPC_REFUSED && rpc_err_code(c) == TRACKER_UNKNOWN_COMMAND) {
		/* a version-1 tracker: its QUERY gives peers without content ids */
		struct peer_list peers;
		struct tracker_query_args q = { l->song, &peers };
		enum tracker_outcome out;

		rpc_close(c);
		log_debug("tracker %s has no LOCATE; asking QUERY", tracker);
		*l->version1 = 1;
		out = tracker_query_one(tracker, &q, timeout_ms, err, errlen);
		for (size_t i = 0; out == TRACKER_ANSWERED && i < peers.count; i++)
			source_list_add(sources, peers.addr[i], NULL);
		return out;
	}
	if (res != RPC_OK) {
		tracker_failed(c, res, err, errlen);
		return TRACKER_FAILED;
	}
	for (long i = 0; i < n; i++) {
		struct source_entry e;
		if (rpc_next_line(c, &line) != RPC_OK) {
			snprintf(err, errlen, "tracker %s: LOCATE reply cut short: %s",
			    tracker, rpc_error(c));
			rpc_close(c);
			sources->count = 0;
			return TRACKER_FAILED;
		}
		if (tracker_parse_source(line, &e) < 0) {
			log_warn("tracker %s: ignoring a bad line in the LOCATE reply",
			    tracker);
			continue;
		}
		snprintf(e.tracker, sizeof(e.tracker), "%s", tracker);
		if (source_list_add_entry(sources, &e) < 0)
			break;	/* enough: the rest are left unread */
	}
	rpc_close(c);
	return sources->count > 0 ? TRACKER_ANSWERED : TRACKER_EMPTY;
}

struct tracker_resolve_args {
	const char *song;
	char *out;
};

/* RESOLVE to one tracker (a tracker_ask_fn): answered when it names
 * another name than the one asked. */
static enum tracker_outcome
tracker_resolve_one(const char *tracker, void *arg, int timeout_ms, char *err,
    size_t errlen)
{
	struct tracker_resolve_args *r = arg;
	struct rpc_conn *c;
	enum rpc_result res;
	const char *rest;

	snprintf(r->out, PROTO_MAX_NAME + 1, "%s", r->song);
	c = tracker_open(tracker, "RESOLVE", r->song, 1, timeout_ms, err, errlen);
	if (c == NULL)
		return TRACKER_FAILED;
	res = rpc_expect_word(c, "NAME", &rest);
	if (res != RPC_OK) {
		tracker_failed(c, res, err, errlen);
		return TRACKER_FAILED;
	}
	if (proto_decode_name(rest, strlen(rest), r->out, PROTO_MAX_NAME + 1,
	    PROTO_MAX_NAME) < 0) {
		snprintf(err, errlen, "tracker %s: bad RESOLVE reply", tracker);
		snprintf(r->out, PROTO_MAX_NAME + 1, "%s", r->song);
		rpc_close(c);
		return TRACKER_FAILED;
	}
	rpc_close(c);
	return strcmp(r->out, r->song) != 0 ? TRACKER_ANSWERED : TRACKER_EMPTY;
}

int
tracker_resolve(const struct cli_trackers *trackers, const char *song,
    int timeout_ms, char out[PROTO_MAX_NAME + 1])
{
	struct tracker_resolve_args r = { song, out };
	char err[CLIENT_ERR_LEN];

	if (tracker_ask(trackers, "RESOLVE", tracker_resolve_one, &r, timeout_ms,
	    err, sizeof(err)) < 0) {
		log_debug("no name resolved for '%s': %s", song, err);
		snprintf(out, PROTO_MAX_NAME + 1, "%s", song);
	}
	return strcmp(out, song) != 0;
}

int
tracker_locate(const struct cli_trackers *trackers, const char *song,
    int timeout_ms, struct source_list *sources, int *version1, char *err,
    size_t errlen)
{
	struct tracker_locate_args l = { song, sources, version1 };

	return tracker_ask(trackers, "LOCATE", tracker_locate_one, &l, timeout_ms,
	    err, errlen);
}

/* Reads a duration in seconds, "215" or "215.37", into milliseconds. */
static int
tracker_parse_duration(const char *s, long *ms)
{
	long whole, frac = 0, scale = 1000;
	char intpart[16];
	const char *dot = strchr(s, '.');
	size_t n = dot ? (size_t)(dot - s) : strlen(s);

	if (n == 0 || n >= sizeof(intpart))
		return -1;
	memcpy(intpart, s, n);
	intpart[n] = '\0';
	if (strnum_parse(intpart, 0, CLIENT_MAX_DURATION_S, &whole) < 0)
		return -1;
	if (dot != NULL) {
		const char *d = dot + 1;
		if (*d == '\0')
			return -1;
		for (; *d != '\0'; d++) {
			if (*d < '0' || *d > '9')
				return -1;
			if (scale > 1) {
				scale /= 10;
				frac += (*d - '0') * scale;
			}
		}
	}
	*ms = whole * 1000 + frac;
	return 0;
}

void
song_entry_clear(struct song_entry *e)
{
	free(e->artist);
	free(e->album);
	free(e->title);
	free(e->alias);
	e->artist = e->album = e->title = e->alias = NULL;
}

/* Reads a track number, "3" or "3/12", into *track; anything else
 * leaves it. */
static void
tracker_parse_track(const char *s, long *track)
{
	char num[24];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	long total, t;

	if (n == 0 || n >= sizeof(num))
		return;
	memcpy(num, s, n);
	num[n] = '\0';
	if (strnum_parse(num, 0, CLIENT_MAX_TRACK, &t) < 0)
		return;
	if (slash != NULL && strnum_parse(slash + 1, 0, CLIENT_MAX_TRACK,
	    &total) < 0)
		return;
	*track = t;
}

/* Keeps one "key=value" word of a LIST line if it is a tag we show. */
static void
tracker_parse_tag(const char *word, size_t len, struct song_entry *e)
{
	static const char *const keys[] = { "artist", "album", "title", "alias" };
	char value[CLIENT_MAX_TAG + 1];
	const char *eq = memchr(word, '=', len);
	size_t klen, vlen;

	if (eq == NULL)
		return;
	klen = (size_t)(eq - word);
	vlen = len - klen - 1;
	if (vlen == 0 || proto_decode_name(eq + 1, vlen, value, sizeof(value),
	    CLIENT_MAX_TAG) < 0)
		return;
	if (klen == 8 && memcmp(word, "duration", 8) == 0) {
		long ms;
		if (tracker_parse_duration(value, &ms) == 0)
			e->duration_ms = ms;
		return;
	}
	if (klen == 5 && memcmp(word, "track", 5) == 0) {
		tracker_parse_track(value, &e->track);
		return;
	}
	if (klen == 3 && memcmp(word, PICTURE_TAG_KEY, 3) == 0) {
		if (picture_name_ok(value, strlen(value)))
			memcpy(e->art, value, PICTURE_NAME_LEN + 1);
		return;
	}
	char **slots[] = { &e->artist, &e->album, &e->title, &e->alias };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (klen != strlen(keys[i]) || memcmp(word, keys[i], klen) != 0)
			continue;
		char *copy = strdup(value);
		if (copy != NULL) {
			free(*slots[i]);
			*slots[i] = copy;
		}
		return;
	}
}

int
song_entry_parse(const char *line, struct song_entry *e)
{
	const char *sp = strchr(line, ' '), *count, *end;
	char num[24];
	size_t n;

	e->artist = e->album = e->title = e->alias = NULL;
	e->art[0] = '\0';
	e->duration_ms = -1;
	e->track = -1;
	if (sp == NULL || proto_decode_name(line, (size_t)(sp - line), e->name,
	    sizeof(e->name), PROTO_MAX_NAME) < 0)
		return -1;
	count = sp + 1;
	end = strchr(count, ' ');
	n = end ? (size_t)(end - count) : strlen(count);
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, count, n);
	num[n] = '\0';
	if (strnum_parse(num, 0, PROTO_MAX_SONGS, &e->peers) < 0)
		return -1;
	/* the rest: tag words, any of them unknown or malformed is skipped */
	for (const char *w = end; w != NULL && *w != '\0'; ) {
		while (*w == ' ')
			w++;
		const char *we = strchr(w, ' ');
		size_t wl = we ? (size_t)(we - w) : strlen(w);
		if (wl > 0)
			tracker_parse_tag(w, wl, e);
		w = we;
	}
	return 0;
}

/* Appends the song of one "<encoded name> <count>" reply line, growing
 * the array as lines arrive (an announced count is not trusted for
 * memory). Returns 0, or -1 with a reason in err. */
static int
tracker_list_push(struct song_list *songs, size_t *cap, const char *line,
    const char *tracker, char *err, size_t errlen)
{
	if (songs->count == CLIENT_MAX_LIST_SONGS) {
		snprintf(err, errlen, "tracker %s: more than %d songs in LIST", tracker,
		    CLIENT_MAX_LIST_SONGS);
		return -1;
	}
	if (songs->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : TRACKER_LIST_INITIAL;
		struct song_entry *v = realloc(songs->songs, ncap * sizeof(*v));
		if (v == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		songs->songs = v;
		*cap = ncap;
	}
	if (song_entry_parse(line, &songs->songs[songs->count]) < 0) {
		snprintf(err, errlen, "tracker %s: bad line in LIST reply", tracker);
		return -1;
	}
	songs->count++;
	return 0;
}

/* Version-1 LIST: every song in one reply. */
static int
tracker_list_all(const char *tracker, const char *filter, int timeout_ms,
    struct song_list *songs, char *err, size_t errlen)
{
	struct rpc_conn *c;
	enum rpc_result res;
	const char *line;
	size_t cap = 0;
	long n;

	c = tracker_open(tracker, "LIST", filter, 1, timeout_ms, err, errlen);
	if (c == NULL)
		return -1;
	res = rpc_expect_count(c, TRACKER_SONGS_WORD, CLIENT_MAX_LIST_SONGS, &n);
	if (res != RPC_OK)
		return tracker_failed(c, res, err, errlen);
	for (long i = 0; i < n; i++) {
		if (rpc_next_line(c, &line) != RPC_OK) {
			snprintf(err, errlen, "tracker %s: LIST reply cut short: %s",
			    tracker, rpc_error(c));
			goto fail;
		}
		if (tracker_list_push(songs, &cap, line, tracker, err, errlen) < 0)
			goto fail;
	}
	rpc_close(c);
	return 0;
fail:
	rpc_close(c);
	song_list_free(songs);
	return -1;
}

/* LISTPAGE, page after page, to one tracker (plain LIST to a version-1
 * one). Returns 0, or -1 with a reason in err and songs empty. */
static int
tracker_list_from(const char *tracker, const char *filter, int timeout_ms,
    struct song_list *songs, char *err, size_t errlen)
{
	char match[PROTO_MAX_ENCODED_NAME + 8], after[PROTO_MAX_ENCODED_NAME + 1] = "";
	char req[PROTO_MAX_LINE];
	struct rpc_conn *c = NULL;
	enum rpc_result res;
	const char *line;
	size_t cap = 0;
	long n;

	songs->songs = NULL;
	songs->count = 0;
	if (filter != NULL && *filter == '\0')
		filter = NULL;
	match[0] = '\0';
	if (filter != NULL) {
		memcpy(match, " match=", 8);
		if (proto_encode_name(filter, strlen(filter), match + 7,
		    sizeof(match) - 7) < 0) {
			snprintf(err, errlen, "LIST text too long");
			return -1;
		}
	}
	/* LISTPAGE, page after page on one connection; a version-1 tracker
	 * does not know it, and gets one LIST instead */
	for (;;) {
		snprintf(req, sizeof(req), "LISTPAGE limit=%d%s%s%s tags=1", TRACKER_LIST_PAGE,
		    match, *after ? " after=" : "", after);
		if (c == NULL)
			c = tracker_open(tracker, req, NULL, 0, timeout_ms, err, errlen);
		else if ((res = rpc_request(c, "%s", req)) != RPC_OK ||
		    (res = rpc_flush(c)) != RPC_OK)
			return tracker_failed(c, res, err, errlen);
		if (c == NULL)
			return -1;
		res = rpc_expect_count(c, TRACKER_PAGE_WORD, TRACKER_LIST_PAGE, &n);
		if (res == RPC_REFUSED && rpc_err_code(c) == 400 && songs->count == 0) {
			rpc_close(c);
			return tracker_list_all(tracker, filter, timeout_ms, songs, err, errlen);
		}
		if (res != RPC_OK) {
			song_list_free(songs);
			return tracker_failed(c, res, err, errlen);
		}
		for (long i = 0; i < n; i++)
			if ((res = rpc_next_line(c, &line)) != RPC_OK ||
			    tracker_list_push(songs, &cap, line, tracker, err, errlen) < 0)
				goto fail;
		if ((res = rpc_next_line(c, &line)) != RPC_OK)
			goto fail;
		if (strcmp(line, "END") == 0)
			break;
		char cursor[PROTO_MAX_NAME + 1];
		if (strncmp(line, "NEXT ", 5) != 0 || strlen(line + 5) >= sizeof(after) ||
		    proto_decode_name(line + 5, strlen(line + 5), cursor, sizeof(cursor),
		    PROTO_MAX_NAME) < 0) {
			snprintf(err, errlen, "tracker %s: bad end of a LISTPAGE reply", tracker);
			res = RPC_OK;
			goto fail;
		}
		snprintf(after, sizeof(after), "%s", line + 5);
	}
	rpc_close(c);
	return 0;
fail:
	if (res != RPC_OK)
		snprintf(err, errlen, "tracker %s: LIST reply cut short: %s", tracker,
		    rpc_error(c));
	rpc_close(c);
	song_list_free(songs);
	return -1;
}

struct tracker_list_args {
	const char *filter;
	struct song_list *songs;
};

/* LIST to one tracker (a tracker_ask_fn). */
static enum tracker_outcome
tracker_list_one(const char *tracker, void *arg, int timeout_ms, char *err,
    size_t errlen)
{
	struct tracker_list_args *l = arg;

	song_list_free(l->songs);
	if (tracker_list_from(tracker, l->filter, timeout_ms, l->songs, err,
	    errlen) < 0)
		return TRACKER_FAILED;
	return l->songs->count > 0 ? TRACKER_ANSWERED : TRACKER_EMPTY;
}

int
tracker_list(const struct cli_trackers *trackers, const char *filter,
    int timeout_ms, struct song_list *songs, char *err, size_t errlen)
{
	struct tracker_list_args l = { filter, songs };

	songs->songs = NULL;
	songs->count = 0;
	return tracker_ask(trackers, "LIST", tracker_list_one, &l, timeout_ms,
	    err, errlen);
}

void
song_list_free(struct song_list *songs)
{
	for (size_t i = 0; i < songs->count; i++)
		song_entry_clear(&songs->songs[i]);
	free(songs->songs);
	songs->songs = NULL;
	songs->count = 0;
}

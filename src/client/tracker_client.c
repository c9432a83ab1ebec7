/* tracker_client.c - the client's requests to the tracker: QUERY and LIST. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/log.h"
#include "p2pm/strnum.h"
#include "client.h"

#define TRACKER_PEERS_WORD "PEERS"
#define TRACKER_SONGS_WORD "SONGS"
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

/* Connects to the tracker and queues one request, "<cmd>" or, with a
 * name, "<cmd> <name>". Returns the connection, or NULL with a reason in
 * err. */
static struct rpc_conn *
tracker_open(const char *tracker, const char *cmd, const char *name,
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

int
tracker_query(const char *tracker, const char *song, int timeout_ms,
    struct peer_list *peers, char *err, size_t errlen)
{
	struct rpc_conn *c;
	enum rpc_result res;
	const char *rest;
	char addrs[PROTO_MAX_LINE + 1];

	peers->count = 0;
	c = tracker_open(tracker, "QUERY", song, timeout_ms, err, errlen);
	if (c == NULL)
		return -1;
	res = rpc_expect_word(c, TRACKER_PEERS_WORD, &rest);
	if (res != RPC_OK)
		return tracker_failed(c, res, err, errlen);
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
	return 0;
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
	e->artist = e->album = e->title = NULL;
}

/* Keeps one "key=value" word of a LIST line if it is a tag we show. */
static void
tracker_parse_tag(const char *word, size_t len, struct song_entry *e)
{
	static const char *const keys[] = { "artist", "album", "title" };
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
	char **slots[] = { &e->artist, &e->album, &e->title };
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

	e->artist = e->album = e->title = NULL;
	e->duration_ms = -1;
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

	c = tracker_open(tracker, "LIST", filter, timeout_ms, err, errlen);
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

int
tracker_list(const char *tracker, const char *filter, int timeout_ms,
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
		snprintf(req, sizeof(req), "LISTPAGE limit=%d%s%s%s", TRACKER_LIST_PAGE,
		    match, *after ? " after=" : "", after);
		if (c == NULL)
			c = tracker_open(tracker, req, NULL, timeout_ms, err, errlen);
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

void
song_list_free(struct song_list *songs)
{
	for (size_t i = 0; i < songs->count; i++)
		song_entry_clear(&songs->songs[i]);
	free(songs->songs);
	songs->songs = NULL;
	songs->count = 0;
}

/* tracker_client.c - the client's requests to its trackers, QUERY and
 * LIST: each asked in the order given until one answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/cli.h"
#include "p2pm/log.h"
#include "p2pm/strnum.h"
#include "client.h"

#define TRACKER_PEERS_WORD "PEERS"
#define TRACKER_SONGS_WORD "SONGS"
/* room for this many LIST entries at first; it doubles as needed */
#define TRACKER_LIST_INITIAL 256

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
	c = tracker_open(tracker, "QUERY", song, timeout_ms, err, errlen);
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

/* Reads one "<encoded name> <count>" line of a LIST reply into e. */
static int
tracker_parse_song(const char *line, struct song_entry *e)
{
	const char *sp = strrchr(line, ' ');

	if (sp == NULL || proto_decode_name(line, (size_t)(sp - line), e->name,
	    sizeof(e->name), PROTO_MAX_NAME) < 0)
		return -1;
	return strnum_parse(sp + 1, 0, PROTO_MAX_SONGS, &e->peers);
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
	const char *filter = l->filter;
	struct song_list *songs = l->songs;
	struct rpc_conn *c;
	enum rpc_result res;
	const char *line;
	long n;

	songs->songs = NULL;
	songs->count = 0;
	c = tracker_open(tracker, "LIST", filter != NULL && *filter != '\0' ?
	    filter : NULL, timeout_ms, err, errlen);
	if (c == NULL)
		return TRACKER_FAILED;
	res = rpc_expect_count(c, TRACKER_SONGS_WORD, CLIENT_MAX_LIST_SONGS, &n);
	if (res != RPC_OK) {
		tracker_failed(c, res, err, errlen);
		return TRACKER_FAILED;
	}
	/* grown as lines arrive: the announced count is not trusted for memory */
	size_t cap = 0;
	for (long i = 0; i < n; i++) {
		if (songs->count == cap) {
			size_t ncap = cap ? cap * 2 : TRACKER_LIST_INITIAL;
			struct song_entry *v = realloc(songs->songs,
			    ncap * sizeof(*v));
			if (v == NULL) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			songs->songs = v;
			cap = ncap;
		}
		if (rpc_next_line(c, &line) != RPC_OK) {
			snprintf(err, errlen, "tracker %s: LIST reply cut short: %s",
			    tracker, rpc_error(c));
			goto fail;
		}
		if (tracker_parse_song(line, &songs->songs[i]) < 0) {
			snprintf(err, errlen, "tracker %s: bad line in LIST reply",
			    tracker);
			goto fail;
		}
		songs->count++;
	}
	rpc_close(c);
	return songs->count > 0 ? TRACKER_ANSWERED : TRACKER_EMPTY;
fail:
	rpc_close(c);
	song_list_free(songs);
	return TRACKER_FAILED;
}

int
tracker_list(const struct cli_trackers *trackers, const char *filter,
    int timeout_ms, struct song_list *songs, char *err, size_t errlen)
{
	struct tracker_list_args l = { filter, songs };

	return tracker_ask(trackers, "LIST", tracker_list_one, &l, timeout_ms,
	    err, errlen);
}

void
song_list_free(struct song_list *songs)
{
	free(songs->songs);
	songs->songs = NULL;
	songs->count = 0;
}

/* tracker_client.c - the client's requests to the tracker: QUERY and LIST. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/log.h"
#include "p2pm/strnum.h"
#include "client.h"

#define TRACKER_PEERS_WORD "PEERS"
#define TRACKER_SONGS_WORD "SONGS "
/* room for this many LIST entries at first; it doubles as needed */
#define TRACKER_LIST_INITIAL 256

/* A session with the tracker and the reply line last read. */
struct tracker_conn {
	struct session *s;
	char line[PROTO_MAX_LINE + 1];
};

int
peer_list_add(struct peer_list *pl, const char *addr)
{
	for (size_t i = 0; i < pl->count; i++)
		if (strcmp(pl->addr[i], addr) == 0)
			return 0;
	if (pl->count == CLIENT_MAX_PEERS)
		return -1;
	snprintf(pl->addr[pl->count++], NET_ADDR_MAX, "%s", addr);
	return 0;
}

/* Connects, sends one request line and reads the first reply line into
 * tc->line. Returns the open connection or NULL with a reason in err. */
static struct tracker_conn *
tracker_request(const char *tracker, const char *request, int timeout_ms,
    char *err, size_t errlen)
{
	struct tracker_conn *tc = malloc(sizeof(*tc));
	char why[CLIENT_ERR_LEN];
	enum reader_result res;
	size_t len;

	if (tc == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tc->s = session_open(tracker, timeout_ms, why, sizeof(why));
	if (tc->s == NULL) {
		snprintf(err, errlen, "tracker unreachable: %s: %s", tracker, why);
		free(tc);
		return NULL;
	}
	log_debug("tracker %s <- %s", tracker, request);
	if (net_write_all(tc->s->fd, request, strlen(request)) < 0 ||
	    net_write_all(tc->s->fd, "\n", 1) < 0) {
		snprintf(err, errlen, "tracker %s: cannot send the request", tracker);
		goto fail;
	}
	res = reader_line(&tc->s->rd, tc->line, sizeof(tc->line), PROTO_MAX_LINE, &len);
	if (res != READER_OK) {
		snprintf(err, errlen, "tracker %s: no reply: %s", tracker,
		    reader_strerror(res));
		goto fail;
	}
	const char *text;
	int code = proto_parse_err(tc->line, &text);
	if (code > 0) {
		snprintf(err, errlen, "tracker %s answered ERR %d %s", tracker,
		    code, text);
		goto fail;
	}
	return tc;
fail:
	session_close(tc->s);
	free(tc);
	return NULL;
}

/* Says QUIT and hangs up. */
static void
tracker_hangup(struct tracker_conn *tc)
{
	session_close(tc->s);
	free(tc);
}

int
tracker_query(const char *tracker, const char *song, int timeout_ms,
    struct peer_list *peers, char *err, size_t errlen)
{
	char enc[PROTO_MAX_ENCODED_NAME + 1], req[PROTO_MAX_LINE];
	struct tracker_conn *tc;
	size_t wl = strlen(TRACKER_PEERS_WORD);

	peers->count = 0;
	if (proto_encode_name(song, strlen(song), enc, sizeof(enc)) < 0) {
		snprintf(err, errlen, "song name too long");
		return -1;
	}
	snprintf(req, sizeof(req), "QUERY %s", enc);
	tc = tracker_request(tracker, req, timeout_ms, err, errlen);
	if (tc == NULL)
		return -1;
	if (strncmp(tc->line, TRACKER_PEERS_WORD, wl) != 0 ||
	    (tc->line[wl] != ' ' && tc->line[wl] != '\0')) {
		snprintf(err, errlen, "tracker %s: unexpected reply to QUERY",
		    tracker);
		tracker_hangup(tc);
		return -1;
	}
	char *save = NULL;
	for (char *w = strtok_r(tc->line + wl, " ", &save); w != NULL;
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
	tracker_hangup(tc);
	return 0;
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

int
tracker_list(const char *tracker, const char *filter, int timeout_ms,
    struct song_list *songs, char *err, size_t errlen)
{
	char enc[PROTO_MAX_ENCODED_NAME + 1], req[PROTO_MAX_LINE];
	struct tracker_conn *tc;
	long n;
	size_t len;

	songs->songs = NULL;
	songs->count = 0;
	if (filter != NULL && *filter != '\0') {
		if (proto_encode_name(filter, strlen(filter), enc, sizeof(enc)) < 0) {
			snprintf(err, errlen, "filter text too long");
			return -1;
		}
		snprintf(req, sizeof(req), "LIST %s", enc);
	} else
		snprintf(req, sizeof(req), "LIST");
	tc = tracker_request(tracker, req, timeout_ms, err, errlen);
	if (tc == NULL)
		return -1;
	if (strncmp(tc->line, TRACKER_SONGS_WORD, strlen(TRACKER_SONGS_WORD)) != 0 ||
	    strnum_parse(tc->line + strlen(TRACKER_SONGS_WORD), 0,
	    CLIENT_MAX_LIST_SONGS, &n) < 0) {
		snprintf(err, errlen, "tracker %s: unexpected reply to LIST", tracker);
		goto fail;
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
		enum reader_result res = reader_line(&tc->s->rd, tc->line,
		    sizeof(tc->line), PROTO_MAX_LINE, &len);
		if (res != READER_OK) {
			snprintf(err, errlen, "tracker %s: LIST reply cut short: %s",
			    tracker, reader_strerror(res));
			goto fail;
		}
		if (tracker_parse_song(tc->line, &songs->songs[i]) < 0) {
			snprintf(err, errlen, "tracker %s: bad line in LIST reply",
			    tracker);
			goto fail;
		}
		songs->count++;
	}
	tracker_hangup(tc);
	return 0;
fail:
	tracker_hangup(tc);
	song_list_free(songs);
	return -1;
}

void
song_list_free(struct song_list *songs)
{
	free(songs->songs);
	songs->songs = NULL;
	songs->count = 0;
}

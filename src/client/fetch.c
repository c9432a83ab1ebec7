/* fetch.c - a song from a list of peers: the playlist and every segment
 * over one connection per peer, going on with the next peer where one
 * fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p2pm/log.h"
#include "client.h"

/* Records "peer X: why" in the report and says so on stderr. */
static void
fetch_fail(struct fetch_report *rep, struct progress *pr, const char *peer,
    const char *why, int more)
{
	if (rep->failures < CLIENT_MAX_PEERS)
		snprintf(rep->failure[rep->failures++], CLIENT_ERR_LEN,
		    "peer %s: %s", peer, why);
	progress_clear(pr);
	if (more)
		log_warn("peer %s: %s; trying the next peer", peer, why);
	else
		log_info("peer %s: %s", peer, why);
}

/* Sleeps ms milliseconds unless client_stop is set. */
static void
fetch_pause(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (!client_stop && nanosleep(&ts, &ts) < 0)
		;
}

/* Maps a sink's answer to a fetch result (0 means go on). */
static enum fetch_result
fetch_sink_result(int rc)
{
	return rc < 0 ? FETCH_LOCAL_ERROR : FETCH_OUTPUT_CLOSED;
}

/* Where a fetch stands: the playlist followed and how far it has got. */
struct fetch_state {
	const struct fetch_params *fp;
	const struct fetch_sink *sink;
	struct fetch_report *rep;
	struct playlist cur;	/* the playlist followed, once have is set */
	int have;
	size_t next;		/* the first segment the sink has not had */
	enum fetch_result result;	/* FETCH_NO_PEER until the fetch ends */
};

/* Asks the peer for the song's playlist and parses it into *offered;
 * *raw (owned by the caller) keeps its bytes. Returns 0, or -1 having
 * recorded why the peer failed. */
static int
fetch_playlist(struct fetch_state *st, struct rpc_conn *c, const char *peer,
    int more, struct playlist *offered, char **raw, size_t *rawlen)
{
	char err[CLIENT_ERR_LEN];

	if (peer_request_song(c, st->fp->song, raw, rawlen) != RPC_OK) {
		if (!client_stop)
			fetch_fail(st->rep, st->fp->progress, peer, rpc_error(c), more);
		return -1;
	}
	if (playlist_parse(*raw, *rawlen, offered, err, sizeof(err)) < 0) {
		free(*raw);
		*raw = NULL;
		fetch_fail(st->rep, st->fp->progress, peer, err, more);
		return -1;
	}
	return 0;
}

/* Decides what to do with the playlist a peer offers (and takes it and
 * raw): the first one is followed; a later one must agree with it or, for
 * a sink that can, replace it from the start. Returns 0 to fetch segments
 * from this peer, 1 to skip the peer (recorded), -1 when the fetch ends
 * (st->result says why). */
static int
fetch_adopt(struct fetch_state *st, const char *peer, int more,
    struct playlist *offered, char *raw, size_t rawlen)
{
	const struct fetch_sink *sink = st->sink;
	int rc;

	if (st->have && !playlist_same_tail(&st->cur, offered, st->next)) {
		if (!sink->can_restart) {
			playlist_free(offered);
			free(raw);
			fetch_fail(st->rep, st->fp->progress, peer,
			    "its playlist differs from the one being streamed", more);
			return 1;
		}
		log_warn("peer %s: its playlist differs; starting over with it",
		    peer);
		sink->discard(sink->ctx);
		playlist_free(&st->cur);
		st->have = 0;
	}
	if (st->have) {
		playlist_free(offered);
		free(raw);
		log_info("peer %s: going on from segment %zu/%zu", peer,
		    st->next + 1, st->cur.count);
		return 0;
	}
	st->cur = *offered;
	st->have = 1;
	st->next = 0;
	st->rep->bytes = 0;
	st->rep->duration_ms = st->cur.total_ms;
	rc = sink->start(sink->ctx, &st->cur, raw, rawlen);
	free(raw);
	if (rc != 0) {
		st->result = fetch_sink_result(rc);
		return -1;
	}
	return 0;
}

/* Fetches the segments from st->next on from peer (its address kept by
 * the caller: the report points to it) and hands each to the sink.
 * Returns 0 when they are all there or the peer failed (recorded), -1
 * when the fetch ends (st->result says why). */
static int
fetch_segments(struct fetch_state *st, struct rpc_conn *c, const char *peer,
    int more)
{
	const struct fetch_params *fp = st->fp;
	struct fetch_report *rep = st->rep;
	size_t count = st->cur.count;
	int rc;

	while (st->next < count) {
		const char *name = st->cur.segs[st->next].name;
		char *body;
		size_t len;

		if (st->next > 0 && fp->segment_delay_ms > 0)
			fetch_pause(fp->segment_delay_ms);
		if (client_stop) {
			st->result = FETCH_INTERRUPTED;
			return -1;
		}
		progress_update(fp->progress, st->next, count, rep->bytes, peer, 0);
		if (peer_request_segment(c, name, &body, &len) != RPC_OK) {
			char why[CLIENT_ERR_LEN + 64];
			if (client_stop) {
				st->result = FETCH_INTERRUPTED;
				return -1;
			}
			snprintf(why, sizeof(why), "%s (at segment %zu/%zu)",
			    rpc_error(c), st->next + 1, count);
			fetch_fail(rep, fp->progress, peer, why, more);
			return 0;
		}
		rc = st->sink->segment(st->sink->ctx, st->next, body, len);
		free(body);
		if (rc != 0) {
			st->result = fetch_sink_result(rc);
			return -1;
		}
		rep->bytes += (long long)len;
		rep->peer = peer;
		st->next++;
		progress_update(fp->progress, st->next, count, rep->bytes, peer,
		    st->next == count);
		log_info("segment %zu/%zu (%zu bytes) from %s", st->next, count,
		    len, peer);
	}
	return 0;
}

/* One peer's turn: its playlist, then the segments from where the fetch
 * stands. Returns 0 to go on with the next peer, -1 when the fetch ends
 * (st->result says why). */
static int
fetch_from_peer(struct fetch_state *st, const char *peer, int more)
{
	const struct fetch_params *fp = st->fp;
	struct playlist offered;
	struct rpc_conn *c;
	char err[CLIENT_ERR_LEN], *raw;
	size_t rawlen;
	int rc;

	log_info("asking peer %s for '%s'", peer, fp->song);
	c = rpc_open(peer, fp->timeout_ms, fp->timeout_ms, err, sizeof(err));
	if (c == NULL) {
		if (!client_stop)
			fetch_fail(st->rep, fp->progress, peer, err, more);
		return 0;
	}
	if (fetch_playlist(st, c, peer, more, &offered, &raw, &rawlen) < 0) {
		rpc_close(c);
		return 0;
	}
	rc = fetch_adopt(st, peer, more, &offered, raw, rawlen);
	if (rc == 0)
		rc = fetch_segments(st, c, peer, more);
	rpc_close(c);
	if (rc < 0)
		return -1;
	if (rc == 0 && st->next == st->cur.count) {
		rc = st->sink->finish(st->sink->ctx);
		st->result = rc == 0 ? FETCH_DONE : fetch_sink_result(rc);
		st->rep->segments = st->cur.count;
		return -1;
	}
	return 0;
}

enum fetch_result
fetch_song(const struct fetch_params *fp, const struct fetch_sink *sink,
    struct fetch_report *rep)
{
	struct fetch_state st = { .fp = fp, .sink = sink, .rep = rep,
	    .result = FETCH_NO_PEER };

	memset(rep, 0, sizeof(*rep));
	for (size_t i = 0; i < fp->peers->count; i++) {
		if (client_stop) {
			st.result = FETCH_INTERRUPTED;
			break;
		}
		if (fetch_from_peer(&st, fp->peers->addr[i],
		    i + 1 < fp->peers->count) < 0)
			break;
	}
	/* an interrupt during the last peer's wait ends the loop without
	 * reaching the check at its top */
	if (client_stop && st.result == FETCH_NO_PEER)
		st.result = FETCH_INTERRUPTED;
	progress_clear(fp->progress);
	playlist_free(&st.cur);
	return st.result;
}

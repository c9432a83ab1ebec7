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

enum fetch_result
fetch_song(const struct fetch_params *fp, const struct fetch_sink *sink,
    struct fetch_report *rep)
{
	struct playlist cur = { 0 };
	size_t next = 0;
	int have = 0, rc;
	enum fetch_result result = FETCH_NO_PEER;
	char err[CLIENT_ERR_LEN];

	memset(rep, 0, sizeof(*rep));
	for (size_t pi = 0; pi < fp->peers->count; pi++) {
		const char *peer = fp->peers->addr[pi];
		int more = pi + 1 < fp->peers->count;
		struct playlist pl;
		struct rpc_conn *c;
		char *raw = NULL;
		size_t rawlen;

		if (client_stop) {
			result = FETCH_INTERRUPTED;
			break;
		}
		log_info("asking peer %s for '%s'", peer, fp->song);
		c = rpc_open(peer, fp->timeout_ms, fp->timeout_ms, err, sizeof(err));
		if (c == NULL) {
			if (!client_stop)
				fetch_fail(rep, fp->progress, peer, err, more);
			continue;
		}
		if (peer_request_song(c, fp->song, &raw, &rawlen) != RPC_OK) {
			if (!client_stop)
				fetch_fail(rep, fp->progress, peer, rpc_error(c), more);
			rpc_close(c);
			continue;
		}
		if (playlist_parse(raw, rawlen, &pl, err, sizeof(err)) < 0) {
			free(raw);
			rpc_close(c);
			fetch_fail(rep, fp->progress, peer, err, more);
			continue;
		}

		/* the first playlist is followed; a later one must agree with it,
		 * or (for a sink that can) replace it from the start */
		if (have && !playlist_same_tail(&cur, &pl, next)) {
			if (!sink->can_restart) {
				playlist_free(&pl);
				free(raw);
				rpc_close(c);
				fetch_fail(rep, fp->progress, peer,
				    "its playlist differs from the one being streamed",
				    more);
				continue;
			}
			log_warn("peer %s: its playlist differs; starting over with it",
			    peer);
			sink->discard(sink->ctx);
			playlist_free(&cur);
			have = 0;
		}
		if (!have) {
			cur = pl;
			have = 1;
			next = 0;
			rep->bytes = 0;
			rep->duration_ms = cur.total_ms;
			rc = sink->start(sink->ctx, &cur, raw, rawlen);
			free(raw);
			if (rc != 0) {
				rpc_close(c);
				result = fetch_sink_result(rc);
				break;
			}
		} else {
			playlist_free(&pl);
			free(raw);
			log_info("peer %s: going on from segment %zu/%zu", peer,
			    next + 1, cur.count);
		}

		/* the segments, from where the previous peer stopped */
		rc = 0;
		while (next < cur.count) {
			const char *name = cur.segs[next].name;
			char *body;
			size_t len;

			if (next > 0 && fp->segment_delay_ms > 0)
				fetch_pause(fp->segment_delay_ms);
			if (client_stop) {
				result = FETCH_INTERRUPTED;
				break;
			}
			progress_update(fp->progress, next, cur.count, rep->bytes,
			    peer, 0);
			if (peer_request_segment(c, name, &body, &len) != RPC_OK) {
				char why[CLIENT_ERR_LEN + 64];
				if (client_stop) {
					result = FETCH_INTERRUPTED;
					break;
				}
				snprintf(why, sizeof(why), "%s (at segment %zu/%zu)",
				    rpc_error(c),
				    next + 1, cur.count);
				fetch_fail(rep, fp->progress, peer, why, more);
				break;
			}
			rc = sink->segment(sink->ctx, next, body, len);
			free(body);
			if (rc != 0) {
				result = fetch_sink_result(rc);
				break;
			}
			rep->bytes += (long long)len;
			rep->peer = peer;
			next++;
			progress_update(fp->progress, next, cur.count, rep->bytes, peer,
			    next == cur.count);
			log_info("segment %zu/%zu (%zu bytes) from %s", next, cur.count,
			    len, peer);
		}
		rpc_close(c);
		if (rc != 0 || result == FETCH_INTERRUPTED)
			break;
		if (next == cur.count) {
			rc = sink->finish(sink->ctx);
			result = rc == 0 ? FETCH_DONE : fetch_sink_result(rc);
			rep->segments = cur.count;
			break;
		}
	}
	/* an interrupt during the last peer's wait ends the loop without
	 * reaching the check at its top */
	if (client_stop && result == FETCH_NO_PEER)
		result = FETCH_INTERRUPTED;
	progress_clear(fp->progress);
	playlist_free(&cur);
	return result;
}

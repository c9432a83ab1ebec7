/* swarm.h - a song from many sources at once, every byte verified, handed
 * to an output (a fetch_sink). */
#ifndef P2PM_CLIENT_SWARM_H
#define P2PM_CLIENT_SWARM_H

#include <stddef.h>

#include "p2pm/net.h"
#include "p2pm/playlist.h"
#include "p2pm/sha256.h"
#include "client.h"
#include "progress.h"
#include "tracker_client.h"

/* most sources used at once (-j) */
#define SWARM_MAX_JOBS 16
#define SWARM_DEFAULT_JOBS 4

/* Where the segments go. start and segment return 0, -1 for a local
 * failure (already logged) or 1 when the reader of the output has gone
 * away; start may also return SINK_HAVE_SONG. */
#define SINK_HAVE_SONG 2	/* the output already holds this song whole */
struct fetch_sink {
	/* the playlist (verified: its canonical form hashes to content_id) */
	int (*start)(void *ctx, const struct playlist *playlist,
	    const char *content_id);
	/* segment index has arrived and hashes to its name */
	int (*segment)(void *ctx, size_t index, const char *data, size_t len);
	/* every segment has been handed over */
	int (*finish)(void *ctx);
	/* segments must come in playlist order (a stream), one at a time;
	 * else in any, and segment may be called from several threads at
	 * once (for different segments) */
	int in_order;
	void *ctx;
};

enum fetch_result {
	FETCH_DONE = 0,
	FETCH_NO_PEER,		/* no source is left for a missing segment */
	FETCH_REFUSED,		/* the song's verified bytes are not what a
				 * song may be (too many, not MPEG-TS): said
				 * already, in one error */
	FETCH_LOCAL_ERROR,	/* writing the output failed */
	FETCH_OUTPUT_CLOSED,	/* the output's reader went away */
	FETCH_INTERRUPTED	/* client_stop was set */
};

struct fetch_params {
	const char *song;
	const struct source_list *sources;	/* candidates, best first */
	const char *content_id;	/* the song to get; NULL: the first
				 * playlist fetched fixes it */
	size_t jobs;		/* sources at once, 1..SWARM_MAX_JOBS */
	int timeout_ms;
	int segment_delay_ms;	/* pause before each segment after the first */
	long start_ms;		/* skip the segments before the one holding
				 * this time (0: from the start) */
	struct progress *progress;
};

/* What one source did. */
struct fetch_source_report {
	char addr[NET_ADDR_MAX];
	long long bytes;	/* verified bytes it sent that were used */
	size_t segments;	/* segments it sent that were used */
	size_t duplicates;	/* verified copies another source sent first */
	char dropped[CLIENT_ERR_LEN];	/* why it was dropped; "" if not */
	const char *how;	/* "direct", "mapped", "punched" or "relayed";
				 * NULL: not connected */
};

struct fetch_report {
	size_t segments;
	long long bytes;
	long duration_ms;
	long long elapsed_ms;
	char content_id[SHA256_HEX_LEN];
	int had_song;		/* the output held the song already */
	size_t delivered;	/* sources that sent at least one segment used */
	size_t nsources;	/* sources tried */
	struct fetch_source_report src[CLIENT_MAX_SOURCES];
};

/* Fetches the song from the sources and hands verified segments to sink,
 * from up to params->jobs sources at once (one thread and one connection
 * each), earliest missing segment first. A source that fails in any way
 * is dropped for the run (logged, and said in the report) and another is
 * used; the result is FETCH_NO_PEER only when no source is left for a
 * missing segment. */
enum fetch_result fetch_song(const struct fetch_params *params,
    const struct fetch_sink *sink, struct fetch_report *report);

#endif

/* swarm.c - a song from many sources at once.
 *
 * The main thread fetches and verifies the playlist, then starts one
 * worker thread per source (up to jobs of them), each with one persistent
 * rpc connection and blocking sockets. Workers take the earliest missing
 * segment of a window ahead of the output, fetch it, verify it against its
 * name and leave it in the window; the main thread hands verified segments
 * to the sink (in playlist order for a stream; a sink that takes any order
 * also gets them from a worker while another thread is writing, so that
 * writes run side by side), draws the progress line,
 * replaces dropped sources and ends stalled requests. One lock (swarm.lock)
 * guards the window and the sources' state; it is never held across
 * network I/O or a write to the output.
 *
 * A request that takes far longer than expected is also sent to another
 * source and the first verified copy wins: libtorrent's rule for
 * time-critical pieces (a running mean and mean deviation of how long a
 * segment takes, per source and for the swarm; each time the elapsed time
 * passes mean + deviation/2 one more copy is allowed), and, as libtorrent
 * sends a time-critical request to the source with the lowest expected
 * time, the segment the output waits for (or any, once nothing else is
 * missing) also goes to a source that would bring it in less than half
 * the time its holder still needs. docs/client.md says more. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/mpegts.h"
#include "p2pm/sha256.h"
#include "client.h"
#include "peer_client.h"
#include "queue_time.h"
#include "swarm.h"
#include "reach.h"

/* segments ahead of the first one not yet handed to the output that may
 * be fetched (the reorder buffer) */
#define SWARM_WINDOW_SEGMENTS 32
/* most requests in flight for one segment */
#define SWARM_MAX_COPIES 3
/* a request is never called late before this many milliseconds */
#define SWARM_LATE_MIN_MS 400
/* ... nor, before any segment has arrived, before this many */
#define SWARM_LATE_FIRST_MS 1500
/* a source is faster for a segment when it would bring it in less than
 * 1/SWARM_FASTER_FACTOR of the time its holder still needs */
#define SWARM_FASTER_FACTOR 2
/* a source still busy with a segment another source has sent is ended
 * (dropped as stalled) once the request is this many times late */
#define SWARM_STALL_FACTOR 4
/* how often the main thread looks at the swarm, in milliseconds */
#define SWARM_TICK_MS 50
/* the fastest bitrate a song may have: caps each segment at its duration
 * times this, plus SWARM_SEGMENT_SLACK_BYTES (MPEG-TS overhead), and the
 * whole song at its length times this plus SWARM_SONG_SLACK_BYTES (bytes
 * per second: 8 Mbit/s, over five times a 1411 kbit/s CD's PCM) */
#define SWARM_MAX_BYTES_PER_S (1024L * 1024)
#define SWARM_SEGMENT_SLACK_BYTES (64L * 1024)
/* on top of its length at SWARM_MAX_BYTES_PER_S, what a whole song may
 * hold (bytes): however many segments it has, it never gets more */
#define SWARM_SONG_SLACK_BYTES (1024L * 1024)
/* longest song fetched, in seconds */
#define SWARM_MAX_SONG_SECONDS (24L * 3600)
/* a source reached only through a relay is started only while no other
 * source runs, or while the swarm brings the song more slowly than this
 * many milliseconds per second of audio (half real time's 1000: not fast
 * enough for a listener to keep ahead), measured over this many segments
 * at least */
#define SWARM_RELAY_PACE_MS 500
#define SWARM_RELAY_SAMPLES 4
/* a worker thread's stack, in bytes */
#define SWARM_THREAD_STACK (256 * 1024)
/* bytes of mpegts_check's reason kept for a segment that is not MPEG-TS */
#define SWARM_TS_WHY_LEN 128

/* a segment is MISSING until verified, READY while it waits for the
 * sink, WRITING while a thread hands it over, then DONE */
enum seg_state { SEG_MISSING, SEG_READY, SEG_WRITING, SEG_DONE };

/* A running estimate (RFC 6298's smoothed mean and mean deviation) of
 * milliseconds per second of audio. */
struct swarm_pace {
	double mean, dev;
	int samples;
};

struct swarm_seg {
	enum seg_state state;
	int copies;			/* requests in flight */
	int holder[SWARM_MAX_COPIES];	/* the sources sending it */
	long long first_ms;		/* when the first of them began */
	char *data;			/* when READY: owned */
	size_t len;
};

struct swarm;

struct swarm_source {
	struct swarm *sw;
	int index;
	const struct source_entry *entry;
	struct rpc_conn *conn;		/* guarded by sw->lock */
	pthread_t thread;
	int started, running;
	int requests;			/* made so far */
	long cur;			/* segment in flight, or -1 */
	long long cur_start_ms;
	struct swarm_pace pace;
	struct fetch_source_report *rep;
};

struct swarm {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const struct fetch_params *fp;
	struct fetch_report *rep;
	struct playlist pl;
	char *raw;			/* the playlist's bytes */
	size_t rawlen;
	char content_id[SHA256_HEX_LEN];
	struct swarm_seg *segs;
	size_t head;			/* first segment not handed over */
	size_t done;			/* segments handed over */
	struct swarm_source *src;	/* one per candidate */
	size_t nsrc, next_src, running;
	int ending;			/* workers stop */
	long long byte_cap;		/* most bytes the whole song may have */
	int too_big;			/* the song went past byte_cap */
	/* a verified segment is not MPEG-TS: the song itself is refused */
	char not_ts[CLIENT_ERR_LEN];	/* "" or why, naming the segment */
	struct swarm_pace pace;
	const struct fetch_sink *sink;
	int writing;			/* threads in sink->segment */
	int sink_rc;			/* its first non-zero answer */
};

/* Adds one sample (x ms per audio second) to a pace. */
static void
swarm_pace_add(struct swarm_pace *p, double x)
{
	if (p->samples++ == 0) {
		p->mean = x;
		p->dev = x / 2;
		return;
	}
	p->dev += ((x > p->mean ? x - p->mean : p->mean - x) - p->dev) / 4;
	p->mean += (x - p->mean) / 8;
}

/* Expected milliseconds for segment i at pace p, or -1 with no samples. */
static double
swarm_expect(const struct swarm *sw, const struct swarm_pace *p, size_t i)
{
	if (p->samples == 0)
		return -1;
	return p->mean * (double)sw->pl.segs[i].duration_us / 1e6;
}

/* When a request from source s for segment i is late, in milliseconds:
 * the larger of the source's and the swarm's mean + deviation/2. */
static double
swarm_late_ms(const struct swarm *sw, const struct swarm_source *s, size_t i)
{
	double secs = (double)sw->pl.segs[i].duration_us / 1e6, t = 0;

	if (sw->pace.samples == 0 && s->pace.samples == 0)
		return SWARM_LATE_FIRST_MS;
	if (sw->pace.samples > 0)
		t = (sw->pace.mean + sw->pace.dev / 2) * secs;
	if (s->pace.samples > 0 && (s->pace.mean + s->pace.dev / 2) * secs > t)
		t = (s->pace.mean + s->pace.dev / 2) * secs;
	return t < SWARM_LATE_MIN_MS ? SWARM_LATE_MIN_MS : t;
}

/* Most bytes segment i may have. */
static long
swarm_segment_cap(const struct swarm *sw, size_t i)
{
	long long cap = sw->pl.segs[i].duration_us * SWARM_MAX_BYTES_PER_S /
	    1000000 + SWARM_SEGMENT_SLACK_BYTES;

	return cap > PROTO_MAX_SEGMENT_BYTES ? PROTO_MAX_SEGMENT_BYTES : (long)cap;
}

static int
swarm_holds(const struct swarm_seg *g, int who)
{
	for (int k = 0; k < g->copies; k++)
		if (g->holder[k] == who)
			return 1;
	return 0;
}

/* Picks the segment source s should ask for next (lock held): in window
 * order, the first with no request yet, or one whose request is late or
 * that s would bring in much sooner than its holder. Returns -1 if none. */
static long
swarm_pick(struct swarm *sw, struct swarm_source *s, long long now)
{
	size_t end = sw->head + SWARM_WINDOW_SEGMENTS, first_open = (size_t)-1;

	if (end > sw->pl.count)
		end = sw->pl.count;
	for (size_t i = sw->head; i < end; i++) {
		if (sw->segs[i].state == SEG_MISSING && sw->segs[i].copies == 0) {
			first_open = i;
			break;
		}
	}
	for (size_t i = sw->head; i < end; i++) {
		struct swarm_seg *g = &sw->segs[i];
		const struct swarm_source *h;
		double late, mine, left;
		long long elapsed;

		if (g->state != SEG_MISSING)
			continue;
		if (g->copies == 0)
			return (long)i;
		if (g->copies >= SWARM_MAX_COPIES || swarm_holds(g, s->index))
			continue;
		h = &sw->src[g->holder[0]];
		elapsed = now - g->first_ms;
		late = swarm_late_ms(sw, h, i);
		/* each time the request is late once more, one more copy */
		if ((double)elapsed > late && g->copies < 1 + (int)((double)elapsed / late))
			return (long)i;
		/* the output waits for it, or nothing else is left: the source
		 * that would bring it soonest */
		if (g->copies == 1 && (i < first_open)) {
			mine = swarm_expect(sw, s->pace.samples ? &s->pace : &sw->pace, i);
			left = swarm_expect(sw, &h->pace, i) - (double)elapsed;
			if (mine >= 0 && h->pace.samples > 0 &&
			    mine * SWARM_FASTER_FACTOR < left &&
			    (i == sw->head || first_open == (size_t)-1))
				return (long)i;
		}
	}
	return -1;
}

/* Drops source s for the run (lock held): says why once. */
static void
swarm_drop(struct swarm *sw, struct swarm_source *s, const char *why)
{
	if (s->rep->dropped[0] != '\0')
		return;
	snprintf(s->rep->dropped, sizeof(s->rep->dropped), "%s", why);
	if (!sw->ending && !client_stop) {
		progress_clear(sw->fp->progress);
		log_warn("peer %s: %s; not used any more", s->entry->addr, why);
	}
}

/* Waits up to ms on the swarm's condition (lock held). */
static void
swarm_wait(struct swarm *sw, long long ms)
{
	struct timespec ts;

	clock_deadline_after(&ts, ms);
	pthread_cond_timedwait(&sw->cond, &sw->lock, &ts);
}

/* Connects source s (if not yet) and, unless it registered the content id
 * being fetched, checks that its playlist is the same bytes. Runs without
 * the lock. Returns 0, or -1 with the reason in why. */
static int
swarm_source_open(struct swarm *sw, struct swarm_source *s, char *why,
    size_t whylen)
{
	struct rpc_conn *c = s->conn;
	char *raw;
	size_t rawlen;

	if (c == NULL) {
		c = source_open(s->entry, sw->fp->timeout_ms, &s->rep->how, why, whylen);
		if (c == NULL)
			return -1;
		pthread_mutex_lock(&sw->lock);
		s->conn = c;
		pthread_mutex_unlock(&sw->lock);
		if (strcmp(s->entry->id, sw->content_id) == 0)
			return 0;
		if (peer_request_song(c, sw->fp->song, &raw, &rawlen) != RPC_OK) {
			snprintf(why, whylen, "%s", rpc_error(c));
			return -1;
		}
		if (rawlen != sw->rawlen || memcmp(raw, sw->raw, rawlen) != 0) {
			free(raw);
			snprintf(why, whylen, "its playlist differs from the one "
			    "being fetched (another content id)");
			return -1;
		}
		free(raw);
	}
	return 0;
}

/* Fetches segment i over s's connection and checks it (no lock held),
 * hashing each piece as it arrives so the digest is ready with the last
 * byte. Returns 0 with *data (owned by the caller), or -1 with why. */
static int
swarm_fetch_one(struct swarm *sw, struct swarm_source *s, size_t i,
    char **data, size_t *len, char *why, size_t whylen)
{
	const char *name = sw->pl.segs[i].name;
	unsigned char digest[SHA256_DIGEST_LEN];
	char hex[SHA256_HEX_LEN];
	enum rpc_result res;
	struct sha256 h;

	*data = NULL;
	res = rpc_request_name(s->conn, "REQUEST_SEGMENT", name);
	if (res == RPC_OK)
		res = rpc_body_header(s->conn, "SEGMENT", name,
		    swarm_segment_cap(sw, i), len);
	if (res == RPC_OK && (*data = malloc(*len + 1)) == NULL) {
		snprintf(why, whylen, "out of memory (at segment %zu/%zu)", i + 1,
		    sw->pl.count);
		return -1;
	}
	if (res == RPC_OK) {
		sha256_init(&h);
		res = rpc_body_read_hashed(s->conn, *data, *len, &h);
	}
	if (res != RPC_OK) {
		snprintf(why, whylen, "%s (at segment %zu/%zu)", rpc_error(s->conn),
		    i + 1, sw->pl.count);
		free(*data);
		*data = NULL;
		return -1;
	}
	(*data)[*len] = '\0';
	sha256_final(&h, digest);
	sha256_to_hex(digest, hex);
	if (memcmp(hex, name, SHA256_HEX_LEN - 1) != 0) {
		snprintf(why, whylen, "sent segment %zu/%zu with the wrong bytes "
		    "(%zu bytes, SHA-256 %.16s...)", i + 1, sw->pl.count, *len, hex);
		free(*data);
		*data = NULL;
		return -1;
	}
	return 0;
}

/* Takes segment i out of source s's hands (lock held). */
static void
swarm_release(struct swarm *sw, struct swarm_source *s, size_t i)
{
	struct swarm_seg *g = &sw->segs[i];

	for (int k = 0; k < g->copies; k++) {
		if (g->holder[k] == s->index) {
			g->holder[k] = g->holder[--g->copies];
			break;
		}
	}
	s->cur = -1;
}

/* Hands READY segment i to the sink, the lock let go meanwhile (held on
 * entry and on return). Returns the sink's answer; the first non-zero one
 * is also kept in sw->sink_rc, and that segment stays WRITING, never
 * DONE. */
static int
swarm_write(struct swarm *sw, size_t i)
{
	struct swarm_seg *g = &sw->segs[i];
	char *data = g->data;
	int rc;

	g->data = NULL;
	g->state = SEG_WRITING;
	sw->writing++;
	pthread_mutex_unlock(&sw->lock);
	rc = sw->sink->segment(sw->sink->ctx, i, data, g->len);
	free(data);
	pthread_mutex_lock(&sw->lock);
	sw->writing--;
	if (rc != 0) {
		if (sw->sink_rc == 0)
			sw->sink_rc = rc;
		return rc;
	}
	g->state = SEG_DONE;
	sw->done++;
	return 0;
}

/* One source's thread: segments until the song is there, the run ends or
 * the source fails. */
static void *
swarm_worker(void *arg)
{
	struct swarm_source *s = arg;
	struct swarm *sw = s->sw;
	char why[CLIENT_ERR_LEN + 64], *data;
	struct rpc_conn *c;
	size_t len;
	long i;

	if (swarm_source_open(sw, s, why, sizeof(why)) < 0) {
		pthread_mutex_lock(&sw->lock);
		swarm_drop(sw, s, why);
		goto out;
	}
	pthread_mutex_lock(&sw->lock);
	while (!sw->ending) {
		long long now = clock_now_ms();

		i = swarm_pick(sw, s, now);
		if (i < 0) {
			swarm_wait(sw, SWARM_TICK_MS);
			continue;
		}
		if (s->requests > 0 && sw->fp->segment_delay_ms > 0) {
			/* the testing aid: a pause before each segment but the first */
			long long until = now + sw->fp->segment_delay_ms;
			while (!sw->ending && clock_now_ms() < until)
				swarm_wait(sw, until - clock_now_ms());
			if (sw->ending)
				break;
			if ((i = swarm_pick(sw, s, clock_now_ms())) < 0)
				continue;
		}
		struct swarm_seg *g = &sw->segs[i];
		if (g->copies == 0)
			g->first_ms = clock_now_ms();
		else
			log_debug("segment %ld/%zu is late; asking %s too", i + 1,
			    sw->pl.count, s->entry->addr);
		g->holder[g->copies++] = s->index;
		s->cur = i;
		s->cur_start_ms = clock_now_ms();
		s->requests++;
		pthread_mutex_unlock(&sw->lock);

		int rc = swarm_fetch_one(sw, s, (size_t)i, &data, &len, why,
		    sizeof(why));

		pthread_mutex_lock(&sw->lock);
		swarm_release(sw, s, (size_t)i);
		if (rc < 0) {
			/* a request cut short because the run is over is no failure */
			if (!sw->ending)
				swarm_drop(sw, s, why);
			pthread_cond_broadcast(&sw->cond);
			break;
		}
		/* a sample of how long it took, per second of audio */
		double secs = (double)sw->pl.segs[i].duration_us / 1e6;
		double ms = (double)(clock_now_ms() - s->cur_start_ms);
		if (secs > 0) {
			swarm_pace_add(&s->pace, ms / secs);
			swarm_pace_add(&sw->pace, ms / secs);
		}
		if (g->state != SEG_MISSING) {
			s->rep->duplicates++;
			free(data);
			continue;
		}
		if (sw->rep->bytes + (long long)len > sw->byte_cap) {
			/* verified, so the playlist itself announces too much */
			free(data);
			sw->too_big = 1;
			pthread_cond_broadcast(&sw->cond);
			break;
		}
		/* the bytes are the song's (every source holds the same), but
		 * a song is MPEG-TS: anything else (a playlist, a concat list,
		 * raw audio) never reaches a player, a file or an ffmpeg that
		 * would guess its format */
		char ts_why[SWARM_TS_WHY_LEN];
		if (mpegts_check(data, len, ts_why, sizeof(ts_why)) < 0) {
			free(data);
			if (sw->not_ts[0] == '\0')
				snprintf(sw->not_ts, sizeof(sw->not_ts),
				    "segment %ld/%zu: %s", i + 1, sw->pl.count, ts_why);
			pthread_cond_broadcast(&sw->cond);
			break;
		}
		g->state = SEG_READY;
		g->data = data;
		g->len = len;
		s->rep->segments++;
		s->rep->bytes += (long long)len;
		sw->rep->bytes += (long long)len;
		log_info("segment %ld/%zu (%zu bytes) from %s", i + 1, sw->pl.count,
		    len, s->entry->addr);
		/* a sink that takes any order, with another thread already
		 * writing to it and other sources receiving: written from
		 * here, in parallel, not queued behind that one (a lone
		 * source receives on while the main thread writes) */
		if (!sw->sink->in_order && sw->writing > 0 && sw->running > 1 &&
		    sw->sink_rc == 0)
			swarm_write(sw, (size_t)i);
		pthread_cond_broadcast(&sw->cond);
	}
out:
	c = s->conn;
	s->conn = NULL;
	s->running = 0;
	sw->running--;
	pthread_cond_broadcast(&sw->cond);
	pthread_mutex_unlock(&sw->lock);
	rpc_close(c);
	return NULL;
}

/* Starts the next candidate's worker (lock held). Returns 0 or -1. */
static int
swarm_start_next(struct swarm *sw)
{
	struct swarm_source *s = &sw->src[sw->next_src++];
	pthread_attr_t attr;
	sigset_t all, old;
	int rc;

	s->running = 1;
	sw->running++;
	sw->rep->nsources = sw->next_src;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, SWARM_THREAD_STACK);
	/* signals go to the main thread only */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, &attr, swarm_worker, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		s->running = 0;
		sw->running--;
		swarm_drop(sw, s, "cannot start a thread");
		rpc_close(s->conn);
		s->conn = NULL;
		return -1;
	}
	s->started = 1;
	return 0;
}

/* True if the next candidate may start now (lock held): any but a
 * relayed one, and that one only when nothing else runs or what runs is
 * too slow. */
static int
swarm_may_start(const struct swarm *sw)
{
	size_t others = 0;

	if (sw->src[sw->next_src].entry->reach != SOURCE_RELAYED)
		return 1;
	for (size_t k = 0; k < sw->next_src; k++)
		if (sw->src[k].running && sw->src[k].entry->reach != SOURCE_RELAYED)
			others++;
	if (others == 0)
		return 1;
	return sw->pace.samples >= SWARM_RELAY_SAMPLES &&
	    sw->pace.mean > SWARM_RELAY_PACE_MS;
}

/* Checks a playlist a source sent: it parses, names every segment by its
 * hash, is in canonical form, is not too long, and (when the content id is
 * known) hashes to it. Returns 0 or -1 with why. */
static int
swarm_check_playlist(struct swarm *sw, const char *want_id, const char *raw,
    size_t rawlen, struct playlist *pl, char *why, size_t whylen)
{
	char id[SHA256_HEX_LEN], *canon;
	size_t canonlen;
	int same;

	sha256_hex(raw, rawlen, id);
	if (want_id != NULL && strcmp(id, want_id) != 0) {
		snprintf(why, whylen, "its playlist does not match content id "
		    "%.16s... (SHA-256 %.16s...)", want_id, id);
		return -1;
	}
	if (playlist_parse(raw, rawlen, pl, why, whylen) < 0)
		return -1;
	if (!playlist_content_addressed(pl)) {
		snprintf(why, whylen, "its playlist is not content-addressed "
		    "(segments not named by their SHA-256)");
		playlist_free(pl);
		return -1;
	}
	if (pl->total_us > SWARM_MAX_SONG_SECONDS * 1000000LL) {
		snprintf(why, whylen, "its playlist lasts over %ld hours",
		    SWARM_MAX_SONG_SECONDS / 3600);
		playlist_free(pl);
		return -1;
	}
	if ((canon = playlist_canonical(pl, &canonlen)) == NULL) {
		snprintf(why, whylen, "out of memory");
		playlist_free(pl);
		return -1;
	}
	same = canonlen == rawlen && memcmp(canon, raw, rawlen) == 0;
	free(canon);
	if (!same) {
		snprintf(why, whylen, "its playlist is not in canonical form");
		playlist_free(pl);
		return -1;
	}
	memcpy(sw->content_id, id, sizeof(id));
	return 0;
}

/* Gets the playlist from the first candidate that sends a good one,
 * keeping that candidate's connection for its worker. Returns 0, or -1
 * when none did (each failure logged and in the report). */
static int
swarm_get_playlist(struct swarm *sw)
{
	const struct fetch_params *fp = sw->fp;
	char why[CLIENT_ERR_LEN];

	while (sw->next_src < sw->nsrc && !client_stop) {
		struct swarm_source *s = &sw->src[sw->next_src];
		struct rpc_conn *c;
		char *raw;
		size_t rawlen;

		log_info("asking peer %s for '%s'", s->entry->addr, fp->song);
		c = source_open(s->entry, fp->timeout_ms, &s->rep->how, why,
		    sizeof(why));
		if (c != NULL && peer_request_song(c, fp->song, &raw, &rawlen) != RPC_OK)
			snprintf(why, sizeof(why), "%s", rpc_error(c));
		else if (c != NULL) {
			int rc = swarm_check_playlist(sw, fp->content_id, raw, rawlen,
			    &sw->pl, why, sizeof(why));
			if (rc == 0) {
				sw->raw = raw;
				sw->rawlen = rawlen;
				s->conn = c;
				/* it sent the playlist: no need to ask it again */
				snprintf(s->rep->addr, sizeof(s->rep->addr), "%s",
				    s->entry->addr);
				return 0;
			}
			free(raw);
		}
		rpc_close(c);
		if (client_stop)
			break;
		swarm_drop(sw, s, why);
		sw->next_src++;
		sw->rep->nsources = sw->next_src;
	}
	return -1;
}

/* Ends requests that another source has already answered once they are
 * SWARM_STALL_FACTOR times late (lock held). */
static void
swarm_end_stalled(struct swarm *sw, long long now)
{
	for (size_t k = 0; k < sw->next_src; k++) {
		struct swarm_source *s = &sw->src[k];
		char why[CLIENT_ERR_LEN];
		double late;

		if (!s->running || s->cur < 0 || s->conn == NULL ||
		    sw->segs[s->cur].state == SEG_MISSING)
			continue;
		late = swarm_late_ms(sw, s, (size_t)s->cur);
		if ((double)(now - s->cur_start_ms) < late * SWARM_STALL_FACTOR)
			continue;
		snprintf(why, sizeof(why), "stalled: segment %ld/%zu took over %.1f s "
		    "and another source sent it", s->cur + 1, sw->pl.count,
		    (double)(now - s->cur_start_ms) / 1000);
		swarm_drop(sw, s, why);
		rpc_shutdown(s->conn);
	}
}

/* Hands the verified segments that may go to the sink (lock held; it is
 * let go during each write). Returns 0, or the sink's first non-zero
 * answer (here or in a worker). */
static int
swarm_output(struct swarm *sw)
{
	size_t end = sw->head + SWARM_WINDOW_SEGMENTS;

	if (end > sw->pl.count)
		end = sw->pl.count;
	for (size_t i = sw->head; i < end && sw->sink_rc == 0; i++) {
		enum seg_state st = sw->segs[i].state;

		if (st == SEG_READY)
			swarm_write(sw, i);
		else if (sw->sink->in_order && st == SEG_MISSING)
			break;
	}
	if (sw->sink_rc != 0)
		return sw->sink_rc;
	while (sw->head < sw->pl.count && sw->segs[sw->head].state == SEG_DONE)
		sw->head++;
	/* the window moved: workers may pick again */
	pthread_cond_broadcast(&sw->cond);
	return 0;
}

/* The main thread's loop once the workers run. */
static enum fetch_result
swarm_run(struct swarm *sw)
{
	const struct fetch_params *fp = sw->fp;
	enum fetch_result result = FETCH_NO_PEER;
	int rc;

	pthread_mutex_lock(&sw->lock);
	for (;;) {
		if (client_stop) {
			result = FETCH_INTERRUPTED;
			break;
		}
		rc = swarm_output(sw);
		if (rc != 0) {
			result = rc < 0 ? FETCH_LOCAL_ERROR : FETCH_OUTPUT_CLOSED;
			break;
		}
		if (sw->head == sw->pl.count) {
			result = FETCH_DONE;
			break;
		}
		if (sw->too_big) {
			progress_clear(fp->progress);
			log_error("content id %s: the song holds more than its length "
			    "allows (%lld bytes at most); not fetched", sw->content_id,
			    sw->byte_cap);
			result = FETCH_REFUSED;
			break;
		}
		if (sw->not_ts[0] != '\0') {
			progress_clear(fp->progress);
			log_error("'%s' is not an MPEG-TS stream (%s); refused",
			    fp->song, sw->not_ts);
			result = FETCH_REFUSED;
			break;
		}
		while (sw->running < fp->jobs && sw->next_src < sw->nsrc &&
		    swarm_may_start(sw))
			swarm_start_next(sw);
		if (sw->running == 0) {
			result = FETCH_NO_PEER;
			break;
		}
		swarm_end_stalled(sw, clock_now_ms());
		progress_update(fp->progress, sw->done, sw->pl.count, sw->rep->bytes,
		    sw->running, 0);
		swarm_wait(sw, SWARM_TICK_MS);
	}
	/* stop every worker, even one waiting on the network */
	sw->ending = 1;
	for (size_t k = 0; k < sw->next_src; k++)
		if (sw->src[k].conn != NULL && (result != FETCH_DONE ||
		    sw->src[k].cur >= 0))
			rpc_shutdown(sw->src[k].conn);
	pthread_cond_broadcast(&sw->cond);
	pthread_mutex_unlock(&sw->lock);
	for (size_t k = 0; k < sw->next_src; k++)
		if (sw->src[k].started)
			pthread_join(sw->src[k].thread, NULL);
	if (result == FETCH_DONE)
		progress_update(fp->progress, sw->done, sw->pl.count,
		    sw->rep->bytes, 0, 1);
	return result;
}

enum fetch_result
fetch_song(const struct fetch_params *fp, const struct fetch_sink *sink,
    struct fetch_report *rep)
{
	struct swarm sw;
	enum fetch_result result = FETCH_NO_PEER;
	long long t0 = clock_now_ms();
	int rc;

	memset(rep, 0, sizeof(*rep));
	memset(&sw, 0, sizeof(sw));
	pthread_mutex_init(&sw.lock, NULL);
	clock_cond_init(&sw.cond);
	sw.fp = fp;
	sw.rep = rep;
	sw.sink = sink;
	sw.nsrc = fp->sources->count;
	sw.src = calloc(sw.nsrc ? sw.nsrc : 1, sizeof(*sw.src));
	if (sw.src == NULL) {
		log_error("out of memory");
		return FETCH_LOCAL_ERROR;
	}
	for (size_t k = 0; k < sw.nsrc; k++) {
		sw.src[k].sw = &sw;
		sw.src[k].index = (int)k;
		sw.src[k].entry = &fp->sources->e[k];
		sw.src[k].cur = -1;
		sw.src[k].rep = &rep->src[k];
		snprintf(rep->src[k].addr, sizeof(rep->src[k].addr), "%s",
		    fp->sources->e[k].addr);
	}
	if (swarm_get_playlist(&sw) < 0) {
		result = client_stop ? FETCH_INTERRUPTED : FETCH_NO_PEER;
		goto out;
	}
	memcpy(rep->content_id, sw.content_id, sizeof(rep->content_id));
	rep->duration_ms = sw.pl.total_ms;
	sw.byte_cap = sw.pl.total_us * SWARM_MAX_BYTES_PER_S / 1000000 +
	    SWARM_SONG_SLACK_BYTES;
	sw.segs = calloc(sw.pl.count, sizeof(*sw.segs));
	if (sw.segs == NULL) {
		log_error("out of memory");
		result = FETCH_LOCAL_ERROR;
		goto out;
	}
	/* --start: the segments before the one holding it are not fetched */
	if (fp->start_ms > 0) {
		long into;
		sw.head = queue_segment_at(&sw.pl, fp->start_ms, &into);
		for (size_t i = 0; i < sw.head; i++)
			sw.segs[i].state = SEG_DONE;
	}
	rc = sink->start(sink->ctx, &sw.pl, sw.content_id);
	if (rc == SINK_HAVE_SONG) {
		rep->had_song = 1;
		result = FETCH_DONE;
		goto out;
	}
	if (rc != 0) {
		result = rc < 0 ? FETCH_LOCAL_ERROR : FETCH_OUTPUT_CLOSED;
		goto out;
	}
	log_info("content id %s: %zu segments, up to %zu sources at once",
	    sw.content_id, sw.pl.count, fp->jobs);
	result = swarm_run(&sw);
	if (result == FETCH_DONE) {
		rc = sink->finish(sink->ctx);
		if (rc != 0)
			result = rc < 0 ? FETCH_LOCAL_ERROR : FETCH_OUTPUT_CLOSED;
	}
	rep->segments = sw.done;
out:
	if (client_stop && result == FETCH_NO_PEER)
		result = FETCH_INTERRUPTED;
	for (size_t k = 0; k < sw.nsrc; k++) {
		if (rep->src[k].segments > 0)
			rep->delivered++;
		if (sw.src[k].conn != NULL)	/* the playlist's, never started */
			rpc_close(sw.src[k].conn);
	}
	for (size_t i = 0; sw.segs != NULL && i < sw.pl.count; i++)
		free(sw.segs[i].data);
	rep->elapsed_ms = clock_now_ms() - t0;
	progress_clear(fp->progress);
	free(sw.segs);
	free(sw.src);
	free(sw.raw);
	playlist_free(&sw.pl);
	pthread_cond_destroy(&sw.cond);
	pthread_mutex_destroy(&sw.lock);
	return result;
}

/* gateway.c - the gateway's songs and segments, through the swarm: a song
 * asked for is LOCATEd, and a swarm (swarm.c, up to SWARM_DEFAULT_JOBS
 * sources at once, every byte verified) fetches it whole in the
 * background, earliest segment first, into a cache in memory (bounded by
 * count and bytes, least recently used out first): that is the read-ahead
 * of a song being played. A segment asked for before the swarm has it is
 * waited for; one the swarm cannot give (it ended, failed, or the segment
 * was evicted since) is fetched on its own from the song's sources and
 * checked against its hash name, and the next GATEWAY_READ_AHEAD are then
 * read ahead by one thread the same way. Past GATEWAY_MAX_SWARMS songs at
 * once, songs are served that second way only.
 *
 * One lock (gateway.lock) guards the song table, the segment cache, the
 * read-ahead queue and the swarm count; it is never held across network
 * I/O: an entry being fetched is marked loading, and others wait for it on
 * gateway.changed. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "../peer_client.h"
#include "../swarm.h"
#include "p2pm/picture.h"
#include "gateway.h"
#include "../reach.h"

/* most sources one fetch tries before giving up */
#define GATEWAY_MAX_TRIES 4

struct gw_swarm;

struct gw_song {
	int used;
	int loading;		/* a thread is fetching its playlist */
	char name[PROTO_MAX_NAME + 1];
	struct gateway_blob *playlist;	/* NULL until loaded */
	struct playlist pl;
	struct source_list *sources;	/* owned; those holding pl */
	struct gw_swarm *swarm;		/* fetching the song; NULL if none */
	long long fetched_ms, used_ms;
};

struct gw_seg {
	int used;
	int loading;		/* a thread is fetching it */
	char song[PROTO_MAX_NAME + 1];
	char name[PROTO_MAX_NAME + 1];
	struct gateway_blob *blob;	/* NULL while loading */
	long long used_ms;
};

struct gw_job {
	char song[PROTO_MAX_NAME + 1];
	char name[PROTO_MAX_NAME + 1];
};

struct gateway {
	struct cli_trackers trackers;	/* asked in order */
	int timeout_ms;
	int segment_delay_ms;		/* the swarms' testing aid */
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* a load has finished */
	pthread_cond_t work;		/* a read-ahead job came, or stop */
	struct gw_song songs[GATEWAY_MAX_SONGS];
	struct gw_seg segs[GATEWAY_CACHE_SEGMENTS];
	size_t cache_bytes;
	struct gw_job jobs[GATEWAY_READ_AHEAD_QUEUE];
	size_t njobs;
	int swarms;			/* swarm threads running */
	int stop;
	pthread_t reader;
};

/* One swarm fetching one song whole, on a thread of its own, which frees
 * it at the end. Its fields are under gateway.lock. */
struct gw_swarm {
	struct gateway *gw;
	char song[PROTO_MAX_NAME + 1];
	char content_id[SHA256_HEX_LEN];	/* "" for none (version 1) */
	struct source_list *sources;	/* owned */
	int started;		/* the playlist came: playlist and pl set */
	int ended;
	int taken;		/* the loader has taken playlist and pl */
	struct gateway_blob *playlist;
	struct playlist pl;
	enum fetch_result result;
};

/* A blob holding a copy of len bytes, with its SHA-256 as entity tag. */
static struct gateway_blob *
gw_blob_new(const char *data, size_t len)
{
	struct gateway_blob *b = malloc(sizeof(*b) + len);

	if (b == NULL)
		return NULL;
	atomic_init(&b->refs, 1);
	b->len = len;
	memcpy(b->data, data, len);
	sha256_hex(data, len, b->etag);
	return b;
}

static struct gateway_blob *
gw_blob_ref(struct gateway_blob *b)
{
	atomic_fetch_add(&b->refs, 1);
	return b;
}

void
gateway_blob_release(struct gateway_blob *b)
{
	if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

/* ---- fetching from the network (no lock held) */

/* Picks, from what LOCATE found, the song to get: the content id listed
 * first (the tracker lists the one most sources hold first) in id,
 * empty for a version-1 tracker, and into list the sources holding it,
 * then those registered without a content id. */
static void
gw_pick(const struct source_list *found, struct source_list *list,
    char id[SHA256_HEX_LEN])
{
	id[0] = '\0';
	list->count = 0;
	for (size_t i = 0; i < found->count && id[0] == '\0'; i++)
		if (found->e[i].id[0] != '\0')
			memcpy(id, found->e[i].id, SHA256_HEX_LEN);
	for (size_t i = 0; i < found->count; i++)
		if (id[0] != '\0' && strcmp(found->e[i].id, id) == 0)
			source_list_add_entry(list, &found->e[i]);
	for (size_t i = 0; i < found->count; i++)
		if (found->e[i].id[0] == '\0')
			source_list_add_entry(list, &found->e[i]);
}

/* LOCATEs song and picks its sources into *sources and its content id
 * into id. */
static enum gateway_result
gw_locate(struct gateway *gw, const char *song, struct source_list *sources,
    char id[SHA256_HEX_LEN], char *err, size_t errlen)
{
	struct source_list *found = malloc(sizeof(*found));
	int version1;

	if (found == NULL) {
		snprintf(err, errlen, "out of memory");
		return GATEWAY_NO_MEMORY;
	}
	if (tracker_locate(&gw->trackers, song, gw->timeout_ms, found, &version1,
	    err, errlen) < 0) {
		free(found);
		return GATEWAY_TRACKER_DOWN;
	}
	gw_pick(found, sources, id);
	free(found);
	if (sources->count == 0) {
		snprintf(err, errlen, "no source holds '%s'", song);
		return GATEWAY_NOT_FOUND;
	}
	return GATEWAY_OK;
}

/* Asks each source in turn for song's playlist, which must hash to id
 * when id is not empty. On GATEWAY_OK fills *blob and *pl. */
static enum gateway_result
gw_fetch_playlist(struct gateway *gw, const char *song,
    const struct source_list *sources, const char *id,
    struct gateway_blob **blob, struct playlist *pl, char *err, size_t errlen)
{
	enum gateway_result res = GATEWAY_NOT_FOUND;
	size_t tries = 0;

	snprintf(err, errlen, "no source holds '%s'", song);
	for (size_t i = 0; i < sources->count && tries < GATEWAY_MAX_TRIES; i++) {
		const char *peer = sources->e[i].addr, *how;
		char why[CLIENT_ERR_LEN], *raw;
		size_t len;
		struct rpc_conn *c;
		enum rpc_result rr;

		tries++;
		c = source_open(&sources->e[i], gw->timeout_ms, &how, why, sizeof(why));
		if (c == NULL) {
			snprintf(err, errlen, "source %s: %s", peer, why);
			res = GATEWAY_NO_SOURCE;
			continue;
		}
		rr = peer_request_song(c, song, &raw, &len);
		if (rr != RPC_OK) {
			/* a source that no longer has it is like no source */
			if (!(rr == RPC_REFUSED && rpc_err_code(c) == PROTO_NOT_FOUND))
				res = GATEWAY_NO_SOURCE;
			snprintf(err, errlen, "source %s: %s", peer, rpc_error(c));
			rpc_close(c);
			continue;
		}
		rpc_close(c);
		res = GATEWAY_NO_SOURCE;
		if (playlist_parse(raw, len, pl, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "source %s: bad playlist: %s", peer, why);
			free(raw);
			continue;
		}
		*blob = gw_blob_new(raw, len);
		free(raw);
		if (*blob == NULL) {
			playlist_free(pl);
			return GATEWAY_NO_MEMORY;
		}
		if (id[0] != '\0' && strcmp((*blob)->etag, id) != 0) {
			snprintf(err, errlen, "source %s: its playlist is not content "
			    "id %s", peer, id);
			gateway_blob_release(*blob);
			playlist_free(pl);
			continue;
		}
		log_info("'%s': playlist of %zu segments from %s", song, pl->count,
		    peer);
		return GATEWAY_OK;
	}
	return res;
}

/* Fetches segment `name` from the sources, from the one at `first` on,
 * checking it against its name when that is a SHA-256. */
static enum gateway_result
gw_fetch_segment(struct gateway *gw, const struct source_list *peers,
    size_t first, const char *name, struct gateway_blob **blob, char *err,
    size_t errlen)
{
	int hashed = playlist_hash_name_ok(name, strlen(name));
	int picture = picture_name_ok(name, strlen(name));

	snprintf(err, errlen, "no source for segment %s", name);
	for (size_t t = 0; t < peers->count && t < GATEWAY_MAX_TRIES; t++) {
		const struct source_entry *e = &peers->e[(first + t) % peers->count];
		const char *peer = e->addr, *how;
		char why[CLIENT_ERR_LEN], *body;
		size_t len;
		struct rpc_conn *c;

		c = source_open(e, gw->timeout_ms, &how, why, sizeof(why));
		if (c == NULL) {
			snprintf(err, errlen, "source %s: %s", peer, why);
			continue;
		}
		if (peer_request_segment(c, name, &body, &len) != RPC_OK) {
			snprintf(err, errlen, "source %s: %s", peer, rpc_error(c));
			rpc_close(c);
			continue;
		}
		rpc_close(c);
		*blob = gw_blob_new(body, len);
		free(body);
		if (*blob == NULL)
			return GATEWAY_NO_MEMORY;
		if ((hashed && memcmp((*blob)->etag, name, SHA256_HEX_LEN - 1) != 0) ||
		    (picture && !picture_matches(name, (*blob)->data, (*blob)->len))) {
			snprintf(err, errlen, "source %s: segment %s does not match "
			    "its hash", peer, name);
			log_warn("%s", err);
			gateway_blob_release(*blob);
			*blob = NULL;
			continue;
		}
		log_debug("segment %s (%zu bytes) from %s", name, len, peer);
		return GATEWAY_OK;
	}
	return GATEWAY_NO_SOURCE;
}

/* ---- the song table (gw->lock held) */

static void
gw_song_clear(struct gw_song *s)
{
	gateway_blob_release(s->playlist);
	s->playlist = NULL;
	playlist_free(&s->pl);
	free(s->sources);
	s->sources = NULL;
	s->used = 0;
}

static struct gw_song *
gw_song_find(struct gateway *gw, const char *name)
{
	for (size_t i = 0; i < GATEWAY_MAX_SONGS; i++)
		if (gw->songs[i].used && strcmp(gw->songs[i].name, name) == 0)
			return &gw->songs[i];
	return NULL;
}

/* The entry for name, or a fresh one (reusing the least recently used
 * entry neither loading nor being swarmed); NULL if there is none. */
static struct gw_song *
gw_song_slot(struct gateway *gw, const char *name, int *fresh)
{
	struct gw_song *victim = NULL;

	*fresh = 0;
	for (size_t i = 0; i < GATEWAY_MAX_SONGS; i++) {
		struct gw_song *s = &gw->songs[i];
		if (s->used && strcmp(s->name, name) == 0)
			return s;
		if (s->loading || s->swarm != NULL)
			continue;
		if (victim == NULL || !s->used ||
		    (victim->used && s->used_ms < victim->used_ms))
			victim = s;
	}
	if (victim == NULL)
		return NULL;
	if (victim->used)
		gw_song_clear(victim);
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	snprintf(victim->name, sizeof(victim->name), "%s", name);
	*fresh = 1;
	return victim;
}

static void gw_seg_store_locked(struct gateway *gw, const char *song,
    const char *name, struct gateway_blob *blob);

/* The swarm's sink: the verified playlist. */
static int
gw_swarm_start(void *ctx, const struct playlist *pl, const char *content_id)
{
	struct gw_swarm *sw = ctx;
	struct gateway *gw = sw->gw;
	char why[CLIENT_ERR_LEN], *raw;
	size_t len;
	int rc = -1;

	raw = playlist_canonical(pl, &len);
	pthread_mutex_lock(&gw->lock);
	if (raw != NULL && (sw->playlist = gw_blob_new(raw, len)) != NULL) {
		if (playlist_parse(raw, len, &sw->pl, why, sizeof(why)) == 0) {
			snprintf(sw->content_id, sizeof(sw->content_id), "%s",
			    content_id);
			sw->started = 1;
			rc = gw->stop ? 1 : 0;
		} else {
			gateway_blob_release(sw->playlist);
			sw->playlist = NULL;
		}
	}
	pthread_cond_broadcast(&gw->changed);
	pthread_mutex_unlock(&gw->lock);
	free(raw);
	return rc;
}

/* The swarm's sink: segment index, verified, into the cache. */
static int
gw_swarm_segment(void *ctx, size_t index, const char *data, size_t len)
{
	struct gw_swarm *sw = ctx;
	struct gateway *gw = sw->gw;
	struct gateway_blob *blob = gw_blob_new(data, len);
	int rc;

	if (blob == NULL)
		return -1;
	pthread_mutex_lock(&gw->lock);
	if (index < sw->pl.count)
		gw_seg_store_locked(gw, sw->song, sw->pl.segs[index].name, blob);
	gateway_blob_release(blob);
	rc = gw->stop ? 1 : 0;
	pthread_mutex_unlock(&gw->lock);
	return rc;
}

static int
gw_swarm_finish(void *ctx)
{
	(void)ctx;
	return 0;
}

/* A swarm's thread: the whole song into the cache, then it clears its
 * song's swarm mark and frees itself. */
static void *
gw_swarm_main(void *arg)
{
	struct gw_swarm *sw = arg;
	struct gateway *gw = sw->gw;
	struct fetch_report *rep = malloc(sizeof(*rep));
	struct fetch_sink sink = { .start = gw_swarm_start,
	    .segment = gw_swarm_segment, .finish = gw_swarm_finish,
	    .in_order = 0, .ctx = sw };
	struct fetch_params fp;
	struct progress pr;
	enum fetch_result res = FETCH_LOCAL_ERROR;

	progress_init(&pr, 0);
	fp.song = sw->song;
	fp.sources = sw->sources;
	fp.content_id = sw->content_id[0] != '\0' ? sw->content_id : NULL;
	fp.jobs = SWARM_DEFAULT_JOBS;
	fp.timeout_ms = gw->timeout_ms;
	fp.segment_delay_ms = gw->segment_delay_ms;
	fp.start_ms = 0;
	fp.progress = &pr;
	if (rep != NULL) {
		res = fetch_song(&fp, &sink, rep);
		log_info("'%s': swarm %s: %zu segments, %lld bytes, from %zu of "
		    "%zu sources", sw->song, res == FETCH_DONE ? "done" : "ended",
		    rep->segments, rep->bytes, rep->delivered, rep->nsources);
	}
	free(rep);
	pthread_mutex_lock(&gw->lock);
	sw->result = res;
	sw->ended = 1;
	pthread_cond_broadcast(&gw->changed);
	while (!sw->taken)
		pthread_cond_wait(&gw->changed, &gw->lock);
	for (size_t i = 0; i < GATEWAY_MAX_SONGS; i++)
		if (gw->songs[i].swarm == sw)
			gw->songs[i].swarm = NULL;
	gw->swarms--;
	gateway_blob_release(sw->playlist);
	playlist_free(&sw->pl);
	free(sw->sources);
	free(sw);
	pthread_cond_broadcast(&gw->changed);
	pthread_mutex_unlock(&gw->lock);
	return NULL;
}

/* Starts a swarm on song and waits for its playlist. On GATEWAY_OK *blob
 * and *pl hold the playlist for the caller, and *running is the swarm if
 * it is still fetching (to be marked on the song's entry before the lock
 * is released), else NULL. Called and returns with gw->lock held, with a
 * swarm slot (gw->swarms) taken for it, which it gives back on failure. */
static enum gateway_result
gw_swarm_run_locked(struct gateway *gw, const char *song,
    const struct source_list *sources, const char *id,
    struct gateway_blob **blob, struct playlist *pl, struct gw_swarm **running,
    char *err, size_t errlen)
{
	struct gw_swarm *sw = calloc(1, sizeof(*sw));
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	*running = NULL;
	if (sw == NULL || (sw->sources = malloc(sizeof(*sources))) == NULL) {
		free(sw);
		gw->swarms--;
		snprintf(err, errlen, "out of memory");
		return GATEWAY_NO_MEMORY;
	}
	sw->gw = gw;
	snprintf(sw->song, sizeof(sw->song), "%s", song);
	snprintf(sw->content_id, sizeof(sw->content_id), "%s", id);
	*sw->sources = *sources;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, gw_swarm_main, sw);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		free(sw->sources);
		free(sw);
		gw->swarms--;
		snprintf(err, errlen, "cannot start a swarm: %s", strerror(rc));
		return GATEWAY_NO_MEMORY;
	}
	while (!sw->started && !sw->ended)
		pthread_cond_wait(&gw->changed, &gw->lock);
	sw->taken = 1;
	pthread_cond_broadcast(&gw->changed);
	if (!sw->started) {
		snprintf(err, errlen, "no source could serve '%s'", song);
		return GATEWAY_NO_SOURCE;
	}
	*blob = gw_blob_ref(sw->playlist);
	if (playlist_parse(sw->playlist->data, sw->playlist->len, pl, err,
	    errlen) < 0) {
		gateway_blob_release(*blob);
		*blob = NULL;
		return GATEWAY_NO_MEMORY;
	}
	if (!sw->ended)
		*running = sw;
	return GATEWAY_OK;
}

/* Finds song's entry with a playlist no older than GATEWAY_SONG_TTL_MS
 * (or being swarmed), fetching it (lock released meanwhile) if needed:
 * through a swarm while fewer than GATEWAY_MAX_SWARMS run, else from one
 * source. A refetch that fails keeps the playlist it had. Called and
 * returns with gw->lock held; on GATEWAY_OK *out is the entry, valid until
 * the lock is released. */
static enum gateway_result
gw_song_locked(struct gateway *gw, const char *song, struct gw_song **out,
    char *err, size_t errlen)
{
	struct gw_song *s;
	struct gateway_blob *blob = NULL;
	struct gw_swarm *running = NULL;
	struct playlist pl;
	struct source_list *sources;
	char id[SHA256_HEX_LEN];
	enum gateway_result res;
	int fresh;

	for (;;) {
		s = gw_song_slot(gw, song, &fresh);
		if (s == NULL) {
			snprintf(err, errlen, "too many songs loading at once");
			return GATEWAY_NO_MEMORY;
		}
		if (!s->loading)
			break;
		pthread_cond_wait(&gw->changed, &gw->lock);
	}
	s->used_ms = clock_now_ms();
	if (s->playlist != NULL && (s->swarm != NULL ||
	    s->used_ms - s->fetched_ms < GATEWAY_SONG_TTL_MS)) {
		*out = s;
		return GATEWAY_OK;
	}
	sources = malloc(sizeof(*sources));
	if (sources == NULL) {
		if (fresh)
			s->used = 0;
		snprintf(err, errlen, "out of memory");
		return GATEWAY_NO_MEMORY;
	}
	s->loading = 1;
	pthread_mutex_unlock(&gw->lock);
	memset(&pl, 0, sizeof(pl));
	res = gw_locate(gw, song, sources, id, err, errlen);
	pthread_mutex_lock(&gw->lock);
	if (res == GATEWAY_OK && !gw->stop && gw->swarms < GATEWAY_MAX_SWARMS) {
		gw->swarms++;
		res = gw_swarm_run_locked(gw, song, sources, id, &blob, &pl,
		    &running, err, errlen);
	} else if (res == GATEWAY_OK) {
		pthread_mutex_unlock(&gw->lock);
		res = gw_fetch_playlist(gw, song, sources, id, &blob, &pl, err,
		    errlen);
		pthread_mutex_lock(&gw->lock);
	}
	s->loading = 0;
	if (res == GATEWAY_OK) {
		gateway_blob_release(s->playlist);
		playlist_free(&s->pl);
		free(s->sources);
		s->playlist = blob;
		s->pl = pl;
		s->sources = sources;
		s->swarm = running;
		s->fetched_ms = clock_now_ms();
	} else {
		free(sources);
		if (s->playlist != NULL && res != GATEWAY_NOT_FOUND) {
			log_warn("'%s': %s; keeping the playlist fetched before",
			    song, err);
			res = GATEWAY_OK;
		} else {
			gw_song_clear(s);
		}
	}
	pthread_cond_broadcast(&gw->changed);
	*out = s;
	return res;
}

/* ---- the segment cache (gw->lock held) */

static struct gw_seg *
gw_seg_find(struct gateway *gw, const char *song, const char *name)
{
	for (size_t i = 0; i < GATEWAY_CACHE_SEGMENTS; i++) {
		struct gw_seg *e = &gw->segs[i];
		if (e->used && strcmp(e->name, name) == 0 &&
		    strcmp(e->song, song) == 0)
			return e;
	}
	return NULL;
}

static void
gw_seg_drop(struct gateway *gw, struct gw_seg *e)
{
	if (e->blob != NULL) {
		gw->cache_bytes -= e->blob->len;
		gateway_blob_release(e->blob);
	}
	e->blob = NULL;
	e->used = 0;
}

/* Drops the least recently used loaded segment other than keep. Returns
 * 0, or -1 if there was none to drop. */
static int
gw_seg_evict_one(struct gateway *gw, const struct gw_seg *keep)
{
	struct gw_seg *victim = NULL;

	for (size_t i = 0; i < GATEWAY_CACHE_SEGMENTS; i++) {
		struct gw_seg *e = &gw->segs[i];
		if (!e->used || e->loading || e == keep)
			continue;
		if (victim == NULL || e->used_ms < victim->used_ms)
			victim = e;
	}
	if (victim == NULL)
		return -1;
	gw_seg_drop(gw, victim);
	return 0;
}

/* A free entry, evicting one if all are used; NULL if all are loading. */
static struct gw_seg *
gw_seg_slot(struct gateway *gw)
{
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < GATEWAY_CACHE_SEGMENTS; i++)
			if (!gw->segs[i].used)
				return &gw->segs[i];
		if (gw_seg_evict_one(gw, NULL) < 0)
			return NULL;
	}
	return NULL;
}

/* Puts a reference to blob in the cache as segment name of song, unless
 * it is there (or being fetched) already. */
static void
gw_seg_store_locked(struct gateway *gw, const char *song, const char *name,
    struct gateway_blob *blob)
{
	struct gw_seg *e;

	if (gw_seg_find(gw, song, name) != NULL || (e = gw_seg_slot(gw)) == NULL)
		return;
	memset(e, 0, sizeof(*e));
	e->used = 1;
	snprintf(e->song, sizeof(e->song), "%s", song);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->blob = gw_blob_ref(blob);
	e->used_ms = clock_now_ms();
	gw->cache_bytes += blob->len;
	while (gw->cache_bytes > (size_t)GATEWAY_CACHE_BYTES &&
	    gw_seg_evict_one(gw, e) == 0)
		;
	pthread_cond_broadcast(&gw->changed);
}

/* The segment from the cache, or fetched from peers (starting with the
 * source at first) with the lock released meanwhile. Called and returns
 * with gw->lock held; on GATEWAY_OK *out holds a reference. */
static enum gateway_result
gw_seg_locked(struct gateway *gw, const char *song, const char *name,
    const struct source_list *peers, size_t first, struct gateway_blob **out,
    char *err, size_t errlen)
{
	struct gw_seg *e;
	struct gateway_blob *blob = NULL;
	enum gateway_result res;

	for (;;) {
		e = gw_seg_find(gw, song, name);
		if (e == NULL || !e->loading)
			break;
		pthread_cond_wait(&gw->changed, &gw->lock);
	}
	if (e != NULL) {
		e->used_ms = clock_now_ms();
		*out = gw_blob_ref(e->blob);
		return GATEWAY_OK;
	}
	e = gw_seg_slot(gw);
	if (e == NULL) {
		snprintf(err, errlen, "too many segments loading at once");
		return GATEWAY_NO_MEMORY;
	}
	memset(e, 0, sizeof(*e));
	e->used = 1;
	e->loading = 1;
	snprintf(e->song, sizeof(e->song), "%s", song);
	snprintf(e->name, sizeof(e->name), "%s", name);
	pthread_mutex_unlock(&gw->lock);
	res = gw_fetch_segment(gw, peers, first, name, &blob, err, errlen);
	pthread_mutex_lock(&gw->lock);
	e->loading = 0;
	if (res == GATEWAY_OK) {
		e->blob = blob;
		e->used_ms = clock_now_ms();
		gw->cache_bytes += blob->len;
		while (gw->cache_bytes > (size_t)GATEWAY_CACHE_BYTES &&
		    gw_seg_evict_one(gw, e) == 0)
			;
		*out = gw_blob_ref(blob);
	} else {
		e->used = 0;
	}
	pthread_cond_broadcast(&gw->changed);
	return res;
}

/* Queues the read-ahead of GATEWAY_READ_AHEAD segments of song's
 * playlist from index first on, those neither cached nor queued. */
static void
gw_read_ahead_locked(struct gateway *gw, const struct gw_song *s, size_t first)
{
	for (size_t i = first; i < first + GATEWAY_READ_AHEAD &&
	    i < s->pl.count; i++) {
		const char *name = s->pl.segs[i].name;
		int queued = gw_seg_find(gw, s->name, name) != NULL;

		for (size_t j = 0; j < gw->njobs && !queued; j++)
			queued = strcmp(gw->jobs[j].name, name) == 0 &&
			    strcmp(gw->jobs[j].song, s->name) == 0;
		if (queued)
			continue;
		if (gw->njobs == GATEWAY_READ_AHEAD_QUEUE) {
			memmove(&gw->jobs[0], &gw->jobs[1],
			    (gw->njobs - 1) * sizeof(gw->jobs[0]));
			gw->njobs--;
		}
		snprintf(gw->jobs[gw->njobs].song, PROTO_MAX_NAME + 1, "%s", s->name);
		snprintf(gw->jobs[gw->njobs].name, PROTO_MAX_NAME + 1, "%s", name);
		gw->njobs++;
		pthread_cond_signal(&gw->work);
	}
}

/* Finds segment `name` in the playlist; returns its index or -1. */
static long
gw_segment_index(const struct playlist *pl, const char *name)
{
	for (size_t i = 0; i < pl->count; i++)
		if (strcmp(pl->segs[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* The read-ahead thread: fetches queued segments into the cache, one at
 * a time, until gateway_close. */
static void *
gw_reader_main(void *arg)
{
	struct gateway *gw = arg;
	struct source_list *peers = malloc(sizeof(*peers));
	char err[CLIENT_ERR_LEN];

	if (peers == NULL)
		return NULL;
	pthread_mutex_lock(&gw->lock);
	while (!gw->stop) {
		struct gw_job job;
		struct gw_song *s = NULL;
		struct gateway_blob *blob = NULL;
		long index = -1;

		if (gw->njobs == 0) {
			pthread_cond_wait(&gw->work, &gw->lock);
			continue;
		}
		job = gw->jobs[0];
		memmove(&gw->jobs[0], &gw->jobs[1], (gw->njobs - 1) * sizeof(job));
		gw->njobs--;
		/* only for a song still known, without asking the tracker */
		for (size_t i = 0; i < GATEWAY_MAX_SONGS && s == NULL; i++)
			if (gw->songs[i].used && gw->songs[i].playlist != NULL &&
			    strcmp(gw->songs[i].name, job.song) == 0)
				s = &gw->songs[i];
		if (s != NULL)
			index = gw_segment_index(&s->pl, job.name);
		if (index < 0 || s->sources == NULL || s->sources->count == 0)
			continue;
		*peers = *s->sources;
		if (gw_seg_locked(gw, job.song, job.name, peers, (size_t)index,
		    &blob, err, sizeof(err)) == GATEWAY_OK)
			log_debug("read ahead: %s of '%s'", job.name, job.song);
		else
			log_info("read ahead of '%s' failed: %s", job.song, err);
		gateway_blob_release(blob);
	}
	pthread_mutex_unlock(&gw->lock);
	free(peers);
	return NULL;
}

struct gateway *
gateway_open(const struct cli_trackers *trackers, int timeout_ms, int segment_delay_ms,
    char *err, size_t errlen)
{
	struct gateway *gw = calloc(1, sizeof(*gw));
	sigset_t all, old;
	int rc;

	if (gw == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	gw->trackers = *trackers;
	gw->timeout_ms = timeout_ms;
	gw->segment_delay_ms = segment_delay_ms;
	pthread_mutex_init(&gw->lock, NULL);
	clock_cond_init(&gw->changed);
	pthread_cond_init(&gw->work, NULL);
	/* signals go to the main thread only */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&gw->reader, NULL, gw_reader_main, gw);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the read-ahead thread: %s",
		    strerror(rc));
		free(gw);
		return NULL;
	}
	return gw;
}

int
gateway_close(struct gateway *gw)
{
	long long until;
	int left;

	if (gw == NULL)
		return 0;
	pthread_mutex_lock(&gw->lock);
	gw->stop = 1;
	pthread_cond_broadcast(&gw->work);
	/* a swarm stops at its next segment */
	until = clock_now_ms() + GATEWAY_CLOSE_WAIT_MS;
	while (gw->swarms > 0 && clock_now_ms() < until) {
		struct timespec ts;
		clock_deadline_after(&ts, until - clock_now_ms());
		pthread_cond_timedwait(&gw->changed, &gw->lock, &ts);
	}
	left = gw->swarms;
	pthread_mutex_unlock(&gw->lock);
	pthread_join(gw->reader, NULL);
	if (left > 0)
		return left;	/* their threads still use gw */
	for (size_t i = 0; i < GATEWAY_MAX_SONGS; i++)
		if (gw->songs[i].used)
			gw_song_clear(&gw->songs[i]);
	for (size_t i = 0; i < GATEWAY_CACHE_SEGMENTS; i++)
		if (gw->segs[i].used)
			gw_seg_drop(gw, &gw->segs[i]);
	pthread_mutex_destroy(&gw->lock);
	pthread_cond_destroy(&gw->changed);
	pthread_cond_destroy(&gw->work);
	free(gw);
	return 0;
}

enum gateway_result
gateway_songs(struct gateway *gw, const char *filter, struct song_list *songs,
    char *err, size_t errlen)
{
	if (tracker_list(&gw->trackers, filter, gw->timeout_ms, songs, err,
	    errlen) < 0)
		return GATEWAY_TRACKER_DOWN;
	return GATEWAY_OK;
}

enum gateway_result
gateway_playlist(struct gateway *gw, const char *song,
    struct gateway_blob **out, char *err, size_t errlen)
{
	struct gw_song *s;
	enum gateway_result res;

	*out = NULL;
	pthread_mutex_lock(&gw->lock);
	res = gw_song_locked(gw, song, &s, err, errlen);
	if (res == GATEWAY_OK) {
		*out = gw_blob_ref(s->playlist);
		/* a player asking for the playlist wants the first segments:
		 * a swarm is fetching them, else they are read ahead */
		if (s->swarm == NULL)
			gw_read_ahead_locked(gw, s, 0);
	}
	pthread_mutex_unlock(&gw->lock);
	return res;
}

enum gateway_result
gateway_segment(struct gateway *gw, const char *song, const char *segment,
    struct gateway_blob **out, char *err, size_t errlen)
{
	struct gw_song *s;
	struct source_list *peers;
	enum gateway_result res;
	long index;

	*out = NULL;
	peers = malloc(sizeof(*peers));
	if (peers == NULL) {
		snprintf(err, errlen, "out of memory");
		return GATEWAY_NO_MEMORY;
	}
	pthread_mutex_lock(&gw->lock);
	res = gw_song_locked(gw, song, &s, err, errlen);
	if (res == GATEWAY_OK) {
		index = gw_segment_index(&s->pl, segment);
		if (index < 0) {
			snprintf(err, errlen, "'%s' has no segment %s", song, segment);
			res = GATEWAY_NOT_FOUND;
		} else {
			long long until = clock_now_ms() + GATEWAY_SWARM_WAIT_MS;
			struct gw_seg *e;

			*peers = *s->sources;
			if (s->swarm == NULL)
				gw_read_ahead_locked(gw, s, (size_t)index + 1);
			/* the swarm brings it, unless it ends or is too slow */
			while (((e = gw_seg_find(gw, song, segment)) == NULL ||
			    e->loading) && (s = gw_song_find(gw, song)) != NULL &&
			    s->swarm != NULL && clock_now_ms() < until) {
				struct timespec ts;
				clock_deadline_after(&ts, until - clock_now_ms());
				pthread_cond_timedwait(&gw->changed, &gw->lock, &ts);
			}
			res = gw_seg_locked(gw, song, segment, peers, (size_t)index,
			    out, err, errlen);
		}
	}
	pthread_mutex_unlock(&gw->lock);
	free(peers);
	return res;
}

enum gateway_result
gateway_art(struct gateway *gw, const char *song, const char *name,
    struct gateway_blob **out, char *err, size_t errlen)
{
	struct source_list *peers;
	struct gw_seg *e;
	enum gateway_result res;
	char id[SHA256_HEX_LEN];

	*out = NULL;
	if (!picture_name_ok(name, strlen(name))) {
		snprintf(err, errlen, "not a picture name");
		return GATEWAY_NOT_FOUND;
	}
	/* pictures are named by their bytes: one cache entry whichever song */
	pthread_mutex_lock(&gw->lock);
	e = gw_seg_find(gw, GATEWAY_ART_SONG, name);
	if (e != NULL && !e->loading) {
		e->used_ms = clock_now_ms();
		*out = gw_blob_ref(e->blob);
		pthread_mutex_unlock(&gw->lock);
		return GATEWAY_OK;
	}
	pthread_mutex_unlock(&gw->lock);
	peers = malloc(sizeof(*peers));
	if (peers == NULL) {
		snprintf(err, errlen, "out of memory");
		return GATEWAY_NO_MEMORY;
	}
	res = gw_locate(gw, song, peers, id, err, errlen);
	if (res == GATEWAY_OK) {
		pthread_mutex_lock(&gw->lock);
		res = gw_seg_locked(gw, GATEWAY_ART_SONG, name, peers, 0, out, err,
		    errlen);
		pthread_mutex_unlock(&gw->lock);
		/* no source had it, or none gave the right bytes */
		if (res == GATEWAY_NO_SOURCE)
			res = GATEWAY_NOT_FOUND;
	}
	free(peers);
	return res;
}

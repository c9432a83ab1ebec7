/* gateway.c - the gateway's songs and segments: fetched from the peers the
 * tracker names, verified, cached in memory (bounded by count and bytes,
 * least recently used out first), the next segments read ahead by one
 * thread. One lock (gateway.lock) guards the song table, the segment
 * cache and the read-ahead queue; it is never held across network I/O:
 * an entry being fetched is marked loading, and others wait for it on
 * gateway.changed. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "gateway.h"

/* most sources one fetch tries before giving up */
#define GATEWAY_MAX_TRIES 4

struct gw_song {
	int used;
	int loading;		/* a thread is fetching its playlist */
	char name[PROTO_MAX_NAME + 1];
	struct gateway_blob *playlist;	/* NULL until loaded */
	struct playlist pl;
	struct peer_list peers;
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
	char tracker[NET_ADDR_MAX];
	int timeout_ms;
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* a load has finished */
	pthread_cond_t work;		/* a read-ahead job came, or stop */
	struct gw_song songs[GATEWAY_MAX_SONGS];
	struct gw_seg segs[GATEWAY_CACHE_SEGMENTS];
	size_t cache_bytes;
	struct gw_job jobs[GATEWAY_READ_AHEAD_QUEUE];
	size_t njobs;
	int stop;
	pthread_t reader;
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

/* Asks the tracker for the sources of song, then each source in turn for
 * its playlist. On GATEWAY_OK fills *blob, *pl and *peers. */
static enum gateway_result
gw_fetch_song(struct gateway *gw, const char *song, struct gateway_blob **blob,
    struct playlist *pl, struct peer_list *peers, char *err, size_t errlen)
{
	enum gateway_result res = GATEWAY_NOT_FOUND;
	size_t tries = 0;

	if (tracker_query(gw->tracker, song, gw->timeout_ms, peers, err,
	    errlen) < 0)
		return GATEWAY_TRACKER_DOWN;
	snprintf(err, errlen, "no source holds '%s'", song);
	for (size_t i = 0; i < peers->count && tries < GATEWAY_MAX_TRIES; i++) {
		const char *peer = peers->addr[i];
		char why[CLIENT_ERR_LEN], *raw;
		size_t len;
		struct rpc_conn *c;
		enum rpc_result rr;

		tries++;
		c = rpc_open(peer, gw->timeout_ms, gw->timeout_ms, why, sizeof(why));
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
		if (playlist_parse(raw, len, pl, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "source %s: bad playlist: %s", peer, why);
			free(raw);
			res = GATEWAY_NO_SOURCE;
			continue;
		}
		*blob = gw_blob_new(raw, len);
		free(raw);
		if (*blob == NULL) {
			playlist_free(pl);
			return GATEWAY_NO_MEMORY;
		}
		/* the source that answered goes first for the segments */
		if (i > 0) {
			char first[NET_ADDR_MAX];
			memcpy(first, peers->addr[0], NET_ADDR_MAX);
			memcpy(peers->addr[0], peers->addr[i], NET_ADDR_MAX);
			memcpy(peers->addr[i], first, NET_ADDR_MAX);
		}
		log_info("'%s': playlist of %zu segments from %s", song, pl->count,
		    peer);
		return GATEWAY_OK;
	}
	if (res == GATEWAY_NOT_FOUND)
		snprintf(err, errlen, "no source holds '%s'", song);
	return res;
}

/* Fetches segment `name` from the sources, from the one at `first` on,
 * checking it against its name when that is a SHA-256. */
static enum gateway_result
gw_fetch_segment(struct gateway *gw, const struct peer_list *peers,
    size_t first, const char *name, struct gateway_blob **blob, char *err,
    size_t errlen)
{
	int hashed = playlist_hash_name_ok(name, strlen(name));

	snprintf(err, errlen, "no source for segment %s", name);
	for (size_t t = 0; t < peers->count && t < GATEWAY_MAX_TRIES; t++) {
		const char *peer = peers->addr[(first + t) % peers->count];
		char why[CLIENT_ERR_LEN], *body;
		size_t len;
		struct rpc_conn *c;

		c = rpc_open(peer, gw->timeout_ms, gw->timeout_ms, why, sizeof(why));
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
		if (hashed && memcmp((*blob)->etag, name, SHA256_HEX_LEN - 1) != 0) {
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
	s->used = 0;
}

/* The entry for name, or a fresh one (reusing the least recently used
 * entry not being loaded); NULL if every entry is loading. */
static struct gw_song *
gw_song_slot(struct gateway *gw, const char *name, int *fresh)
{
	struct gw_song *victim = NULL;

	*fresh = 0;
	for (size_t i = 0; i < GATEWAY_MAX_SONGS; i++) {
		struct gw_song *s = &gw->songs[i];
		if (s->used && strcmp(s->name, name) == 0)
			return s;
		if (s->loading)
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

/* Finds song's entry with a playlist no older than GATEWAY_SONG_TTL_MS,
 * fetching it (lock released meanwhile) if needed. A refetch that fails
 * keeps the playlist it had. Called and returns with gw->lock held; on
 * GATEWAY_OK *out is the entry, valid until the lock is released. */
static enum gateway_result
gw_song_locked(struct gateway *gw, const char *song, struct gw_song **out,
    char *err, size_t errlen)
{
	struct gw_song *s;
	struct gateway_blob *blob = NULL;
	struct playlist pl;
	struct peer_list *peers;
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
	if (s->playlist != NULL && s->used_ms - s->fetched_ms < GATEWAY_SONG_TTL_MS) {
		*out = s;
		return GATEWAY_OK;
	}
	peers = malloc(sizeof(*peers));
	if (peers == NULL) {
		if (fresh)
			s->used = 0;
		snprintf(err, errlen, "out of memory");
		return GATEWAY_NO_MEMORY;
	}
	s->loading = 1;
	pthread_mutex_unlock(&gw->lock);
	memset(&pl, 0, sizeof(pl));
	res = gw_fetch_song(gw, song, &blob, &pl, peers, err, errlen);
	pthread_mutex_lock(&gw->lock);
	s->loading = 0;
	if (res == GATEWAY_OK) {
		gateway_blob_release(s->playlist);
		playlist_free(&s->pl);
		s->playlist = blob;
		s->pl = pl;
		s->peers = *peers;
		s->fetched_ms = clock_now_ms();
	} else if (s->playlist != NULL && res != GATEWAY_NOT_FOUND) {
		log_warn("'%s': %s; keeping the playlist fetched before", song, err);
		res = GATEWAY_OK;
	} else {
		gw_song_clear(s);
	}
	free(peers);
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

/* The segment from the cache, or fetched from peers (starting with the
 * source at first) with the lock released meanwhile. Called and returns
 * with gw->lock held; on GATEWAY_OK *out holds a reference. */
static enum gateway_result
gw_seg_locked(struct gateway *gw, const char *song, const char *name,
    const struct peer_list *peers, size_t first, struct gateway_blob **out,
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
	struct peer_list *peers = malloc(sizeof(*peers));
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
		if (index < 0 || s->peers.count == 0)
			continue;
		*peers = s->peers;
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
gateway_open(const char *tracker, int timeout_ms, char *err, size_t errlen)
{
	struct gateway *gw = calloc(1, sizeof(*gw));
	sigset_t all, old;
	int rc;

	if (gw == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(gw->tracker, sizeof(gw->tracker), "%s", tracker);
	gw->timeout_ms = timeout_ms;
	pthread_mutex_init(&gw->lock, NULL);
	pthread_cond_init(&gw->changed, NULL);
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

void
gateway_close(struct gateway *gw)
{
	if (gw == NULL)
		return;
	pthread_mutex_lock(&gw->lock);
	gw->stop = 1;
	pthread_cond_broadcast(&gw->work);
	pthread_mutex_unlock(&gw->lock);
	pthread_join(gw->reader, NULL);
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
}

enum gateway_result
gateway_songs(struct gateway *gw, const char *filter, struct song_list *songs,
    char *err, size_t errlen)
{
	if (tracker_list(gw->tracker, filter, gw->timeout_ms, songs, err,
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
		/* a player asking for the playlist wants the first segments */
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
	struct peer_list *peers;
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
			*peers = s->peers;
			gw_read_ahead_locked(gw, s, (size_t)index + 1);
			res = gw_seg_locked(gw, song, segment, peers, (size_t)index,
			    out, err, errlen);
		}
	}
	pthread_mutex_unlock(&gw->lock);
	free(peers);
	return res;
}

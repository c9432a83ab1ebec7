/* jobs.c - background preparation of songs by a small pool of workers. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/units.h"
#include "art.h"
#include "build.h"
#include "evict.h"
#include "filekey.h"
#include "hlsdir.h"
#include "jobs.h"
#include "names.h"
#include "probe.h"

struct job {
	char *name;
	char *path;
	enum library_kind kind;
	int tagged;		/* named by its tags (names.h) */
	char *pathname;		/* the name its path gives it, or NULL */
	struct job *next;
};

struct jobs {
	char ffmpeg[PATH_MAX];
	int aac_kbps;		/* what other audio than MP3 and AAC is encoded at */
	struct cache *cache;
	struct index *idx;
	struct announcer *ann;
	struct shared *shared;
	struct names *names;
	atomic_int stop;	/* read by running ffmpeg watchers too */
	pthread_t *threads;
	int nthreads;
	int keep_cache;		/* sweeps only count what they would remove */
	atomic_int sweep_cancel;	/* new work or stop: cut a sweep short */

	pthread_mutex_t lock;	/* guards the queue and the three below */
	pthread_cond_t more;
	struct job *head, *tail;
	int busy;		/* workers preparing a song */
	int sweep_wanted;	/* sweep the cache once the queue drains */
	int sweeping;		/* a worker is sweeping: nobody prepares */
	/* REGISTERs while songs become ready: at most one per
	 * JOBS_ANNOUNCE_MS, the last one once the queue drains */
	long long announced_ms;
	int announce_pending;
	/* progress of the songs queued since the queue was last empty */
	size_t batch_total, batch_done, batch_refused, batch_news;
	long long progress_ms;	/* when the last progress line was logged */
	size_t queued;		/* songs in the queue */
	/* songs renamed by their tags (out of the batch until the next look
	 * at the library queues them again under their names) */
	size_t renames_pending;
	int looking;		/* a look at the library is queueing songs */
};

static void
job_free(struct job *jb)
{
	free(jb->name);
	free(jb->path);
	free(jb->pathname);
	free(jb);
}

/* What one attempt at preparing a song came to. */
enum jobs_outcome {
	JOBS_DONE,		/* served, or already served */
	JOBS_FAILED,		/* not served; logged */
	JOBS_REFUSED,		/* not audio: not served; logged */
	JOBS_RENAMED,		/* its tags give it another name: queued again
				 * under that one by the next look at the library */
	JOBS_CHANGED		/* the file changed under ffmpeg: try again */
};

void
jobs_announce(struct jobs *j)
{
	long long now = clock_now_ms();
	int poke = 0;

	pthread_mutex_lock(&j->lock);
	j->batch_news++;
	if (now - j->announced_ms >= JOBS_ANNOUNCE_MS ||
	    (j->head == NULL && j->busy == 0)) {
		j->announced_ms = now;
		j->announce_pending = 0;
		poke = 1;
	} else
		j->announce_pending = 1;
	pthread_mutex_unlock(&j->lock);
	if (poke)
		announce_poke(j->ann);
}

static void jobs_progress(struct jobs *j, long long now, int drained);

/* After a song is done (outcome res): counts it, logs progress every
 * JOBS_PROGRESS_MS and once more when the queue has drained (if anything
 * new happened), and sends a REGISTER held back by jobs_announce when it
 * is due. Lock held. */
static void
jobs_done(struct jobs *j, enum jobs_outcome res)
{
	long long now = clock_now_ms();
	int drained;

	if (res == JOBS_RENAMED) {
		/* it leaves this count and comes back under its name */
		j->batch_total--;
	} else
		j->batch_done++;
	drained = j->head == NULL && j->busy == 0 && j->renames_pending == 0 &&
	    !j->looking;
	if (res == JOBS_REFUSED || res == JOBS_FAILED) {
		j->batch_refused++;
		j->batch_news++;
	}
	if (j->announce_pending && (drained || now - j->announced_ms >= JOBS_ANNOUNCE_MS)) {
		j->announce_pending = 0;
		j->announced_ms = now;
		announce_poke(j->ann);
	}
	jobs_progress(j, now, drained);
}

/* Logs the progress of the batch (every JOBS_PROGRESS_MS, and once more
 * when it has drained if anything new happened); done, being prepared and
 * left in the queue add up to the total. Lock held. */
static void
jobs_progress(struct jobs *j, long long now, int drained)
{
	if ((drained && j->batch_news > 0) || (!drained && j->batch_total > 0 &&
	    now - j->progress_ms >= JOBS_PROGRESS_MS)) {
		char busy[64] = "";
		if (j->busy > 0)
			snprintf(busy, sizeof(busy), ", %d being prepared", j->busy);
		log_info("prepared %zu/%zu songs, %zu refused, %zu left in the queue%s",
		    j->batch_done, j->batch_total, j->batch_refused, j->queued, busy);
		j->progress_ms = now;
	}
	if (drained) {
		j->batch_total = j->batch_done = j->batch_refused = j->batch_news = 0;
		j->progress_ms = now;
	}
}

size_t
jobs_renames_pending(struct jobs *j)
{
	size_t n;

	pthread_mutex_lock(&j->lock);
	n = j->renames_pending;
	pthread_mutex_unlock(&j->lock);
	return n;
}

void
jobs_look_begins(struct jobs *j)
{
	pthread_mutex_lock(&j->lock);
	j->looking = 1;
	pthread_mutex_unlock(&j->lock);
}

void
jobs_rescanned(struct jobs *j, size_t found)
{
	pthread_mutex_lock(&j->lock);
	j->looking = 0;
	if (found == 0)
		j->renames_pending = 0;
	if (j->head == NULL && j->busy == 0 && j->renames_pending == 0 &&
	    j->batch_total > 0)
		jobs_progress(j, clock_now_ms(), 1);
	pthread_mutex_unlock(&j->lock);
}

/* Records the name the tags of jb's file give (tagname, "" for none).
 * Returns 1, having logged it once, if the song is to be shared under
 * another name than jb->name: it is then counted as pending until the look
 * at the library that names_set asks for queues it again, a count raised
 * before that look can start. */
static int
jobs_rename(struct jobs *j, const struct job *jb, const struct filekey_id *id,
    const char *tagname)
{
	pthread_mutex_lock(&j->lock);
	j->renames_pending++;
	pthread_mutex_unlock(&j->lock);
	if (names_set(j->names, jb->path, id, tagname, jb->name)) {
		if (tagname[0] != '\0')
			log_info("'%s' is named '%s' by its tags", jb->name, tagname);
		else
			log_info("'%s' is named by its file again (its tags give "
			    "no name)", jb->name);
		return 1;
	}
	pthread_mutex_lock(&j->lock);
	if (j->renames_pending > 0)
		j->renames_pending--;
	pthread_mutex_unlock(&j->lock);
	return 0;
}

/* Logs why a song file could not be segmented (res, reason why), one
 * line naming it. Returns the outcome. */
static enum jobs_outcome
jobs_build_failed(struct jobs *j, const struct job *jb, enum build_result res,
    const char *why)
{
	switch (res) {
	case BUILD_STOPPED:
		return JOBS_FAILED;
	case BUILD_CHANGED:
		return JOBS_CHANGED;
	case BUILD_NOT_AUDIO:
		log_warn("refusing %s: not audio: %s", jb->path, why);
		return JOBS_REFUSED;
	case BUILD_CACHE_ERROR:
		log_warn("cannot write the cache %s: %s (skipping %s)",
		    cache_dir(j->cache), why, jb->path);
		return JOBS_FAILED;
	case BUILD_BAD_INPUT:
	default:
		log_warn("skipping %s: ffmpeg cannot read it as audio: %s", jb->path, why);
		return JOBS_FAILED;
	}
}

/* The content key of the segments of a song file of content key key
 * whose audio is handled as mode says: key itself for a copy, else one of
 * its own for each AAC bitrate (*aac_kbps, else 0). */
static void
jobs_media_key(const struct jobs *j, enum probe_mode mode, char key[FILEKEY_LEN + 1],
    int *aac_kbps)
{
	char text[FILEKEY_LEN + 32], hex[SHA256_HEX_LEN];

	*aac_kbps = 0;
	if (mode != PROBE_TRANSCODE)
		return;
	*aac_kbps = j->aac_kbps;
	snprintf(text, sizeof(text), "%s aac %d", key, *aac_kbps);
	sha256_hex(text, strlen(text), hex);
	memcpy(key, hex, FILEKEY_LEN);
}

/* Makes the segments of the song file of content key key (identity id)
 * whose probe info *pi is known (known) or not yet: a file not probed
 * before is probed by the ffmpeg run that segments it, and when its
 * audio is to be encoded, segmented again by another run under its
 * encoded key (unless that is in the cache). On success the segments are
 * in the cache as songs/<key> (key becomes the media key), hd and dir
 * describe them, and *pi is known, duration included. Returns JOBS_DONE,
 * or the outcome (logged). */
static enum jobs_outcome
jobs_segment(struct jobs *j, const struct job *jb, char key[FILEKEY_LEN + 1],
    const struct filekey_id *id, int known, struct probe_info *pi,
    struct hlsdir *hd, char dir[PATH_MAX])
{
	char why[2048];
	enum build_result res;
	int aac_kbps = 0;

	if (!known && hlsdir_load(j->cache, key, hd, dir, PATH_MAX, why, sizeof(why)) == 0) {
		/* segments of the file's content are there (a cache of an older
		 * layout), what it holds is not: only probed */
		log_info("probing '%s' (its segments are in the cache)", jb->name);
		res = build_probe(j->cache, j->ffmpeg, jb->path, id, pi, &j->stop, why,
		    sizeof(why));
		if (res != BUILD_OK) {
			hlsdir_free(hd);
			return jobs_build_failed(j, jb, res, why);
		}
		if (probe_mode_of(pi) != PROBE_TRANSCODE) {
			log_info("'%s': reused from cache (%s, %zu segments)", jb->name, key,
			    hd->pl.count);
			return JOBS_DONE;
		}
		hlsdir_free(hd);
		known = 1;
	}
	if (!known) {
		log_info("segmenting '%s', probing it in the same ffmpeg run", jb->name);
		res = build_song(j->cache, j->ffmpeg, jb->path, key, id, 0, pi, &j->stop,
		    why, sizeof(why));
		if (res != BUILD_OK && res != BUILD_TRANSCODE)
			return jobs_build_failed(j, jb, res, why);
		jobs_media_key(j, probe_mode_of(pi), key, &aac_kbps);
		if (res == BUILD_TRANSCODE && hlsdir_load(j->cache, key, hd, dir,
		    PATH_MAX, why, sizeof(why)) == 0) {
			log_info("'%s': reused from cache (%s, %zu segments)", jb->name,
			    key, hd->pl.count);
			return JOBS_DONE;
		}
		if (res == BUILD_TRANSCODE)
			log_info("segmenting '%s' from %s (%s, encoded to AAC at %d kb/s)",
			    jb->name, jb->path, pi->codec, aac_kbps);
	} else {
		jobs_media_key(j, probe_mode_of(pi), key, &aac_kbps);
		if (aac_kbps > 0)
			log_info("segmenting '%s' from %s (%s, encoded to AAC at %d kb/s)",
			    jb->name, jb->path, pi->codec, aac_kbps);
		else
			log_info("segmenting '%s' from %s (%s)", jb->name, jb->path,
			    pi->codec);
	}
	if (known || aac_kbps > 0) {
		res = build_song(j->cache, j->ffmpeg, jb->path, key, id, aac_kbps, NULL,
		    &j->stop, why, sizeof(why));
		if (res != BUILD_OK)
			return jobs_build_failed(j, jb, res, why);
	}
	if (hlsdir_load(j->cache, key, hd, dir, PATH_MAX, why, sizeof(why)) < 0) {
		log_warn("skipping %s: segmented but unusable: %s", jb->path, why);
		return JOBS_FAILED;
	}
	if (!known && aac_kbps == 0)
		log_info("segmented '%s' into %zu segments (%s): %s from %s, copied",
		    jb->name, hd->pl.count, key, pi->codec, jb->path);
	else
		log_info("segmented '%s' into %zu segments (%s)", jb->name,
		    hd->pl.count, key);
	return JOBS_DONE;
}

/* Adds the alias= word to the tag words wire (PROTO_MAX_TAG_BYTES + 1
 * bytes) of a song its tags name otherwise than its path does: the name
 * its path gives it, by which it is still found (docs/protocol.md). Left
 * out, with a debug line, if it does not fit. */
static void
jobs_wire_alias(const struct job *jb, char *wire)
{
	char enc[PROTO_MAX_ENCODED_NAME + 1];
	size_t o = strlen(wire);
	int n;

	if (jb->pathname == NULL || strcmp(jb->pathname, jb->name) == 0 ||
	    proto_encode_name(jb->pathname, strlen(jb->pathname), enc, sizeof(enc)) < 0)
		return;
	n = snprintf(wire + o, PROTO_MAX_TAG_BYTES + 1 - o, "%salias=%s",
	    o > 0 ? " " : "", enc);
	if (n < 0 || (size_t)n > PROTO_MAX_TAG_BYTES - o) {
		wire[o] = '\0';
		log_debug("'%s': its alias '%s' does not fit in its tag words",
		    jb->name, jb->pathname);
	}
}

/* Finds the song's content key and what it holds (from its file record,
 * else from the ffmpeg run that segments it, and then recorded), takes
 * the segments from the cache or makes them, then publishes the song
 * under its name. Audio other than MP3 and AAC is kept under a key of its
 * own for each AAC bitrate. */
static enum jobs_outcome
jobs_prepare_once(struct jobs *j, const struct job *jb)
{
	char key[FILEKEY_LEN + 1], file_key[FILEKEY_LEN + 1], why[2048], dir[PATH_MAX];
	char cid[SHA256_HEX_LEN], wire[PROTO_MAX_TAG_BYTES + 1], line[PROBE_LINE_MAX];
	char artword[PICTURE_NAME_LEN + 8] = "";
	struct filekey_id id;
	struct probe_info pi;
	struct hlsdir hd;
	enum jobs_outcome res;
	int hashed, aac_kbps, known;

	if (filekey_get(j->cache, jb->path, &j->stop, key, &id, &hashed, why,
	    sizeof(why)) < 0) {
		if (!atomic_load(&j->stop))
			log_warn("skipping %s: cannot read it: %s", jb->path, why);
		return JOBS_FAILED;
	}
	memcpy(file_key, key, sizeof(file_key));
	known = filekey_info_get(j->cache, jb->path, &id, key, line, sizeof(line)) == 0 &&
	    probe_parse(line, &pi) == 0;
	if (known && jb->tagged) {
		char tagname[PROTO_MAX_NAME + 1];
		names_of_tags(&pi, tagname);
		if (jobs_rename(j, jb, &id, tagname))
			return JOBS_RENAMED;
	}
	if (known) {
		jobs_media_key(j, probe_mode_of(&pi), key, &aac_kbps);
		if (index_has(j->idx, jb->name, jb->path, key)) {
			log_debug("'%s' unchanged", jb->name);
			return JOBS_DONE;
		}
	}
	if (known && hlsdir_load(j->cache, key, &hd, dir, sizeof(dir), why,
	    sizeof(why)) == 0) {
		log_info("'%s': reused from cache (%s, %zu segments)", jb->name, key,
		    hd.pl.count);
	} else {
		if (known) {
			log_debug("'%s': not usable from cache: %s", jb->name, why);
			memcpy(key, file_key, sizeof(file_key));
		}
		res = jobs_segment(j, jb, key, &id, known, &pi, &hd, dir);
		if (res != JOBS_DONE)
			return res;
		if (!known) {
			/* what the run found, kept for the next start */
			pi.duration_ms = hd.pl.total_ms;
			if (probe_format(&pi, line, sizeof(line)) >= 0)
				filekey_info_put(j->cache, jb->path, &id, file_key, line);
			log_debug("%s: %s", jb->path, line);
			if (jb->tagged) {
				char tagname[PROTO_MAX_NAME + 1];
				names_of_tags(&pi, tagname);
				if (jobs_rename(j, jb, &id, tagname)) {
					hlsdir_free(&hd);
					return JOBS_RENAMED;
				}
			}
		}
	}
	snprintf(cid, sizeof(cid), "%s", hd.content_id);
	if (probe_wire_tags(&pi, wire, sizeof(wire)) < 0)
		wire[0] = '\0';
	art_tag(j->cache, j->ffmpeg, jb->path, file_key, &j->stop, artword,
	    sizeof(artword));
	if (artword[0] != '\0' && strlen(wire) + 1 + strlen(artword) <= PROTO_MAX_TAG_BYTES)
		snprintf(wire + strlen(wire), sizeof(wire) - strlen(wire), "%s%s",
		    wire[0] != '\0' ? " " : "", artword);
	jobs_wire_alias(jb, wire);
	if (index_ready(j->idx, jb->name, jb->path, key, dir, &hd,
	    wire[0] != '\0' ? wire : NULL) > 0) {
		log_info("ready: '%s' (content id %s)", jb->name, cid);
		jobs_announce(j);
	}
	return JOBS_DONE;
}

/* Checks a song directory shared in place (cheaply while unchanged) and
 * serves it as it is, or refuses it with one log line naming it. */
static enum jobs_outcome
jobs_prepare_songdir(struct jobs *j, const struct job *jb)
{
	char why[2048], key[SHA256_HEX_LEN + PATH_MAX + 32];
	struct hlsdir hd;
	int fresh;

	if (shared_check(j->shared, jb->path, jb->name, &hd, &fresh, why,
	    sizeof(why)) < 0) {
		if (fresh)
			log_warn("refusing song directory %s: %s", jb->path, why);
		else
			log_debug("song directory %s still refused: %s", jb->path, why);
		return JOBS_FAILED;
	}
	/* a new check of the same directory is other media: it holds the
	 * directory and the segments' identities as this check found them */
	snprintf(key, sizeof(key), "%s %s %llu", hd.content_id, jb->path,
	    hd.held->serial);
	snprintf(why, sizeof(why), "%s", hd.content_id);
	if (index_ready(j->idx, jb->name, jb->path, key, jb->path, &hd, NULL) > 0) {
		log_info("ready: '%s' (content id %s, song directory %s)", jb->name,
		    why, jb->path);
		jobs_announce(j);
	}
	return JOBS_DONE;
}

/* Prepares one song: a song directory is checked; a song file is
 * prepared again from its content key while it keeps changing under
 * ffmpeg (at most JOBS_CHANGED_RETRIES times more). */
static enum jobs_outcome
jobs_prepare(struct jobs *j, const struct job *jb)
{
	enum jobs_outcome res = JOBS_FAILED;

	for (int tries = 0; ; tries++) {
		if (jb->kind == LIBRARY_SONGDIR) {
			res = jobs_prepare_songdir(j, jb);
			break;
		}
		res = jobs_prepare_once(j, jb);
		if (res != JOBS_CHANGED || atomic_load(&j->stop))
			break;
		if (tries == JOBS_CHANGED_RETRIES) {
			log_warn("skipping %s: it keeps changing while being segmented "
			    "(SIGHUP tries again)", jb->path);
			break;
		}
		log_info("%s changed while being segmented; segmenting it again",
		    jb->path);
	}
	if (res != JOBS_DONE && res != JOBS_RENAMED &&
	    index_failed(j->idx, jb->name, jb->path))
		jobs_announce(j);
	return res;
}

/* Removes from the cache what no wanted song uses (or, with --keep-cache,
 * counts it) and logs one line. Runs with no song being prepared. Returns
 * 1 if cut short by new work, so that it is tried again. */
static int
jobs_sweep(struct jobs *j)
{
	struct index_usage u;
	struct evict_stats st;
	char size[32];
	int rc;

	if (index_usage(j->idx, &u) < 0) {
		log_error("out of memory listing the songs the cache must keep");
		return 0;
	}
	rc = evict_unused(j->cache, (const char *const *)u.keys, u.nkeys,
	    (const char *const *)u.paths, u.npaths, j->keep_cache, &j->sweep_cancel, &st);
	index_usage_free(&u);
	if (rc < 0)
		return 0;
	units_format_bytes(st.bytes, size, sizeof(size));
	if (j->keep_cache)
		log_info("cache: keeping %zu unused song(s) (%s) and %zu stale file "
		    "record(s) (--keep-cache)", st.songs, size, st.records);
	else if (rc == 0 || st.songs > 0 || st.records > 0)
		log_info("cache: removed %zu unused song(s) (%s freed) and %zu stale "
		    "file record(s)", st.songs, size, st.records);
	return rc;
}

/* Takes queued songs one at a time; once the queue has drained and no
 * worker is busy, one of them sweeps the cache if that was asked for,
 * while the others wait. */
static void *
jobs_worker(void *arg)
{
	struct jobs *j = arg;
	struct job *jb;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		if (atomic_load(&j->stop))
			break;
		if (j->head != NULL && !j->sweeping) {
			jb = j->head;
			j->head = jb->next;
			if (j->head == NULL)
				j->tail = NULL;
			j->busy++;
			j->queued--;
			pthread_mutex_unlock(&j->lock);
			enum jobs_outcome res = jobs_prepare(j, jb);
			job_free(jb);
			pthread_mutex_lock(&j->lock);
			j->busy--;
			jobs_done(j, res);
			continue;
		}
		if (j->head == NULL && j->sweep_wanted && !j->sweeping && j->busy == 0) {
			j->sweep_wanted = 0;
			j->sweeping = 1;
			atomic_store(&j->sweep_cancel, 0);
			pthread_mutex_unlock(&j->lock);
			int cut = jobs_sweep(j);
			pthread_mutex_lock(&j->lock);
			j->sweeping = 0;
			if (cut)
				j->sweep_wanted = 1;
			pthread_cond_broadcast(&j->more);
			continue;
		}
		pthread_cond_wait(&j->more, &j->lock);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

struct jobs *
jobs_start(int nthreads, const char *ffmpeg, int aac_kbps, struct cache *cache, struct index *idx, struct announcer *ann,
    struct shared *sh, struct names *names, int keep_cache)
{
	struct jobs *j = calloc(1, sizeof(*j));
	pthread_attr_t attr;

	if (j == NULL || (j->threads = calloc((size_t)nthreads, sizeof(pthread_t))) == NULL) {
		free(j);
		return NULL;
	}
	snprintf(j->ffmpeg, sizeof(j->ffmpeg), "%s", ffmpeg);
	j->aac_kbps = aac_kbps;
	j->cache = cache;
	j->idx = idx;
	j->ann = ann;
	j->shared = sh;
	j->names = names;
	j->keep_cache = keep_cache;
	atomic_init(&j->stop, 0);
	atomic_init(&j->sweep_cancel, 0);
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->more, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, JOBS_THREAD_STACK);
	for (int i = 0; i < nthreads; i++) {
		int rc = pthread_create(&j->threads[j->nthreads], &attr, jobs_worker, j);
		if (rc != 0) {
			log_warn("cannot start worker %d: %s", i + 1, strerror(rc));
			break;
		}
		j->nthreads++;
	}
	pthread_attr_destroy(&attr);
	if (j->nthreads == 0) {
		pthread_mutex_destroy(&j->lock);
		pthread_cond_destroy(&j->more);
		free(j->threads);
		free(j);
		return NULL;
	}
	return j;
}

int
jobs_add(struct jobs *j, const char *name, const char *path,
    enum library_kind kind, int tagged, const char *pathname)
{
	struct job *jb = calloc(1, sizeof(*jb));

	if (jb != NULL) {
		jb->kind = kind;
		jb->tagged = tagged;
	}
	if (jb == NULL || (jb->name = strdup(name)) == NULL ||
	    (jb->path = strdup(path)) == NULL ||
	    (pathname != NULL && (jb->pathname = strdup(pathname)) == NULL)) {
		if (jb != NULL)
			job_free(jb);
		return -1;
	}
	pthread_mutex_lock(&j->lock);
	if (j->tail != NULL)
		j->tail->next = jb;
	else
		j->head = jb;
	j->tail = jb;
	j->queued++;
	if (tagged && j->renames_pending > 0)
		j->renames_pending--;	/* a renamed song back under its name */
	if (j->batch_total++ == 0)
		j->progress_ms = clock_now_ms();
	atomic_store(&j->sweep_cancel, 1);
	pthread_cond_signal(&j->more);
	pthread_mutex_unlock(&j->lock);
	return 0;
}

void
jobs_sweep_when_idle(struct jobs *j)
{
	pthread_mutex_lock(&j->lock);
	j->sweep_wanted = 1;
	pthread_cond_signal(&j->more);
	pthread_mutex_unlock(&j->lock);
}

void
jobs_stop(struct jobs *j)
{
	struct job *jb, *next;

	if (j == NULL)
		return;
	pthread_mutex_lock(&j->lock);
	atomic_store(&j->stop, 1);
	atomic_store(&j->sweep_cancel, 1);
	pthread_cond_broadcast(&j->more);
	pthread_mutex_unlock(&j->lock);
	for (int i = 0; i < j->nthreads; i++)
		pthread_join(j->threads[i], NULL);
	for (jb = j->head; jb != NULL; jb = next) {
		next = jb->next;
		job_free(jb);
	}
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->more);
	free(j->threads);
	free(j);
}

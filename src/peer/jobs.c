/* jobs.c - background preparation of songs by a small pool of workers. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/log.h"
#include "jobs.h"

struct job {
	char *name;
	char *path;
	struct job *next;
};

struct jobs {
	char ffmpeg[PATH_MAX];
	struct cache *cache;
	struct index *idx;
	struct announcer *ann;
	atomic_int stop;	/* read by running ffmpeg watchers too */
	pthread_t *threads;
	int nthreads;

	pthread_mutex_t lock;	/* guards the queue */
	pthread_cond_t more;
	struct job *head, *tail;
};

static void
job_free(struct job *jb)
{
	free(jb->name);
	free(jb->path);
	free(jb);
}

/* What one attempt at preparing a song came to. */
enum jobs_outcome {
	JOBS_DONE,		/* served, or already served */
	JOBS_FAILED,		/* not served; logged */
	JOBS_CHANGED		/* the file changed under ffmpeg: try again */
};

/* Finds the song's content key, takes the segments from the cache or
 * makes them with ffmpeg, then publishes the song. */
static enum jobs_outcome
jobs_prepare_once(struct jobs *j, const struct job *jb)
{
	char key[CACHE_KEY_LEN + 1], why[2048], songdir[PATH_MAX];
	struct cache_file_id id;
	struct cache_song cs;
	int hashed;

	if (cache_file_key(j->cache, jb->path, &j->stop, key, &id, &hashed, why,
	    sizeof(why)) < 0) {
		if (!atomic_load(&j->stop))
			log_warn("skipping %s: cannot read it: %s", jb->path, why);
		return JOBS_FAILED;
	}
	if (index_has(j->idx, jb->name, jb->path, key)) {
		log_debug("'%s' unchanged", jb->name);
		return JOBS_DONE;
	}
	if (cache_load(j->cache, key, &cs, songdir, sizeof(songdir), why,
	    sizeof(why)) == 0) {
		log_info("'%s': reused from cache (%s, %zu segments)", jb->name, key,
		    cs.pl.count);
	} else {
		log_debug("'%s': not usable from cache: %s", jb->name, why);
		log_info("segmenting '%s' from %s", jb->name, jb->path);
		switch (cache_build(j->cache, j->ffmpeg, jb->path, key, &id, &j->stop,
		    why, sizeof(why))) {
		case CACHE_BUILD_OK:
			break;
		case CACHE_BUILD_STOPPED:
			return JOBS_FAILED;
		case CACHE_BUILD_CHANGED:
			return JOBS_CHANGED;
		case CACHE_BUILD_CACHE_ERROR:
			log_warn("cannot write the cache %s: %s (skipping %s)",
			    j->cache->dir, why, jb->path);
			return JOBS_FAILED;
		case CACHE_BUILD_BAD_INPUT:
		default:
			log_warn("skipping %s: ffmpeg cannot read it as audio: %s",
			    jb->path, why);
			return JOBS_FAILED;
		}
		if (cache_load(j->cache, key, &cs, songdir, sizeof(songdir), why,
		    sizeof(why)) < 0) {
			log_warn("skipping %s: segmented but unusable: %s", jb->path, why);
			return JOBS_FAILED;
		}
		log_info("segmented '%s' into %zu segments (%s)", jb->name,
		    cs.pl.count, key);
	}
	if (index_ready(j->idx, jb->name, jb->path, key, songdir, &cs) > 0) {
		log_info("ready: '%s'", jb->name);
		announce_poke(j->ann);
	}
	return JOBS_DONE;
}

/* Prepares one song, again from its content key while the file keeps
 * changing under ffmpeg (at most JOBS_CHANGED_RETRIES times more). */
static void
jobs_prepare(struct jobs *j, const struct job *jb)
{
	enum jobs_outcome res;

	for (int tries = 0; ; tries++) {
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
	if (res != JOBS_DONE && index_failed(j->idx, jb->name, jb->path))
		announce_poke(j->ann);
}

static void *
jobs_worker(void *arg)
{
	struct jobs *j = arg;
	struct job *jb;

	for (;;) {
		pthread_mutex_lock(&j->lock);
		while (j->head == NULL && !atomic_load(&j->stop))
			pthread_cond_wait(&j->more, &j->lock);
		if (atomic_load(&j->stop)) {
			pthread_mutex_unlock(&j->lock);
			return NULL;
		}
		jb = j->head;
		j->head = jb->next;
		if (j->head == NULL)
			j->tail = NULL;
		pthread_mutex_unlock(&j->lock);
		jobs_prepare(j, jb);
		job_free(jb);
	}
}

struct jobs *
jobs_start(int nthreads, const char *ffmpeg, struct cache *cache,
    struct index *idx, struct announcer *ann)
{
	struct jobs *j = calloc(1, sizeof(*j));
	pthread_attr_t attr;

	if (j == NULL || (j->threads = calloc((size_t)nthreads, sizeof(pthread_t))) == NULL) {
		free(j);
		return NULL;
	}
	snprintf(j->ffmpeg, sizeof(j->ffmpeg), "%s", ffmpeg);
	j->cache = cache;
	j->idx = idx;
	j->ann = ann;
	atomic_init(&j->stop, 0);
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
jobs_add(struct jobs *j, const char *name, const char *path)
{
	struct job *jb = calloc(1, sizeof(*jb));

	if (jb == NULL || (jb->name = strdup(name)) == NULL ||
	    (jb->path = strdup(path)) == NULL) {
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
	pthread_cond_signal(&j->more);
	pthread_mutex_unlock(&j->lock);
	return 0;
}

void
jobs_stop(struct jobs *j)
{
	struct job *jb, *next;

	if (j == NULL)
		return;
	pthread_mutex_lock(&j->lock);
	atomic_store(&j->stop, 1);
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

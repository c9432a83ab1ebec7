/* index.c - hash tables from song and segment names to what is served. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pm/htable.h"
#include "p2pm/log.h"
#include "filekey.h"
#include "index.h"
#include "songdir.h"

/* One segmented song file, shared by every song name with that content. */
struct index_media {
	char key[FILEKEY_LEN + 1];
	struct songdir sd;	/* playlist text and segment names */
	char **paths;		/* file of each segment, as sd.pl.segs */
	int refs;		/* songs pointing here */
};

/* One song name the peer shares, and the file it comes from. */
struct index_song {
	char *name;
	char *path;		/* the song file it comes from */
	struct index_media *media;	/* NULL until ready */
	int queued;		/* waiting for (or in) preparation */
	int seen;		/* listed in the current index_sync */
};

struct index {
	pthread_mutex_t lock;	/* guards the three tables and what they hold */
	struct htable songs;	/* song name -> struct index_song */
	struct htable media;	/* content key -> struct index_media */
	struct htable segments;	/* segment name -> its file path (owned by media) */
};

/* The table calls for C-string keys. */
static void *
index_get(struct htable *t, const char *key)
{
	return htable_get(t, key, strlen(key));
}

static int
index_put(struct htable *t, const char *key, void *val)
{
	return htable_put(t, key, strlen(key), val) != NULL ? 0 : -1;
}

static void
index_del(struct htable *t, const char *key)
{
	htable_del(t, key, strlen(key));
}

struct index *
index_new(void)
{
	struct index *idx = calloc(1, sizeof(*idx));

	if (idx == NULL)
		return NULL;
	if (htable_init(&idx->songs) < 0 || htable_init(&idx->media) < 0 ||
	    htable_init(&idx->segments) < 0) {
		htable_free(&idx->songs);
		htable_free(&idx->media);
		htable_free(&idx->segments);
		free(idx);
		return NULL;
	}
	pthread_mutex_init(&idx->lock, NULL);
	return idx;
}

static void
index_media_free(struct index_media *m)
{
	for (size_t i = 0; i < m->sd.pl.count; i++)
		free(m->paths[i]);
	free(m->paths);
	songdir_free(&m->sd);
	free(m);
}

/* Drops one song's hold on its media; the last one out removes the media
 * and its segment names. Called with the lock held. */
static void
index_release(struct index *idx, struct index_song *s)
{
	struct index_media *m = s->media;

	s->media = NULL;
	if (m == NULL || --m->refs > 0)
		return;
	for (size_t i = 0; i < m->sd.pl.count; i++)
		index_del(&idx->segments, m->sd.pl.segs[i].name);
	index_del(&idx->media, m->key);
	index_media_free(m);
}

static void
index_song_free(struct index_song *s)
{
	free(s->name);
	free(s->path);
	free(s);
}

void
index_free(struct index *idx)
{
	struct htable_iter it;
	struct htable_entry *e;

	if (idx == NULL)
		return;
	htable_iter_start(&it, &idx->songs);
	while ((e = htable_iter_next(&it)) != NULL) {
		index_release(idx, e->val);
		index_song_free(e->val);
	}
	htable_free(&idx->songs);
	htable_free(&idx->media);
	htable_free(&idx->segments);
	pthread_mutex_destroy(&idx->lock);
	free(idx);
}

/* Removes every song not marked seen; returns how many. Lock held. */
static size_t
index_drop_unseen(struct index *idx)
{
	struct htable_iter it;
	struct htable_entry *e;
	size_t dropped = 0;

	htable_iter_start(&it, &idx->songs);
	while ((e = htable_iter_next(&it)) != NULL) {
		struct index_song *s = e->val;
		if (s->seen)
			continue;
		htable_del(&idx->songs, e->key, e->keylen);
		index_release(idx, s);
		index_song_free(s);
		dropped++;
	}
	return dropped;
}

void
index_todo_free(struct index_todo *todo)
{
	free(todo->v);
	memset(todo, 0, sizeof(*todo));
}

size_t
index_sync(struct index *idx, const struct library *lib, struct index_todo *todo)
{
	struct htable_iter it;
	struct htable_entry *e;
	size_t dropped;

	todo->n = 0;
	todo->v = calloc(lib->n + 1, sizeof(*todo->v));
	if (todo->v == NULL)
		log_error("out of memory listing the songs to prepare");
	pthread_mutex_lock(&idx->lock);
	htable_iter_start(&it, &idx->songs);
	while ((e = htable_iter_next(&it)) != NULL)
		((struct index_song *)e->val)->seen = 0;
	for (size_t i = 0; i < lib->n; i++) {
		const struct library_entry *le = &lib->v[i];
		struct index_song *s = index_get(&idx->songs, le->name);

		if (s != NULL && s->seen) {
			if (strcmp(s->path, le->path) != 0)
				log_warn("song '%s' is also in %s; sharing %s", le->name,
				    le->path, s->path);
			continue;
		}
		if (s != NULL && strcmp(s->path, le->path) != 0) {
			char *p = strdup(le->path);
			if (p == NULL)
				continue;
			free(s->path);
			s->path = p;
			s->queued = 0;	/* a job for the old file will be ignored */
		}
		if (s == NULL) {
			s = calloc(1, sizeof(*s));
			if (s == NULL || (s->name = strdup(le->name)) == NULL ||
			    (s->path = strdup(le->path)) == NULL ||
			    index_put(&idx->songs, le->name, s) < 0) {
				if (s != NULL)
					index_song_free(s);
				log_error("out of memory adding '%s'", le->name);
				continue;
			}
		}
		s->seen = 1;
		if (!s->queued && todo->v != NULL) {
			todo->v[todo->n++] = *le;
			s->queued = 1;
		}
	}
	dropped = index_drop_unseen(idx);
	pthread_mutex_unlock(&idx->lock);
	return dropped;
}

/* The song name if it is still wanted from path; lock held. */
static struct index_song *
index_wanted(struct index *idx, const char *name, const char *path)
{
	struct index_song *s = index_get(&idx->songs, name);

	return s != NULL && strcmp(s->path, path) == 0 ? s : NULL;
}

int
index_has(struct index *idx, const char *name, const char *path, const char *key)
{
	struct index_song *s;
	int has;

	pthread_mutex_lock(&idx->lock);
	s = index_wanted(idx, name, path);
	has = s != NULL && s->media != NULL && strcmp(s->media->key, key) == 0;
	if (has)
		s->queued = 0;
	pthread_mutex_unlock(&idx->lock);
	return has;
}

/* Builds the media for a key, taking sd; NULL if out of memory. */
static struct index_media *
index_media_new(const char *key, const char *dir, struct songdir *sd)
{
	struct index_media *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	snprintf(m->key, sizeof(m->key), "%s", key);
	m->paths = calloc(sd->pl.count, sizeof(*m->paths));
	if (m->paths == NULL) {
		free(m);
		return NULL;
	}
	m->sd = *sd;
	memset(sd, 0, sizeof(*sd));
	for (size_t i = 0; i < m->sd.pl.count; i++) {
		size_t n = strlen(dir) + strlen(m->sd.pl.segs[i].name) + 2;
		m->paths[i] = malloc(n);
		if (m->paths[i] == NULL) {
			index_media_free(m);
			return NULL;
		}
		snprintf(m->paths[i], n, "%s/%s", dir, m->sd.pl.segs[i].name);
	}
	return m;
}

int
index_ready(struct index *idx, const char *name, const char *path,
    const char *key, const char *dir, struct songdir *sd)
{
	struct index_song *s;
	struct index_media *m;
	int changed = -1;

	pthread_mutex_lock(&idx->lock);
	s = index_wanted(idx, name, path);
	if (s == NULL)
		goto out;
	s->queued = 0;
	changed = 0;
	m = index_get(&idx->media, key);
	if (m == NULL) {
		m = index_media_new(key, dir, sd);
		if (m == NULL || index_put(&idx->media, key, m) < 0) {
			if (m != NULL)
				index_media_free(m);
			goto out;
		}
		for (size_t i = 0; i < m->sd.pl.count; i++)
			if (index_get(&idx->segments, m->sd.pl.segs[i].name) == NULL)
				index_put(&idx->segments, m->sd.pl.segs[i].name, m->paths[i]);
	}
	if (s->media != m) {
		m->refs++;
		index_release(idx, s);
		s->media = m;
		changed = 1;
	}
out:
	pthread_mutex_unlock(&idx->lock);
	songdir_free(sd);
	return changed;
}

int
index_failed(struct index *idx, const char *name, const char *path)
{
	struct index_song *s;
	int was_ready = 0;

	pthread_mutex_lock(&idx->lock);
	s = index_wanted(idx, name, path);
	if (s != NULL) {
		s->queued = 0;
		was_ready = s->media != NULL;
		index_release(idx, s);
	}
	pthread_mutex_unlock(&idx->lock);
	return was_ready;
}

int
index_playlist(struct index *idx, const char *name, char **text, size_t *len)
{
	struct index_song *s;
	int rc = -1;

	pthread_mutex_lock(&idx->lock);
	s = index_get(&idx->songs, name);
	if (s != NULL && s->media != NULL) {
		*text = malloc(s->media->sd.len);
		if (*text != NULL) {
			memcpy(*text, s->media->sd.text, s->media->sd.len);
			*len = s->media->sd.len;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&idx->lock);
	return rc;
}

int
index_segment_open(struct index *idx, const char *segment)
{
	const char *path;
	char *copy = NULL;
	int fd, saved;

	pthread_mutex_lock(&idx->lock);
	path = index_get(&idx->segments, segment);
	if (path != NULL)
		copy = strdup(path);
	pthread_mutex_unlock(&idx->lock);
	if (path == NULL)
		return INDEX_NO_SUCH_SEGMENT;
	if (copy == NULL)
		return INDEX_OPEN_FAILED;
	/* opened without the lock, so a slow disk stalls only this request;
	 * O_NONBLOCK so that something put in the file's place (a FIFO)
	 * cannot hang it. Files in the cache are only ever replaced by
	 * rename or removed, so an open descriptor keeps reading the whole
	 * old file. */
	fd = open(copy, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	saved = errno;
	free(copy);
	if (fd < 0) {
		errno = saved;
		return INDEX_OPEN_FAILED;
	}
	return fd;
}

void
index_usage_free(struct index_usage *u)
{
	for (size_t i = 0; i < u->nkeys; i++)
		free(u->keys[i]);
	for (size_t i = 0; i < u->npaths; i++)
		free(u->paths[i]);
	free(u->keys);
	free(u->paths);
	memset(u, 0, sizeof(*u));
}

int
index_usage(struct index *idx, struct index_usage *u)
{
	struct htable_iter it;
	struct htable_entry *e;
	int rc = 0;

	memset(u, 0, sizeof(*u));
	pthread_mutex_lock(&idx->lock);
	u->keys = calloc(idx->media.count + 1, sizeof(*u->keys));
	u->paths = calloc(idx->songs.count + 1, sizeof(*u->paths));
	if (u->keys == NULL || u->paths == NULL)
		rc = -1;
	htable_iter_start(&it, &idx->media);
	while (rc == 0 && (e = htable_iter_next(&it)) != NULL)
		if ((u->keys[u->nkeys++] = strdup(e->key)) == NULL)
			rc = -1;
	htable_iter_start(&it, &idx->songs);
	while (rc == 0 && (e = htable_iter_next(&it)) != NULL) {
		const struct index_song *s = e->val;
		if ((u->paths[u->npaths++] = strdup(s->path)) == NULL)
			rc = -1;
	}
	pthread_mutex_unlock(&idx->lock);
	if (rc < 0)
		index_usage_free(u);
	return rc;
}

char **
index_ready_names(struct index *idx, size_t max, size_t *n)
{
	struct htable_iter it;
	struct htable_entry *e;
	char **names;
	size_t k = 0;

	pthread_mutex_lock(&idx->lock);
	names = calloc(idx->songs.count + 1, sizeof(*names));
	htable_iter_start(&it, &idx->songs);
	while (names != NULL && k < max && (e = htable_iter_next(&it)) != NULL) {
		struct index_song *s = e->val;
		if (s->media != NULL && (names[k] = strdup(s->name)) != NULL)
			k++;
	}
	pthread_mutex_unlock(&idx->lock);
	*n = k;
	return names;
}

void
index_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

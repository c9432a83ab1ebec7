/* index.c - hash tables from song and segment names to what is served. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/htable.h"
#include "p2pm/log.h"
#include "filekey.h"
#include "hlsdir.h"
#include "index.h"

struct index_media;

/* One media's hold on a segment name: its i-th segment. */
struct index_holder {
	struct index_media *media;
	size_t i;
	struct index_holder *next;
};

/* A segment name served: the media listing it, the first one's file
 * served. Different songs may share segments (the same audio with other
 * tags), and the name stays served while one of them does. */
struct index_segment {
	struct index_holder *holders;
};

/* One song directory served, shared by every song name with that content. */
struct index_media {
	char *key;		/* what index_ready was given */
	struct hlsdir hd;	/* playlist text, segment names, content id */
	char **paths;		/* file of each segment, as hd.pl.segs */
	struct index_holder *holds;	/* one per segment, as hd.pl.segs */
	int refs;		/* songs pointing here */
	/* segments of a held directory being opened without the lock; a
	 * media released meanwhile is freed by the last of them */
	int opening;
	int released;
	int mismatch_logged;	/* a changed segment was logged at warning */
};

/* One song name the peer shares, and the file it comes from. */
struct index_song {
	char *name;
	char *path;		/* the song file or directory it comes from */
	enum library_kind kind;
	struct filekey_id id;	/* the file's identity when last queued */
	struct index_media *media;	/* NULL until ready */
	char *tags;		/* tag words for the tracker, or NULL */
	int queued;		/* waiting for (or in) preparation */
	int seen;		/* listed in the current index_sync */
};

struct index {
	void (*changed)(void);	/* a served file changed: look again */
	pthread_mutex_t lock;	/* guards the three tables and what they hold */
	struct htable songs;	/* song name -> struct index_song */
	struct htable media;	/* media key -> struct index_media */
	struct htable segments;	/* segment name -> struct index_segment */
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
index_new(void (*changed)(void))
{
	struct index *idx = calloc(1, sizeof(*idx));

	if (idx == NULL)
		return NULL;
	idx->changed = changed;
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
	if (m->paths != NULL)
		for (size_t i = 0; i < m->hd.pl.count; i++)
			free(m->paths[i]);
	free(m->paths);
	free(m->holds);
	free(m->key);
	hlsdir_free(&m->hd);
	free(m);
}

/* Adds m's hold on each of its segment names. Returns -1 if out of
 * memory (some names may then not be served). Lock held. */
static int
index_hold_segments(struct index *idx, struct index_media *m)
{
	int rc = 0;

	for (size_t i = 0; i < m->hd.pl.count; i++) {
		const char *name = m->hd.pl.segs[i].name;
		struct index_segment *seg = index_get(&idx->segments, name);
		struct index_holder *h = &m->holds[i];

		h->media = m;
		h->i = i;
		h->next = NULL;
		if (seg == NULL) {
			seg = calloc(1, sizeof(*seg));
			if (seg == NULL || index_put(&idx->segments, name, seg) < 0) {
				free(seg);
				h->media = NULL;	/* not held */
				rc = -1;
				continue;
			}
		}
		/* behind the holders before, so the file served stays put */
		struct index_holder **tail = &seg->holders;
		while (*tail != NULL)
			tail = &(*tail)->next;
		*tail = h;
	}
	return rc;
}

/* Drops m's hold on each of its segment names; a name nobody holds is no
 * longer served. Lock held. */
static void
index_release_segments(struct index *idx, struct index_media *m)
{
	for (size_t i = 0; i < m->hd.pl.count; i++) {
		const char *name = m->hd.pl.segs[i].name;
		struct index_segment *seg;
		struct index_holder **p;

		if (m->holds[i].media == NULL ||
		    (seg = index_get(&idx->segments, name)) == NULL)
			continue;
		for (p = &seg->holders; *p != NULL; p = &(*p)->next)
			if (*p == &m->holds[i]) {
				*p = m->holds[i].next;
				break;
			}
		if (seg->holders == NULL) {
			index_del(&idx->segments, name);
			free(seg);
		}
	}
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
	index_release_segments(idx, m);
	index_del(&idx->media, m->key);
	if (m->opening > 0)
		m->released = 1;	/* the last opener frees it */
	else
		index_media_free(m);
}

static void
index_song_free(struct index_song *s)
{
	free(s->name);
	free(s->tags);
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
index_sync(struct index *idx, const struct library *lib, int all,
    struct index_todo *todo)
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
		int renewed = all;	/* queue it whatever its identity */

		if (s != NULL && s->seen) {
			if (all && strcmp(s->path, le->path) != 0)
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
			renewed = 1;
		}
		if (s == NULL) {
			s = calloc(1, sizeof(*s));
			renewed = 1;
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
		if (!s->queued && todo->v != NULL && (renewed || s->kind != le->kind ||
		    le->kind == LIBRARY_SONGDIR || !filekey_id_equal(&s->id, &le->id))) {
			todo->v[todo->n++] = *le;
			s->queued = 1;
			s->kind = le->kind;
			s->id = le->id;
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

/* Builds the media for a key, taking hd; NULL if out of memory. */
static struct index_media *
index_media_new(const char *key, const char *dir, struct hlsdir *hd)
{
	struct index_media *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->hd = *hd;
	memset(hd, 0, sizeof(*hd));
	m->key = strdup(key);
	m->paths = calloc(m->hd.pl.count, sizeof(*m->paths));
	m->holds = calloc(m->hd.pl.count, sizeof(*m->holds));
	if (m->key == NULL || m->paths == NULL || m->holds == NULL) {
		index_media_free(m);
		return NULL;
	}
	for (size_t i = 0; i < m->hd.pl.count; i++) {
		size_t n = strlen(dir) + strlen(m->hd.pl.segs[i].name) + 2;
		m->paths[i] = malloc(n);
		if (m->paths[i] == NULL) {
			index_media_free(m);
			return NULL;
		}
		snprintf(m->paths[i], n, "%s/%s", dir, m->hd.pl.segs[i].name);
	}
	return m;
}

int
index_ready(struct index *idx, const char *name, const char *path,
    const char *key, const char *dir, struct hlsdir *hd, const char *tags)
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
		m = index_media_new(key, dir, hd);
		if (m == NULL || index_put(&idx->media, key, m) < 0) {
			if (m != NULL)
				index_media_free(m);
			goto out;
		}
		if (index_hold_segments(idx, m) < 0)
			log_error("out of memory: some segments of '%s' are not served",
			    name);
	}
	if (s->media != m) {
		m->refs++;
		index_release(idx, s);
		s->media = m;
		changed = 1;
	}
	if ((tags == NULL) != (s->tags == NULL) ||
	    (tags != NULL && strcmp(tags, s->tags) != 0)) {
		free(s->tags);
		s->tags = tags != NULL ? strdup(tags) : NULL;
		changed = 1;
	}
out:
	pthread_mutex_unlock(&idx->lock);
	hlsdir_free(hd);
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
		*text = malloc(s->media->hd.len);
		if (*text != NULL) {
			memcpy(*text, s->media->hd.text, s->media->hd.len);
			*len = s->media->hd.len;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&idx->lock);
	return rc;
}

/* Opens segment i of m's held directory, relative to it, and checks that
 * the file is the one that was checked. Called without the lock, with
 * m->opening counted. Returns the descriptor, INDEX_CHANGED (another
 * file under its name, a symbolic link in its place, or none), or
 * INDEX_OPEN_FAILED with errno set. */
static int
index_open_held(const struct index_media *m, size_t i)
{
	const struct hlsdir_held *held = m->hd.held;
	struct songdir_file_id now;
	struct stat st;
	int fd, saved;

	fd = openat(held->dirfd, m->hd.pl.segs[i].name,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && (errno == ELOOP || errno == ENOENT))
		return INDEX_CHANGED;	/* a link, or nothing, where it was */
	if (fd < 0)
		return INDEX_OPEN_FAILED;
	if (fstat(fd, &st) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return INDEX_OPEN_FAILED;
	}
	songdir_id_of(&st, &now);
	if (!S_ISREG(st.st_mode) || !songdir_id_equal(&now, &held->ids[i])) {
		close(fd);
		return INDEX_CHANGED;
	}
	return fd;
}

int
index_segment_open(struct index *idx, const char *segment)
{
	const struct index_segment *seg;
	struct index_media *m = NULL;
	char *copy = NULL;
	int fd, saved, first = 0, held = 0;
	size_t i = 0;

	pthread_mutex_lock(&idx->lock);
	seg = index_get(&idx->segments, segment);
	if (seg != NULL) {
		m = seg->holders->media;
		i = seg->holders->i;
		copy = strdup(m->paths[i]);
		/* counted, m stays while its directory is used */
		held = m->hd.held != NULL;
		if (held)
			m->opening++;
	}
	pthread_mutex_unlock(&idx->lock);
	if (seg == NULL)
		return INDEX_NO_SUCH_SEGMENT;
	if (!held) {
		if (copy == NULL)
			return INDEX_OPEN_FAILED;
		/* opened without the lock, so a slow disk stalls only this
		 * request; O_NONBLOCK so that something put in the file's place
		 * (a FIFO) cannot hang it. Files in the cache are only ever
		 * replaced by rename or removed, so an open descriptor keeps
		 * reading the whole old file. */
		fd = open(copy, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		saved = errno;
		free(copy);
		if (fd < 0) {
			errno = saved;
			return INDEX_OPEN_FAILED;
		}
		return fd;
	}

	/* a song directory shared in place: through the directory held since
	 * its check, and only while the file is the one checked */
	fd = index_open_held(m, i);
	saved = errno;
	pthread_mutex_lock(&idx->lock);
	if (fd == INDEX_CHANGED && !m->released) {
		first = !m->mismatch_logged;
		m->mismatch_logged = 1;
	}
	if (--m->opening == 0 && m->released)
		index_media_free(m);
	pthread_mutex_unlock(&idx->lock);
	if (fd == INDEX_CHANGED) {
		if (first)
			log_warn("%s changed since its song directory was checked: "
			    "refusing it, checking the directory again",
			    copy != NULL ? copy : segment);
		else
			log_debug("%s changed since it was checked: refused",
			    copy != NULL ? copy : segment);
		if (first && idx->changed != NULL)
			idx->changed();
	}
	free(copy);
	errno = saved;
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
		if (filekey_ok(e->key) &&
		    (u->keys[u->nkeys++] = strdup(e->key)) == NULL)
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

struct index_ready_song *
index_ready_songs(struct index *idx, size_t max, size_t *n)
{
	struct htable_iter it;
	struct htable_entry *e;
	struct index_ready_song *v;
	size_t k = 0;

	pthread_mutex_lock(&idx->lock);
	v = calloc(idx->songs.count + 1, sizeof(*v));
	htable_iter_start(&it, &idx->songs);
	while (v != NULL && k < max && (e = htable_iter_next(&it)) != NULL) {
		struct index_song *s = e->val;
		if (s->media != NULL && (v[k].name = strdup(s->name)) != NULL) {
			memcpy(v[k].content_id, s->media->hd.content_id,
			    sizeof(v[k].content_id));
			v[k].tags = s->tags != NULL ? strdup(s->tags) : NULL;
			k++;
		}
	}
	pthread_mutex_unlock(&idx->lock);
	*n = k;
	return v;
}

void
index_ready_free(struct index_ready_song *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].tags);
	}
	free(v);
}

/* songdir.c - checking a song directory whole, and writing one under a
 * temporary name that is renamed into place when complete. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/net.h"
#include "p2pm/songdir.h"

static void
songdir_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
songdir_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
songdir_id_of(const struct stat *st, struct songdir_file_id *id)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL +
	    st->st_mtim.tv_nsec;
	id->ctime_ns = (long long)st->st_ctim.tv_sec * 1000000000LL +
	    st->st_ctim.tv_nsec;
}

int
songdir_id_equal(const struct songdir_file_id *a, const struct songdir_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

int
songdir_name_ok(const char *text, size_t len)
{
	return len > 0 && len <= PROTO_MAX_NAME && proto_name_valid(text, len);
}

/* Opens name in dirfd for reading: a regular file, not a link. Fills *st.
 * Returns the descriptor or -1 with a reason in err. */
static int
songdir_open_file(int dirfd, const char *dir, const char *name, struct stat *st,
    char *err, size_t errlen)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		songdir_err(err, errlen, "'%s/%s': %s", dir, name, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		songdir_err(err, errlen, "'%s/%s' is not a regular file", dir, name);
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads all of a small file (at most max bytes) into a fresh buffer with a
 * NUL after it. Returns 0 or -1 with a reason in err. */
static int
songdir_read_small(int dirfd, const char *dir, const char *name, size_t max,
    char **out, size_t *len, struct songdir_file_id *id, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd = songdir_open_file(dirfd, dir, name, &st, err, errlen);

	if (fd < 0)
		return -1;
	if ((unsigned long long)st.st_size > max) {
		songdir_err(err, errlen, "'%s/%s' is larger than %zu bytes", dir,
		    name, max);
		close(fd);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		songdir_err(err, errlen, "out of memory");
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			songdir_err(err, errlen, "cannot read '%s/%s': %s", dir, name,
			    n < 0 ? strerror(errno) : "file shrank");
			free(buf);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	songdir_id_of(&st, id);
	return 0;
}

/* Hashes segment name of dirfd and compares the digest with its name. */
static int
songdir_check_segment(int dirfd, const char *dir, const char *name,
    unsigned char *buf, struct songdir_file_id *id, char *err, size_t errlen)
{
	unsigned char digest[SHA256_DIGEST_LEN];
	char hex[SHA256_HEX_LEN];
	struct sha256 h;
	struct stat st;
	off_t total = 0;
	int fd = songdir_open_file(dirfd, dir, name, &st, err, errlen);

	if (fd < 0)
		return -1;
	sha256_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, SONGDIR_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			songdir_err(err, errlen, "cannot read '%s/%s': %s", dir, name,
			    strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		sha256_update(&h, buf, (size_t)n);
		total += n;
	}
	close(fd);
	sha256_final(&h, digest);
	sha256_to_hex(digest, hex);
	if (total != st.st_size || memcmp(hex, name, SHA256_HEX_LEN - 1) != 0) {
		songdir_err(err, errlen, "'%s/%s' does not hash to its name", dir, name);
		return -1;
	}
	songdir_id_of(&st, id);
	return 0;
}

static int
songdir_cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Counts the entries of dir that are not part of the song. */
static int
songdir_count_others(int dirfd, const char *dir, const struct playlist *pl,
    size_t *others, char *err, size_t errlen)
{
	const char **names = malloc(pl->count * sizeof(*names));
	struct dirent *e;
	DIR *d;
	int fd;

	*others = 0;
	if (names == NULL) {
		songdir_err(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < pl->count; i++)
		names[i] = pl->segs[i].name;
	qsort(names, pl->count, sizeof(*names), songdir_cmp_names);
	if ((fd = dup(dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		songdir_err(err, errlen, "cannot list '%s': %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(names);
		return -1;
	}
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    strcmp(n, PLAYLIST_INDEX_NAME) == 0 ||
		    strcmp(n, SONGDIR_NAME_FILE) == 0)
			continue;
		if (bsearch(&n, names, pl->count, sizeof(*names),
		    songdir_cmp_names) == NULL)
			(*others)++;
	}
	closedir(d);
	free(names);
	return 0;
}

int
songdir_verify(const char *dir, struct songdir_info *out, char *err,
    size_t errlen)
{
	int dirfd, rc;

	memset(out, 0, sizeof(*out));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		songdir_err(err, errlen, "'%s': %s", dir, strerror(errno));
		return -1;
	}
	rc = songdir_verify_at(dirfd, dir, out, err, errlen);
	close(dirfd);
	return rc;
}

int
songdir_verify_at(int dirfd, const char *dir, struct songdir_info *out,
    char *err, size_t errlen)
{
	char *text = NULL, *canon = NULL, *name = NULL, why[256];
	size_t len, canonlen, namelen;
	unsigned char *buf = NULL;

	memset(out, 0, sizeof(*out));
	/* the playlist: parsed, content-addressed, canonical */
	if (songdir_read_small(dirfd, dir, PLAYLIST_INDEX_NAME,
	    PROTO_MAX_PLAYLIST_BYTES, &text, &len, &out->index_id, err,
	    errlen) < 0)
		goto fail;
	if (playlist_parse(text, len, &out->playlist, why, sizeof(why)) < 0) {
		songdir_err(err, errlen, "'%s/%s': %s", dir, PLAYLIST_INDEX_NAME, why);
		goto fail;
	}
	if (!playlist_content_addressed(&out->playlist)) {
		songdir_err(err, errlen, "'%s/%s' lists a segment not named by its "
		    "SHA-256", dir, PLAYLIST_INDEX_NAME);
		goto fail;
	}
	if ((canon = playlist_canonical(&out->playlist, &canonlen)) == NULL) {
		songdir_err(err, errlen, "out of memory");
		goto fail;
	}
	if (canonlen != len || memcmp(canon, text, len) != 0) {
		songdir_err(err, errlen, "'%s/%s' is not in canonical form", dir,
		    PLAYLIST_INDEX_NAME);
		goto fail;
	}
	sha256_hex(text, len, out->content_id);

	/* the name */
	if (songdir_read_small(dirfd, dir, SONGDIR_NAME_FILE,
	    SONGDIR_MAX_NAME_FILE_BYTES, &name, &namelen, &out->name_id, err,
	    errlen) < 0)
		goto fail;
	if (namelen < 1 || name[namelen - 1] != '\n' ||
	    !songdir_name_ok(name, namelen - 1)) {
		songdir_err(err, errlen, "'%s/%s' does not hold a valid song name "
		    "and one LF", dir, SONGDIR_NAME_FILE);
		goto fail;
	}
	memcpy(out->name, name, namelen - 1);
	out->name[namelen - 1] = '\0';

	/* every segment, hashed */
	out->segment_ids = calloc(out->playlist.count, sizeof(*out->segment_ids));
	buf = malloc(SONGDIR_READ_CHUNK);
	if (out->segment_ids == NULL || buf == NULL) {
		songdir_err(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < out->playlist.count; i++) {
		if (songdir_check_segment(dirfd, dir, out->playlist.segs[i].name,
		    buf, &out->segment_ids[i], err, errlen) < 0)
			goto fail;
		out->bytes += (long long)out->segment_ids[i].size;
	}
	if (songdir_count_others(dirfd, dir, &out->playlist, &out->other_files,
	    err, errlen) < 0)
		goto fail;
	free(buf);
	free(text);
	free(canon);
	free(name);
	return 0;
fail:
	free(buf);
	free(text);
	free(canon);
	free(name);
	songdir_info_free(out);
	return -1;
}

/* True if name in dirfd still has identity id. */
static int
songdir_same_file(int dirfd, const char *name, const struct songdir_file_id *id)
{
	struct songdir_file_id now;
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode))
		return 0;
	songdir_id_of(&st, &now);
	return songdir_id_equal(&now, id);
}

int
songdir_unchanged(const char *dir, const struct songdir_info *info)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), same;

	if (dirfd < 0 || info->segment_ids == NULL) {
		if (dirfd >= 0)
			close(dirfd);
		return 0;
	}
	same = songdir_same_file(dirfd, PLAYLIST_INDEX_NAME, &info->index_id) &&
	    songdir_same_file(dirfd, SONGDIR_NAME_FILE, &info->name_id);
	for (size_t i = 0; same && i < info->playlist.count; i++)
		same = songdir_same_file(dirfd, info->playlist.segs[i].name,
		    &info->segment_ids[i]);
	close(dirfd);
	return same;
}

void
songdir_info_free(struct songdir_info *info)
{
	playlist_free(&info->playlist);
	free(info->segment_ids);
	memset(info, 0, sizeof(*info));
}

/* ---- the writer */

struct songdir_writer {
	int parentfd, tmpfd;
	int committed;
	char base[NAME_MAX + 1];	/* dir's last component */
	char tmp[NAME_MAX + 1];		/* the temporary directory's name */
	char path[PATH_MAX];		/* dir, for messages */
	char name[PROTO_MAX_NAME + 1];
	struct playlist pl;		/* a copy */
	pthread_mutex_t lock;		/* guards written */
	unsigned char *written;		/* per segment: its file is there */
};

/* numbers the temporary directories this process makes */
static atomic_uint songdir_tmp_counter;

/* Splits path into its parent directory (opened as *parentfd) and its last
 * component. */
static int
songdir_split(const char *path, char *base, size_t baselen, int *parentfd,
    char *err, size_t errlen)
{
	char parent[PATH_MAX];
	size_t n = strlen(path);
	const char *slash;

	if (n == 0 || n >= sizeof(parent)) {
		songdir_err(err, errlen, "bad directory name '%s'", path);
		return -1;
	}
	memcpy(parent, path, n + 1);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	slash = strrchr(parent, '/');
	if (slash == NULL) {
		snprintf(base, baselen, "%s", parent);
		snprintf(parent, sizeof(parent), ".");
	} else {
		if (strlen(slash + 1) >= baselen) {
			songdir_err(err, errlen, "name too long: '%s'", path);
			return -1;
		}
		snprintf(base, baselen, "%s", slash + 1);
		if (slash == parent)
			parent[1] = '\0';
		else
			parent[slash - parent] = '\0';
	}
	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    strcmp(base, "/") == 0) {
		songdir_err(err, errlen, "'%s' does not name a new directory", path);
		return -1;
	}
	*parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*parentfd < 0) {
		songdir_err(err, errlen, "cannot open directory '%s': %s", parent,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* True if entry is the name of a temporary directory of base: ".", at
 * most SONGDIR_TMP_BASE_MAX bytes of base, ".<digits>.<digits>.part~". */
static int
songdir_is_tmp_of(const char *entry, const char *base)
{
	size_t blen = strnlen(base, SONGDIR_TMP_BASE_MAX);
	const char *p;
	int part;

	if (entry[0] != '.' || strncmp(entry + 1, base, blen) != 0)
		return 0;
	p = entry + 1 + blen;
	for (part = 0; part < 2; part++) {
		if (*p++ != '.' || *p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return strcmp(p, ".part~") == 0;
}

/* Removes the temporary directory entry of parentfd if no writer holds
 * it any more (its lock is free: the process that made it is gone), with
 * the regular files in it; a directory in use, or holding anything but
 * regular files, is left. */
static void
songdir_remove_stale(int parentfd, const char *entry)
{
	int fd = openat(parentfd, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	size_t removed = 0;

	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL && removed < SONGDIR_STALE_MAX_FILES) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && unlinkat(fd, e->d_name, 0) == 0)
			removed++;
	}
	/* fails, and leaves it, if anything is still in it */
	unlinkat(parentfd, entry, AT_REMOVEDIR);
	closedir(d);
}

/* Removes what fetches into the same place that were killed left behind:
 * every temporary directory of base in parentfd that no live writer
 * holds. */
static void
songdir_sweep_stale(int parentfd, const char *base)
{
	int fd = openat(parentfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (songdir_is_tmp_of(e->d_name, base))
			songdir_remove_stale(parentfd, e->d_name);
	closedir(d);
}

struct songdir_writer *
songdir_writer_open(const char *dir, const char *name, const struct playlist *pl,
    char *err, size_t errlen)
{
	struct songdir_writer *w = calloc(1, sizeof(*w));

	if (w == NULL || !songdir_name_ok(name, strlen(name)) ||
	    !playlist_content_addressed(pl)) {
		songdir_err(err, errlen, w == NULL ? "out of memory" :
		    "not a content-addressed song");
		free(w);
		return NULL;
	}
	w->tmpfd = -1;
	if (songdir_split(dir, w->base, sizeof(w->base), &w->parentfd, err,
	    errlen) < 0) {
		free(w);
		return NULL;
	}
	snprintf(w->path, sizeof(w->path), "%s", dir);
	snprintf(w->name, sizeof(w->name), "%s", name);
	pthread_mutex_init(&w->lock, NULL);
	w->pl.segs = malloc(pl->count * sizeof(*pl->segs));
	w->written = calloc(pl->count, 1);
	if (w->pl.segs == NULL || w->written == NULL) {
		songdir_err(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(w->pl.segs, pl->segs, pl->count * sizeof(*pl->segs));
	w->pl.count = pl->count;
	w->pl.total_us = pl->total_us;
	w->pl.total_ms = pl->total_ms;
	songdir_sweep_stale(w->parentfd, w->base);
	/* mkdir is exclusive: a name that exists is never reused */
	for (;;) {
		snprintf(w->tmp, sizeof(w->tmp), ".%.*s.%ld.%u.part~",
		    SONGDIR_TMP_BASE_MAX, w->base, (long)getpid(),
		    atomic_fetch_add(&songdir_tmp_counter, 1));
		if (mkdirat(w->parentfd, w->tmp, 0700) == 0)
			break;
		if (errno != EEXIST) {
			songdir_err(err, errlen, "cannot create a directory beside "
			    "'%s': %s", dir, strerror(errno));
			w->tmp[0] = '\0';
			goto fail;
		}
	}
	w->tmpfd = openat(w->parentfd, w->tmp, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	/* held until the descriptor closes: while it is, no sweep takes the
	 * directory for one a killed fetch left */
	if (w->tmpfd < 0 || flock(w->tmpfd, LOCK_EX | LOCK_NB) < 0) {
		songdir_err(err, errlen, "cannot open '%s': %s", w->tmp,
		    strerror(errno));
		goto fail;
	}
	return w;
fail:
	songdir_writer_abort(w);
	return NULL;
}

/* Writes a new file name in the temporary directory in one write: flushed
 * to disk before the return when sync_now, else only its write-back
 * started (the commit flushes it). */
static int
songdir_write_file(struct songdir_writer *w, const char *name, const void *data,
    size_t len, int sync_now, char *err, size_t errlen)
{
	int fd, failed;

	fd = openat(w->tmpfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, SONGDIR_FILE_MODE);
	if (fd < 0) {
		songdir_err(err, errlen, "cannot create '%s': %s", name,
		    strerror(errno));
		return -1;
	}
	failed = net_write_all(fd, data, len) < 0 || (sync_now && fsync(fd) < 0);
	if (failed) {
		int e = errno;
		songdir_err(err, errlen, "cannot write '%s' beside '%s': %s", name,
		    w->path, e == ENOSPC ? "the disk is full" : strerror(e));
	} else if (!sync_now) {
		/* a hint: the disk works while the next segments arrive */
		(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	}
	if (close(fd) < 0 && !failed) {
		failed = 1;
		songdir_err(err, errlen, "cannot write '%s' beside '%s': %s", name,
		    w->path, strerror(errno));
	}
	if (failed)
		unlinkat(w->tmpfd, name, 0);
	return failed ? -1 : 0;
}

/* Writes segment index whose bytes are known to hash to its name. */
static int
songdir_put_segment(struct songdir_writer *w, size_t index, const void *data,
    size_t len, char *err, size_t errlen)
{
	int taken;

	pthread_mutex_lock(&w->lock);
	taken = w->written[index];
	w->written[index] = 1;
	pthread_mutex_unlock(&w->lock);
	if (taken) {
		songdir_err(err, errlen, "segment %zu written twice", index + 1);
		return -1;
	}
	if (songdir_write_file(w, w->pl.segs[index].name, data, len, 0, err,
	    errlen) < 0) {
		pthread_mutex_lock(&w->lock);
		w->written[index] = 0;
		pthread_mutex_unlock(&w->lock);
		return -1;
	}
	return 0;
}

int
songdir_writer_put(struct songdir_writer *w, size_t index, const void *data,
    size_t len, char *err, size_t errlen)
{
	char hex[SHA256_HEX_LEN];

	if (index >= w->pl.count || w->committed) {
		songdir_err(err, errlen, "no segment %zu to write", index);
		return -1;
	}
	sha256_hex(data, len, hex);
	if (memcmp(hex, w->pl.segs[index].name, SHA256_HEX_LEN - 1) != 0) {
		songdir_err(err, errlen, "segment %zu does not hash to its name",
		    index + 1);
		return -1;
	}
	return songdir_put_segment(w, index, data, len, err, errlen);
}

int
songdir_writer_put_verified(struct songdir_writer *w, size_t index,
    const void *data, size_t len, char *err, size_t errlen)
{
	if (index >= w->pl.count || w->committed) {
		songdir_err(err, errlen, "no segment %zu to write", index);
		return -1;
	}
	return songdir_put_segment(w, index, data, len, err, errlen);
}

/* The segments' flush, shared by its threads: the next segment to take,
 * and the first failure. */
struct songdir_sync {
	struct songdir_writer *w;
	atomic_size_t next;
	pthread_mutex_t lock;		/* guards failed and why */
	int failed;
	char why[SONGDIR_ERR_LEN];
};

/* One flushing thread: reopens the next segment by name (the write-back
 * its write started is mostly done by now), fsync, close, until none is
 * left or one has failed. */
static void *
songdir_sync_worker(void *arg)
{
	struct songdir_sync *sy = arg;
	struct songdir_writer *w = sy->w;
	size_t i;

	while ((i = atomic_fetch_add(&sy->next, 1)) < w->pl.count) {
		const char *name = w->pl.segs[i].name;
		int fd = openat(w->tmpfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), e;

		if (fd >= 0 && fsync(fd) == 0) {
			close(fd);
			continue;
		}
		e = errno;
		if (fd >= 0)
			close(fd);
		pthread_mutex_lock(&sy->lock);
		if (!sy->failed)
			songdir_err(sy->why, sizeof(sy->why), "cannot flush '%s' "
			    "beside '%s': %s", name, w->path, e == ENOSPC ?
			    "the disk is full" : strerror(e));
		sy->failed = 1;
		pthread_mutex_unlock(&sy->lock);
		/* the others stop at their next segment */
		atomic_store(&sy->next, w->pl.count);
		break;
	}
	return NULL;
}

/* Flushes every segment written to disk, up to SONGDIR_SYNC_THREADS at
 * once so that the file system gathers them into few journal commits and
 * device flushes; with no thread to be had, this thread does them all. */
static int
songdir_sync_segments(struct songdir_writer *w, char *err, size_t errlen)
{
	pthread_t threads[SONGDIR_SYNC_THREADS];
	struct songdir_sync sy;
	pthread_attr_t attr;
	sigset_t all, old;
	size_t started = 0, want = w->pl.count / SONGDIR_SYNC_PER_THREAD;

	if (want > SONGDIR_SYNC_THREADS)
		want = SONGDIR_SYNC_THREADS;
	memset(&sy, 0, sizeof(sy));
	sy.w = w;
	atomic_init(&sy.next, 0);
	pthread_mutex_init(&sy.lock, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, SONGDIR_SYNC_STACK);
	/* signals stay with the caller's threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (started < want && pthread_create(&threads[started], &attr,
	    songdir_sync_worker, &sy) == 0)
		started++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	songdir_sync_worker(&sy);
	for (size_t k = 0; k < started; k++)
		pthread_join(threads[k], NULL);
	pthread_mutex_destroy(&sy.lock);
	if (sy.failed) {
		songdir_err(err, errlen, "%s", sy.why);
		return -1;
	}
	return 0;
}

int
songdir_writer_commit(struct songdir_writer *w, char *err, size_t errlen)
{
	char *canon, line[SONGDIR_MAX_NAME_FILE_BYTES + 1];
	size_t canonlen;
	int rc;

	for (size_t i = 0; i < w->pl.count; i++) {
		if (!w->written[i]) {
			songdir_err(err, errlen, "segment %zu is missing", i + 1);
			return -1;
		}
	}
	if (songdir_sync_segments(w, err, errlen) < 0)
		return -1;
	if ((canon = playlist_canonical(&w->pl, &canonlen)) == NULL) {
		songdir_err(err, errlen, "out of memory");
		return -1;
	}
	rc = songdir_write_file(w, PLAYLIST_INDEX_NAME, canon, canonlen, 1, err,
	    errlen);
	free(canon);
	if (rc < 0)
		return -1;
	snprintf(line, sizeof(line), "%s\n", w->name);
	if (songdir_write_file(w, SONGDIR_NAME_FILE, line, strlen(line), 1, err,
	    errlen) < 0)
		return -1;
	if (fchmod(w->tmpfd, SONGDIR_DIR_MODE) < 0 ||
	    fsync(w->tmpfd) < 0) {
		songdir_err(err, errlen, "cannot finish '%s': %s", w->tmp,
		    strerror(errno));
		return -1;
	}
	/* into place: where nothing is, or over an empty directory only (a
	 * plain rename fails on a directory that holds anything, and on a
	 * file) */
	rc = renameat2(w->parentfd, w->tmp, w->parentfd, w->base, RENAME_NOREPLACE);
	if (rc < 0 && (errno == EEXIST || errno == EINVAL || errno == ENOSYS))
		rc = renameat(w->parentfd, w->tmp, w->parentfd, w->base);
	if (rc < 0) {
		int e = errno;
		songdir_err(err, errlen, "cannot put the song in '%s': %s", w->path,
		    e == ENOTEMPTY || e == EEXIST || e == ENOTDIR ?
		    "something else is there" : strerror(e));
		return -1;
	}
	w->committed = 1;
	fsync(w->parentfd);
	return 0;
}

void
songdir_writer_abort(struct songdir_writer *w)
{
	if (w == NULL)
		return;
	if (!w->committed && w->tmpfd >= 0) {
		/* only what this writer made: its segments, index and name */
		for (size_t i = 0; i < w->pl.count; i++)
			if (w->written[i])
				unlinkat(w->tmpfd, w->pl.segs[i].name, 0);
		unlinkat(w->tmpfd, PLAYLIST_INDEX_NAME, 0);
		unlinkat(w->tmpfd, SONGDIR_NAME_FILE, 0);
	}
	if (!w->committed && w->tmp[0] != '\0')
		unlinkat(w->parentfd, w->tmp, AT_REMOVEDIR);
	if (w->tmpfd >= 0)
		close(w->tmpfd);
	close(w->parentfd);
	pthread_mutex_destroy(&w->lock);
	free(w->pl.segs);
	free(w->written);
	free(w);
}

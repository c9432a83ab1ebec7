/* art.c - cover art: found beside the song or read out of it by ffmpeg,
 * stored by its hash, advertised and served like a segment. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/htable.h"
#include "p2pm/log.h"
#include "p2pm/proto.h"
#include "art.h"
#include "fsutil.h"
#include "probe.h"
#include "spawn.h"

/* bytes of a memo file under art/<key>, at most */
#define ART_MEMO_FILE_MAX 128
/* the memo of a song file embedding no picture */
#define ART_NONE "none"

/* A picture file beside songs, as last seen, and its name. */
struct art_memo {
	int used;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char name[PICTURE_NAME_LEN + 1];
};

/* guards the table of pictures served and the memo of picture files */
static pthread_mutex_t art_lock = PTHREAD_MUTEX_INITIALIZER;
static struct htable art_pictures;	/* name -> its path (owned) */
static int art_table_ready;
static struct art_memo art_memo[ART_MEMO_SIZE];
static size_t art_memo_next;

/* Adds name, at path, to the pictures served. Returns 0, or -1 when the
 * table is full or out of memory. */
static int
art_serve(const char *name, const char *path)
{
	int rc = 0;

	pthread_mutex_lock(&art_lock);
	if (!art_table_ready && htable_init(&art_pictures) == 0)
		art_table_ready = 1;
	if (!art_table_ready)
		rc = -1;
	else if (htable_get(&art_pictures, name, strlen(name)) == NULL) {
		char *copy = strdup(path);
		if (copy == NULL || art_pictures.count >= ART_MAX_PICTURES ||
		    htable_put(&art_pictures, name, strlen(name), copy) == NULL) {
			free(copy);
			rc = -1;
		}
	}
	pthread_mutex_unlock(&art_lock);
	return rc;
}

int
art_open_picture(const char *name)
{
	char path[PATH_MAX];
	const char *p = NULL;

	if (!picture_name_ok(name, strlen(name))) {
		errno = ENOENT;
		return -1;
	}
	pthread_mutex_lock(&art_lock);
	if (art_table_ready)
		p = htable_get(&art_pictures, name, strlen(name));
	if (p != NULL)
		snprintf(path, sizeof(path), "%s", p);
	pthread_mutex_unlock(&art_lock);
	if (p == NULL) {
		errno = ENOENT;
		return -1;
	}
	return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

/* Writes data to path: a temporary of the cache, fsync when durable,
 * rename. */
static int
art_write_file(struct cache *c, const char *path, const char *data, size_t len,
    int durable)
{
	char tmp[PATH_MAX];
	int fd, rc = 0;

	if (cache_tmp_path(c, tmp, sizeof(tmp)) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	for (size_t off = 0; off < len && rc == 0; ) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = -1;
		else
			off += (size_t)n;
	}
	if (durable && fsync(fd) < 0)
		rc = -1;
	if (close(fd) < 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* Makes sure the picture data is in the cache as art/<name> and served.
 * Returns 0 with its name in name, or -1 if it is not a picture we take
 * or cannot be stored. */
static int
art_store(struct cache *c, const char *data, size_t len,
    char name[PICTURE_NAME_LEN + 1])
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;

	if (picture_name_of(data, len, name) < 0)
		return -1;
	if (cache_path(c, ART_DIR, NULL, dir, sizeof(dir)) < 0 ||
	    cache_path(c, ART_DIR, name, path, sizeof(path)) < 0)
		return -1;
	if (mkdir(dir, CACHE_DIR_MODE) < 0 && errno != EEXIST)
		return -1;
	if (!(stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size == len) && art_write_file(c, path, data, len, 1) < 0)
		return -1;
	return art_serve(name, path);
}

/* Reads the whole regular file fd (at most PICTURE_MAX_BYTES) into a
 * buffer the caller frees. Returns it, or NULL. */
static char *
art_read_fd(int fd, const struct stat *st, size_t *len)
{
	char *buf;
	size_t got = 0;

	if (!S_ISREG(st->st_mode) || st->st_size <= 0 ||
	    st->st_size > PICTURE_MAX_BYTES)
		return NULL;
	buf = malloc((size_t)st->st_size);
	if (buf == NULL)
		return NULL;
	while (got < (size_t)st->st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st->st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != (size_t)st->st_size) {
		free(buf);
		return NULL;
	}
	*len = got;
	return buf;
}

/* The picture of one file beside the song, through the memo. Returns 0
 * with its name, or -1. */
static int
art_from_file(struct cache *c, const char *path, char name[PICTURE_NAME_LEN + 1])
{
	struct stat st;
	char *data;
	size_t len;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	pthread_mutex_lock(&art_lock);
	for (size_t i = 0; i < ART_MEMO_SIZE && rc < 0; i++) {
		const struct art_memo *m = &art_memo[i];
		if (m->used && m->dev == st.st_dev && m->ino == st.st_ino &&
		    m->size == st.st_size && m->mtime.tv_sec == st.st_mtim.tv_sec &&
		    m->mtime.tv_nsec == st.st_mtim.tv_nsec) {
			memcpy(name, m->name, sizeof(m->name));
			rc = 0;
		}
	}
	pthread_mutex_unlock(&art_lock);
	if (rc == 0) {
		close(fd);
		return 0;
	}
	data = art_read_fd(fd, &st, &len);
	close(fd);
	if (data == NULL)
		return -1;
	rc = art_store(c, data, len, name);
	free(data);
	if (rc == 0) {
		pthread_mutex_lock(&art_lock);
		struct art_memo *m = &art_memo[art_memo_next++ % ART_MEMO_SIZE];
		m->used = 1;
		m->dev = st.st_dev;
		m->ino = st.st_ino;
		m->size = st.st_size;
		m->mtime = st.st_mtim;
		memcpy(m->name, name, sizeof(m->name));
		pthread_mutex_unlock(&art_lock);
	}
	return rc;
}

/* A cover.jpg or the like in the song file's directory. */
static int
art_beside(struct cache *c, const char *songpath, char name[PICTURE_NAME_LEN + 1])
{
	static const char *const names[] = ART_FILE_NAMES;
	const char *slash = strrchr(songpath, '/');
	size_t dirlen = slash != NULL ? (size_t)(slash - songpath) : 0;
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n = slash != NULL ? snprintf(path, sizeof(path), "%.*s/%s",
		    (int)dirlen, songpath, names[i]) :
		    snprintf(path, sizeof(path), "%s", names[i]);
		if (n < 0 || (size_t)n >= sizeof(path))
			return -1;
		if (art_from_file(c, path, name) == 0)
			return 0;
	}
	return -1;
}

/* Reads ffmpeg's stdout (fd) into buf, at most PICTURE_MAX_BYTES + 1.
 * Returns the length, or -1 when it took too long, was stopped or failed. */
static long
art_collect(int fd, const atomic_int *stop, char *buf)
{
	long long deadline = clock_now_ms() + (long long)ART_TIMEOUT_S * 1000;
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int rc;

		if (atomic_load(stop) || clock_now_ms() >= deadline)
			return -1;
		rc = poll(&pfd, 1, ART_POLL_MS);
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc <= 0)
			continue;
		n = read(fd, buf + len, (size_t)PICTURE_MAX_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return (long)len;
		len += (size_t)n;
		if (len > (size_t)PICTURE_MAX_BYTES)
			return -1;
	}
}

/* The picture embedded in the song file, read out by ffmpeg (only the
 * PROBE_FORMATS containers, only from the file given as descriptor 3).
 * Returns 1 with its name, 0 if it has none, -1 if ffmpeg failed. */
static int
art_extract(struct cache *c, const char *ffmpeg, const char *path,
    const atomic_int *stop, char name[PICTURE_NAME_LEN + 1])
{
	char *const argv[] = {
		(char *)"ffmpeg", (char *)"-nostdin", (char *)"-v", (char *)"error",
		(char *)"-protocol_whitelist", (char *)"file",
		(char *)"-format_whitelist", (char *)PROBE_FORMATS,
		(char *)"-i", (char *)"/proc/self/fd/3",
		(char *)"-map", (char *)"0:v:0", (char *)"-c", (char *)"copy",
		(char *)"-frames:v", (char *)"1", (char *)"-f", (char *)"image2pipe",
		(char *)"pipe:1", NULL
	};
	char why[256], *buf;
	long len;
	int in, out, status, rc = -1;
	pid_t pid;

	in = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (in < 0)
		return -1;
	buf = malloc((size_t)PICTURE_MAX_BYTES + 1);
	if (buf == NULL) {
		close(in);
		return -1;
	}
	pid = spawn_child(ffmpeg, argv, NULL, STDOUT_FILENO, in, 3, &out, why,
	    sizeof(why));
	close(in);
	if (pid < 0) {
		log_debug("%s: cannot run ffmpeg for its picture: %s", path, why);
		free(buf);
		return -1;
	}
	len = art_collect(out, stop, buf);
	close(out);
	if (len < 0 && kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (len < 0)
		log_debug("%s: no picture read: ffmpeg was stopped, took over %d s "
		    "or wrote over %ld bytes", path, ART_TIMEOUT_S, PICTURE_MAX_BYTES);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && len > 0)
		rc = art_store(c, buf, (size_t)len, name) == 0 ? 1 : 0;
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 127)
		rc = 0;		/* no picture stream */
	free(buf);
	return rc;
}

/* What the memo art/<key> says the song file of content key key embeds:
 * 1 with the picture's name in name (served), 0 for none, -1 when there
 * is no memo, or it names a picture that is gone. */
static int
art_memo_read(struct cache *c, const char *key, char name[PICTURE_NAME_LEN + 1])
{
	char dir[PATH_MAX], *text = NULL;
	size_t len;
	int dfd, rc = -1;

	if (cache_path(c, ART_DIR, NULL, dir, sizeof(dir)) < 0)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	if (fsutil_read_file(dfd, key, ART_MEMO_FILE_MAX, &text, &len) < 0) {
		close(dfd);
		return -1;
	}
	close(dfd);
	text[strcspn(text, "\n")] = '\0';
	if (strcmp(text, ART_NONE) == 0) {
		rc = 0;
	} else if (picture_name_ok(text, strlen(text))) {
		char pic[PATH_MAX];
		struct stat st;
		memcpy(name, text, PICTURE_NAME_LEN + 1);
		if (cache_path(c, ART_DIR, name, pic, sizeof(pic)) == 0 &&
		    stat(pic, &st) == 0 && S_ISREG(st.st_mode) &&
		    art_serve(name, pic) == 0)
			rc = 1;
	}
	free(text);
	return rc;
}

/* Remembers in art/<key> what the song file of content key key embeds:
 * the picture name (found 1) or none (found 0). */
static void
art_memo_write(struct cache *c, const char *key, int found,
    const char name[PICTURE_NAME_LEN + 1])
{
	char memo[PATH_MAX], dir[PATH_MAX], line[PICTURE_NAME_LEN + 2];

	if (cache_path(c, ART_DIR, NULL, dir, sizeof(dir)) < 0 ||
	    cache_path(c, ART_DIR, key, memo, sizeof(memo)) < 0)
		return;
	snprintf(line, sizeof(line), "%s\n", found == 1 ? name : ART_NONE);
	/* the folder exists only once a picture was stored: a song without
	 * one must be remembered too. Not flushed to disk: a memo a crash
	 * loses, or leaves empty, is no memo (art_memo_read), and the picture
	 * is only read out again */
	if ((mkdir(dir, CACHE_DIR_MODE) < 0 && errno != EEXIST) ||
	    art_write_file(c, memo, line, strlen(line), 0) < 0)
		log_debug("cannot write %s: %s", memo, strerror(errno));
}

/* The embedded picture, from the memo art/<key> or else from ffmpeg
 * (whose answer is then kept there). */
static int
art_embedded(struct cache *c, const char *ffmpeg, const char *path,
    const char *key, const atomic_int *stop, char name[PICTURE_NAME_LEN + 1])
{
	int rc = art_memo_read(c, key, name);

	if (rc >= 0)
		return rc;
	/* not read out by the run that segmented the file (art_embedded_take)
	 * nor by an earlier start */
	log_debug("%s: reading its picture out with ffmpeg", path);
	rc = art_extract(c, ffmpeg, path, stop, name);
	if (rc >= 0)
		art_memo_write(c, key, rc, name);
	return rc;
}

int
art_embedded_wanted(struct cache *c, const char *path, const char *key)
{
	char name[PICTURE_NAME_LEN + 1];

	return art_beside(c, path, name) < 0 && art_memo_read(c, key, name) < 0;
}

int
art_embedded_take(struct cache *c, const char *path, const char *key,
    int dirfd, const char *file)
{
	char name[PICTURE_NAME_LEN + 1];
	struct stat st;
	char *data;
	size_t len;
	int fd, rc = 0;

	fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		log_debug("%s: its picture was not read out with it: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	if (st.st_size > PICTURE_MAX_BYTES) {
		log_debug("%s: its picture is over %ld bytes", path, PICTURE_MAX_BYTES);
	} else if (st.st_size > 0) {
		data = art_read_fd(fd, &st, &len);
		if (data == NULL) {
			close(fd);
			return -1;
		}
		rc = art_store(c, data, len, name) == 0 ? 1 : 0;
		free(data);
	}
	close(fd);
	art_memo_write(c, key, rc, name);
	return rc;
}

int
art_tag(struct cache *c, const char *ffmpeg, const char *path,
    const char *key, const atomic_int *stop, char *tags, size_t tagslen)
{
	char name[PICTURE_NAME_LEN + 1];
	size_t len = strlen(tags), add;

	if (art_beside(c, path, name) < 0 &&
	    art_embedded(c, ffmpeg, path, key, stop, name) != 1) {
		log_debug("%s: no cover art", path);
		return 0;
	}
	add = (len > 0 ? 1 : 0) + strlen(PICTURE_TAG_KEY) + 1 + strlen(name);
	if (len + add > PROTO_MAX_TAG_BYTES || len + add >= tagslen) {
		log_debug("%s: no room for its cover art among its tags", path);
		return 0;
	}
	snprintf(tags + len, tagslen - len, "%s%s=%s", len > 0 ? " " : "",
	    PICTURE_TAG_KEY, name);
	log_debug("%s: cover art %s", path, name);
	return 1;
}

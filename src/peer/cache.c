/* cache.c - the cache directory: setup, the write check, temporaries. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "p2pm/strnum.h"
#include "cache.h"
#include "fsutil.h"

/* bytes kept free after the cache directory's name for the names below it */
#define CACHE_NAME_ROOM 64
/* what the start-up check creates and removes in each cache directory */
#define CACHE_PROBE_SUFFIX "-probe"

struct cache {
	char dir[PATH_MAX];
	pthread_mutex_t lock;	/* guards seq */
	unsigned long seq;	/* numbers this process's temporaries */
};

/* True if the temporary "tmp-<pid>-<n>" belongs to a process that is gone. */
static int
cache_tmp_is_stale(const char *name)
{
	char pidtext[32];
	const char *p = name + strlen(CACHE_TMP_PREFIX), *dash = strchr(p, '-');
	long pid;

	if (dash == NULL || (size_t)(dash - p) >= sizeof(pidtext))
		return 1;
	memcpy(pidtext, p, (size_t)(dash - p));
	pidtext[dash - p] = '\0';
	if (strnum_parse(pidtext, 1, INT_MAX, &pid) < 0)
		return 1;
	if (pid == (long)getpid())
		return 1;	/* an earlier run that had our pid */
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

void
cache_tmp_remove(int parentfd, const char *name)
{
	if (fsutil_remove(parentfd, name) < 0)
		log_warn("cannot remove cache temporary %s: %s", name, strerror(errno));
}

/* Removes the temporaries of peers no longer running from dir. */
static void
cache_clean_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, CACHE_TMP_PREFIX, strlen(CACHE_TMP_PREFIX)) != 0 ||
		    !cache_tmp_is_stale(de->d_name))
			continue;
		log_info("removing stale cache temporary %s/%s", dir, de->d_name);
		cache_tmp_remove(dirfd(d), de->d_name);
	}
	closedir(d);
}

/* Creates and removes a file in dir: 0 if the cache can write there. */
static int
cache_probe_write(const char *dir)
{
	char probe[PATH_MAX];
	int fd;

	if (snprintf(probe, sizeof(probe), "%s/%s%ld%s", dir, CACHE_TMP_PREFIX,
	    (long)getpid(), CACHE_PROBE_SUFFIX) >= (int)sizeof(probe)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* a name left there (a crash, or a planted link) is removed, never
	 * written through */
	if (unlink(probe) < 0 && errno != ENOENT)
		return -1;
	fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return unlink(probe);
}

struct cache *
cache_open(const char *dir, char *err, size_t errlen)
{
	char sub[PATH_MAX];
	struct cache *c;
	const char *subs[] = { ".", CACHE_SONGS, CACHE_FILES };

	if (strlen(dir) + CACHE_NAME_ROOM >= sizeof(c->dir)) {
		snprintf(err, errlen, "cache directory name too long");
		return NULL;
	}
	if (fsutil_mkdirs(dir, CACHE_DIR_MODE) < 0) {
		snprintf(err, errlen, "cannot use cache directory %s: %s", dir,
		    strerror(errno));
		return NULL;
	}
	/* an existing directory may still refuse writes: find out now rather
	 * than on every song */
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
		if (fsutil_mkdirs(sub, CACHE_DIR_MODE) < 0) {
			snprintf(err, errlen, "cannot use cache directory %s: cannot "
			    "create %s: %s", dir, sub, strerror(errno));
			return NULL;
		}
		if (cache_probe_write(sub) < 0) {
			snprintf(err, errlen, "cannot use cache directory %s: cannot "
			    "write in %s: %s", dir, i == 0 ? dir : sub, strerror(errno));
			return NULL;
		}
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* kept whole: ffmpeg runs inside the cache (segmenter.h) and is
	 * given paths of it */
	char cwd[PATH_MAX];
	if (dir[0] != '/' && (getcwd(cwd, sizeof(cwd)) == NULL ||
	    snprintf(c->dir, sizeof(c->dir), "%s/%s", cwd, dir) >=
	    (int)(sizeof(c->dir) - CACHE_NAME_ROOM))) {
		snprintf(err, errlen, "cannot use cache directory %s: its whole "
		    "name is too long", dir);
		free(c);
		return NULL;
	}
	if (dir[0] == '/')
		snprintf(c->dir, sizeof(c->dir), "%s", dir);
	pthread_mutex_init(&c->lock, NULL);
	cache_clean_temporaries(c->dir);
	return c;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const char *
cache_dir(const struct cache *c)
{
	return c->dir;
}

int
cache_path(const struct cache *c, const char *sub, const char *name, char *out,
    size_t outlen)
{
	int len = name != NULL ? snprintf(out, outlen, "%s/%s/%s", c->dir, sub, name) :
	    snprintf(out, outlen, "%s/%s", c->dir, sub);

	return len < 0 || (size_t)len >= outlen ? -1 : 0;
}

int
cache_tmp_name(struct cache *c, char *out, size_t outlen)
{
	unsigned long n;

	pthread_mutex_lock(&c->lock);
	n = ++c->seq;
	pthread_mutex_unlock(&c->lock);
	int len = snprintf(out, outlen, "%s%ld-%lu", CACHE_TMP_PREFIX,
	    (long)getpid(), n);
	return len < 0 || (size_t)len >= outlen ? -1 : 0;
}

int
cache_tmp_path(struct cache *c, char *out, size_t outlen)
{
	char name[CACHE_TMP_NAME_MAX];

	if (cache_tmp_name(c, name, sizeof(name)) < 0)
		return -1;
	int len = snprintf(out, outlen, "%s/%s", c->dir, name);
	return len < 0 || (size_t)len >= outlen ? -1 : 0;
}

int
cache_layout(const struct cache *c)
{
	char path[PATH_MAX], *text;
	size_t len;
	long v;
	int n;

	if (snprintf(path, sizeof(path), "%s/%s", c->dir, CACHE_LAYOUT) >=
	    (int)sizeof(path))
		return -1;
	if (fsutil_read_file(AT_FDCWD, path, CACHE_LAYOUT_MAX, &text, &len) < 0)
		return errno == ENOENT ? 1 : -1;
	n = (int)strlen(CACHE_LAYOUT_MAGIC);
	if (len < (size_t)n + 3 || memcmp(text, CACHE_LAYOUT_MAGIC, (size_t)n) != 0 ||
	    text[n] != ' ' || text[len - 1] != '\n') {
		free(text);
		return -1;
	}
	text[len - 1] = '\0';
	if (strnum_parse(text + n + 1, 1, INT_MAX, &v) < 0)
		v = -1;
	free(text);
	return (int)v;
}

int
cache_layout_mark(struct cache *c, char *err, size_t errlen)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	FILE *f;

	if (cache_tmp_path(c, tmp, sizeof(tmp)) < 0 ||
	    snprintf(path, sizeof(path), "%s/%s", c->dir, CACHE_LAYOUT) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "cache directory name too long");
		return -1;
	}
	f = fopen(tmp, "we");
	if (f == NULL) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "%s %d\n", CACHE_LAYOUT_MAGIC, CACHE_LAYOUT_VERSION);
	int bad = fflush(f) != 0 || fsync(fileno(f)) < 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

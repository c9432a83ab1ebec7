/* cache.c - segmented songs on disk: content keys, file records, temporaries. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "p2pm/sha256.h"
#include "p2pm/strnum.h"
#include "cache.h"
#include "fsutil.h"
#include "segmenter.h"

#define CACHE_SONGS "songs"
#define CACHE_FILES "files"
#define CACHE_TMP_PREFIX "tmp-"
#define CACHE_RECORD_MAGIC "p2pm-file-record 1"
/* what the start-up check creates and removes in each cache directory */
#define CACHE_PROBE_SUFFIX "-probe"

/* Removes a temporary (a file, or a directory holding only files)
 * without following symbolic links. */
static void
cache_remove(int parentfd, const char *name)
{
	if (fsutil_remove(parentfd, name) < 0)
		log_warn("cannot remove cache temporary %s: %s", name, strerror(errno));
}

static void
cache_remove_path(const char *path)
{
	cache_remove(AT_FDCWD, path);
}

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
		cache_remove(dirfd(d), de->d_name);
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
	fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
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

	if (strlen(dir) + 64 >= sizeof(c->dir)) {
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

/* Names a new temporary: "tmp-<pid>-<n>", inside the cache directory. */
static int
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

/* The full path of a new temporary in the cache directory. */
static int
cache_tmp_path(struct cache *c, char *out, size_t outlen)
{
	char name[64];

	if (cache_tmp_name(c, name, sizeof(name)) < 0)
		return -1;
	int len = snprintf(out, outlen, "%s/%s", c->dir, name);
	return len < 0 || (size_t)len >= outlen ? -1 : 0;
}

/* Writes what identifies a file's current version without reading it. */
static void
cache_stat_line(const struct stat *st, char *out, size_t outlen)
{
	snprintf(out, outlen, "%llu %llu %lld %lld.%09ld",
	    (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
	    (long long)st->st_size, (long long)st->st_mtim.tv_sec,
	    (long)st->st_mtim.tv_nsec);
}

/* One file record as read: pointers into text, which the caller frees. */
struct cache_record {
	char *text;
	const char *statline;
	const char *abspath;
	const char *key;
};

/* Reads and splits the record name in the open files/ directory. Returns
 * 0, or -1 if it cannot be read or is not a well-formed record. */
static int
cache_record_read(int filesfd, const char *recname, struct cache_record *r)
{
	char *lines[4], *save = NULL;
	size_t len;
	int n = 0;

	if (fsutil_read_file(filesfd, recname, CACHE_RECORD_MAX, &r->text, &len) < 0)
		return -1;
	for (char *l = strtok_r(r->text, "\n", &save); l != NULL && n < 4;
	    l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	if (n != 4 || strcmp(lines[0], CACHE_RECORD_MAGIC) != 0 ||
	    !fsutil_hex_name_ok(lines[3], CACHE_KEY_LEN)) {
		free(r->text);
		r->text = NULL;
		return -1;
	}
	r->statline = lines[1];
	r->abspath = lines[2];
	r->key = lines[3];
	return 0;
}

/* Looks the file up in its record: returns 0 with the key if the record
 * matches statline and abspath exactly. */
static int
cache_record_lookup(struct cache *c, const char *recname, const char *statline,
    const char *abspath, char key[CACHE_KEY_LEN + 1])
{
	char dir[PATH_MAX];
	struct cache_record r;
	int fd, found = -1;

	if (snprintf(dir, sizeof(dir), "%s/%s", c->dir, CACHE_FILES) >= (int)sizeof(dir))
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (cache_record_read(fd, recname, &r) == 0) {
		if (strcmp(r.statline, statline) == 0 && strcmp(r.abspath, abspath) == 0) {
			memcpy(key, r.key, CACHE_KEY_LEN + 1);
			found = 0;
		}
		free(r.text);
	}
	close(fd);
	return found;
}

/* Replaces the record atomically (written to a temporary, then renamed). */
static void
cache_record_store(struct cache *c, const char *recname, const char *statline,
    const char *abspath, const char *key)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	FILE *f;

	if (strchr(abspath, '\n') != NULL || cache_tmp_path(c, tmp, sizeof(tmp)) < 0 ||
	    snprintf(path, sizeof(path), "%s/%s/%s", c->dir, CACHE_FILES, recname) >=
	    (int)sizeof(path))
		return;
	f = fopen(tmp, "we");
	if (f == NULL)
		return;
	fprintf(f, "%s\n%s\n%s\n%s\n", CACHE_RECORD_MAGIC, statline, abspath, key);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		log_warn("cannot write cache record %s: %s", path, strerror(errno));
		unlink(tmp);
	}
}

/* Hashes an open file; fails if it is cut short or *stop is set. */
static int
cache_hash_fd(int fd, const atomic_int *stop, char hex[SHA256_HEX_LEN])
{
	unsigned char digest[SHA256_DIGEST_LEN];
	unsigned char *buf = malloc(CACHE_HASH_CHUNK);
	struct sha256 h;

	if (buf == NULL)
		return -1;
	sha256_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, CACHE_HASH_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || atomic_load(stop)) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		sha256_update(&h, buf, (size_t)n);
	}
	free(buf);
	sha256_final(&h, digest);
	sha256_to_hex(digest, hex);
	return 0;
}

static void
cache_file_id_of(const struct stat *st, struct cache_file_id *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
}

/* True if the file at path is still the version that id describes. */
static int
cache_file_unchanged(const char *path, const struct cache_file_id *id)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_dev == id->dev && st.st_ino == id->ino &&
	    st.st_size == id->size && st.st_mtim.tv_sec == id->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == id->mtime.tv_nsec;
}

int
cache_file_key(struct cache *c, const char *path, const atomic_int *stop,
    char key[CACHE_KEY_LEN + 1], struct cache_file_id *id, int *hashed,
    char *why, size_t whylen)
{
	char statline[128], after[128], recname[SHA256_HEX_LEN], hex[SHA256_HEX_LEN];
	struct stat st;
	char *abspath;
	int fd;

	*hashed = 0;
	abspath = realpath(path, NULL);
	if (abspath == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	fd = open(abspath, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		goto fail;
	}
	cache_file_id_of(&st, id);
	cache_stat_line(&st, statline, sizeof(statline));
	sha256_hex(abspath, strlen(abspath), recname);
	if (cache_record_lookup(c, recname, statline, abspath, key) == 0)
		goto done;

	if (cache_hash_fd(fd, stop, hex) < 0) {
		snprintf(why, whylen, "%s", atomic_load(stop) ? "stopped" :
		    strerror(errno));
		goto fail;
	}
	memcpy(key, hex, CACHE_KEY_LEN);
	key[CACHE_KEY_LEN] = '\0';
	*hashed = 1;
	/* remember the key only if the file did not change while we read it */
	if (fstat(fd, &st) == 0) {
		cache_stat_line(&st, after, sizeof(after));
		if (strcmp(after, statline) == 0)
			cache_record_store(c, recname, statline, abspath, key);
	}
done:
	close(fd);
	free(abspath);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(abspath);
	return -1;
}

void
cache_song_free(struct cache_song *cs)
{
	free(cs->text);
	playlist_free(&cs->pl);
	memset(cs, 0, sizeof(*cs));
}

/* True if the playlist text has a line starting with tag. */
static int
cache_has_tag(const char *text, size_t len, const char *tag)
{
	size_t tl = strlen(tag);

	for (size_t pos = 0; pos < len; ) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		if (n >= tl && memcmp(text + pos, tag, tl) == 0)
			return 1;
		pos += n + 1;
	}
	return 0;
}

/* True if name is "<key>-<decimal>.ts". */
static int
cache_segment_name_ok(const char *name, const char *key)
{
	size_t kl = strlen(key), nl = strlen(name);

	if (nl < kl + 5 || strncmp(name, key, kl) != 0 || name[kl] != '-' ||
	    strcmp(name + nl - 3, ".ts") != 0)
		return 0;
	for (const char *p = name + kl + 1; p < name + nl - 3; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* Checks the playlist and segments in an open song directory. */
static int
cache_check_dir(int dfd, const char *key, struct cache_song *cs, char *why,
    size_t whylen)
{
	static const char *const tags[] = {
		"#EXT-X-TARGETDURATION:", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-ENDLIST"
	};
	struct stat st;

	memset(cs, 0, sizeof(*cs));
	if (fsutil_read_file(dfd, SEGMENTER_PLAYLIST, CACHE_MAX_PLAYLIST_BYTES,
	    &cs->text, &cs->len) < 0) {
		snprintf(why, whylen, "no playlist: %s", strerror(errno));
		return -1;
	}
	if (playlist_parse(cs->text, cs->len, &cs->pl, why, whylen) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		if (!cache_has_tag(cs->text, cs->len, tags[i])) {
			snprintf(why, whylen, "playlist has no %s", tags[i]);
			goto fail;
		}
	}
	for (size_t i = 0; i < cs->pl.count; i++) {
		const char *seg = cs->pl.segs[i].name;
		if (!cache_segment_name_ok(seg, key)) {
			snprintf(why, whylen, "unexpected segment name %s", seg);
			goto fail;
		}
		if (fstatat(dfd, seg, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_size == 0) {
			snprintf(why, whylen, "segment %s missing or empty", seg);
			goto fail;
		}
		/* a crash or a full disk cuts files at any byte */
		if (st.st_size % CACHE_TS_PACKET != 0) {
			snprintf(why, whylen, "segment %s is cut short", seg);
			goto fail;
		}
	}
	return 0;
fail:
	cache_song_free(cs);
	return -1;
}

int
cache_load(struct cache *c, const char *key, struct cache_song *cs,
    char *songdir, size_t songdirlen, char *why, size_t whylen)
{
	int dfd, rc;

	if (!fsutil_hex_name_ok(key, CACHE_KEY_LEN)) {
		snprintf(why, whylen, "bad key");
		return -1;
	}
	if (snprintf(songdir, songdirlen, "%s/%s/%s", c->dir, CACHE_SONGS, key) >=
	    (int)songdirlen) {
		snprintf(why, whylen, "path too long");
		return -1;
	}
	dfd = open(songdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(why, whylen, "not in the cache");
		return -1;
	}
	rc = cache_check_dir(dfd, key, cs, why, whylen);
	close(dfd);
	return rc;
}

/* Flushes to disk the playlist and segments of a checked song directory,
 * then the directory itself, so that a crash after the rename cannot leave
 * a song whose files are cut short. */
static int
cache_sync_song(int dfd, const struct cache_song *cs, char *why, size_t whylen)
{
	for (size_t i = 0; i <= cs->pl.count; i++) {
		const char *name = i < cs->pl.count ? cs->pl.segs[i].name :
		    SEGMENTER_PLAYLIST;
		int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0) {
			snprintf(why, whylen, "cannot flush %s to disk: %s", name,
			    strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	if (fsync(dfd) < 0) {
		snprintf(why, whylen, "cannot flush the song directory to disk: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Flushes songs/ so that a rename into it survives a crash. */
static void
cache_sync_songs_dir(struct cache *c)
{
	char dir[PATH_MAX];
	int fd;

	if (snprintf(dir, sizeof(dir), "%s/%s", c->dir, CACHE_SONGS) >= (int)sizeof(dir))
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		log_warn("cannot flush %s to disk: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
}

enum cache_build_result
cache_build(struct cache *c, const char *ffmpeg, const char *path,
    const char *key, const struct cache_file_id *id, const atomic_int *stop,
    char *why, size_t whylen)
{
	char tmp[PATH_MAX], final[PATH_MAX], aside[PATH_MAX];
	struct cache_song cs;
	enum cache_build_result res = CACHE_BUILD_CACHE_ERROR;
	int dfd, rc;

	if (cache_tmp_path(c, tmp, sizeof(tmp)) < 0 ||
	    snprintf(final, sizeof(final), "%s/%s/%s", c->dir, CACHE_SONGS, key) >=
	    (int)sizeof(final)) {
		snprintf(why, whylen, "path too long");
		return CACHE_BUILD_CACHE_ERROR;
	}
	if (mkdir(tmp, 0700) < 0) {
		snprintf(why, whylen, "cannot create %s: %s", tmp, strerror(errno));
		return CACHE_BUILD_CACHE_ERROR;
	}
	switch (segmenter_run(ffmpeg, path, tmp, key, stop, why, whylen)) {
	case SEGMENTER_OK:
		break;
	case SEGMENTER_STOPPED:
		res = CACHE_BUILD_STOPPED;
		goto fail;
	case SEGMENTER_BAD_OUTPUT:
		res = atomic_load(stop) ? CACHE_BUILD_STOPPED : CACHE_BUILD_CACHE_ERROR;
		goto fail;
	case SEGMENTER_BAD_INPUT:
	default:
		res = atomic_load(stop) ? CACHE_BUILD_STOPPED : CACHE_BUILD_BAD_INPUT;
		goto fail;
	}
	/* ffmpeg read the file by name, later than its key was taken */
	if (!cache_file_unchanged(path, id)) {
		snprintf(why, whylen, "the file changed while it was being segmented");
		res = CACHE_BUILD_CHANGED;
		goto fail;
	}
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(why, whylen, "cannot open %s: %s", tmp, strerror(errno));
		goto fail;
	}
	rc = cache_check_dir(dfd, key, &cs, why, whylen);
	if (rc == 0) {
		rc = cache_sync_song(dfd, &cs, why, whylen);
		cache_song_free(&cs);
	} else {
		res = CACHE_BUILD_BAD_INPUT;
	}
	close(dfd);
	if (rc < 0)
		goto fail;

	if (rename(tmp, final) == 0) {
		cache_sync_songs_dir(c);
		return CACHE_BUILD_OK;
	}
	if (errno != EEXIST && errno != ENOTEMPTY) {
		snprintf(why, whylen, "cannot rename into %s: %s", final, strerror(errno));
		goto fail;
	}
	/* the same content was finished by another job meanwhile, or a broken
	 * copy is in the way: keep a good one, move a broken one aside */
	if (cache_load(c, key, &cs, aside, sizeof(aside), why, whylen) == 0) {
		cache_song_free(&cs);
		cache_remove_path(tmp);
		return CACHE_BUILD_OK;
	}
	if (cache_tmp_path(c, aside, sizeof(aside)) < 0 || rename(final, aside) < 0 ||
	    rename(tmp, final) < 0) {
		snprintf(why, whylen, "cannot replace %s: %s", final, strerror(errno));
		res = CACHE_BUILD_CACHE_ERROR;
		goto fail;
	}
	cache_sync_songs_dir(c);
	cache_remove_path(aside);
	return CACHE_BUILD_OK;
fail:
	cache_remove_path(tmp);
	return res;
}

/* Eviction.
 *
 * Only names this code made are touched: song directories named by a key
 * ([0-9a-f]{16}) and records named by a path hash ([0-9a-f]{64}), found by
 * readdir in the cache's own subdirectories and handled through directory
 * descriptors without following symbolic links. Anything else found there
 * is left alone. A song directory is first renamed to a temporary in the
 * cache directory and only then emptied, so songs/ never holds half a song;
 * a crash leaves a temporary that the next start removes. Files already
 * open (a segment being sent) stay readable until closed.
 *
 * Two peers sharing one cache directory at the same time are not
 * supported: one would remove the other's songs, which then answers
 * "cannot read segment" or segments them again. Nothing here fails worse
 * than that when entries vanish under it (every step tolerates ENOENT),
 * and --keep-cache turns eviction off for such a setup. */

static int
cache_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cache_sorted_has(char *const *v, size_t n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof(*v), cache_strcmp) != NULL;
}

/* A growing array of strings it owns. */
struct cache_strings {
	char **v;
	size_t n, cap;
};

static int
cache_strings_add(struct cache_strings *a, const char *s)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		char **v = realloc(a->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	if ((a->v[a->n] = strdup(s)) == NULL)
		return -1;
	a->n++;
	return 0;
}

static void
cache_strings_free(struct cache_strings *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* The space the files of a song directory take on disk (files with other
 * links are not counted: removing ours frees nothing). */
static unsigned long long
cache_dir_bytes(int parentfd, const char *name)
{
	unsigned long long bytes = 0;
	struct dirent *de;
	struct stat st;
	int fd;
	DIR *d = fsutil_opendir_at(parentfd, name, &fd);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_nlink == 1)
			bytes += (unsigned long long)st.st_blocks * 512;
	closedir(d);
	return bytes;
}

/* Goes through files/: a record is kept when its name is the hash of one
 * of the wanted paths, it is well formed and the file still has the size,
 * mtime and inode it records; its key is then added to keys, since the
 * song is still wanted even if not ready. Other records are removed
 * (counted only when dry_run). Returns -1 if out of memory. */
static int
cache_evict_records(int cachefd, char *const *recnames, size_t nrecnames,
    struct cache_strings *keys, int dry_run, const atomic_int *cancel,
    struct cache_evict_stats *st)
{
	char statline[128], hex[SHA256_HEX_LEN];
	struct cache_record r;
	struct dirent *de;
	struct stat fst;
	int fd;
	DIR *d = fsutil_opendir_at(cachefd, CACHE_FILES, &fd);

	if (d == NULL) {
		log_warn("cannot read the cache's %s directory: %s", CACHE_FILES,
		    strerror(errno));
		return 0;
	}
	while ((de = readdir(d)) != NULL && !atomic_load(cancel)) {
		if (!fsutil_hex_name_ok(de->d_name, SHA256_HEX_LEN - 1))
			continue;
		if (cache_sorted_has(recnames, nrecnames, de->d_name) &&
		    cache_record_read(fd, de->d_name, &r) == 0) {
			int fresh = 0;
			sha256_hex(r.abspath, strlen(r.abspath), hex);
			if (strcmp(hex, de->d_name) == 0 && stat(r.abspath, &fst) == 0) {
				cache_stat_line(&fst, statline, sizeof(statline));
				fresh = strcmp(statline, r.statline) == 0;
			}
			if (fresh && cache_strings_add(keys, r.key) < 0) {
				free(r.text);
				closedir(d);
				return -1;
			}
			free(r.text);
			if (fresh)
				continue;
		}
		if (fstatat(fd, de->d_name, &fst, AT_SYMLINK_NOFOLLOW) < 0 ||
		    S_ISDIR(fst.st_mode))
			continue;
		if (!dry_run && unlinkat(fd, de->d_name, 0) < 0) {
			if (errno != ENOENT)
				log_warn("cannot remove cache record %s: %s", de->d_name,
				    strerror(errno));
			continue;
		}
		st->records++;
	}
	closedir(d);
	return 0;
}

/* Goes through songs/: each directory named by a key not in keys (sorted)
 * is renamed to a temporary and removed (counted only when dry_run). */
static void
cache_evict_songs(struct cache *c, int cachefd, char *const *keys, size_t nkeys,
    int dry_run, const atomic_int *cancel, struct cache_evict_stats *st)
{
	char tmp[64];
	struct dirent *de;
	struct stat dst;
	unsigned long long bytes;
	int fd;
	DIR *d = fsutil_opendir_at(cachefd, CACHE_SONGS, &fd);

	if (d == NULL) {
		log_warn("cannot read the cache's %s directory: %s", CACHE_SONGS,
		    strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL && !atomic_load(cancel)) {
		if (!fsutil_hex_name_ok(de->d_name, CACHE_KEY_LEN) ||
		    cache_sorted_has(keys, nkeys, de->d_name))
			continue;
		if (fstatat(fd, de->d_name, &dst, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(dst.st_mode))
			continue;
		bytes = cache_dir_bytes(fd, de->d_name);
		if (!dry_run) {
			if (cache_tmp_name(c, tmp, sizeof(tmp)) < 0)
				break;
			if (renameat(fd, de->d_name, cachefd, tmp) < 0) {
				if (errno != ENOENT)
					log_warn("cannot move cached song %s out of %s: %s",
					    de->d_name, CACHE_SONGS, strerror(errno));
				continue;
			}
			log_debug("removing cached song %s (used by no shared song)",
			    de->d_name);
			cache_remove(cachefd, tmp);
		}
		st->songs++;
		st->bytes += bytes;
	}
	closedir(d);
}

int
cache_evict(struct cache *c, const char *const *keys, size_t nkeys,
    const char *const *paths, size_t npaths, int dry_run,
    const atomic_int *cancel, struct cache_evict_stats *st)
{
	struct cache_strings recnames = { 0 }, keep = { 0 };
	char hex[SHA256_HEX_LEN];
	int cachefd, rc = -1;

	memset(st, 0, sizeof(*st));
	/* a file record is named by the hash of the file's real path */
	for (size_t i = 0; i < npaths; i++) {
		char *abspath = realpath(paths[i], NULL);
		if (abspath == NULL)
			continue;	/* gone: its record goes too */
		sha256_hex(abspath, strlen(abspath), hex);
		free(abspath);
		if (cache_strings_add(&recnames, hex) < 0) {
			errno = ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < nkeys; i++)
		if (cache_strings_add(&keep, keys[i]) < 0) {
			errno = ENOMEM;
			goto out;
		}
	if (recnames.n > 0)
		qsort(recnames.v, recnames.n, sizeof(*recnames.v), cache_strcmp);
	cachefd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cachefd < 0) {
		log_warn("cannot open the cache directory %s: %s", c->dir, strerror(errno));
		goto out;
	}
	if (cache_evict_records(cachefd, recnames.v, recnames.n, &keep, dry_run,
	    cancel, st) < 0) {
		close(cachefd);
		errno = ENOMEM;
		goto out;
	}
	if (keep.n > 0)
		qsort(keep.v, keep.n, sizeof(*keep.v), cache_strcmp);
	if (!atomic_load(cancel))
		cache_evict_songs(c, cachefd, keep.v, keep.n, dry_run, cancel, st);
	close(cachefd);
	rc = atomic_load(cancel) ? 1 : 0;
out:
	if (rc < 0 && errno == ENOMEM)
		log_error("out of memory while looking for unused songs in the cache");
	cache_strings_free(&recnames);
	cache_strings_free(&keep);
	return rc;
}

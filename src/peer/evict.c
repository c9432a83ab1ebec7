/* evict.c - removing what no shared song uses from the cache. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "evict.h"
#include "filekey.h"
#include "fsutil.h"

/* What eviction touches, and what it does not guard against.
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
evict_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
evict_sorted_has(char *const *v, size_t n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof(*v), evict_strcmp) != NULL;
}

/* A growing array of strings it owns. */
struct evict_strings {
	char **v;
	size_t n, cap;
};

static int
evict_strings_add(struct evict_strings *a, const char *s)
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
evict_strings_free(struct evict_strings *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* The space the files of a song directory take on disk (files with other
 * links are not counted: removing ours frees nothing). */
static unsigned long long
evict_dir_bytes(int parentfd, const char *name)
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
evict_records(int cachefd, char *const *recnames, size_t nrecnames,
    struct evict_strings *keys, int dry_run, const atomic_int *cancel,
    struct evict_stats *st)
{
	char key[FILEKEY_LEN + 1];
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
		if (!filekey_record_name_ok(de->d_name))
			continue;
		if (evict_sorted_has(recnames, nrecnames, de->d_name) &&
		    filekey_record_fresh(fd, de->d_name, key)) {
			if (evict_strings_add(keys, key) < 0) {
				closedir(d);
				return -1;
			}
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
evict_songs(struct cache *c, int cachefd, char *const *keys, size_t nkeys,
    int dry_run, const atomic_int *cancel, struct evict_stats *st)
{
	char tmp[CACHE_TMP_NAME_MAX];
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
		if (!filekey_ok(de->d_name) ||
		    evict_sorted_has(keys, nkeys, de->d_name))
			continue;
		if (fstatat(fd, de->d_name, &dst, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(dst.st_mode))
			continue;
		bytes = evict_dir_bytes(fd, de->d_name);
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
			cache_tmp_remove(cachefd, tmp);
		}
		st->songs++;
		st->bytes += bytes;
	}
	closedir(d);
}

int
evict_unused(struct cache *c, const char *const *keys, size_t nkeys,
    const char *const *paths, size_t npaths, int dry_run,
    const atomic_int *cancel, struct evict_stats *st)
{
	struct evict_strings recnames = { 0 }, keep = { 0 };
	char hex[SHA256_HEX_LEN];
	int cachefd, rc = -1;

	memset(st, 0, sizeof(*st));
	/* a file record is named by the hash of the file's real path */
	for (size_t i = 0; i < npaths; i++) {
		if (filekey_record_name(paths[i], hex) < 0)
			continue;	/* gone: its record goes too */
		if (evict_strings_add(&recnames, hex) < 0) {
			errno = ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < nkeys; i++)
		if (evict_strings_add(&keep, keys[i]) < 0) {
			errno = ENOMEM;
			goto out;
		}
	if (recnames.n > 0)
		qsort(recnames.v, recnames.n, sizeof(*recnames.v), evict_strcmp);
	cachefd = open(cache_dir(c), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cachefd < 0) {
		log_warn("cannot open the cache directory %s: %s", cache_dir(c),
		    strerror(errno));
		goto out;
	}
	if (evict_records(cachefd, recnames.v, recnames.n, &keep, dry_run,
	    cancel, st) < 0) {
		close(cachefd);
		errno = ENOMEM;
		goto out;
	}
	if (keep.n > 0)
		qsort(keep.v, keep.n, sizeof(*keep.v), evict_strcmp);
	if (!atomic_load(cancel))
		evict_songs(c, cachefd, keep.v, keep.n, dry_run, cancel, st);
	close(cachefd);
	rc = atomic_load(cancel) ? 1 : 0;
out:
	if (rc < 0 && errno == ENOMEM)
		log_error("out of memory while looking for unused songs in the cache");
	evict_strings_free(&recnames);
	evict_strings_free(&keep);
	return rc;
}

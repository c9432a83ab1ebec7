/* shared.c - song directories served in place: checks kept by identity. */
#include <dirent.h>
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
#include "p2pm/songdir.h"
#include "filekey.h"
#include "fsutil.h"
#include "shared.h"

/* words of a directory's fingerprint */
#define SHARED_PRINT_WORDS 4

/* What one directory of the set was found to be. */
struct shared_dir {
	/* the last check: valid while the fingerprint is unchanged */
	int checked;
	uint64_t print[SHARED_PRINT_WORDS];
	int ok;
	char *text;		/* the canonical playlist, when ok */
	size_t len;
	struct songdir_file_id *ids;	/* each segment's identity, when ok */
	size_t nids;
	unsigned long long serial;	/* which check it was */
	char *why;		/* the reason, when not ok */
	/* the last song.name read: valid while its identity is unchanged */
	int named;
	struct filekey_id name_id;	/* all zero: there was none */
	int name_ok;
	char name[PROTO_MAX_NAME + 1];
	int seen;		/* looked at since the last shared_sweep */
};

struct shared {
	pthread_mutex_t lock;	/* guards dirs, what it holds, and serial */
	struct htable dirs;	/* directory path -> struct shared_dir */
	unsigned long long serial;	/* checks made so far */
};

struct shared *
shared_new(void)
{
	struct shared *sh = calloc(1, sizeof(*sh));

	if (sh == NULL)
		return NULL;
	if (htable_init(&sh->dirs) < 0) {
		free(sh);
		return NULL;
	}
	pthread_mutex_init(&sh->lock, NULL);
	return sh;
}

static void
shared_dir_free(struct shared_dir *d)
{
	free(d->ids);
	free(d->text);
	free(d->why);
	free(d);
}

void
shared_free(struct shared *sh)
{
	struct htable_iter it;
	struct htable_entry *e;

	if (sh == NULL)
		return;
	htable_iter_start(&it, &sh->dirs);
	while ((e = htable_iter_next(&it)) != NULL)
		shared_dir_free(e->val);
	htable_free(&sh->dirs);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

/* The entry of dir, made if missing; NULL if out of memory. Lock held. */
static struct shared_dir *
shared_dir_of(struct shared *sh, const char *dir)
{
	struct shared_dir *d = htable_get(&sh->dirs, dir, strlen(dir));

	if (d != NULL)
		return d;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if (htable_put(&sh->dirs, dir, strlen(dir), d) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

/* Reads dir/song.name into name: one valid name and one LF. */
static int
shared_read_name(const char *dir, char name[PROTO_MAX_NAME + 1], char *why,
    size_t whylen)
{
	char path[PATH_MAX], *text;
	size_t len;

	if (snprintf(path, sizeof(path), "%s/%s", dir, SONGDIR_NAME_FILE) >=
	    (int)sizeof(path)) {
		snprintf(why, whylen, "path too long");
		return -1;
	}
	if (fsutil_read_file(AT_FDCWD, path, SONGDIR_MAX_NAME_FILE_BYTES, &text,
	    &len) < 0) {
		snprintf(why, whylen, "cannot read %s: %s", SONGDIR_NAME_FILE,
		    errno == EFBIG ? "too long or not a file" : strerror(errno));
		return -1;
	}
	if (len < 2 || text[len - 1] != '\n' || !songdir_name_ok(text, len - 1)) {
		free(text);
		snprintf(why, whylen, "%s does not hold a valid song name and one LF",
		    SONGDIR_NAME_FILE);
		return -1;
	}
	memcpy(name, text, len - 1);
	name[len - 1] = '\0';
	free(text);
	return 0;
}

int
shared_name(struct shared *sh, const char *dir, char name[PROTO_MAX_NAME + 1])
{
	char path[PATH_MAX], why[256];
	struct filekey_id id;
	struct shared_dir *d;
	struct stat st;
	int rc;

	memset(&id, 0, sizeof(id));
	if (snprintf(path, sizeof(path), "%s/%s", dir, SONGDIR_NAME_FILE) <
	    (int)sizeof(path) && lstat(path, &st) == 0)
		filekey_id_of(&st, &id);
	pthread_mutex_lock(&sh->lock);
	d = shared_dir_of(sh, dir);
	if (d != NULL)
		d->seen = 1;
	if (d != NULL && d->named && filekey_id_equal(&d->name_id, &id)) {
		rc = d->name_ok ? 0 : -1;
		if (rc == 0)
			memcpy(name, d->name, sizeof(d->name));
		pthread_mutex_unlock(&sh->lock);
		return rc;
	}
	pthread_mutex_unlock(&sh->lock);

	rc = shared_read_name(dir, name, why, sizeof(why));
	if (rc < 0)
		log_warn("skipping song directory %s: %s", dir, why);
	pthread_mutex_lock(&sh->lock);
	if ((d = shared_dir_of(sh, dir)) != NULL) {
		d->named = 1;
		d->name_id = id;
		d->name_ok = rc == 0;
		if (rc == 0)
			memcpy(d->name, name, sizeof(d->name));
	}
	pthread_mutex_unlock(&sh->lock);
	return rc;
}

/* Folds one directory entry's identity into print, in no particular
 * order (words are summed), so that readdir's order does not matter. */
static void
shared_print_add(uint64_t print[SHARED_PRINT_WORDS], const char *name,
    const struct stat *st)
{
	unsigned char digest[SHA256_DIGEST_LEN];
	char line[PATH_MAX + 160];
	int n = snprintf(line, sizeof(line), "%s/%llu %llu %lld %lld.%09ld %lld.%09ld %o",
	    name, (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
	    (long long)st->st_size, (long long)st->st_mtim.tv_sec,
	    (long)st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
	    (long)st->st_ctim.tv_nsec, (unsigned)st->st_mode);
	struct sha256 h;

	sha256_init(&h);
	sha256_update(&h, line, n > 0 ? (size_t)n : 0);
	sha256_final(&h, digest);
	for (size_t w = 0; w < SHARED_PRINT_WORDS; w++) {
		uint64_t v = 0;
		for (size_t b = 0; b < 8; b++)
			v = v << 8 | digest[w * 8 + b];
		print[w] += v;
	}
}

/* The fingerprint of the directory open as dirfd: every entry's name and
 * identity (one stat each, links not followed). Returns 0, or -1 with a
 * reason in why. */
static int
shared_print(int dirfd, uint64_t print[SHARED_PRINT_WORDS], char *why,
    size_t whylen)
{
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	int fd;
	DIR *d = fsutil_opendir_at(dirfd, ".", &fd);

	memset(print, 0, SHARED_PRINT_WORDS * sizeof(*print));
	if (d == NULL) {
		snprintf(why, whylen, "cannot read it: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++n > SHARED_MAX_DIR_ENTRIES) {
			closedir(d);
			snprintf(why, whylen, "more than %d entries", SHARED_MAX_DIR_ENTRIES);
			return -1;
		}
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			memset(&st, 0, sizeof(st));	/* gone meanwhile */
		shared_print_add(print, de->d_name, &st);
	}
	closedir(d);
	return 0;
}

/* Remembers the outcome of check serial of d made at fingerprint print:
 * text and ids (both taken) if ok, why if not. Lock held. */
static void
shared_remember(struct shared_dir *d, const uint64_t print[SHARED_PRINT_WORDS],
    char *text, size_t len, struct songdir_file_id *ids, size_t nids,
    unsigned long long serial, const char *why)
{
	free(d->text);
	free(d->ids);
	free(d->why);
	d->text = text;
	d->len = len;
	d->ids = ids;
	d->nids = nids;
	d->serial = serial;
	d->why = text == NULL ? strdup(why) : NULL;
	d->ok = text != NULL;
	memcpy(d->print, print, sizeof(d->print));
	d->checked = 1;
}

/* A malloc'd copy of n bytes of p, or NULL. */
static void *
shared_copy(const void *p, size_t n)
{
	void *q = malloc(n > 0 ? n : 1);

	if (q != NULL && n > 0)
		memcpy(q, p, n);
	return q;
}

/* Verifies the directory open as dirfd (dir names it) whole; on success
 * *text (malloc'd) is its playlist and *ids (malloc'd) the identity of
 * each of its *nids segments as they were hashed. */
static int
shared_verify(int dirfd, const char *dir, const char *name, char **text,
    size_t *len, struct songdir_file_id **ids, size_t *nids, char *why,
    size_t whylen)
{
	struct songdir_info info;

	*text = NULL;
	*ids = NULL;
	if (songdir_verify_at(dirfd, dir, &info, why, whylen) < 0)
		return -1;
	if (strcmp(info.name, name) != 0) {
		snprintf(why, whylen, "%s changed while it was checked",
		    SONGDIR_NAME_FILE);
		songdir_info_free(&info);
		return -1;
	}
	*text = playlist_canonical(&info.playlist, len);
	*ids = info.segment_ids;
	*nids = info.playlist.count;
	info.segment_ids = NULL;
	songdir_info_free(&info);
	if (*text == NULL) {
		free(*ids);
		*ids = NULL;
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

/* Makes hd of a checked playlist text (taken) and what holds it: the
 * directory dirfd (taken) and the segments' identities ids (taken). */
static int
shared_hold(char *text, size_t len, int dirfd, struct songdir_file_id *ids,
    size_t nids, unsigned long long serial, struct hlsdir *hd, char *why,
    size_t whylen)
{
	if (hlsdir_parse(text, len, hd, why, whylen) < 0)
		goto fail;
	if (hd->pl.count != nids) {
		snprintf(why, whylen, "changed while it was checked");
		goto fail;
	}
	if ((hd->held = malloc(sizeof(*hd->held))) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	hd->held->dirfd = dirfd;
	hd->held->ids = ids;
	hd->held->serial = serial;
	return 0;
fail:
	hlsdir_free(hd);
	free(ids);
	close(dirfd);
	return -1;
}

int
shared_check(struct shared *sh, const char *dir, const char *name,
    struct hlsdir *hd, int *fresh, char *why, size_t whylen)
{
	uint64_t print[SHARED_PRINT_WORDS], after[SHARED_PRINT_WORDS];
	struct songdir_file_id *ids = NULL;
	unsigned long long serial = 0;
	char junk[64];
	struct shared_dir *d;
	char *text = NULL;
	size_t len = 0, nids = 0;
	int rc, dirfd;

	memset(hd, 0, sizeof(*hd));
	*fresh = 0;
	/* the directory itself, not a link to one, held from here on: what
	 * is served is read through this descriptor */
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0) {
		snprintf(why, whylen, "cannot read it: %s", strerror(errno));
		return -1;
	}
	if (shared_print(dirfd, print, why, whylen) < 0) {
		close(dirfd);
		return -1;
	}
	pthread_mutex_lock(&sh->lock);
	d = htable_get(&sh->dirs, dir, strlen(dir));
	if (d != NULL && d->checked && memcmp(d->print, print, sizeof(print)) == 0) {
		if (d->ok) {
			text = shared_copy(d->text, d->len);
			ids = shared_copy(d->ids, d->nids * sizeof(*d->ids));
			len = d->len;
			nids = d->nids;
			serial = d->serial;
			if (text == NULL || ids == NULL)
				snprintf(why, whylen, "out of memory");
		} else {
			snprintf(why, whylen, "%s", d->why != NULL ? d->why : "refused");
		}
		pthread_mutex_unlock(&sh->lock);
		if (text == NULL || ids == NULL) {
			free(text);
			free(ids);
			close(dirfd);
			return -1;
		}
		return shared_hold(text, len, dirfd, ids, nids, serial, hd, why,
		    whylen);
	}
	pthread_mutex_unlock(&sh->lock);

	rc = shared_verify(dirfd, dir, name, &text, &len, &ids, &nids, why, whylen);
	pthread_mutex_lock(&sh->lock);
	serial = ++sh->serial;
	pthread_mutex_unlock(&sh->lock);
	/* kept only if nothing changed while it was read */
	if (shared_print(dirfd, after, junk, sizeof(junk)) == 0 &&
	    memcmp(print, after, sizeof(print)) == 0) {
		pthread_mutex_lock(&sh->lock);
		if ((d = shared_dir_of(sh, dir)) != NULL) {
			char *tcopy = NULL;
			struct songdir_file_id *icopy = NULL;
			if (rc == 0) {
				tcopy = shared_copy(text, len);
				icopy = shared_copy(ids, nids * sizeof(*ids));
			}
			if (rc < 0 || (tcopy != NULL && icopy != NULL))
				shared_remember(d, print, tcopy, len, icopy, nids,
				    serial, why);
			else {
				free(tcopy);
				free(icopy);
			}
		}
		pthread_mutex_unlock(&sh->lock);
		*fresh = rc < 0;
	}
	if (rc < 0) {
		close(dirfd);
		return -1;
	}
	return shared_hold(text, len, dirfd, ids, nids, serial, hd, why, whylen);
}

void
shared_sweep(struct shared *sh)
{
	struct htable_iter it;
	struct htable_entry *e;

	pthread_mutex_lock(&sh->lock);
	htable_iter_start(&it, &sh->dirs);
	while ((e = htable_iter_next(&it)) != NULL) {
		struct shared_dir *d = e->val;
		if (d->seen) {
			d->seen = 0;
			continue;
		}
		htable_del(&sh->dirs, e->key, e->keylen);
		shared_dir_free(d);
	}
	pthread_mutex_unlock(&sh->lock);
}

/* filekey.c - content keys of song files and the records that keep them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "filekey.h"
#include "fsutil.h"

/* bytes of a file identity's text form, with its NUL, at most */
#define FILEKEY_ID_TEXT_MAX 128
/* numbers in a file identity's text form */
#define FILEKEY_ID_FIELDS 5
/* lines in a file record: four, and a fifth once the file was probed */
#define FILEKEY_RECORD_LINES 4
#define FILEKEY_RECORD_LINES_MAX 5

void
filekey_id_of(const struct stat *st, struct filekey_id *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
}

int
filekey_id_equal(const struct filekey_id *a, const struct filekey_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

int
filekey_unchanged(const char *path, const struct filekey_id *id)
{
	struct filekey_id now;
	struct stat st;

	if (stat(path, &st) < 0)
		return 0;
	filekey_id_of(&st, &now);
	return filekey_id_equal(&now, id);
}

int
filekey_ok(const char *key)
{
	return fsutil_hex_name_ok(key, FILEKEY_LEN);
}

int
filekey_record_name_ok(const char *name)
{
	return fsutil_hex_name_ok(name, SHA256_HEX_LEN - 1);
}

int
filekey_record_name(const char *path, char name[SHA256_HEX_LEN])
{
	char *abspath = realpath(path, NULL);

	if (abspath == NULL)
		return -1;
	sha256_hex(abspath, strlen(abspath), name);
	free(abspath);
	return 0;
}

/* Writes id as a record holds it: "dev ino size sec.nsec". */
static void
filekey_id_format(const struct filekey_id *id, char *out, size_t outlen)
{
	snprintf(out, outlen, "%llu %llu %lld %lld.%09ld",
	    (unsigned long long)id->dev, (unsigned long long)id->ino,
	    (long long)id->size, (long long)id->mtime.tv_sec,
	    (long)id->mtime.tv_nsec);
}

/* Reads the text filekey_id_format writes. Returns 0, or -1 unless text
 * is exactly what it would write for the identity read. */
static int
filekey_id_parse(const char *text, struct filekey_id *id)
{
	/* what ends each number: "dev ino size sec.nsec" */
	static const char ends[FILEKEY_ID_FIELDS] = { ' ', ' ', ' ', '.', '\0' };
	unsigned long long v[FILEKEY_ID_FIELDS];
	char again[FILEKEY_ID_TEXT_MAX], *end;
	const char *p = text;

	for (size_t i = 0; i < FILEKEY_ID_FIELDS; i++) {
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (end == p || *end != ends[i] || errno != 0)
			return -1;
		p = end + 1;
	}
	memset(id, 0, sizeof(*id));
	id->dev = (dev_t)v[0];
	id->ino = (ino_t)v[1];
	id->size = (off_t)(long long)v[2];
	id->mtime.tv_sec = (time_t)(long long)v[3];
	id->mtime.tv_nsec = (long)v[4];
	/* anything else (signs, spaces, numbers that do not fit) is not ours */
	filekey_id_format(id, again, sizeof(again));
	return strcmp(again, text) == 0 ? 0 : -1;
}

/* One file record as read. */
struct filekey_record {
	char *text;		/* the record's bytes; owns the strings below */
	const char *abspath;
	const char *key;
	const char *info;	/* the probe line, or NULL */
	struct filekey_id id;
};

/* Reads and splits the record recname in the open files/ directory.
 * Returns 0 (free r->text), or -1 if it cannot be read or is not a
 * well-formed record. */
static int
filekey_record_read(int filesfd, const char *recname, struct filekey_record *r)
{
	char *lines[FILEKEY_RECORD_LINES_MAX + 1], *save = NULL;
	size_t len;
	int n = 0;

	if (fsutil_read_file(filesfd, recname, FILEKEY_RECORD_MAX, &r->text, &len) < 0)
		return -1;
	for (char *l = strtok_r(r->text, "\n", &save); l != NULL &&
	    n <= FILEKEY_RECORD_LINES_MAX; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	if (n < FILEKEY_RECORD_LINES || n > FILEKEY_RECORD_LINES_MAX || strcmp(lines[0], FILEKEY_RECORD_MAGIC) != 0 ||
	    filekey_id_parse(lines[1], &r->id) < 0 || !filekey_ok(lines[3])) {
		free(r->text);
		r->text = NULL;
		return -1;
	}
	r->abspath = lines[2];
	r->key = lines[3];
	r->info = n > FILEKEY_RECORD_LINES ? lines[FILEKEY_RECORD_LINES] : NULL;
	return 0;
}

int
filekey_record_fresh(int filesfd, const char *recname, char key[FILEKEY_LEN + 1])
{
	char hex[SHA256_HEX_LEN];
	struct filekey_record r;
	int fresh;

	if (filekey_record_read(filesfd, recname, &r) < 0)
		return 0;
	sha256_hex(r.abspath, strlen(r.abspath), hex);
	fresh = strcmp(hex, recname) == 0 && filekey_unchanged(r.abspath, &r.id);
	if (fresh)
		memcpy(key, r.key, FILEKEY_LEN + 1);
	free(r.text);
	return fresh;
}

/* Reads the record recname of the cache's files folder into r, as
 * filekey_record_read does. Returns 0, or -1 if there is none. */
static int
filekey_record_load(const struct cache *c, const char *recname,
    struct filekey_record *r)
{
	char dir[PATH_MAX];
	int fd, rc;

	if (cache_path(c, CACHE_FILES, NULL, dir, sizeof(dir)) < 0)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = filekey_record_read(fd, recname, r);
	close(fd);
	return rc;
}

/* Looks the file up in its record: returns 0 with the key if the record
 * matches id and abspath exactly. */
static int
filekey_record_lookup(const struct cache *c, const char *recname,
    const struct filekey_id *id, const char *abspath, char key[FILEKEY_LEN + 1])
{
	struct filekey_record r;
	int found = -1;

	if (filekey_record_load(c, recname, &r) == 0) {
		if (filekey_id_equal(&r.id, id) && strcmp(r.abspath, abspath) == 0) {
			memcpy(key, r.key, FILEKEY_LEN + 1);
			found = 0;
		}
		free(r.text);
	}
	return found;
}

/* Copies the probe line of the record recname into info (infolen bytes)
 * if that record is of abspath and of content key key, whatever the
 * identity it names: the same bytes hold the same audio, so a touched or
 * copied-back file is not probed again. Returns 0, or -1 if not. */
static int
filekey_record_same_content(const struct cache *c, const char *recname,
    const char *abspath, const char *key, char *info, size_t infolen)
{
	struct filekey_record r;
	int found = -1;

	if (filekey_record_load(c, recname, &r) == 0) {
		if (strcmp(r.abspath, abspath) == 0 && strcmp(r.key, key) == 0 &&
		    r.info != NULL && strlen(r.info) < infolen) {
			memcpy(info, r.info, strlen(r.info) + 1);
			found = 0;
		}
		free(r.text);
	}
	return found;
}

/* Replaces the record atomically (written to a temporary, then renamed). */
static void
filekey_record_store(struct cache *c, const char *recname,
    const struct filekey_id *id, const char *abspath, const char *key,
    const char *info)
{
	char tmp[PATH_MAX], path[PATH_MAX], idtext[FILEKEY_ID_TEXT_MAX];
	FILE *f;

	if (strchr(abspath, '\n') != NULL || (info != NULL && (strchr(info, '\n') !=
	    NULL || info[0] == '\0')) || cache_tmp_path(c, tmp, sizeof(tmp)) < 0 ||
	    cache_path(c, CACHE_FILES, recname, path, sizeof(path)) < 0)
		return;
	f = fopen(tmp, "wxe");	/* O_EXCL: never through a planted link */
	if (f == NULL)
		return;
	filekey_id_format(id, idtext, sizeof(idtext));
	fprintf(f, "%s\n%s\n%s\n%s\n", FILEKEY_RECORD_MAGIC, idtext, abspath, key);
	if (info != NULL)
		fprintf(f, "%s\n", info);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		log_warn("cannot write cache record %s: %s", path, strerror(errno));
		unlink(tmp);
	}
}

/* Hashes an open file; fails if it is cut short or *stop is set. */
static int
filekey_hash_fd(int fd, const atomic_int *stop, char hex[SHA256_HEX_LEN])
{
	unsigned char digest[SHA256_DIGEST_LEN];
	unsigned char *buf = malloc(FILEKEY_HASH_CHUNK);
	struct sha256 h;

	if (buf == NULL)
		return -1;
	sha256_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, FILEKEY_HASH_CHUNK);
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

int
filekey_get(struct cache *c, const char *path, const atomic_int *stop,
    char key[FILEKEY_LEN + 1], struct filekey_id *id, int *hashed,
    char *why, size_t whylen)
{
	char recname[SHA256_HEX_LEN], hex[SHA256_HEX_LEN];
	struct filekey_id after;
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
	filekey_id_of(&st, id);
	sha256_hex(abspath, strlen(abspath), recname);
	if (filekey_record_lookup(c, recname, id, abspath, key) == 0)
		goto done;

	if (filekey_hash_fd(fd, stop, hex) < 0) {
		snprintf(why, whylen, "%s", atomic_load(stop) ? "stopped" :
		    strerror(errno));
		goto fail;
	}
	memcpy(key, hex, FILEKEY_LEN);
	key[FILEKEY_LEN] = '\0';
	*hashed = 1;
	/* remember the key only if the file did not change while we read it */
	if (fstat(fd, &st) == 0) {
		filekey_id_of(&st, &after);
		if (filekey_id_equal(&after, id)) {
			char info[PROBE_LINE_MAX];
			int same = filekey_record_same_content(c, recname, abspath, key,
			    info, sizeof(info)) == 0;
			filekey_record_store(c, recname, id, abspath, key, same ? info : NULL);
		}
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

int
filekey_info_get(struct cache *c, const char *path, const struct filekey_id *id,
    const char *key, char *info, size_t infolen)
{
	char recname[SHA256_HEX_LEN], dir[PATH_MAX];
	struct filekey_record r;
	char *abspath = realpath(path, NULL);
	int fd, found = -1;

	if (abspath == NULL)
		return -1;
	sha256_hex(abspath, strlen(abspath), recname);
	if (cache_path(c, CACHE_FILES, NULL, dir, sizeof(dir)) < 0 ||
	    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		free(abspath);
		return -1;
	}
	if (filekey_record_read(fd, recname, &r) == 0) {
		if (filekey_id_equal(&r.id, id) && strcmp(r.abspath, abspath) == 0 &&
		    (key == NULL || strcmp(r.key, key) == 0) && r.info != NULL &&
		    strlen(r.info) < infolen) {
			memcpy(info, r.info, strlen(r.info) + 1);
			found = 0;
		}
		free(r.text);
	}
	close(fd);
	free(abspath);
	return found;
}

void
filekey_info_put(struct cache *c, const char *path, const struct filekey_id *id,
    const char *key, const char *info)
{
	char recname[SHA256_HEX_LEN];
	char *abspath = realpath(path, NULL);

	if (abspath == NULL)
		return;
	sha256_hex(abspath, strlen(abspath), recname);
	if (filekey_unchanged(abspath, id))
		filekey_record_store(c, recname, id, abspath, key, info);
	free(abspath);
}

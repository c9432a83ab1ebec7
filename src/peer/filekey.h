/* filekey.h - content keys of song files, and the file records in the
 * cache's files/ that spare hashing a file again while it is unchanged.
 *
 * A content key is the first FILEKEY_LEN hex digits of the SHA-256 of the
 * file's content, so names are stable and a changed file gets a new key.
 * A record, files/<SHA-256 hex of the file's real path>, holds four lines:
 * FILEKEY_RECORD_MAGIC, the file's identity (device, inode, size, mtime),
 * its real path and its key; and a fifth, what probe.c read of the file
 * (probe_format), once it was probed. */
#ifndef P2PM_PEER_FILEKEY_H
#define P2PM_PEER_FILEKEY_H

#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "p2pm/sha256.h"
#include "cache.h"
#include "probe.h"

/* hex digits in a content key */
#define FILEKEY_LEN 16
/* bytes read at a time while hashing a song file */
#define FILEKEY_HASH_CHUNK (64 * 1024)
/* the largest file record read, in bytes: a path, the other lines, and a
 * probe line */
#define FILEKEY_RECORD_MAX (PATH_MAX + 256 + PROBE_LINE_MAX)
/* the first line of every file record */
#define FILEKEY_RECORD_MAGIC "p2pm-file-record 1"

/* What tells one version of a file from another without reading it. */
struct filekey_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* Fills id from what stat(2) says of a file. */
void filekey_id_of(const struct stat *st, struct filekey_id *id);

/* True if a and b are the same version of the same file. */
int filekey_id_equal(const struct filekey_id *a, const struct filekey_id *b);

/* True if the file at path (links followed) is still the version id
 * describes. */
int filekey_unchanged(const char *path, const struct filekey_id *id);

/* True if key is a content key: FILEKEY_LEN lower-case hex digits. */
int filekey_ok(const char *key);

/* Finds the content key of the song file at path. The file is hashed only
 * when its record is missing or does not match the file's identity;
 * *hashed tells which, and a fresh key is recorded if the file did not
 * change while it was read. *id is the file's identity as seen before the
 * key was taken, for build_song. Hashing stops early when *stop becomes
 * non-zero. Returns 0, or -1 with a reason in why. */
int filekey_get(struct cache *c, const char *path, const atomic_int *stop,
    char key[FILEKEY_LEN + 1], struct filekey_id *id, int *hashed,
    char *why, size_t whylen);

/* Copies the probe line of the record of the file at path into info if
 * the record is for this identity and key (any key if NULL) and has one
 * that fits in infolen bytes. Returns 0, or -1 if not. */
int filekey_info_get(struct cache *c, const char *path, const struct filekey_id *id,
    const char *key, char *info, size_t infolen);

/* Rewrites the record of the file at path with the probe line info (one
 * line, no LF), if the file still has identity id. Failures are logged. */
void filekey_info_put(struct cache *c, const char *path, const struct filekey_id *id,
    const char *key, const char *info);

/* Writes the name of the record of the file at path: the SHA-256 hex of
 * its real path. Returns 0, or -1 with errno set if path does not resolve
 * (the file is gone). */
int filekey_record_name(const char *path, char name[SHA256_HEX_LEN]);

/* True if name has the form of a record's name (SHA256_HEX_LEN - 1
 * lower-case hex digits). */
int filekey_record_name_ok(const char *name);

/* Reads the record recname in the open files/ directory filesfd. Returns
 * 1 with the key it records in key if it is well formed, named for the
 * path it records, and the file at that path still has the identity it
 * records; 0 if not (or it cannot be read). */
int filekey_record_fresh(int filesfd, const char *recname,
    char key[FILEKEY_LEN + 1]);

#endif

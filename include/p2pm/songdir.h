/* songdir.h - song directories (docs/protocol.md): DIR/index.m3u8 (the
 * canonical playlist, whose SHA-256 is the song's content id), every
 * segment it lists as DIR/<sha256>.ts, and DIR/song.name (the song's name
 * and one LF).
 *
 * songdir_verify checks one whole, hashing every byte; songdir_unchanged
 * then tells with one stat per file whether it is still what was checked.
 * A songdir_writer makes one in a temporary directory beside its final
 * place and renames it there once every segment is written and verified.
 * Nothing here exits or prints. */
#ifndef P2PM_SONGDIR_H
#define P2PM_SONGDIR_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "p2pm/playlist.h"
#include "p2pm/proto.h"
#include "p2pm/sha256.h"

/* the file holding the song's name */
#define SONGDIR_NAME_FILE "song.name"
/* most bytes song.name may hold: a name and its LF */
#define SONGDIR_MAX_NAME_FILE_BYTES (PROTO_MAX_NAME + 1)
/* modes of what the writer makes (before the umask) */
#define SONGDIR_DIR_MODE 0755
#define SONGDIR_FILE_MODE 0644
/* segments are hashed in reads of this many bytes */
#define SONGDIR_READ_CHUNK (256 * 1024)
/* the commit flushes the segments from up to this many threads at once,
 * one thread for each SONGDIR_SYNC_PER_THREAD segments, each with a stack
 * of SONGDIR_SYNC_STACK bytes */
#define SONGDIR_SYNC_THREADS 8
#define SONGDIR_SYNC_PER_THREAD 8
#define SONGDIR_SYNC_STACK (64 * 1024)
/* room for a reason, in bytes */
#define SONGDIR_ERR_LEN 512
/* temporary directories are named ".<base>.<pid>.<n>.part~", with at most
 * this many bytes of the final name's base in them */
#define SONGDIR_TMP_BASE_MAX 128
/* a temporary directory left by a writer that is gone is removed with at
 * most this many files in it (a writer makes one per segment, plus two) */
#define SONGDIR_STALE_MAX_FILES (PLAYLIST_MAX_SEGMENTS + 2)

/* What identifies one file's current state without reading it: if any of
 * these changes, the file may have changed. */
struct songdir_file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	long long mtime_ns;
	long long ctime_ns;
};

struct songdir_info {
	char name[PROTO_MAX_NAME + 1];		/* from song.name, no LF */
	char content_id[SHA256_HEX_LEN];	/* SHA-256 of index.m3u8 */
	struct playlist playlist;		/* as parsed from index.m3u8 */
	long long bytes;			/* the segments' sizes summed */
	struct songdir_file_id index_id, name_id;
	struct songdir_file_id *segment_ids;	/* one per playlist segment */
	size_t other_files;	/* directory entries not part of the song */
};

/* True if text (len bytes, without its LF) may be a song.name: a valid
 * song name (1..PROTO_MAX_NAME bytes of UTF-8, no control byte). */
int songdir_name_ok(const char *text, size_t len);

/* Checks the song directory dir whole: index.m3u8 parses as a playlist
 * (playlist_parse), lists only content-addressed names and is byte for
 * byte its canonical form (playlist_canonical); every segment it lists is
 * a regular file (not a link) whose SHA-256 is its name; song.name holds a
 * valid name and one LF. Entries that are none of these are only counted
 * (other_files). On success fills *out (free it with songdir_info_free)
 * and returns 0; otherwise returns -1 with a one-line reason in err
 * (naming the offending file) and *out empty. Reads every segment: use
 * songdir_unchanged to look again cheaply. */
int songdir_verify(const char *dir, struct songdir_info *out, char *err,
    size_t errlen);

/* songdir_verify of the directory open as dirfd (left open: a caller
 * may go on reading through it exactly what was checked); dir only names
 * it in messages. */
int songdir_verify_at(int dirfd, const char *dir, struct songdir_info *out,
    char *err, size_t errlen);

/* The identity of the file st describes, and whether two are the same. */
void songdir_id_of(const struct stat *st, struct songdir_file_id *id);
int songdir_id_equal(const struct songdir_file_id *a,
    const struct songdir_file_id *b);

/* True if index.m3u8, song.name and every segment of dir still have the
 * identity songdir_verify recorded in info (one stat each, no reading). */
int songdir_unchanged(const char *dir, const struct songdir_info *info);

/* Frees what info holds and empties it; an empty info is fine. */
void songdir_info_free(struct songdir_info *info);

/* ---- writing one */

struct songdir_writer;

/* Starts the song directory dir for the song name (a valid name) with
 * playlist pl (content-addressed; copied, so pl may go after this): makes
 * an empty temporary directory beside dir, exclusively (mode 0700 until
 * the commit), locked (flock) for as long as the writer lives. Temporary
 * directories of dir that no writer holds (left by a process that was
 * killed) are removed first, with the files in them. dir itself is not
 * touched before songdir_writer_commit.
 * Returns the writer, or NULL with a reason in err. */
struct songdir_writer *songdir_writer_open(const char *dir, const char *name,
    const struct playlist *pl, char *err, size_t errlen);

/* Writes segment index of the playlist (len bytes, which must hash to its
 * name: checked again here) into the temporary directory, created with
 * O_EXCL in one write; its write-back to disk is started, not waited for
 * (songdir_writer_commit waits). Writing a segment twice is refused.
 * Returns 0, or -1 with a reason in err (a full disk says so). Safe to
 * call from several threads for different segments. */
int songdir_writer_put(struct songdir_writer *w, size_t index,
    const void *data, size_t len, char *err, size_t errlen);

/* The same for bytes the caller has already checked hash to segment
 * index's name (hashed as they arrived, say): not hashed again. */
int songdir_writer_put_verified(struct songdir_writer *w, size_t index,
    const void *data, size_t len, char *err, size_t errlen);

/* Once every segment is written: flushes every segment to disk (an fsync
 * each, from several threads at once, their write-back already under
 * way), writes
 * index.m3u8 (the canonical form of the playlist) and song.name and
 * flushes them, then the directory, and renames the temporary directory
 * to dir, flushing its parent after: one durable commit for the whole
 * song, so that dir never names less than the whole verified song, even
 * after a crash. That rename replaces nothing but an empty
 * directory: a dir that is a file or holds anything is left as it is and
 * the commit fails. Returns 0, or -1 with a reason in err; either way w is
 * then done with (free it with songdir_writer_abort, which keeps a
 * committed directory). */
int songdir_writer_commit(struct songdir_writer *w, char *err, size_t errlen);

/* Removes the temporary directory and what was written into it, unless it
 * was committed, and frees w. NULL is allowed. */
void songdir_writer_abort(struct songdir_writer *w);

#endif

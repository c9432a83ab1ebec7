/* fsutil.h - small file-system helpers of the peer's cache: directories
 * made and read without following links, small files read whole, names
 * checked before they are used. None of them logs. */
#ifndef P2PM_PEER_FSUTIL_H
#define P2PM_PEER_FSUTIL_H

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

/* Creates dir and its missing parents with mode (like mkdir -p) and
 * checks that dir is a directory. Returns 0, or -1 with errno set. */
int fsutil_mkdirs(const char *dir, mode_t mode);

/* Opens the directory name in the directory parentfd (AT_FDCWD for a
 * path) for reading, not following a symbolic link. Returns the stream,
 * which owns the descriptor it also writes into *fd (close both with
 * closedir), or NULL with errno set. */
DIR *fsutil_opendir_at(int parentfd, const char *name, int *fd);

/* Removes name in parentfd: a file, or a directory holding only files,
 * without following symbolic links (a link is removed, not what it points
 * at). What cannot be opened as a directory is unlinked, and a failure to
 * do so ignored. Returns 0, or -1 with errno set if a directory it emptied
 * could not be removed. */
int fsutil_remove(int parentfd, const char *name);

/* Reads the whole regular file name in dirfd (not following a link), of
 * at most max bytes, into a NUL-terminated buffer *out of *outlen bytes
 * that the caller frees. Returns 0, or -1 with errno set (EFBIG if it is
 * larger than max or not a regular file). */
int fsutil_read_file(int dirfd, const char *name, size_t max, char **out,
    size_t *outlen);

/* True if name is exactly n lower-case hex digits. */
int fsutil_hex_name_ok(const char *name, size_t n);

#endif

/* fsname.h - turning a song name into a safe file name. */
#ifndef P2PM_FSNAME_H
#define P2PM_FSNAME_H

#include <stddef.h>

/* longest file name written, in bytes (NAME_MAX on common file systems) */
#define FSNAME_MAX 255
/* what an empty or unusable name becomes */
#define FSNAME_FALLBACK "song"

/* Writes into out (outlen bytes, at least 2) a single path component made
 * from name: '/', '\\' and control bytes (C0, DEL) become '_', a leading
 * '.' or '-' becomes '_' (no hidden files, no "." or "..", nothing a
 * program may read as an option), and the result is cut to FSNAME_MAX bytes
 * (and outlen - 1) without splitting a UTF-8 sequence. An empty name gives
 * FSNAME_FALLBACK. Returns the length written. */
size_t fsname_from_song(const char *name, char *out, size_t outlen);

#endif

/* library.h - which songs the peer shares: NAME=FILE arguments, the
 * *.mp3 files of the -L directories, and the song directories (what
 * `client fetch` writes: index.m3u8, its segments, song.name) in them or
 * one level down. */
#ifndef P2PM_PEER_LIBRARY_H
#define P2PM_PEER_LIBRARY_H

#include <stddef.h>

#include "filekey.h"

#define LIBRARY_SUFFIX ".mp3"
/* most files taken from one directory */
#define LIBRARY_MAX_DIR_FILES 1000000

/* What a library entry is. */
enum library_kind {
	LIBRARY_FILE,		/* an audio file, segmented into the cache */
	LIBRARY_SONGDIR		/* a song directory, served in place */
};

struct library_entry {
	char *name;	/* the song name shared on the wire (decoded) */
	char *path;	/* the song file, or the song directory */
	enum library_kind kind;
	struct filekey_id id;	/* the file's identity when it was listed; for
				 * a song directory, its playlist's */
};

struct shared;

/* The songs to share: song name -> song file, in the order found. A
 * growing list; owns its strings. */
struct library {
	struct library_entry *v;
	size_t n, cap;
};

/* Adds name -> path (of the kind and identity given) if name is a valid
 * protocol name (1..PROTO_MAX_NAME bytes of UTF-8 without control bytes);
 * otherwise logs and skips it. Returns 0, or -1 if out of memory. */
int library_add(struct library *lib, const char *name, const char *path,
    enum library_kind kind, const struct filekey_id *id);

/* Adds a NAME=FILE argument (split at the first '='); an invalid name is
 * logged and skipped. Returns 0, -1 if it has no '=', -2 if out of memory. */
int library_add_arg(struct library *lib, const char *arg);

/* Adds every regular file named *.mp3 in dir (not hidden ones), in byte
 * order of their names; the song name is the file name without ".mp3".
 * A *.mp3 entry that cannot be used (a dangling link, no permission, not a
 * regular file) gets one log line saying why. Song directories are added
 * too: dir itself if it holds PLAYLIST_INDEX_NAME, else each subdirectory
 * (not hidden) that does, under the name its song.name gives
 * (shared_name: read only when it changed). That costs one stat per
 * entry and two per song directory. Past LIBRARY_MAX_DIR_FILES the rest of
 * the directory is left out, with one log line. Returns -1 (and logs) if
 * dir cannot be read. */
int library_scan_dir(struct library *lib, const char *dir, struct shared *sh);

/* Frees the entries and their strings, and empties lib. */
void library_free(struct library *lib);

#endif

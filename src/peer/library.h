/* library.h - which songs the peer shares: NAME=FILE arguments, the
 * audio files in the trees below the -L directories, and the song
 * directories (what `client fetch` writes: index.m3u8, its segments,
 * song.name) anywhere in them. */
#ifndef P2PM_PEER_LIBRARY_H
#define P2PM_PEER_LIBRARY_H

#include <stddef.h>

#include "filekey.h"

/* directory levels below an -L directory gone into, at most */
#define LIBRARY_MAX_DEPTH 16
/* directory entries looked at in one walk of an -L directory, at most */
#define LIBRARY_MAX_ENTRIES 1000000

/* What a library entry is. */
enum library_kind {
	LIBRARY_FILE,		/* an audio file, segmented into the cache */
	LIBRARY_SONGDIR		/* a song directory, served in place */
};

struct library_entry {
	char *name;	/* the song name shared on the wire (decoded) */
	char *path;	/* the song file, or the song directory */
	enum library_kind kind;
	int tagged;	/* a file of an -L tree: named by its tags once known
			 * (names.h) */
	char *pathname;	/* such a file's name from its path below the -L
			 * directory, which also finds it once its tags name
			 * it (an alias); NULL for other entries */
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
 * protocol name (1..PROTO_MAX_NAME bytes passing proto_name_valid);
 * otherwise logs and skips it. Returns 0, or -1 if out of memory. */
int library_add(struct library *lib, const char *name, const char *path,
    enum library_kind kind, const struct filekey_id *id);

/* Adds a NAME=FILE argument (split at the first '='); an invalid name is
 * logged and skipped. Returns 0, -1 if it has no '=', -2 if out of memory. */
int library_add_arg(struct library *lib, const char *arg);

/* What a walk of the -L directories found and left out. */
struct library_stats {
	size_t files;		/* audio files (by name) added */
	size_t songdirs;	/* song directories found (shared or refused) */
	size_t not_audio;	/* files not named as audio, or not regular */
	size_t hidden;		/* names beginning with '.' */
	size_t unreadable;	/* entries that cannot be looked at */
	size_t loops;		/* directories that are their own parents */
	size_t too_deep;	/* directories past LIBRARY_MAX_DEPTH */
	size_t too_many;	/* entries past LIBRARY_MAX_ENTRIES */
	size_t entries;		/* entries looked at */
};

/* The bytes of the audio ending of the file name file (".mp3", ".FLAC",
 * ...: see library.c), or 0 if it has none. */
size_t library_audio_suffix(const char *file);

/* Adds what the tree below dir shares, in byte order of the names at each
 * level: every regular file whose name ends as an audio file does
 * (library_audio_suffix, any case), named by its path below dir without
 * that ending ("Artist/Album/01 Title"), and every song directory (one
 * holding PLAYLIST_INDEX_NAME) under the name its song.name gives
 * (shared_name: read only when it changed), not gone into. Hidden names,
 * other files, entries that cannot be read, symbolic link loops and
 * directories deeper than LIBRARY_MAX_DEPTH are left out and counted in
 * st (which the caller zeroes); with loud each is named at debug level.
 * At most LIBRARY_MAX_ENTRIES entries are looked at in all. That costs one
 * stat per entry and one more per directory. Returns -1 (and logs) if dir
 * cannot be read or memory runs out. */
int library_scan_dir(struct library *lib, const char *dir, struct shared *sh,
    int loud, struct library_stats *st);

/* Frees the entries and their strings, and empties lib. */
void library_free(struct library *lib);

#endif

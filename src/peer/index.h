/* index.h - the peer's in-memory index: the only way a name in a request
 * becomes a file. Song name -> song (its canonical playlist and content
 * id), segment name (<64 hex>.ts) -> segment file; built
 * from what the peer segmented, never from request text. One lock guards it
 * all. */
#ifndef P2PM_PEER_INDEX_H
#define P2PM_PEER_INDEX_H

#include <stddef.h>

#include "library.h"
#include "hlsdir.h"

struct index;

/* What index_segment_open returns besides a descriptor. */
enum index_open_result {
	INDEX_NO_SUCH_SEGMENT = -1,
	INDEX_OPEN_FAILED = -2,
	/* a segment of a song directory shared in place is no longer the
	 * file that was checked (its identity differs): refused */
	INDEX_CHANGED = -3
};

/* An empty index (free with index_free), or NULL if out of memory.
 * changed (NULL: none) is called, from any thread, when a segment of a
 * song directory shared in place turns out to have changed since its
 * check, to have the directory checked again. */
struct index *index_new(void (*changed)(void));

/* Frees idx and all it holds; NULL is ignored. */
void index_free(struct index *idx);

/* The songs index_sync found needing preparation: copies of entries of
 * the library it was given, whose strings stay that library's (valid as
 * long as it is). Owns v only; free with index_todo_free. */
struct index_todo {
	struct library_entry *v;
	size_t n;
};

/* Frees todo->v (not the strings it points to) and empties todo. */
void index_todo_free(struct index_todo *todo);

/* Makes the wanted songs exactly the entries of lib: new names are added
 * (not yet ready), names no longer listed are dropped with their segments.
 * A name listed twice keeps its first file (logged when all is set).
 * Fills todo (empty before) with each entry that needs preparing and is
 * not already waiting for it: with all, every one; without, the new ones,
 * song files whose identity changed since they were last queued, and every
 * song directory (whose check is cheap while it is unchanged). If memory
 * runs out none is, and the next call lists them again. Returns the number
 * of songs dropped. */
size_t index_sync(struct index *idx, const struct library *lib, int all,
    struct index_todo *todo);

/* True if the song name, from file path, is ready with media key key. */
int index_has(struct index *idx, const char *name, const char *path, const char *key);

/* Marks the song ready with the checked song directory hd at path dir,
 * taking hd. key names what is served: the content key of a song
 * directory of the cache, or a text unique to a directory served in place.
 * Songs with the same key share what is served (the first hd given for
 * it). tags (copied; NULL for none) are the tag words registered with it;
 * other tags than before count as a change. Ignored (returns -1) if the song is no longer wanted from path.
 * Returns 1 if what the peer serves changed, 0 if not. */
int index_ready(struct index *idx, const char *name, const char *path,
    const char *key, const char *dir, struct hlsdir *hd, const char *tags);

/* Records that preparing the song failed: it is not served until a later
 * preparation succeeds. Returns 1 if it was served until now. */
int index_failed(struct index *idx, const char *name, const char *path);

/* Copies the playlist of a ready song into *text (the caller frees it).
 * Returns 0, or -1 if no such song is ready. */
int index_playlist(struct index *idx, const char *name, char **text, size_t *len);

/* Opens a segment named in one of the ready playlists, read-only. One of
 * a song directory shared in place is opened relative to the directory
 * held since its check (hlsdir_held), without following a link, and only
 * if its identity (device, inode, size, mtime, ctime) is still the one
 * checked: else (another file, a symbolic link or nothing under its
 * name) INDEX_CHANGED, logged (at warning the first time for that
 * check), and the index's changed callback is called. Returns the
 * descriptor or an enum index_open_result (errno set for
 * INDEX_OPEN_FAILED). */
int index_segment_open(struct index *idx, const char *segment);

/* What the cache must keep: the content keys of the songs being served
 * from the cache and the files of all wanted songs, ready or not. Owns
 * its strings. */
struct index_usage {
	char **keys;
	size_t nkeys;
	char **paths;
	size_t npaths;
};

/* Fills u with a copy taken under the lock. Returns 0, or -1 if out of
 * memory. Free with index_usage_free. */
int index_usage(struct index *idx, struct index_usage *u);
void index_usage_free(struct index_usage *u);

/* A ready song as registered with the tracker. */
struct index_ready_song {
	char *name;
	char content_id[SHA256_HEX_LEN];
	char *tags;	/* tag words (docs/protocol.md), or NULL */
};

/* All ready songs (at most max) with their content ids, as an array of n
 * the caller frees with index_ready_free; NULL if out of memory. */
struct index_ready_song *index_ready_songs(struct index *idx, size_t max,
    size_t *n);
void index_ready_free(struct index_ready_song *v, size_t n);

#endif

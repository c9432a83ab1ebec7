/* hlsdir.h - a song directory as the peer serves it: the canonical
 * playlist (PLAYLIST_INDEX_NAME, docs/protocol.md), whose SHA-256 is the
 * song's content id, and the MPEG-TS segments it lists, each named by the
 * SHA-256 of its bytes. Made from what ffmpeg wrote, checked when loaded
 * from the cache's songs/<key>, and flushed to disk. */
#ifndef P2PM_PEER_HLSDIR_H
#define P2PM_PEER_HLSDIR_H

#include <stddef.h>
#include <sys/stat.h>

#include "p2pm/playlist.h"
#include "p2pm/sha256.h"
#include "p2pm/songdir.h"
#include "cache.h"

/* the largest playlist the peer serves (what a client accepts) */
#define HLSDIR_MAX_PLAYLIST_BYTES PROTO_MAX_PLAYLIST_BYTES
/* an MPEG-TS segment is a whole number of packets of this size */
#define HLSDIR_TS_PACKET 188
/* bytes read at a time while hashing a segment */
#define HLSDIR_HASH_CHUNK (64 * 1024)
/* what the canonical playlist is written under before it is renamed */
#define HLSDIR_PLAYLIST_TMP ".index.m3u8.tmp"

/* A song directory shared in place, as it was checked: the directory
 * held open since (its segments are opened relative to it, never again by
 * a path, so a directory swapped for another or for a link afterwards is
 * not followed) and each segment's identity then (a file whose identity
 * differs when it is opened is not what was checked). */
struct hlsdir_held {
	int dirfd;
	struct songdir_file_id *ids;	/* one per playlist segment */
	unsigned long long serial;	/* which check this was */
};

/* A checked song directory: the playlist bytes, served as they are, the
 * segments they list, and the content id. Owns its memory. */
struct hlsdir {
	char *text;
	size_t len;
	struct playlist pl;
	char content_id[SHA256_HEX_LEN];
	struct hlsdir_held *held;	/* NULL for a song of the cache */
};

/* Frees what hd holds (closing a held directory) and empties it; an empty
 * hd is fine. */
void hlsdir_free(struct hlsdir *hd);

/* Takes text (len bytes, malloc'd; hd owns it from now on, even on
 * failure) as a served playlist: it must parse (playlist_parse), name every
 * segment <64 hex>.ts and be byte for byte its own canonical form. Fills
 * hd with its content id and returns 0, or returns -1 with a reason in why
 * and hd empty. */
int hlsdir_parse(char *text, size_t len, struct hlsdir *hd, char *why,
    size_t whylen);

/* Reads PLAYLIST_INDEX_NAME (at most HLSDIR_MAX_PLAYLIST_BYTES, a regular
 * file, not a link) in the directory dfd and takes it with hlsdir_parse.
 * Returns 0, or -1 with a reason in why and hd empty. */
int hlsdir_read(int dfd, struct hlsdir *hd, char *why, size_t whylen);

/* Checks one segment file name in dfd without reading it: a non-empty
 * regular file (not a link) of whole MPEG-TS packets. Fills *st. Returns
 * 0, or -1 with a reason naming it in why. */
int hlsdir_segment_stat(int dfd, const char *name, struct stat *st, char *why,
    size_t whylen);

/* Writes the lower-case hex SHA-256 of the file name in dfd (opened
 * without following a link) into hex. Returns 0, or -1 with errno set. */
int hlsdir_hash_file(int dfd, const char *name, char hex[SHA256_HEX_LEN]);

/* Checks a song directory of the cache, open as dfd: hlsdir_read, and
 * every segment passes hlsdir_segment_stat. Segments are not hashed: the
 * cache holds only what hlsdir_address named after hashing it and flushed
 * to disk. Fills hd (free with hlsdir_free) and returns 0, or returns -1
 * with a reason in why and hd empty. */
int hlsdir_check(int dfd, struct hlsdir *hd, char *why, size_t whylen);

/* Turns what the segmenter wrote into the directory dfd (its playlist,
 * segments named <key>-<n>.ts) into a served song directory: each segment
 * is checked (hlsdir_segment_stat), hashed and renamed to <64 hex>.ts, and
 * the playlist replaced by the canonical one with the same durations.
 * Returns 0, or -1 with a reason in why (the directory is then of no use). */
int hlsdir_address(int dfd, const char *key, char *why, size_t whylen);

/* Flushes to disk the playlist and segments of the checked directory dfd
 * (hd is what hlsdir_check gave), then the directory itself, so that a
 * crash after a rename cannot leave a song whose files are cut short.
 * Returns 0, or -1 with a reason in why. */
int hlsdir_sync(int dfd, const struct hlsdir *hd, char *why, size_t whylen);

/* Loads songs/<key> of cache c with hlsdir_check, and writes the
 * directory's path into path. Returns 0, or -1 with a reason in why (a
 * key that is not a content key is refused before any file is opened). */
int hlsdir_load(const struct cache *c, const char *key, struct hlsdir *hd,
    char *path, size_t pathlen, char *why, size_t whylen);

#endif

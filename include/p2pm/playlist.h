/* playlist.h - reading the HLS media playlists peers send (docs/protocol.md):
 * the segment names they list, with their durations, checked so that a
 * name can safely become a file name in the client's output directory. */
#ifndef P2PM_PLAYLIST_H
#define P2PM_PLAYLIST_H

#include <stddef.h>

#include "p2pm/proto.h"

/* most segments one playlist may list */
#define PLAYLIST_MAX_SEGMENTS 100000
/* longest duration one #EXTINF may announce, in seconds */
#define PLAYLIST_MAX_SEGMENT_SECONDS 86400
/* the file name of the playlist itself, in the client's output directory
 * and in the peer's song directories */
#define PLAYLIST_INDEX_NAME "index.m3u8"
/* a content-addressed segment is named <64 hex of its SHA-256>.ts */
#define PLAYLIST_SEGMENT_SUFFIX ".ts"
#define PLAYLIST_HASH_NAME_LEN (64 + 3)
/* #EXT-X-VERSION of the canonical playlist */
#define PLAYLIST_HLS_VERSION 3

struct playlist_segment {
	char name[PROTO_MAX_NAME + 1];
	long long duration_us;	/* from the #EXTINF line before it */
	long duration_ms;	/* the same, in milliseconds */
};

struct playlist {
	struct playlist_segment *segs;	/* owned; free with playlist_free */
	size_t count;
	long long total_us;
	long total_ms;
};

/* True if name (len bytes) may be written to disk as a segment: 1 to
 * PROTO_MAX_NAME bytes of [A-Za-z0-9._-], not "." or "..", and not the
 * playlist's own file name. */
int playlist_segment_name_ok(const char *name, size_t len);

/* True if name (len bytes) is a content-addressed segment name: 64
 * lower-case hex digits (a SHA-256) and ".ts". */
int playlist_hash_name_ok(const char *name, size_t len);

/* True if pl lists at least one segment and every name passes
 * playlist_hash_name_ok. */
int playlist_content_addressed(const struct playlist *pl);

/* Parses a playlist body of len bytes. It must begin with #EXTM3U, end
 * lines with LF or CR LF (a CR anywhere else is refused: players take it
 * for a line end), give an #EXTINF duration before every segment, list 1..PLAYLIST_MAX_SEGMENTS
 * segments with distinct names that pass playlist_segment_name_ok, hold no
 * NUL byte and no tag with a URI= attribute (which would make a player
 * fetch something else). On success fills pl (free with playlist_free) and
 * returns 0; otherwise returns -1 with a reason in why and pl empty. */
int playlist_parse(const char *text, size_t len, struct playlist *pl,
    char *why, size_t whylen);

void playlist_free(struct playlist *pl);

/* The canonical form of pl (docs/protocol.md): #EXTM3U, #EXT-X-VERSION:3,
 * #EXT-X-TARGETDURATION (the longest segment rounded up, at least 1),
 * #EXT-X-MEDIA-SEQUENCE:0, #EXT-X-PLAYLIST-TYPE:VOD, "#EXTINF:<s.us>,"
 * with six decimals and the name for each segment, #EXT-X-ENDLIST; LF line
 * ends. The SHA-256 of these bytes is the song's content id. Returns a
 * malloc'd buffer (not NUL-terminated) and its length in *len, or NULL if
 * out of memory. */
char *playlist_canonical(const struct playlist *pl, size_t *len);

/* True if both playlists list the same segment names in the same order. */
int playlist_same_segments(const struct playlist *a, const struct playlist *b);

/* True if b lists as many segments as a and the same names from index
 * `from` on, so a stream of a can go on with b's segments. */
int playlist_same_tail(const struct playlist *a, const struct playlist *b,
    size_t from);

#endif

/* playlist.h - checking the HLS VOD media playlists the segmenter writes. */
#ifndef P2PM_PEER_PLAYLIST_H
#define P2PM_PEER_PLAYLIST_H

#include <stddef.h>

#include "p2pm/proto.h"

/* a playlist longer than a client accepts is refused */
#define PLAYLIST_MAX_BYTES PROTO_MAX_PLAYLIST_BYTES
/* most segments one song may have (about 110 hours of 4 s segments) */
#define PLAYLIST_MAX_SEGMENTS 100000

/* A checked playlist: its exact text and the segment names it lists, in
 * order. Owns all its memory. */
struct playlist {
	char *text;
	size_t len;
	char **segments;
	size_t nsegments;
};

/* Checks that text is an HLS VOD media playlist (RFC 8216): #EXTM3U first,
 * #EXT-X-TARGETDURATION, #EXT-X-PLAYLIST-TYPE:VOD, an #EXTINF before each
 * URI, #EXT-X-ENDLIST at the end, at least one segment, and every segment
 * named "<prefix>-<n>.ts" with n decimal. On success fills pl with a copy of
 * text and returns 0; otherwise returns -1 with a reason in why. */
int playlist_parse(const char *text, size_t len, const char *prefix,
    struct playlist *pl, char *why, size_t whylen);

/* True if name is a non-empty segment name made of [A-Za-z0-9._-] only. */
int playlist_segment_name_ok(const char *name);

void playlist_free(struct playlist *pl);

#endif

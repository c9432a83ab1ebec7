/* gateway.h - where the HTTP gateway (serve.c) gets songs from: the
 * network's song list, a song's playlist and its segments, fetched
 * through the swarm (a song asked for is fetched whole in the background
 * from several sources, every byte verified), kept in a bounded in-memory
 * cache, a segment the swarm cannot give fetched on its own with the next
 * few read ahead.
 *
 * The only part of `client serve` that speaks to trackers and peers: the
 * HTTP side sees names and byte blobs. Safe to call from many threads. */
#ifndef P2PM_GATEWAY_H
#define P2PM_GATEWAY_H

#include <stdatomic.h>
#include <stddef.h>

#include "p2pm/cli.h"
#include "p2pm/sha256.h"
#include "../tracker_client.h"

/* most bytes of segments kept in memory */
#define GATEWAY_CACHE_BYTES (96L * 1024 * 1024)
/* most segments kept in memory */
#define GATEWAY_CACHE_SEGMENTS 512
/* most songs whose playlist and sources are kept */
#define GATEWAY_MAX_SONGS 64
/* how long a song's playlist and sources are reused before the tracker
 * is asked again, in milliseconds */
#define GATEWAY_SONG_TTL_MS 60000
/* segments fetched ahead of the one a player asked for */
#define GATEWAY_READ_AHEAD 3
/* most read-ahead fetches waiting; the oldest are dropped beyond it */
#define GATEWAY_READ_AHEAD_QUEUE 16
/* most songs swarmed at once; past it, songs are fetched a segment at a
 * time as players ask */
#define GATEWAY_MAX_SWARMS 4
/* how long a segment request waits for the swarm to bring the segment
 * before fetching it on its own, in milliseconds */
#define GATEWAY_SWARM_WAIT_MS 10000
/* how long gateway_close waits for swarms to stop, in milliseconds */
#define GATEWAY_CLOSE_WAIT_MS 5000

enum gateway_result {
	GATEWAY_OK = 0,
	GATEWAY_NOT_FOUND,	/* no such song on the network, or no such
				 * segment in its playlist */
	GATEWAY_TRACKER_DOWN,	/* the tracker cannot be reached */
	GATEWAY_NO_SOURCE,	/* every source failed */
	GATEWAY_NO_MEMORY
};

/* Bytes served as they are: a playlist or a segment. Shared between the
 * cache and the connections sending it; release it with
 * gateway_blob_release. */
struct gateway_blob {
	atomic_int refs;
	size_t len;
	char etag[SHA256_HEX_LEN];	/* SHA-256 of the bytes, hex */
	char data[];
};

struct gateway;

/* Starts a gateway asking the trackers (in order, as the client does) for
 * sources, with timeout_ms
 * for each connection and wait, and its read-ahead thread; its swarms
 * pause segment_delay_ms before each segment after the first (the
 * client's testing aid; 0 normally). Returns NULL with a reason in err. */
struct gateway *gateway_open(const struct cli_trackers *trackers, int timeout_ms,
    int segment_delay_ms, char *err, size_t errlen);

/* Stops the read-ahead thread and the swarms (waiting at most
 * GATEWAY_CLOSE_WAIT_MS) and frees everything no connection still holds.
 * No other call may be running or come later. Returns the number of
 * swarms still running: when it is not 0, gw is left allocated for them
 * and the caller should exit without more ado. */
int gateway_close(struct gateway *gw);

/* The network's songs whose names contain filter ("" or NULL: all), with
 * how many sources hold each, sorted by name (free with song_list_free).
 * GATEWAY_OK or GATEWAY_TRACKER_DOWN, with a reason in err. */
enum gateway_result gateway_songs(struct gateway *gw, const char *filter,
    struct song_list *songs, char *err, size_t errlen);

/* The playlist of song with the content id most of its sources hold (the
 * canonical playlist, verified against that id; as its sources serve it
 * from a version-1 tracker). Starts the swarm fetching it. On GATEWAY_OK
 * *out holds a reference for the caller. */
enum gateway_result gateway_playlist(struct gateway *gw, const char *song,
    struct gateway_blob **out, char *err, size_t errlen);

/* The segment named segment of song's playlist, verified against its name
 * when the name is a SHA-256; also starts the read-ahead of the segments
 * after it. On GATEWAY_OK *out holds a reference for the caller. */
enum gateway_result gateway_segment(struct gateway *gw, const char *song,
    const char *segment, struct gateway_blob **out, char *err, size_t errlen);

/* the song name under which cover art pictures are cached: none, as they
 * are named by their bytes ("" is no song's name) */
#define GATEWAY_ART_SONG ""

/* The cover art picture called name (<sha256>.jpg or .png) of song: from
 * the cache, or fetched from song's sources (REQUEST_SEGMENT name) and
 * checked against its name (picture_matches). GATEWAY_NOT_FOUND when
 * name is not a picture's or no source gives it. On GATEWAY_OK *out holds
 * a reference for the caller. */
enum gateway_result gateway_art(struct gateway *gw, const char *song,
    const char *name, struct gateway_blob **out, char *err, size_t errlen);

/* Drops one reference; the last frees the blob. NULL is allowed. */
void gateway_blob_release(struct gateway_blob *blob);

#endif

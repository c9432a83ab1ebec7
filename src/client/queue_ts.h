/* queue_ts.h - songs joined into one MPEG-TS stream. */
#ifndef P2PM_CLIENT_QUEUE_TS_H
#define P2PM_CLIENT_QUEUE_TS_H

#include <stddef.h>

/* MPEG-TS packet ids */
#define QUEUE_TS_PIDS 8192

struct queue_ts {
	long long offset;	/* added to the song's timestamps, 90 kHz */
	long long next_start;	/* where the next song begins, -1 unknown */
	int song_begins;	/* the next segment is a song's first */
	long long skip_until;	/* PES packets before this PTS are dropped
				 * (--start inside a segment), -1 none */
	unsigned char dropping[QUEUE_TS_PIDS];	/* in a dropped PES packet */
	unsigned char cc[QUEUE_TS_PIDS], cc_seen[QUEUE_TS_PIDS];
};

void queue_ts_init(struct queue_ts *ts);
/* The next segment rewritten is the first of a new song. */
void queue_ts_next_song(struct queue_ts *ts);
/* Rewrites one segment (len bytes, duration_us long) in place: its
 * timestamps moved by the song's offset, fixed at the song's first
 * segment so that it begins where the songs before it ended, and its
 * continuity counters going on from the last packet of the same id. With
 * skip_ms > 0 (a song's first segment, --start) the audio and video PES
 * packets that begin less than skip_ms into it are dropped. Returns the
 * bytes kept, at the start of buf. A segment that is not whole packets is
 * left as it is. */
size_t queue_ts_rewrite(struct queue_ts *ts, char *buf, size_t len,
    long long duration_us, long skip_ms);

#endif

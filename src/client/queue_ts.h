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
	long long last_pts;	/* the last audio PTS written, moved; -1 none */
};

/* An audio stream's codec, as its first frame header tells it. */
enum queue_codec {
	QUEUE_CODEC_UNKNOWN = 0,
	QUEUE_CODEC_MP3,	/* MPEG audio layer III */
	QUEUE_CODEC_AAC		/* AAC in ADTS frames */
};

struct queue_format {
	enum queue_codec codec;
	int sample_rate;	/* Hz */
	int channels;
	int frame_samples;	/* samples in one frame */
};

/* The codec's name, for messages. */
const char *queue_codec_name(enum queue_codec codec);

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

/* Called at the end of a song whose frames last frame_us: the next song
 * begins no earlier than one frame after the last audio PTS written (the
 * segments' durations may say a little less than the audio they hold;
 * a re-encoded song, written with duration_us 0 and one frame per PES
 * packet, is measured this way alone). */
void queue_ts_end_song(struct queue_ts *ts, long long frame_us);

/* Reads the format of the first audio frame in buf (len bytes of whole
 * packets: a song's first segment) into fmt. Returns 0, or -1 when no MP3
 * or ADTS frame header is found (fmt->codec is then QUEUE_CODEC_UNKNOWN). */
int queue_ts_format(const char *buf, size_t len, struct queue_format *fmt);

#endif

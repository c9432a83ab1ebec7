/* queue_ts.c - songs joined into one MPEG-TS stream: each song's
 * timestamps (PTS, DTS and PCR) are moved on to begin where the one before
 * it ended, and the continuity counters run on, so that a player or
 * ffprobe sees one stream of the length of all of them. */
#include <string.h>

#include "queue_ts.h"

#define TS_PACKET 188
#define TS_SYNC 0x47
/* timestamps run modulo 2^33, at 90 kHz */
#define TS_CLOCK_MOD (1LL << 33)
#define TS_CLOCK_HZ 90000LL

void
queue_ts_init(struct queue_ts *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->next_start = -1;
	ts->last_pts = -1;
}

void
queue_ts_next_song(struct queue_ts *ts)
{
	ts->song_begins = 1;
}

static long long
queue_ts_wrap(long long t)
{
	t %= TS_CLOCK_MOD;
	return t < 0 ? t + TS_CLOCK_MOD : t;
}

static long long
queue_ts_read_pts(const unsigned char *b)
{
	return ((long long)(b[0] >> 1 & 7) << 30) | ((long long)b[1] << 22) |
	    ((long long)(b[2] >> 1) << 15) | ((long long)b[3] << 7) | (b[4] >> 1);
}

static void
queue_ts_write_pts(unsigned char *b, long long t)
{
	b[0] = (unsigned char)((b[0] & 0xF0) | ((t >> 29) & 0x0E) | 1);
	b[1] = (unsigned char)(t >> 22);
	b[2] = (unsigned char)(((t >> 14) & 0xFE) | 1);
	b[3] = (unsigned char)(t >> 7);
	b[4] = (unsigned char)(((t << 1) & 0xFE) | 1);
}

/* Where the PES header's PTS of packet p is (NULL if it has none), and in
 * *dts its DTS (or NULL). */
static unsigned char *
queue_ts_pes_pts(unsigned char *p, unsigned char **dts)
{
	size_t off = 4;
	unsigned char sid;
	int flags;

	*dts = NULL;
	if (!(p[1] & 0x40) || !(p[3] & 0x10))
		return NULL;	/* no PES starts here, or no payload */
	if (p[3] & 0x20)
		off += 1 + (size_t)p[4];
	if (off + 19 > TS_PACKET || p[off] != 0 || p[off + 1] != 0 ||
	    p[off + 2] != 1)
		return NULL;
	sid = p[off + 3];
	if ((sid & 0xE0) != 0xC0 && (sid & 0xF0) != 0xE0 && sid != 0xBD)
		return NULL;
	flags = p[off + 7] >> 6;
	if (!(flags & 2))
		return NULL;
	if (flags == 3)
		*dts = p + off + 14;
	return p + off + 9;
}

/* The first PTS in data (len bytes of whole packets), or -1. */
static long long
queue_ts_first_pts(unsigned char *data, size_t len)
{
	for (size_t i = 0; i + TS_PACKET <= len; i += TS_PACKET) {
		unsigned char *dts, *pts = queue_ts_pes_pts(data + i, &dts);
		if (pts != NULL)
			return queue_ts_read_pts(pts);
	}
	return -1;
}

/* Moves the PCR, PTS and DTS of packet p by the song's offset. */
static void
queue_ts_shift(const struct queue_ts *ts, unsigned char *p)
{
	unsigned char *pts, *dts;

	/* the PCR, in the adaptation field */
	if ((p[3] & 0x20) && p[4] >= 7 && (p[5] & 0x10)) {
		unsigned char *c = p + 6;
		long long base = ((long long)c[0] << 25) | ((long long)c[1] << 17) |
		    ((long long)c[2] << 9) | ((long long)c[3] << 1) | (c[4] >> 7);
		base = queue_ts_wrap(base + ts->offset);
		c[0] = (unsigned char)(base >> 25);
		c[1] = (unsigned char)(base >> 17);
		c[2] = (unsigned char)(base >> 9);
		c[3] = (unsigned char)(base >> 1);
		c[4] = (unsigned char)((c[4] & 0x7F) | ((base & 1) << 7));
	}
	pts = queue_ts_pes_pts(p, &dts);
	if (pts != NULL)
		queue_ts_write_pts(pts, queue_ts_wrap(queue_ts_read_pts(pts) +
		    ts->offset));
	if (dts != NULL)
		queue_ts_write_pts(dts, queue_ts_wrap(queue_ts_read_pts(dts) +
		    ts->offset));
}

/* Remembers the PTS of packet p if it starts an audio PES packet. */
static void
queue_ts_note_pts(struct queue_ts *ts, unsigned char *p)
{
	unsigned char *dts, *pts = queue_ts_pes_pts(p, &dts);
	size_t off = (p[3] & 0x20) ? 5 + (size_t)p[4] : 4;

	if (pts != NULL && (p[off + 3] & 0xE0) == 0xC0)
		ts->last_pts = queue_ts_read_pts(pts);
}

/* Is packet p (of pid) part of a PES packet that --start drops? */
static int
queue_ts_dropped(struct queue_ts *ts, unsigned char *p, unsigned pid)
{
	unsigned char *dts, *pts;

	if (ts->skip_until < 0)
		return 0;
	if (p[1] & 0x40) {
		pts = queue_ts_pes_pts(p, &dts);
		if (pts == NULL)	/* not a PES packet with a PTS: kept */
			ts->dropping[pid] = 0;
		else
			ts->dropping[pid] = queue_ts_wrap(queue_ts_read_pts(pts) -
			    ts->skip_until) > TS_CLOCK_MOD / 2;
	}
	return ts->dropping[pid];
}

size_t
queue_ts_rewrite(struct queue_ts *ts, char *buf, size_t len,
    long long duration_us, long skip_ms)
{
	unsigned char *data = (unsigned char *)buf;
	size_t kept = 0;

	if (len % TS_PACKET != 0 || len == 0 || data[0] != TS_SYNC)
		return len;	/* not whole packets: passed on as it is */
	ts->skip_until = -1;
	if (ts->song_begins) {
		long long first = queue_ts_first_pts(data, len);
		if (first >= 0) {
			ts->song_begins = 0;
			if (ts->next_start < 0)
				ts->next_start = first;
			ts->offset = ts->next_start - first;
			if (skip_ms > 0)
				ts->skip_until = queue_ts_wrap(first + skip_ms *
				    TS_CLOCK_HZ / 1000);
			memset(ts->dropping, 0, sizeof(ts->dropping));
		}
	}
	if (ts->next_start >= 0)
		ts->next_start += duration_us * TS_CLOCK_HZ / 1000000;
	for (size_t i = 0; i + TS_PACKET <= len; i += TS_PACKET) {
		unsigned char *p = data + i;
		unsigned pid = (unsigned)(p[1] & 0x1F) << 8 | p[2];

		if (p[0] != TS_SYNC) {
			/* lost sync: the rest goes on as it is */
			memmove(data + kept, p, len - i);
			return kept + len - i;
		}
		if (queue_ts_dropped(ts, p, pid))
			continue;
		/* the continuity counter goes on from the last song's */
		if (ts->cc_seen[pid]) {
			unsigned cc = (p[3] & 0x10) ? (ts->cc[pid] + 1u) & 0x0F :
			    ts->cc[pid];
			p[3] = (unsigned char)((p[3] & 0xF0) | cc);
		}
		ts->cc[pid] = p[3] & 0x0F;
		ts->cc_seen[pid] = 1;
		if (ts->offset != 0)
			queue_ts_shift(ts, p);
		queue_ts_note_pts(ts, p);
		if (kept != i)
			memmove(data + kept, p, TS_PACKET);
		kept += TS_PACKET;
	}
	return kept;
}

void
queue_ts_end_song(struct queue_ts *ts, long long frame_us)
{
	long long ahead;

	if (ts->last_pts < 0 || ts->next_start < 0)
		return;
	/* how far the last frame's end lies past next_start, modulo 2^33 */
	ahead = queue_ts_wrap(ts->last_pts + frame_us * TS_CLOCK_HZ / 1000000 -
	    ts->next_start);
	if (ahead < TS_CLOCK_MOD / 2)
		ts->next_start += ahead;
}

const char *
queue_codec_name(enum queue_codec codec)
{
	switch (codec) {
	case QUEUE_CODEC_MP3:
		return "MP3";
	case QUEUE_CODEC_AAC:
		return "AAC";
	default:
		return "an unknown codec";
	}
}

/* Reads one MP3 or ADTS frame header (h, at least 4 bytes) into fmt.
 * Returns 0, or -1 if h is none. */
static int
queue_ts_frame_header(const unsigned char *h, struct queue_format *fmt)
{
	static const int mpeg1_rates[3] = { 44100, 48000, 32000 };
	static const int adts_rates[13] = { 96000, 88200, 64000, 48000, 44100,
	    32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350 };

	if (h[0] != 0xFF)
		return -1;
	if ((h[1] & 0xF6) == 0xF0) {
		/* ADTS: 12 sync bits, layer 0 */
		unsigned rate = (h[2] >> 2) & 0x0F;
		unsigned chans = (unsigned)(h[2] & 1) << 2 | h[3] >> 6;
		if (rate >= 13 || chans == 0)
			return -1;
		fmt->codec = QUEUE_CODEC_AAC;
		fmt->sample_rate = adts_rates[rate];
		fmt->channels = chans == 7 ? 8 : (int)chans;
		fmt->frame_samples = 1024;
		return 0;
	}
	if ((h[1] & 0xE0) == 0xE0 && ((h[1] >> 1) & 3) == 1) {
		/* MPEG audio layer III: 11 sync bits, version, layer */
		unsigned version = (h[1] >> 3) & 3, rate = (h[2] >> 2) & 3;
		if (version == 1 || rate == 3 || (h[2] >> 4) == 0x0F)
			return -1;
		fmt->codec = QUEUE_CODEC_MP3;
		/* 3: MPEG-1, 2: MPEG-2 (half the rate), 0: MPEG-2.5 (a quarter) */
		fmt->sample_rate = mpeg1_rates[rate] >> (version == 3 ? 0 :
		    version == 2 ? 1 : 2);
		fmt->channels = (h[3] >> 6) == 3 ? 1 : 2;
		fmt->frame_samples = version == 3 ? 1152 : 576;
		return 0;
	}
	return -1;
}

int
queue_ts_format(const char *buf, size_t len, struct queue_format *fmt)
{
	const unsigned char *data = (const unsigned char *)buf;

	memset(fmt, 0, sizeof(*fmt));
	for (size_t i = 0; i + TS_PACKET <= len; i += TS_PACKET) {
		const unsigned char *p = data + i;
		size_t off = 4;

		if (p[0] != TS_SYNC)
			return -1;
		if (!(p[1] & 0x40) || !(p[3] & 0x10))
			continue;	/* no PES starts here, or no payload */
		if (p[3] & 0x20)
			off += 1 + (size_t)p[4];
		if (off + 9 > TS_PACKET || p[off] != 0 || p[off + 1] != 0 ||
		    p[off + 2] != 1 || (p[off + 3] & 0xE0) != 0xC0)
			continue;	/* not an audio PES packet */
		/* the frames begin after the PES header */
		off += 9 + (size_t)p[off + 8];
		for (; off + 4 <= TS_PACKET; off++)
			if (queue_ts_frame_header(p + off, fmt) == 0)
				return 0;
		memset(fmt, 0, sizeof(*fmt));
		return -1;
	}
	return -1;
}

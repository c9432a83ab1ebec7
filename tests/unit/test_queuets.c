/* test_queuets.c - reading a song's audio format from its first segment
 * (what decides whether a queue re-encodes it), and where the next song
 * begins after one measured by its last frame. */
#include <string.h>

#include "../../src/client/queue_ts.h"
#include "tap.h"

#define PKT 188

/* One TS packet on PID 256 starting an audio PES packet whose payload
 * begins with junk bytes, then the frame header h (4 bytes). */
static void
make_packet(unsigned char *p, const unsigned char *h, size_t junk)
{
	static const unsigned char pes[] = { 0, 0, 1, 0xC0, 0, 0, 0x80, 0x80, 5,
	    0x21, 0, 1, 0, 1 };
	size_t off = 4;

	memset(p, 0xFF, PKT);
	p[0] = 0x47;
	p[1] = 0x41;	/* payload unit start, PID 256 */
	p[2] = 0x00;
	p[3] = 0x10;	/* payload only */
	memcpy(p + off, pes, sizeof(pes));
	off += sizeof(pes);
	memset(p + off, 0, junk);
	memcpy(p + off + junk, h, 4);
}

int
main(void)
{
	unsigned char seg[2 * PKT];
	struct queue_format f;
	struct queue_ts ts;
	/* MPEG-1 layer III, 128 kb/s, 44.1 kHz, joint stereo */
	static const unsigned char mp3[] = { 0xFF, 0xFB, 0x90, 0x44 };
	/* MPEG-2 layer III, 22.05 kHz, mono */
	static const unsigned char mp3_low[] = { 0xFF, 0xF3, 0x80, 0xC4 };
	/* ADTS, AAC LC, 48 kHz, 2 channels */
	static const unsigned char adts[] = { 0xFF, 0xF1, 0x4C, 0x80 };
	static const unsigned char layer2[] = { 0xFF, 0xFD, 0x90, 0x44 };

	make_packet(seg, mp3, 0);
	ok(queue_ts_format((char *)seg, PKT, &f) == 0 && f.codec == QUEUE_CODEC_MP3 &&
	    f.sample_rate == 44100 && f.channels == 2 && f.frame_samples == 1152,
	    "an MPEG-1 layer III frame: MP3, 44100 Hz, 2 channels, 1152 samples");
	make_packet(seg, mp3_low, 3);
	ok(queue_ts_format((char *)seg, PKT, &f) == 0 && f.codec == QUEUE_CODEC_MP3 &&
	    f.sample_rate == 22050 && f.channels == 1 && f.frame_samples == 576,
	    "an MPEG-2 one after a few bytes: 22050 Hz, mono, 576 samples");
	make_packet(seg, adts, 0);
	ok(queue_ts_format((char *)seg, PKT, &f) == 0 && f.codec == QUEUE_CODEC_AAC &&
	    f.sample_rate == 48000 && f.channels == 2 && f.frame_samples == 1024,
	    "an ADTS frame: AAC, 48000 Hz, 2 channels, 1024 samples");
	make_packet(seg, layer2, 0);
	ok(queue_ts_format((char *)seg, PKT, &f) < 0 && f.codec == QUEUE_CODEC_UNKNOWN,
	    "MPEG audio layer II is no codec a queue re-encodes between");

	/* the PES packet begins in the second TS packet */
	memset(seg, 0xFF, PKT);
	seg[0] = 0x47;
	seg[1] = 0x00;
	seg[2] = 0x11;
	seg[3] = 0x10;
	make_packet(seg + PKT, adts, 0);
	ok(queue_ts_format((char *)seg, sizeof(seg), &f) == 0 && f.codec == QUEUE_CODEC_AAC,
	    "the first audio PES packet is found after other packets");
	seg[PKT] = 0x00;
	ok(queue_ts_format((char *)seg, sizeof(seg), &f) < 0, "lost sync gives no format");
	ok(queue_ts_format((char *)seg, 100, &f) < 0, "less than a packet gives none");

	queue_ts_init(&ts);
	ts.next_start = 900000;
	ts.last_pts = 899000;
	queue_ts_end_song(&ts, 26122);
	ok(ts.next_start == 899000 + 2350,
	    "the next song begins after the last frame when it ends later");
	ts.last_pts = 800000;
	queue_ts_end_song(&ts, 26122);
	ok(ts.next_start == 901350, "and never earlier than the durations say");
	ts.next_start = (1LL << 33) + 10;
	ts.last_pts = 5;
	queue_ts_end_song(&ts, 1000000);
	ok(ts.next_start == (1LL << 33) + 90005, "across the 33-bit wrap of the clock");
	done_testing();
	return 0;
}

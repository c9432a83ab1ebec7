/* segmenter.h - the only code that runs ffmpeg: one song file in, an HLS
 * VOD playlist and its MPEG-TS segments out. */
#ifndef P2PM_PEER_SEGMENTER_H
#define P2PM_PEER_SEGMENTER_H

#include <stdatomic.h>
#include <stddef.h>

/* target segment length, seconds (passed to ffmpeg as -hls_time) */
#define SEGMENTER_SEGMENT_SECONDS "4"
/* an ffmpeg run taking longer than this is killed */
#define SEGMENTER_TIMEOUT_S 300
/* how much of ffmpeg's stderr is kept for the log */
#define SEGMENTER_STDERR_MAX 1024
/* how often a running ffmpeg is checked for the stop request */
#define SEGMENTER_POLL_MS 100

/* Finds an executable "ffmpeg" in $PATH and writes its path into out.
 * Returns 0, or -1 if there is none. */
int segmenter_find_ffmpeg(char *out, size_t outlen);

/* How segmenter_run ended. */
enum segmenter_result {
	SEGMENTER_OK = 0,
	SEGMENTER_STOPPED,	/* *stop became non-zero; ffmpeg was killed */
	SEGMENTER_BAD_INPUT,	/* the input cannot be segmented, or ffmpeg could
				 * not be run or did not finish in time */
	SEGMENTER_BAD_OUTPUT	/* the output directory cannot be written: ffmpeg
				 * named a file in it, or its file system is full */
};

/* Runs ffmpeg (the executable at path ffmpeg) on input, copying its first
 * audio stream without re-encoding (or, when aac_kbps > 0, encoding it to
 * AAC at aac_kbps kb/s) into outdir/<prefix>-<n>.ts segments of
 * about SEGMENTER_SEGMENT_SECONDS and the playlist outdir/PLAYLIST_INDEX_NAME.
 * Other streams (cover art) are left out. ffmpeg is killed when it runs
 * past SEGMENTER_TIMEOUT_S or when *stop becomes non-zero. Returns
 * SEGMENTER_OK when ffmpeg exited 0, else which side failed, with a
 * one-line reason (including what ffmpeg said on stderr) in why. */
enum segmenter_result segmenter_run(const char *ffmpeg, const char *input, const char *outdir,
    const char *prefix, int aac_kbps, const atomic_int *stop, char *why,
    size_t whylen);

#endif

/* segmenter.h - the only code that runs an outside program: ffmpeg, one
 * song file in, an HLS VOD playlist and its MPEG-TS segments out, and (in
 * the same run, for a file not probed before) what the file holds, for
 * probe_read. */
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
	SEGMENTER_NOT_AUDIO,	/* ffmpeg finds no audio in it: an empty file,
				 * a format off the allow-list (a playlist, an
				 * image, text), or no audio stream */
	SEGMENTER_BAD_OUTPUT	/* the output directory cannot be written: ffmpeg
				 * named a file in it, or its file system is full */
};

/* the probe argument of segmenter_run: what the run also (or only) does */
#define SEGMENTER_SEGMENT_ONLY 0	/* segments, nothing else */
#define SEGMENTER_PROBE 1		/* segments, and writes what probe_read reads */
#define SEGMENTER_PROBE_ONLY 2		/* writes what probe_read reads, no segments */
/* or'ed into SEGMENTER_PROBE or SEGMENTER_PROBE_ONLY: the run also copies
 * the first packet of the file's first video stream (the picture MP3,
 * FLAC, M4A and Ogg files embed, an attached_pic stream), byte for byte,
 * into outdir/SEGMENTER_PICTURE_FILE; a file without one leaves that
 * empty or absent, and the run goes on as without it */
#define SEGMENTER_PICTURE 4
#define SEGMENTER_PICTURE_FILE "picture"

/* the descriptor number the input has in ffmpeg, which opens it as
 * /proc/self/fd/SEGMENTER_INPUT_FD */
#define SEGMENTER_INPUT_FD 3
/* ffmpeg is killed once its output directory holds more than
 * SEGMENTER_OUTPUT_FACTOR times the input's size plus
 * SEGMENTER_OUTPUT_SLACK bytes (MPEG-TS adds about a tenth to audio) */
#define SEGMENTER_OUTPUT_FACTOR 4
#define SEGMENTER_OUTPUT_SLACK (1024 * 1024)

/* Runs ffmpeg (the executable at path ffmpeg) on input, copying its first
 * audio stream without re-encoding (or, when aac_kbps > 0, encoding it to
 * AAC at aac_kbps kb/s) into outdir/<prefix>-<n>.ts segments (prefix
 * letters, digits, '-' and '_' only; outdir a whole path, in which ffmpeg
 * runs) of
 * about SEGMENTER_SEGMENT_SECONDS and the playlist outdir/PLAYLIST_INDEX_NAME.
 * Other streams (cover art) are left out of the segments. With probe
 * SEGMENTER_PROBE, the same run also writes what probe_read reads into
 * outdir; with SEGMENTER_PROBE_ONLY it writes only that; either with
 * SEGMENTER_PICTURE also the embedded picture. ffmpeg is killed when it runs
 * past SEGMENTER_TIMEOUT_S or when *stop becomes non-zero. Returns
 * SEGMENTER_OK when ffmpeg exited 0, else which side failed, with a
 * one-line reason (including what ffmpeg said on stderr) in why. */
enum segmenter_result segmenter_run(const char *ffmpeg, const char *input, const char *outdir,
    const char *prefix, int aac_kbps, int probe, const atomic_int *stop, char *why,
    size_t whylen);

/* segmenter_run on the open regular file input_fd (the caller keeps it,
 * open, and its offset is not used): ffmpeg reads that very file through
 * an inherited descriptor, so a file put in its path meanwhile is never
 * read; it tells its format the way it always does, but takes only the
 * audio demuxers of PROBE_FORMATS (-format_whitelist: a playlist, a
 * concat list, an image or text is SEGMENTER_NOT_AUDIO, as is an empty
 * file, without running ffmpeg) and reads only through the file protocol,
 * so nothing the file names is opened; and it is killed,
 * SEGMENTER_BAD_INPUT, once its output passes the SEGMENTER_OUTPUT_FACTOR
 * cap. */
enum segmenter_result segmenter_run_fd(const char *ffmpeg, int input_fd,
    const char *outdir, const char *prefix, int aac_kbps, int probe,
    const atomic_int *stop, char *why, size_t whylen);

#endif

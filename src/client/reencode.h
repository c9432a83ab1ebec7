/* reencode.h - a song re-encoded by ffmpeg on its way into a queue's
 * stream: a song whose codec is not the stream's is turned into the
 * stream's codec, sample rate and channels, so that the stream keeps one
 * description from its first byte to its last (players read the stream's
 * codec once, at its start, and follow no change of it). */
#ifndef P2PM_CLIENT_REENCODE_H
#define P2PM_CLIENT_REENCODE_H

#include <stddef.h>

#include "queue_ts.h"

#define REENCODE_FFMPEG "ffmpeg"
/* bit rate of a re-encoded song, in kb/s */
#define REENCODE_KBPS 192
/* bytes read from ffmpeg at a time (whole MPEG-TS packets are handed on) */
#define REENCODE_READ_BYTES (188 * 64)
/* stack of the thread reading ffmpeg's output, in bytes */
#define REENCODE_THREAD_STACK (128 * 1024)

struct reencode;

/* Where the re-encoded stream goes: whole MPEG-TS packets (len a multiple
 * of 188), which emit may rewrite in place. It returns 0, or non-zero to
 * stop (that value is then reencode_finish's). */
typedef int (*reencode_emit_fn)(void *ctx, char *data, size_t len);

/* Starts ffmpeg reading MPEG-TS on a pipe and writing it as MPEG-TS in
 * format to (its codec, sample rate and channels; one frame per PES
 * packet), and a thread handing ffmpeg's output to emit. Returns NULL with
 * the reason in err (naming the package when ffmpeg is missing). */
struct reencode *reencode_start(const struct queue_format *to,
    reencode_emit_fn emit, void *ctx, char *err, size_t errlen);

/* Feeds len bytes of the song to ffmpeg. Returns 0, or -1 when ffmpeg has
 * stopped reading (it failed, or emit asked to stop; reencode_finish says
 * which). */
int reencode_write(struct reencode *r, const char *data, size_t len);

/* Ends the song's input (with stop set, stops ffmpeg first), waits for the
 * rest of its output to be handed on and for ffmpeg to exit, and frees r.
 * Returns 0, emit's non-zero value if it stopped the output, or -1 when
 * ffmpeg failed (logged). NULL is allowed (0). */
int reencode_finish(struct reencode *r, int stop);

#endif

/* probe.h - what a song file really holds, read with ffprobe (the only
 * code besides the segmenter that runs an outside program): the codec of
 * its first audio stream, its tags and its duration. Never the file name's
 * ending: a WAV named .mp3 is a WAV, a playlist or a picture named .mp3 is
 * not audio. */
#ifndef P2PM_PEER_PROBE_H
#define P2PM_PEER_PROBE_H

#include <stdatomic.h>
#include <stddef.h>

/* an ffprobe run taking longer than this, in seconds, is killed */
#define PROBE_TIMEOUT_S 30
/* bytes of ffprobe's output read, at most; more fails the probe */
#define PROBE_OUTPUT_MAX (64 * 1024)
/* how often a running ffprobe is checked for the stop request, in ms */
#define PROBE_POLL_MS 100
/* bytes of a codec name kept, at most */
#define PROBE_CODEC_MAX 31
/* bytes of one tag value kept, at most; a longer value is left out */
#define PROBE_TAG_MAX 255
/* bytes of a probe_format line, with its NUL, at most: codec and
 * duration, and each tag's key and percent-encoded value */
#define PROBE_LINE_MAX (64 + PROBE_CODEC_MAX + PROBE_NTAGS_MAX * (3 * PROBE_TAG_MAX + 16))
#define PROBE_NTAGS_MAX 5
/* the containers ffprobe (and so the peer) opens, as its -format_whitelist */
#define PROBE_FORMATS "mp3,mov,aac,flac,ogg,wav,aiff"

/* The tags read, in the order they are written (probe_format). */
enum probe_tag {
	PROBE_ARTIST,
	PROBE_ALBUM,
	PROBE_TITLE,
	PROBE_TRACK,	/* the track number, digits only ("3" of "3/12") */
	PROBE_YEAR,	/* four digits ("1999" of "1999-05-01") */
	PROBE_NTAGS
};

/* What a song file holds. Empty strings for tags it does not have. */
struct probe_info {
	char codec[PROBE_CODEC_MAX + 1];	/* ffprobe's codec_name: "mp3" */
	char tag[PROBE_NTAGS][PROBE_TAG_MAX + 1];	/* UTF-8, no control bytes */
	long long duration_ms;			/* 0 if unknown */
};

/* How a file is made into segments. */
enum probe_mode {
	PROBE_COPY,		/* MP3 and AAC: copied as they are */
	PROBE_TRANSCODE		/* any other audio: encoded once to AAC */
};

/* How probe_run ended. */
enum probe_result {
	PROBE_OK = 0,
	PROBE_NOT_AUDIO,	/* ffprobe cannot open it or finds no audio */
	PROBE_FAILED,		/* ffprobe could not be run, timed out, or its
				 * output is not what it should be */
	PROBE_STOPPED		/* *stop became non-zero; ffprobe was killed */
};

/* Finds an executable "ffprobe" in $PATH and writes its path into out.
 * Returns 0, or -1 if there is none. */
int probe_find_ffprobe(char *out, size_t outlen);

/* Runs ffprobe (the executable at path ffprobe) on the file at path, in
 * only the PROBE_FORMATS containers and from plain files only, killed
 * after PROBE_TIMEOUT_S or when *stop becomes non-zero, and fills info
 * from its output (-of flat, parsed strictly, at most PROBE_OUTPUT_MAX
 * bytes). Returns PROBE_OK, or what went wrong with a one-line reason in
 * why. */
enum probe_result probe_run(const char *ffprobe, const char *path,
    const atomic_int *stop, struct probe_info *info, char *why, size_t whylen);

/* How the file info describes is segmented: by its codec. */
enum probe_mode probe_mode_of(const struct probe_info *info);

/* The name of tag t on the wire and in the cache ("artist", ...). */
const char *probe_tag_key(enum probe_tag t);

/* Writes info as one line of space-separated percent-encoded key=value
 * words: codec=, duration= (seconds with three decimals), then each tag
 * present (probe_tag_key). Returns the length, or -1 if it does not fit in
 * outlen bytes. */
int probe_format(const struct probe_info *info, char *out, size_t outlen);

/* Writes the tag words sent to the tracker with the song
 * (docs/protocol.md): artist=, album=, title=, track=, year= for the tags
 * present and duration= in whole seconds (when known), values
 * percent-encoded, at most PROTO_MAX_TAG_BYTES bytes in all (a tag that
 * does not fit is left out). Returns the length (0: none), or -1 if
 * outlen is too small for PROTO_MAX_TAG_BYTES + 1. */
int probe_wire_tags(const struct probe_info *info, char *out, size_t outlen);

/* Reads a line probe_format wrote. Returns 0, or -1 unless it is one
 * (with a codec). */
int probe_parse(const char *line, struct probe_info *info);

#endif

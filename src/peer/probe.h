/* probe.h - what a song file really holds, as the ffmpeg run that
 * segments it finds (segmenter.h: the file is probed and segmented in one
 * run): the codec of its first audio stream and its tags; its duration is
 * that of the playlist made of it. Never the file name's ending: a WAV
 * named .mp3 is a WAV, a playlist or a picture named .mp3 is not audio. */
#ifndef P2PM_PEER_PROBE_H
#define P2PM_PEER_PROBE_H

#include <stddef.h>

/* bytes of each file the probing run writes read, at most; more fails the
 * probe */
#define PROBE_OUTPUT_MAX (64 * 1024)
/* what the probing ffmpeg run writes beside the segments: the framecrc
 * header of the first audio stream (its media type and codec) and the
 * ffmetadata file of its tags; probe_read reads and probe_remove removes
 * them */
#define PROBE_CODEC_FILE "probe.codec"
#define PROBE_TAGS_FILE "probe.tags"
/* bytes of a codec name kept, at most */
#define PROBE_CODEC_MAX 31
/* bytes of one tag value kept, at most; a longer value is left out */
#define PROBE_TAG_MAX 255
/* bytes of a probe_format line, with its NUL, at most: codec and
 * duration, and each tag's key and percent-encoded value */
#define PROBE_LINE_MAX (64 + PROBE_CODEC_MAX + PROBE_NTAGS_MAX * (3 * PROBE_TAG_MAX + 16))
#define PROBE_NTAGS_MAX 5
/* the containers ffmpeg opens, as its -format_whitelist: anything else
 * (HLS playlists, concat lists, images, text) is not read at all */
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
	char codec[PROBE_CODEC_MAX + 1];	/* ffmpeg's codec name: "mp3" */
	char tag[PROBE_NTAGS][PROBE_TAG_MAX + 1];	/* UTF-8, no control bytes */
	long long duration_ms;			/* 0 if unknown */
};

/* How a file is made into segments. */
enum probe_mode {
	PROBE_COPY,		/* MP3 and AAC: copied as they are */
	PROBE_TRANSCODE		/* any other audio: encoded once to AAC */
};

/* How probe_read ended. */
enum probe_result {
	PROBE_OK = 0,
	PROBE_NOT_AUDIO,	/* ffmpeg found no audio stream in it */
	PROBE_FAILED		/* what ffmpeg wrote cannot be read */
};

/* Reads what the probing ffmpeg run wrote into the directory dirfd
 * (PROBE_CODEC_FILE, PROBE_TAGS_FILE) into info, duration 0. Returns
 * PROBE_OK, or what went wrong with a one-line reason in why. */
enum probe_result probe_read(int dirfd, struct probe_info *info, char *why,
    size_t whylen);

/* Removes the files probe_read reads from the directory dirfd. */
void probe_remove(int dirfd);

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

/* segmenter.c - runs ffmpeg with fork/exec to cut a song into HLS segments. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/net.h"
#include "p2pm/pathsearch.h"
#include "p2pm/playlist.h"
#include "probe.h"
#include "segmenter.h"
#include "spawn.h"

int
segmenter_find_ffmpeg(char *out, size_t outlen)
{
	return pathsearch_find("ffmpeg", out, outlen);
}

/* Writes "file:" + path, so that ffmpeg takes it as a plain file and not
 * as a protocol URL (for outputs that are not number patterns). */
static int
segmenter_file_arg(char *out, size_t outlen, const char *path)
{
	size_t o = 0;

	if (outlen < 6)
		return -1;
	memcpy(out, "file:", 5);
	o = 5;
	for (const char *p = path; *p != '\0'; p++) {
		if (o + 3 >= outlen)
			return -1;
		out[o++] = *p;
	}
	out[o] = '\0';
	return 0;
}

/* Appends text to out (outlen bytes, *o of them used) for a tee muxer's
 * list of outputs, with a backslash before each of the characters its
 * parser (av_get_token) takes as quoting or as the end of an output.
 * Returns 0, or -1 if it does not fit. */
static int
segmenter_tee_append(char *out, size_t outlen, size_t *o, const char *text,
    int escape)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (*o + 3 >= outlen)
			return -1;
		if (escape && strchr("\\'|", *p) != NULL)
			out[(*o)++] = '\\';
		out[(*o)++] = *p;
	}
	out[*o] = '\0';
	return 0;
}

/* Writes the tee muxer's list of outputs of a probing run that also reads
 * the picture: the codec's framecrc (stream a) to codec_arg and the
 * picture (stream v, when the file has one: a slave that finds no stream
 * fails alone, onfail=ignore) to pic_arg, both "file:" arguments. */
static int
segmenter_tee_list(char *out, size_t outlen, const char *codec_arg,
    const char *pic_arg)
{
	size_t o = 0;

	return segmenter_tee_append(out, outlen, &o, "[select=a:f=framecrc]", 0) < 0 ||
	    segmenter_tee_append(out, outlen, &o, codec_arg, 1) < 0 ||
	    segmenter_tee_append(out, outlen, &o,
	    "|[select=v:f=image2pipe:onfail=ignore]", 0) < 0 ||
	    segmenter_tee_append(out, outlen, &o, pic_arg, 1) < 0 ? -1 : 0;
}

/* the characters a segment prefix (a content key) may hold */
#define SEGMENTER_PREFIX_CHARS \
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
/* words on ffmpeg's command line, with the NULL that ends it */
#define SEGMENTER_ARGC 64
/* what ffmpeg opens for the input: the descriptor it inherits */
#define SEGMENTER_INPUT_PATH "/proc/self/fd/3"

/* The command line of one ffmpeg run and the buffers it points into. */
struct segmenter_cmd {
	char in_arg[PATH_MAX + 16];
	char seg_arg[NAME_MAX + 1];	/* the segments, relative to outdir */
	char list_arg[PATH_MAX + 32];
	char bitrate[16];	/* "-b:a" of a transcoding run: "192k" */
	char codec_arg[PATH_MAX + 32];	/* the probing outputs */
	char tags_arg[PATH_MAX + 32];
	char pic_arg[PATH_MAX + 32];	/* the picture (SEGMENTER_PICTURE) */
	char tee_arg[2 * (2 * PATH_MAX + 64) + 64];	/* codec and picture */
	char *argv[SEGMENTER_ARGC];
	int picture;		/* the run reads the picture out too */
};

/* Fills cmd with the ffmpeg command line for input and outdir (see
 * segmenter_run). Returns SEGMENTER_OK, or the side whose path is too
 * long with a reason in why. */
static enum segmenter_result
segmenter_cmd_init(struct segmenter_cmd *cmd, const char *outdir,
    const char *prefix, int aac_kbps, int probe, char *why, size_t whylen)
{
	char list_path[PATH_MAX + 16], codec_path[PATH_MAX + 16], tags_path[PATH_MAX + 16];
	char pic_path[PATH_MAX + 16];
	int picture = (probe & SEGMENTER_PICTURE) != 0;
	size_t n = 0;

	probe &= ~SEGMENTER_PICTURE;
	cmd->picture = picture && probe;

	/* the segments' pattern is a name relative to outdir, where ffmpeg
	 * runs (ffmpeg 5.1's hls muxer takes no "%%" for a '%' in it, so
	 * outdir's own name, which may hold one, stays out), and no protocol
	 * prefix, which it would copy into the playlist: so only plain
	 * characters */
	if (prefix[0] == '\0' ||
	    strspn(prefix, SEGMENTER_PREFIX_CHARS) != strlen(prefix)) {
		snprintf(why, whylen, "segment prefix '%.64s' is not plain", prefix);
		return SEGMENTER_BAD_OUTPUT;
	}
	if (segmenter_file_arg(cmd->in_arg, sizeof(cmd->in_arg),
	    SEGMENTER_INPUT_PATH) < 0) {
		snprintf(why, whylen, "path too long");
		return SEGMENTER_BAD_INPUT;
	}
	if (snprintf(list_path, sizeof(list_path), "%s/%s", outdir,
	    PLAYLIST_INDEX_NAME) >= (int)sizeof(list_path) ||
	    segmenter_file_arg(cmd->list_arg, sizeof(cmd->list_arg), list_path) < 0 ||
	    snprintf(codec_path, sizeof(codec_path), "%s/%s", outdir,
	    PROBE_CODEC_FILE) >= (int)sizeof(codec_path) ||
	    snprintf(tags_path, sizeof(tags_path), "%s/%s", outdir,
	    PROBE_TAGS_FILE) >= (int)sizeof(tags_path) ||
	    segmenter_file_arg(cmd->codec_arg, sizeof(cmd->codec_arg), codec_path) < 0 ||
	    segmenter_file_arg(cmd->tags_arg, sizeof(cmd->tags_arg), tags_path) < 0 ||
	    snprintf(pic_path, sizeof(pic_path), "%s/%s", outdir,
	    SEGMENTER_PICTURE_FILE) >= (int)sizeof(pic_path) ||
	    segmenter_file_arg(cmd->pic_arg, sizeof(cmd->pic_arg), pic_path) < 0 ||
	    segmenter_tee_list(cmd->tee_arg, sizeof(cmd->tee_arg), cmd->codec_arg,
	    cmd->pic_arg) < 0 ||
	    snprintf(cmd->seg_arg, sizeof(cmd->seg_arg), "%s-%%d.ts", prefix) >=
	    (int)sizeof(cmd->seg_arg)) {
		snprintf(why, whylen, "path too long");
		return SEGMENTER_BAD_OUTPUT;
	}

	/* the input: that file, read only with the audio demuxers, nothing
	 * it names */
	static const char *const head[] = {
		"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
		"-protocol_whitelist", "file", "-format_whitelist", PROBE_FORMATS,
		"-i"
	};
	/* what probe_read reads: the first audio stream's codec (the header
	 * of a one-packet framecrc) and the tags */
	static const char *const probe_out[] = {
		"-map", "0:a:0", "-c:a", "copy", "-frames:a", "1", "-f", "framecrc", NULL,
		"-map", "0:a:0", "-c:a", "copy", "-f", "ffmetadata", NULL
	};
	/* the same codec output and the picture, through one tee output: an
	 * output of its own that finds no picture stream would fail the run */
	static const char *const picture_out[] = {
		"-map", "0:a:0", "-map", "0:v:0?", "-c:a", "copy", "-c:v", "copy",
		"-frames:a", "1", "-frames:v", "1", "-f", "tee", NULL,
		"-map", "0:a:0", "-c:a", "copy", "-f", "ffmetadata", NULL
	};
	static const char *const hls_out[] = {
		"-map", "0:a:0", "-c:a", "copy", "-f", "hls",
		"-hls_time", SEGMENTER_SEGMENT_SECONDS, "-hls_list_size", "0",
		"-hls_playlist_type", "vod", "-hls_segment_filename"
	};

	for (size_t i = 0; i < sizeof(head) / sizeof(*head); i++)
		cmd->argv[n++] = (char *)head[i];
	cmd->argv[n++] = cmd->in_arg;
	if (probe) {
		/* each NULL is an output's file: the codec's (or the tee of it
		 * and the picture), then the tags' */
		const char *const *out = picture ? picture_out : probe_out;
		size_t nout = picture ? sizeof(picture_out) / sizeof(*picture_out) :
		    sizeof(probe_out) / sizeof(*probe_out);
		for (size_t i = 0, k = 0; i < nout; i++) {
			if (out[i] != NULL)
				cmd->argv[n++] = (char *)out[i];
			else if (k++ == 0)
				cmd->argv[n++] = picture ? cmd->tee_arg : cmd->codec_arg;
			else
				cmd->argv[n++] = cmd->tags_arg;
		}
	}
	if (probe == SEGMENTER_PROBE_ONLY) {
		cmd->argv[n] = NULL;
		return SEGMENTER_OK;
	}
	for (size_t i = 0; i < sizeof(hls_out) / sizeof(*hls_out); i++) {
		cmd->argv[n++] = (char *)hls_out[i];
		/* a transcoding run encodes to AAC at the bitrate instead */
		if (aac_kbps > 0 && strcmp(hls_out[i], "-c:a") == 0) {
			snprintf(cmd->bitrate, sizeof(cmd->bitrate), "%dk", aac_kbps);
			cmd->argv[n++] = (char *)"aac";
			cmd->argv[n++] = (char *)"-b:a";
			cmd->argv[n++] = cmd->bitrate;
			i++;	/* over "copy" */
		}
	}
	cmd->argv[n++] = cmd->seg_arg;
	cmd->argv[n++] = cmd->list_arg;
	cmd->argv[n] = NULL;
	return SEGMENTER_OK;
}

/* How collecting ffmpeg's stderr ended. */
enum segmenter_watch {
	SEGMENTER_WATCH_CLOSED,		/* ffmpeg closed stderr (it is exiting) */
	SEGMENTER_WATCH_STOPPED,	/* *stop became non-zero */
	SEGMENTER_WATCH_TIMED_OUT,	/* SEGMENTER_TIMEOUT_S passed */
	SEGMENTER_WATCH_TOO_BIG		/* the output passed its cap */
};

/* Bytes in the regular files of directory dir (-1 if it cannot be read). */
static long long
segmenter_dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long long total = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			total += st.st_size;
	}
	closedir(d);
	return total;
}

/* Keeps the first SEGMENTER_STDERR_MAX bytes of what ffmpeg writes to
 * errfd in err (*errlen bytes) until ffmpeg closes it, the deadline
 * passes, or *stop becomes non-zero. Does not close errfd. */
static enum segmenter_watch
segmenter_collect(int errfd, const atomic_int *stop, const char *outdir,
    long long out_cap, char err[SEGMENTER_STDERR_MAX], size_t *errlen)
{
	long long deadline = clock_now_ms() + (long long)SEGMENTER_TIMEOUT_S * 1000;

	*errlen = 0;
	for (;;) {
		struct pollfd pfd = { .fd = errfd, .events = POLLIN };
		char chunk[512];
		ssize_t n;
		int rc;

		if (atomic_load(stop))
			return SEGMENTER_WATCH_STOPPED;
		if (clock_now_ms() >= deadline)
			return SEGMENTER_WATCH_TIMED_OUT;
		if (segmenter_dir_bytes(outdir) > out_cap)
			return SEGMENTER_WATCH_TOO_BIG;
		rc = poll(&pfd, 1, SEGMENTER_POLL_MS);
		if (rc < 0 && errno != EINTR)
			return SEGMENTER_WATCH_CLOSED;
		if (rc <= 0)
			continue;
		n = read(errfd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return SEGMENTER_WATCH_CLOSED;
		for (ssize_t i = 0; i < n && *errlen < SEGMENTER_STDERR_MAX; i++)
			err[(*errlen)++] = chunk[i];
	}
}

/* Waits for the child pid and writes its wait status into *status.
 * Returns 0, or -1 with a reason in why. */
static int
segmenter_wait(pid_t pid, int *status, char *why, size_t whylen)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Turns captured stderr into one line: line breaks become "; ". */
static void
segmenter_reason(char *why, size_t whylen, const char *head, const char *err,
    size_t errlen)
{
	size_t o;
	int n = snprintf(why, whylen, "%s", head);

	o = n < 0 ? 0 : (size_t)n < whylen ? (size_t)n : whylen - 1;
	if (errlen > 0 && o + 2 < whylen) {
		why[o++] = ':';
		why[o++] = ' ';
	}
	for (size_t i = 0; i < errlen && o + 1 < whylen; i++) {
		char c = err[i];
		if (c == '\n' || c == '\r') {
			if (i + 1 < errlen && o + 3 < whylen) {
				why[o++] = ';';
				why[o++] = ' ';
			}
			continue;
		}
		why[o++] = (c >= 0x20 && c != 0x7f) || (unsigned char)c >= 0x80 ? c : '?';
	}
	why[o] = '\0';
}

/* Writes why ffmpeg, which ended with wait status, did not succeed:
 * how it ended and what it said on stderr. */
static void
segmenter_explain(int status, const char *err, size_t errlen, char *why,
    size_t whylen)
{
	char head[64];

	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(head, sizeof(head), "cannot run ffmpeg");
	else if (WIFEXITED(status))
		snprintf(head, sizeof(head), "ffmpeg exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(head, sizeof(head), "ffmpeg killed by signal %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	segmenter_reason(why, whylen, head, err, errlen);
}

/* True if a failed run is the output's fault rather than the input's:
 * ffmpeg named a file of outdir on stderr, or outdir's file system is
 * full. */
static int
segmenter_output_failed(const char *outdir, const char *err, size_t errlen)
{
	size_t dl = strlen(outdir);
	struct statvfs vfs;

	for (size_t i = 0; dl > 0 && i + dl <= errlen; i++)
		if (memcmp(err + i, outdir, dl) == 0)
			return 1;
	return statvfs(outdir, &vfs) == 0 && (vfs.f_bavail == 0 || vfs.f_favail == 0);
}

/* Removes from err (*errlen bytes) the lines about the picture output
 * (segmenter_tee_list) that a file without a picture makes ffmpeg write
 * though the run goes on: its image2pipe muxer finds no stream, and the
 * tee says it goes on without it. */
static void
segmenter_drop_picture_lines(char *err, size_t *errlen)
{
	size_t in = 0, out = 0;

	while (in < *errlen) {
		const char *nl = memchr(err + in, '\n', *errlen - in);
		size_t len = nl != NULL ? (size_t)(nl - (err + in)) + 1 : *errlen - in;
		char line[SEGMENTER_STDERR_MAX + 1];
		int drop;

		memcpy(line, err + in, len);
		line[len] = '\0';
		drop = strncmp(line, "[image2pipe @ ", 14) == 0 ||
		    (strncmp(line, "[tee @ ", 7) == 0 &&
		    (strstr(line, ":onfail=ignore]") != NULL ||
		    strstr(line, "Slave muxer #1 failed") != NULL));
		if (!drop) {
			memmove(err + out, err + in, len);
			out += len;
		}
		in += len;
	}
	*errlen = out;
}

/* Runs ffmpeg as cmd says and waits for it; err keeps what it said. */
static enum segmenter_result
segmenter_exec(const char *ffmpeg, const struct segmenter_cmd *cmd, int input_fd,
    const char *outdir, long long out_cap, const atomic_int *stop,
    char err[SEGMENTER_STDERR_MAX], size_t *errlen, char *why, size_t whylen)
{
	enum segmenter_watch watch;
	int errfd, status;
	pid_t pid;

	*errlen = 0;
	/* in outdir: the segments' pattern names them relative to it */
	pid = spawn_child(ffmpeg, cmd->argv, outdir, STDERR_FILENO, input_fd,
	    SEGMENTER_INPUT_FD, &errfd, why, whylen);
	if (pid < 0)
		return SEGMENTER_BAD_INPUT;
	watch = segmenter_collect(errfd, stop, outdir, out_cap, err, errlen);
	/* the last bytes written after the last look */
	if (watch == SEGMENTER_WATCH_CLOSED && segmenter_dir_bytes(outdir) > out_cap)
		watch = SEGMENTER_WATCH_TOO_BIG;
	close(errfd);
	if (cmd->picture)
		segmenter_drop_picture_lines(err, errlen);
	/* the whole group: what ffmpeg (or a wrapper script) started, too */
	if (watch != SEGMENTER_WATCH_CLOSED && kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);
	if (segmenter_wait(pid, &status, why, whylen) < 0)
		return SEGMENTER_BAD_INPUT;
	switch (watch) {
	case SEGMENTER_WATCH_STOPPED:
		snprintf(why, whylen, "stopped");
		return SEGMENTER_STOPPED;
	case SEGMENTER_WATCH_TIMED_OUT:
		snprintf(why, whylen, "ffmpeg took over %d s and was killed",
		    SEGMENTER_TIMEOUT_S);
		return SEGMENTER_BAD_INPUT;
	case SEGMENTER_WATCH_TOO_BIG:
		snprintf(why, whylen, "ffmpeg wrote over %lld bytes (%d times the "
		    "input and %d more) and was stopped", out_cap,
		    SEGMENTER_OUTPUT_FACTOR, SEGMENTER_OUTPUT_SLACK);
		return SEGMENTER_BAD_INPUT;
	case SEGMENTER_WATCH_CLOSED:
	default:
		break;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return SEGMENTER_OK;
	segmenter_explain(status, err, *errlen, why, whylen);
	return SEGMENTER_BAD_INPUT;
}

/* After ffmpeg failed on an input of size bytes, saying err: if it did
 * not find audio in it (an empty file, a format not on the allow-list, no
 * format ffmpeg knows, no audio stream), writes why and returns 1. */
static int
segmenter_not_audio(long long size, const char *err, size_t errlen, char *why,
    size_t whylen)
{
	static const char not_listed[] = "Format not on whitelist";
	char text[SEGMENTER_STDERR_MAX + 1];

	memcpy(text, err, errlen);
	text[errlen] = '\0';
	for (size_t i = 0; i < errlen; i++)
		if (text[i] == '\0')
			text[i] = ' ';
	if (size == 0) {
		snprintf(why, whylen, "an empty file");
		return 1;
	}
	const char *hit = strstr(text, not_listed);
	if (hit != NULL) {
		/* "[hls @ 0x55d0c8a4] Format not on whitelist ...": the demuxer
		 * ffmpeg would have taken */
		const char *line = hit;
		while (line > text && line[-1] != '\n')
			line--;
		int len = line[0] == '[' ? (int)strcspn(line + 1, " @]\n") : 0;
		if (len > 0 && len < 32)
			snprintf(why, whylen, "ffmpeg reads it as %.*s, not as one of the "
			    "audio formats (%s)", len, line + 1, PROBE_FORMATS);
		else
			snprintf(why, whylen, "not one of the audio formats (%s)", PROBE_FORMATS);
		return 1;
	}
	if (strstr(text, "Invalid data found when processing input") != NULL) {
		snprintf(why, whylen, "ffmpeg finds no audio format in it (%s)", PROBE_FORMATS);
		return 1;
	}
	if (strstr(text, "matches no streams") != NULL) {
		snprintf(why, whylen, "no audio stream in it");
		return 1;
	}
	return 0;
}

enum segmenter_result
segmenter_run_fd(const char *ffmpeg, int input_fd, const char *outdir,
    const char *prefix, int aac_kbps, int probe, const atomic_int *stop,
    char *why, size_t whylen)
{
	struct segmenter_cmd cmd;
	char err[SEGMENTER_STDERR_MAX];
	size_t errlen = 0;
	enum segmenter_result res;
	struct stat st;

	if (fstat(input_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		return SEGMENTER_BAD_INPUT;
	}
	if (st.st_size == 0) {
		snprintf(why, whylen, "an empty file");
		return SEGMENTER_NOT_AUDIO;
	}
	res = segmenter_cmd_init(&cmd, outdir, prefix, aac_kbps, probe, why, whylen);
	if (res == SEGMENTER_OK)
		res = segmenter_exec(ffmpeg, &cmd, input_fd, outdir,
		    (long long)st.st_size * SEGMENTER_OUTPUT_FACTOR + SEGMENTER_OUTPUT_SLACK,
		    stop, err, &errlen, why, whylen);
	if (res == SEGMENTER_BAD_INPUT && segmenter_output_failed(outdir, err, errlen))
		res = SEGMENTER_BAD_OUTPUT;
	else if (res == SEGMENTER_BAD_INPUT && errlen > 0 &&
	    segmenter_not_audio(st.st_size, err, errlen, why, whylen))
		res = SEGMENTER_NOT_AUDIO;
	return res;
}

enum segmenter_result
segmenter_run(const char *ffmpeg, const char *input, const char *outdir,
    const char *prefix, int aac_kbps, int probe, const atomic_int *stop,
    char *why, size_t whylen)
{
	enum segmenter_result res;
	int fd = open(input, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return SEGMENTER_BAD_INPUT;
	}
	res = segmenter_run_fd(ffmpeg, fd, outdir, prefix, aac_kbps, probe, stop,
	    why, whylen);
	close(fd);
	return res;
}

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
#include "segmenter.h"
#include "spawn.h"

int
segmenter_find_ffmpeg(char *out, size_t outlen)
{
	return pathsearch_find("ffmpeg", out, outlen);
}

/* Writes "file:" + path with every '%' doubled, so that ffmpeg takes it as a
 * plain file and not as a protocol URL or an output number pattern. */
static int
segmenter_file_arg(char *out, size_t outlen, const char *path, int pattern)
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
		if (pattern && *p == '%')
			out[o++] = '%';
	}
	out[o] = '\0';
	return 0;
}

const char *
segmenter_sniff(const unsigned char *h, size_t len)
{
	if (len >= 3 && memcmp(h, "ID3", 3) == 0)
		return "mp3";
	if (len >= 4 && memcmp(h, "fLaC", 4) == 0)
		return "flac";
	if (len >= 4 && memcmp(h, "OggS", 4) == 0)
		return "ogg";
	if (len >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WAVE", 4) == 0)
		return "wav";
	if (len >= 12 && memcmp(h, "FORM", 4) == 0 &&
	    (memcmp(h + 8, "AIFF", 4) == 0 || memcmp(h + 8, "AIFC", 4) == 0))
		return "aiff";
	if (len >= 8 && memcmp(h + 4, "ftyp", 4) == 0)
		return "mov";
	/* an MPEG audio frame header: 11 sync bits; layer bits 00 mean ADTS */
	if (len >= 2 && h[0] == 0xff && (h[1] & 0xe0) == 0xe0)
		return (h[1] & 0x06) == 0 ? "aac" : "mp3";
	return NULL;
}

/* words on ffmpeg's command line, with the NULL that ends it */
#define SEGMENTER_ARGC 30
/* what ffmpeg opens for the input: the descriptor it inherits */
#define SEGMENTER_INPUT_PATH "/proc/self/fd/3"

/* The command line of one ffmpeg run and the buffers it points into. */
struct segmenter_cmd {
	char in_arg[PATH_MAX + 16];
	char seg_arg[2 * PATH_MAX + 32];
	char list_arg[PATH_MAX + 32];
	char bitrate[16];	/* "-b:a" of a transcoding run: "192k" */
	char *argv[SEGMENTER_ARGC];
};

/* Fills cmd with the ffmpeg command line for input and outdir (see
 * segmenter_run). Returns SEGMENTER_OK, or the side whose path is too
 * long with a reason in why. */
static enum segmenter_result
segmenter_cmd_init(struct segmenter_cmd *cmd, const char *format,
    const char *outdir, const char *prefix, int aac_kbps, char *why,
    size_t whylen)
{
	char list_path[PATH_MAX + 16];
	size_t o;

	if (segmenter_file_arg(cmd->in_arg, sizeof(cmd->in_arg),
	    SEGMENTER_INPUT_PATH, 0) < 0) {
		snprintf(why, whylen, "path too long");
		return SEGMENTER_BAD_INPUT;
	}
	if (snprintf(list_path, sizeof(list_path), "%s/%s", outdir,
	    PLAYLIST_INDEX_NAME) >= (int)sizeof(list_path) ||
	    segmenter_file_arg(cmd->list_arg, sizeof(cmd->list_arg), list_path, 0) < 0 ||
	    segmenter_file_arg(cmd->seg_arg, sizeof(cmd->seg_arg), outdir, 1) < 0) {
		snprintf(why, whylen, "path too long");
		return SEGMENTER_BAD_OUTPUT;
	}
	/* outdir is escaped above; the pattern's own %d must stay a pattern */
	o = strlen(cmd->seg_arg);
	if (snprintf(cmd->seg_arg + o, sizeof(cmd->seg_arg) - o, "/%s-%%d.ts",
	    prefix) >= (int)(sizeof(cmd->seg_arg) - o)) {
		snprintf(why, whylen, "path too long");
		return SEGMENTER_BAD_OUTPUT;
	}

	char *const argv[SEGMENTER_ARGC] = {
		(char *)"ffmpeg", (char *)"-nostdin", (char *)"-hide_banner",
		(char *)"-loglevel", (char *)"error", (char *)"-y",
		/* the input: that file, with that demuxer, nothing it names */
		(char *)"-protocol_whitelist", (char *)"file",
		(char *)"-f", (char *)format,
		(char *)"-i", cmd->in_arg,
		(char *)"-map", (char *)"0:a:0", (char *)"-c:a", (char *)"copy",
		(char *)"-b:a", cmd->bitrate,
		(char *)"-f", (char *)"hls",
		(char *)"-hls_time", (char *)SEGMENTER_SEGMENT_SECONDS,
		(char *)"-hls_list_size", (char *)"0",
		(char *)"-hls_playlist_type", (char *)"vod",
		(char *)"-hls_segment_filename", cmd->seg_arg,
		cmd->list_arg, NULL
	};
	memcpy(cmd->argv, argv, sizeof(argv));
	/* a copy has no bitrate: "-c:a copy" and the rest moved up over "-b:a" */
	snprintf(cmd->bitrate, sizeof(cmd->bitrate), "%dk", aac_kbps);
	for (size_t i = 0; i + 1 < SEGMENTER_ARGC; i++) {
		if (cmd->argv[i] != cmd->bitrate)
			continue;
		/* argv[i - 1] is "-b:a", argv[i - 2] the codec, "copy" */
		if (aac_kbps > 0)
			cmd->argv[i - 2] = (char *)"aac";
		else
			memmove(&cmd->argv[i - 1], &cmd->argv[i + 1],
			    (SEGMENTER_ARGC - i - 1) * sizeof(cmd->argv[0]));
		break;
	}
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
	pid = spawn_child(ffmpeg, cmd->argv, STDERR_FILENO, input_fd,
	    SEGMENTER_INPUT_FD, &errfd, why, whylen);
	if (pid < 0)
		return SEGMENTER_BAD_INPUT;
	watch = segmenter_collect(errfd, stop, outdir, out_cap, err, errlen);
	/* the last bytes written after the last look */
	if (watch == SEGMENTER_WATCH_CLOSED && segmenter_dir_bytes(outdir) > out_cap)
		watch = SEGMENTER_WATCH_TOO_BIG;
	close(errfd);
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

enum segmenter_result
segmenter_run_fd(const char *ffmpeg, int input_fd, const char *outdir,
    const char *prefix, int aac_kbps, const atomic_int *stop, char *why,
    size_t whylen)
{
	struct segmenter_cmd cmd;
	unsigned char head[SEGMENTER_SNIFF_BYTES];
	char err[SEGMENTER_STDERR_MAX];
	size_t errlen = 0;
	enum segmenter_result res;
	const char *format;
	struct stat st;
	ssize_t n;

	if (fstat(input_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		return SEGMENTER_BAD_INPUT;
	}
	do
		n = pread(input_fd, head, sizeof(head), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(why, whylen, "cannot read: %s", strerror(errno));
		return SEGMENTER_BAD_INPUT;
	}
	format = segmenter_sniff(head, (size_t)n);
	if (format == NULL) {
		snprintf(why, whylen, "not audio in a known format (MP3, AAC, MP4/M4A, "
		    "FLAC, Ogg, WAV, AIFF)%s", n >= 7 && memcmp(head, "#EXTM3U", 7) == 0 ?
		    ": an HLS playlist" : "");
		return SEGMENTER_BAD_INPUT;
	}
	res = segmenter_cmd_init(&cmd, format, outdir, prefix, aac_kbps, why,
	    whylen);
	if (res == SEGMENTER_OK)
		res = segmenter_exec(ffmpeg, &cmd, input_fd, outdir,
		    (long long)st.st_size * SEGMENTER_OUTPUT_FACTOR + SEGMENTER_OUTPUT_SLACK,
		    stop, err, &errlen, why, whylen);
	if (res == SEGMENTER_BAD_INPUT && segmenter_output_failed(outdir, err, errlen))
		res = SEGMENTER_BAD_OUTPUT;
	return res;
}

enum segmenter_result
segmenter_run(const char *ffmpeg, const char *input, const char *outdir,
    const char *prefix, int aac_kbps, const atomic_int *stop, char *why,
    size_t whylen)
{
	enum segmenter_result res;
	int fd = open(input, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return SEGMENTER_BAD_INPUT;
	}
	res = segmenter_run_fd(ffmpeg, fd, outdir, prefix, aac_kbps, stop, why,
	    whylen);
	close(fd);
	return res;
}

/* segmenter.c - runs ffmpeg with fork/exec to cut a song into HLS segments. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/net.h"
#include "p2pm/pathsearch.h"
#include "p2pm/playlist.h"
#include "segmenter.h"

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

/* words on ffmpeg's command line, with the NULL that ends it */
#define SEGMENTER_ARGC 26

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
segmenter_cmd_init(struct segmenter_cmd *cmd, const char *input,
    const char *outdir, const char *prefix, int aac_kbps, char *why,
    size_t whylen)
{
	char list_path[PATH_MAX + 16];
	size_t o;

	if (segmenter_file_arg(cmd->in_arg, sizeof(cmd->in_arg), input, 0) < 0) {
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
	if (aac_kbps > 0)
		cmd->argv[11] = (char *)"aac";
	else
		memmove(&cmd->argv[12], &cmd->argv[14],
		    (SEGMENTER_ARGC - 14) * sizeof(cmd->argv[0]));
	return SEGMENTER_OK;
}

/* Starts ffmpeg with argv, stdin and stdout on /dev/null and stderr on a
 * pipe whose reading end goes to *errfd. The child runs in a process
 * group of its own and dies with the peer. Returns its pid, or -1 with a
 * reason in why. */
static pid_t
segmenter_spawn(const char *ffmpeg, char *const argv[], int *errfd, char *why,
    size_t whylen)
{
	int pipefd[2], devnull;
	sigset_t none;
	struct sigaction dfl;
	pid_t pid, parent = getpid();

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		snprintf(why, whylen, "cannot open /dev/null: %s", strerror(errno));
		return -1;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		close(devnull);
		return -1;
	}
	/* prepared before fork: the child only calls async-signal-safe functions */
	sigemptyset(&none);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);

	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		close(devnull);
		return -1;
	}
	if (pid == 0) {
		/* a process group of its own: a Ctrl-C at the terminal goes to
		 * the peer, which stops ffmpeg itself; and ffmpeg dies with the
		 * peer even when the peer is killed outright */
		setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(126);
		sigaction(SIGPIPE, &dfl, NULL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(devnull, STDIN_FILENO) < 0 || dup2(devnull, STDOUT_FILENO) < 0 ||
		    dup2(pipefd[1], STDERR_FILENO) < 0)
			_exit(126);
		execv(ffmpeg, argv);
		_exit(127);
	}
	/* also here, so that the group exists before any kill below */
	setpgid(pid, pid);
	close(pipefd[1]);
	close(devnull);
	*errfd = pipefd[0];
	return pid;
}

/* How collecting ffmpeg's stderr ended. */
enum segmenter_watch {
	SEGMENTER_WATCH_CLOSED,		/* ffmpeg closed stderr (it is exiting) */
	SEGMENTER_WATCH_STOPPED,	/* *stop became non-zero */
	SEGMENTER_WATCH_TIMED_OUT	/* SEGMENTER_TIMEOUT_S passed */
};

/* Keeps the first SEGMENTER_STDERR_MAX bytes of what ffmpeg writes to
 * errfd in err (*errlen bytes) until ffmpeg closes it, the deadline
 * passes, or *stop becomes non-zero. Does not close errfd. */
static enum segmenter_watch
segmenter_collect(int errfd, const atomic_int *stop, char err[SEGMENTER_STDERR_MAX],
    size_t *errlen)
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
segmenter_exec(const char *ffmpeg, const struct segmenter_cmd *cmd,
    const atomic_int *stop, char err[SEGMENTER_STDERR_MAX], size_t *errlen,
    char *why, size_t whylen)
{
	enum segmenter_watch watch;
	int errfd, status;
	pid_t pid;

	*errlen = 0;
	pid = segmenter_spawn(ffmpeg, cmd->argv, &errfd, why, whylen);
	if (pid < 0)
		return SEGMENTER_BAD_INPUT;
	watch = segmenter_collect(errfd, stop, err, errlen);
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
segmenter_run(const char *ffmpeg, const char *input, const char *outdir,
    const char *prefix, int aac_kbps, const atomic_int *stop, char *why,
    size_t whylen)
{
	struct segmenter_cmd cmd;
	char err[SEGMENTER_STDERR_MAX];
	size_t errlen = 0;
	enum segmenter_result res;

	res = segmenter_cmd_init(&cmd, input, outdir, prefix, aac_kbps, why, whylen);
	if (res == SEGMENTER_OK)
		res = segmenter_exec(ffmpeg, &cmd, stop, err, &errlen, why, whylen);
	if (res == SEGMENTER_BAD_INPUT && segmenter_output_failed(outdir, err, errlen))
		res = SEGMENTER_BAD_OUTPUT;
	return res;
}

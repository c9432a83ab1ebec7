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
#include <sys/wait.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/net.h"
#include "p2pm/pathsearch.h"
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

int
segmenter_run(const char *ffmpeg, const char *input, const char *outdir,
    const char *prefix, const atomic_int *stop, char *why, size_t whylen)
{
	char in_arg[PATH_MAX + 16], seg_arg[2 * PATH_MAX + 32], list_arg[PATH_MAX + 32];
	char list_path[PATH_MAX + 16];
	char errbuf[SEGMENTER_STDERR_MAX];
	size_t errlen = 0;
	int pipefd[2], status, devnull, stopping = 0, timed_out = 0;
	sigset_t none;
	struct sigaction dfl;
	long long deadline;
	pid_t pid, parent = getpid();

	if (snprintf(list_path, sizeof(list_path), "%s/%s", outdir,
	    SEGMENTER_PLAYLIST) >= (int)sizeof(list_path) ||
	    segmenter_file_arg(in_arg, sizeof(in_arg), input, 0) < 0 ||
	    segmenter_file_arg(list_arg, sizeof(list_arg), list_path, 0) < 0 ||
	    segmenter_file_arg(seg_arg, sizeof(seg_arg), outdir, 1) < 0) {
		snprintf(why, whylen, "path too long");
		return -1;
	}
	/* outdir is escaped above; the pattern's own %d must stay a pattern */
	size_t o = strlen(seg_arg);
	if (snprintf(seg_arg + o, sizeof(seg_arg) - o, "/%s-%%d.ts", prefix) >=
	    (int)(sizeof(seg_arg) - o)) {
		snprintf(why, whylen, "path too long");
		return -1;
	}

	char *const argv[] = {
		(char *)"ffmpeg", (char *)"-nostdin", (char *)"-hide_banner",
		(char *)"-loglevel", (char *)"error", (char *)"-y",
		(char *)"-i", in_arg,
		(char *)"-map", (char *)"0:a:0", (char *)"-c:a", (char *)"copy",
		(char *)"-f", (char *)"hls",
		(char *)"-hls_time", (char *)SEGMENTER_SEGMENT_SECONDS,
		(char *)"-hls_list_size", (char *)"0",
		(char *)"-hls_playlist_type", (char *)"vod",
		(char *)"-hls_segment_filename", seg_arg,
		list_arg, NULL
	};

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

	/* collect stderr (the first SEGMENTER_STDERR_MAX bytes) until ffmpeg
	 * closes it, the deadline passes, or we are asked to stop */
	deadline = clock_now_ms() + (long long)SEGMENTER_TIMEOUT_S * 1000;
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		char chunk[512];
		ssize_t n;
		int rc;

		if (atomic_load(stop)) {
			stopping = 1;
			break;
		}
		if (clock_now_ms() >= deadline) {
			timed_out = 1;
			break;
		}
		rc = poll(&pfd, 1, SEGMENTER_POLL_MS);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc <= 0)
			continue;
		n = read(pipefd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && errlen < sizeof(errbuf); i++)
			errbuf[errlen++] = chunk[i];
	}
	close(pipefd[0]);
	/* the whole group: what ffmpeg (or a wrapper script) started, too */
	if ((stopping || timed_out) && kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return -1;
		}
	}
	if (stopping) {
		snprintf(why, whylen, "stopped");
		return -1;
	}
	if (timed_out) {
		snprintf(why, whylen, "ffmpeg took over %d s and was killed",
		    SEGMENTER_TIMEOUT_S);
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		segmenter_reason(why, whylen, "cannot run ffmpeg", errbuf, errlen);
		return -1;
	}
	char head[64];
	if (WIFEXITED(status))
		snprintf(head, sizeof(head), "ffmpeg exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(head, sizeof(head), "ffmpeg killed by signal %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	segmenter_reason(why, whylen, head, errbuf, errlen);
	return -1;
}

/* reencode.c - a song re-encoded by ffmpeg into the stream's format: the
 * song's segments go to ffmpeg's stdin from the queue's thread, and one
 * thread of its own reads ffmpeg's stdout and hands it on in whole
 * MPEG-TS packets. The only state the two threads share is set before the
 * thread starts or read after it is joined. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "p2pm/net.h"
#include "p2pm/pathsearch.h"
#include "reencode.h"

#define REENCODE_TS_PACKET 188

struct reencode {
	pid_t pid;
	int in_fd;		/* ffmpeg's stdin, written by the queue */
	int out_fd;		/* ffmpeg's stdout, read by the thread */
	pthread_t thread;
	reencode_emit_fn emit;
	void *ctx;
	int emit_rc;		/* emit's non-zero answer; the thread's */
	char buf[REENCODE_READ_BYTES + REENCODE_TS_PACKET];
};

/* Reads ffmpeg's output to its end (or until emit says stop, when the
 * pipe is closed so that ffmpeg stops too). */
static void *
reencode_read_main(void *arg)
{
	struct reencode *r = arg;
	size_t have = 0;

	for (;;) {
		ssize_t n = read(r->out_fd, r->buf + have, REENCODE_READ_BYTES);
		size_t whole;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		whole = have - have % REENCODE_TS_PACKET;
		if (whole > 0) {
			r->emit_rc = r->emit(r->ctx, r->buf, whole);
			if (r->emit_rc != 0)
				break;
			memmove(r->buf, r->buf + whole, have - whole);
			have -= whole;
		}
	}
	close(r->out_fd);
	r->out_fd = -1;
	return NULL;
}

/* Starts ffmpeg on argv with stdin from in_fd and stdout to out_fd;
 * stderr is the client's. Returns the pid, or -1 with errno set. */
static pid_t
reencode_spawn(char *const argv[], int in_fd, int out_fd)
{
	pid_t pid = fork();
	sigset_t none;

	if (pid != 0)
		return pid;
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	execvp(argv[0], argv);
	_exit(127);
}

struct reencode *
reencode_start(const struct queue_format *to, reencode_emit_fn emit,
    void *ctx, char *err, size_t errlen)
{
	char rate[16], chans[16], kbps[16], full[PATH_MAX];
	const char *encoder = to->codec == QUEUE_CODEC_MP3 ? "libmp3lame" : "aac";
	char *argv[] = { (char *)REENCODE_FFMPEG, (char *)"-nostdin",
	    (char *)"-v", (char *)"error", (char *)"-protocol_whitelist",
	    (char *)"pipe", (char *)"-f", (char *)"mpegts",
	    (char *)"-i", (char *)"pipe:0", (char *)"-map", (char *)"0:a:0",
	    (char *)"-c:a", (char *)encoder, (char *)"-b:a", kbps,
	    (char *)"-ar", rate, (char *)"-ac", chans,
	    (char *)"-pes_payload_size", (char *)"0",
	    (char *)"-f", (char *)"mpegts", (char *)"pipe:1", NULL };
	struct reencode *r;
	pthread_attr_t attr;
	sigset_t all, old;
	int in[2], out[2], rc;

	if (to->codec == QUEUE_CODEC_UNKNOWN || to->sample_rate <= 0 ||
	    to->channels <= 0) {
		snprintf(err, errlen, "no format to re-encode into");
		return NULL;
	}
	if (pathsearch_find(REENCODE_FFMPEG, full, sizeof(full)) < 0) {
		snprintf(err, errlen, "re-encoding needs %s, which is not in PATH; "
		    "install it with: apt-get install ffmpeg", REENCODE_FFMPEG);
		return NULL;
	}
	snprintf(rate, sizeof(rate), "%d", to->sample_rate);
	snprintf(chans, sizeof(chans), "%d", to->channels);
	snprintf(kbps, sizeof(kbps), "%dk", REENCODE_KBPS);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->emit = emit;
	r->ctx = ctx;
	if (pipe2(in, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		free(r);
		return NULL;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		free(r);
		return NULL;
	}
	r->pid = reencode_spawn(argv, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	r->in_fd = in[1];
	r->out_fd = out[0];
	if (r->pid < 0) {
		snprintf(err, errlen, "cannot run %s: %s", REENCODE_FFMPEG,
		    strerror(errno));
		close(r->in_fd);
		close(r->out_fd);
		free(r);
		return NULL;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, REENCODE_THREAD_STACK);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, &attr, reencode_read_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start a thread: %s", strerror(rc));
		close(r->in_fd);
		close(r->out_fd);
		kill(r->pid, SIGTERM);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
		free(r);
		return NULL;
	}
	return r;
}

int
reencode_write(struct reencode *r, const char *data, size_t len)
{
	return net_write_all(r->in_fd, data, len) < 0 ? -1 : 0;
}

int
reencode_finish(struct reencode *r, int stop)
{
	int status, rc;

	if (r == NULL)
		return 0;
	if (stop)
		kill(r->pid, SIGTERM);
	close(r->in_fd);
	pthread_join(r->thread, NULL);
	while (waitpid(r->pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	rc = r->emit_rc;
	if (rc == 0 && !stop && status != 0) {
		if (status != -1 && WIFEXITED(status))
			log_error("%s could not re-encode the song (exit status %d)",
			    REENCODE_FFMPEG, WEXITSTATUS(status));
		else
			log_error("%s was stopped while re-encoding the song",
			    REENCODE_FFMPEG);
		rc = -1;
	}
	free(r);
	return rc;
}

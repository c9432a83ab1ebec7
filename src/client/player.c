/* player.c - an outside player (ffplay by default) started with fork/exec
 * and fed the stream through a pipe on its stdin. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/pathsearch.h"
#include "client.h"
#include "player.h"

/* which package provides a player, for the hint when it is missing */
static const struct {
	const char *program, *package;
} player_packages[] = {
	{ "ffplay", "ffmpeg" },
	{ "mpv", "mpv" },
	{ "mplayer", "mplayer" },
	{ "vlc", "vlc" },
	{ "cvlc", "vlc" },
	{ "mpg123", "mpg123" },
};

/* words by which a player is told to read its standard input */
static const char *const player_stdin_words[] = {
	"-", "fd://0", "fd://stdin", "pipe:", "pipe:0", "/dev/stdin", "/dev/fd/0",
};

/* how often the stderr relay looks whether the player has gone, in ms */
#define PLAYER_STDERR_POLL_MS 100
/* bytes of the player's stderr read at once */
#define PLAYER_STDERR_CHUNK 4096

/* One of the player's output streams as the relay reads it: copied to
 * the client's descriptor of the same number, its last two non-empty lines
 * kept. */
struct player_stream {
	int fd;				/* read end, -1 once at its end */
	int out;			/* STDOUT_FILENO or STDERR_FILENO */
	char line[PLAYER_REASON_MAX];	/* the line being read */
	size_t len;
	char last[PLAYER_REASON_MAX], prev[PLAYER_REASON_MAX];
};

/* The relay of the player's stdout and stderr (mpv speaks on stdout,
 * ffplay on stderr): a thread copying them through and keeping their last
 * lines for the reason of a failure. */
struct player_stderr {
	struct player_stream stream[2];	/* stderr, stdout */
	pthread_t thread;
	atomic_llong exited_ms;		/* when the player exited, or 0 */
};

/* Does word tell the player to read standard input? */
static int
player_names_stdin(const char *word)
{
	for (size_t i = 0; i < sizeof(player_stdin_words) /
	    sizeof(player_stdin_words[0]); i++)
		if (strcmp(word, player_stdin_words[i]) == 0)
			return 1;
	return 0;
}

int
player_parse(struct player *player, const char *cmd)
{
	int names_stdin = 0;

	size_t n = 0;
	char *save = NULL;

	memset(player, 0, sizeof(*player));
	player->pid = -1;
	player->fd = -1;
	player->words = strdup(cmd);
	if (player->words == NULL)
		return -1;
	for (char *w = strtok_r(player->words, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (n == PLAYER_MAX_ARGS) {
			free(player->words);
			player->words = NULL;
			return -1;
		}
		if (n > 0 && player_names_stdin(w))
			names_stdin = 1;
		player->argv[n++] = w;
	}
	if (n == 0) {
		free(player->words);
		player->words = NULL;
		return -1;
	}
	/* argv has room for one more word and the NULL */
	if (!names_stdin)
		player->argv[n++] = (char *)"-";
	player->argv[n] = NULL;
	return 0;
}

/* The package to install for program, or NULL if we do not know it. */
static const char *
player_package(const char *program)
{
	const char *base = strrchr(program, '/');

	base = base ? base + 1 : program;
	for (size_t i = 0; i < sizeof(player_packages) / sizeof(player_packages[0]); i++)
		if (strcmp(base, player_packages[i].program) == 0)
			return player_packages[i].package;
	return NULL;
}

/* Says why the player cannot run, naming the package that provides it if
 * it is missing. */
static void
player_explain(const struct player *player, int e, char *err, size_t errlen)
{
	const char *pkg = player_package(player->argv[0]);

	if (e == ENOENT && pkg != NULL)
		snprintf(err, errlen, "player '%s' not found; install it with: "
		    "apt-get install %s", player->argv[0], pkg);
	else if (e == ENOENT)
		snprintf(err, errlen, "player '%s' not found in PATH", player->argv[0]);
	else
		snprintf(err, errlen, "cannot run player '%s': %s", player->argv[0],
		    strerror(e));
}

int
player_find(const struct player *pl, char *err, size_t errlen)
{
	char full[PATH_MAX];

	if (strchr(pl->argv[0], '/') != NULL) {
		if (access(pl->argv[0], X_OK) == 0)
			return 0;
		player_explain(pl, errno, err, errlen);
		return -1;
	}
	if (pathsearch_find(pl->argv[0], full, sizeof(full)) == 0)
		return 0;
	player_explain(pl, errno, err, errlen);
	return -1;
}

/* In the child: stdin from the pipe, stdout and stderr to the relay's
 * pipes, default signal handling, then exec.
 * On failure errno goes back through report_fd and the child exits. */
static void
player_exec(struct player *player, int read_fd, int err_fd, int out_fd,
    int report_fd)
{
	sigset_t none;
	int e;

	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(read_fd, STDIN_FILENO) < 0) {
		e = errno;
		goto fail;
	}
	if (read_fd != STDIN_FILENO)
		close(read_fd);
	if (dup2(err_fd, STDERR_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0) {
		e = errno;
		goto fail;
	}
	execvp(player->argv[0], player->argv);
	e = errno;
fail:
	if (write(report_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* Ends the line being read: a non-empty one becomes the last line. */
static void
player_stream_end_line(struct player_stream *st)
{
	while (st->len > 0 && (st->line[st->len - 1] == ' ' ||
	    st->line[st->len - 1] == '\t'))
		st->len--;
	if (st->len > 0) {
		memcpy(st->prev, st->last, sizeof(st->prev));
		memcpy(st->last, st->line, st->len);
		st->last[st->len] = '\0';
	}
	st->len = 0;
}

/* Copies buf through as it is, and keeps its lines (a '\r' starts a line
 * over, as a redrawn status line does). */
static void
player_stream_take(struct player_stream *st, const char *buf, size_t n)
{
	for (size_t off = 0; off < n; ) {
		ssize_t w = write(st->out, buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\n')
			player_stream_end_line(st);
		else if (c == '\r')
			st->len = 0;
		else if (st->len < sizeof(st->line) - 1 && (c >= ' ' || c == '\t'))
			st->line[st->len++] = (char)c;
	}
}

/* The relay thread: reads until both streams end, or until the player has
 * been gone for PLAYER_STDERR_DRAIN_MS (a child of it may keep them open). */
static void *
player_stderr_run(void *arg)
{
	struct player_stderr *r = arg;
	char buf[PLAYER_STDERR_CHUNK];

	while (r->stream[0].fd >= 0 || r->stream[1].fd >= 0) {
		struct pollfd pfd[2];
		long long exited = atomic_load(&r->exited_ms);
		int rc;

		if (exited > 0 && clock_now_ms() - exited >= PLAYER_STDERR_DRAIN_MS)
			break;
		for (int i = 0; i < 2; i++) {
			pfd[i].fd = r->stream[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		rc = poll(pfd, 2, PLAYER_STDERR_POLL_MS);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			break;
		for (int i = 0; i < 2 && rc > 0; i++) {
			struct player_stream *st = &r->stream[i];
			if (st->fd < 0 || pfd[i].revents == 0)
				continue;
			ssize_t n = read(st->fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				close(st->fd);
				st->fd = -1;
				continue;
			}
			player_stream_take(st, buf, (size_t)n);
		}
	}
	for (int i = 0; i < 2; i++)
		player_stream_end_line(&r->stream[i]);
	return NULL;
}

/* Starts the relay of the player's stderr and stdout pipes (which it then
 * owns), with every signal blocked in its thread. Returns it, or NULL
 * (both closed). */
static struct player_stderr *
player_stderr_start(int err_fd, int out_fd)
{
	struct player_stderr *r = calloc(1, sizeof(*r));
	sigset_t all, old;
	int rc;

	if (r == NULL) {
		close(err_fd);
		close(out_fd);
		return NULL;
	}
	r->stream[0].fd = err_fd;
	r->stream[0].out = STDERR_FILENO;
	r->stream[1].fd = out_fd;
	r->stream[1].out = STDOUT_FILENO;
	atomic_init(&r->exited_ms, 0);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, player_stderr_run, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(err_fd);
		close(out_fd);
		free(r);
		return NULL;
	}
	return r;
}

/* Waits for the relay to end and puts the player's reason into out: the
 * last line of its stderr (of its stdout if stderr said nothing), joined
 * to the one before when it only adds a hint in parentheses. Frees r. */
static void
player_stderr_finish(struct player_stderr *r, char *out, size_t outlen)
{
	long long now = clock_now_ms();
	const struct player_stream *st = &r->stream[0];

	atomic_store(&r->exited_ms, now > 0 ? now : 1);
	pthread_join(r->thread, NULL);
	for (int i = 0; i < 2; i++)
		if (r->stream[i].fd >= 0)
			close(r->stream[i].fd);
	if (st->last[0] == '\0')
		st = &r->stream[1];
	if (st->last[0] == '(' && st->prev[0] != '\0') {
		/* a reason longer than out is cut, which is fine */
		if (snprintf(out, outlen, "%s %s", st->prev, st->last) >= (int)outlen)
			log_debug("the player's reason was cut");
	} else
		snprintf(out, outlen, "%s", st->last);
	free(r);
}

int
player_start(struct player *player, char *err, size_t errlen)
{
	int data[2], errs[2], outs[2], report[2], e;
	ssize_t n;

	if (pipe2(data, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(errs, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		close(data[0]);
		close(data[1]);
		return -1;
	}
	if (pipe2(outs, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		close(data[0]);
		close(data[1]);
		close(errs[0]);
		close(errs[1]);
		return -1;
	}
	if (pipe2(report, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		close(data[0]);
		close(data[1]);
		close(errs[0]);
		close(errs[1]);
		close(outs[0]);
		close(outs[1]);
		return -1;
	}
	player->pid = fork();
	if (player->pid < 0) {
		snprintf(err, errlen, "cannot start the player: %s", strerror(errno));
		close(data[0]);
		close(data[1]);
		close(errs[0]);
		close(errs[1]);
		close(outs[0]);
		close(outs[1]);
		close(report[0]);
		close(report[1]);
		return -1;
	}
	if (player->pid == 0) {
		close(data[1]);
		close(errs[0]);
		close(outs[0]);
		close(report[0]);
		player_exec(player, data[0], errs[1], outs[1], report[1]);
	}
	close(data[0]);
	close(errs[1]);
	close(outs[1]);
	close(report[1]);
	player->fd = data[1];

	/* the report pipe closes on a successful exec, or carries errno */
	do
		n = read(report[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == (ssize_t)sizeof(e)) {
		player_explain(player, e, err, errlen);
		close(player->fd);
		close(errs[0]);
		close(outs[0]);
		player->fd = -1;
		while (waitpid(player->pid, NULL, 0) < 0 && errno == EINTR)
			;
		player->pid = -1;
		return -1;
	}
	/* without the relay the player's stderr is lost, not its sound */
	player->errs = player_stderr_start(errs[0], outs[0]);
	if (player->errs == NULL)
		log_warn("cannot relay the player's messages");
	log_debug("player %s started (pid %ld)", player->argv[0], (long)player->pid);
	return 0;
}

int
player_finish(struct player *player, int stop)
{
	int status, rc = -1;
	pid_t w;

	if (player->fd >= 0)
		close(player->fd);
	player->fd = -1;
	if (player->pid > 0) {
		if (stop)
			kill(player->pid, SIGTERM);
		for (;;) {
			w = waitpid(player->pid, &status, 0);
			if (w >= 0)
				break;
			if (errno != EINTR)
				break;
			/* interrupted while the song plays: end the player too */
			if (client_stop && !stop) {
				kill(player->pid, SIGTERM);
				stop = 1;
			}
		}
		if (w == player->pid) {
			if (WIFEXITED(status))
				rc = WEXITSTATUS(status);
			else if (WIFSIGNALED(status))
				rc = 128 + WTERMSIG(status);
		}
		player->pid = -1;
	}
	if (player->errs != NULL)
		player_stderr_finish(player->errs, player->reason,
		    sizeof(player->reason));
	player->errs = NULL;
	free(player->words);
	player->words = NULL;
	return rc;
}

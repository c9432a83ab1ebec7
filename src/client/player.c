/* player.c - an outside player (ffplay by default) started with fork/exec
 * and fed the stream through a pipe on its stdin. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "p2pm/pathsearch.h"
#include "client.h"

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

int
player_parse(struct player *pl, const char *cmd)
{
	size_t n = 0;
	char *save = NULL;

	memset(pl, 0, sizeof(*pl));
	pl->pid = -1;
	pl->fd = -1;
	pl->words = strdup(cmd);
	if (pl->words == NULL)
		return -1;
	for (char *w = strtok_r(pl->words, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (n == PLAYER_MAX_ARGS) {
			free(pl->words);
			pl->words = NULL;
			return -1;
		}
		pl->argv[n++] = w;
	}
	pl->argv[n] = NULL;
	if (n == 0) {
		free(pl->words);
		pl->words = NULL;
		return -1;
	}
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
player_explain(const struct player *pl, int e, char *err, size_t errlen)
{
	const char *pkg = player_package(pl->argv[0]);

	if (e == ENOENT && pkg != NULL)
		snprintf(err, errlen, "player '%s' not found; install it with: "
		    "apt-get install %s", pl->argv[0], pkg);
	else if (e == ENOENT)
		snprintf(err, errlen, "player '%s' not found in PATH", pl->argv[0]);
	else
		snprintf(err, errlen, "cannot run player '%s': %s", pl->argv[0],
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

/* In the child: stdin from the pipe, default signal handling, then exec.
 * On failure errno goes back through report_fd and the child exits. */
static void
player_exec(struct player *pl, int read_fd, int report_fd)
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
	execvp(pl->argv[0], pl->argv);
	e = errno;
fail:
	if (write(report_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int
player_start(struct player *pl, char *err, size_t errlen)
{
	int data[2], report[2], e;
	ssize_t n;

	if (pipe2(data, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(report, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		close(data[0]);
		close(data[1]);
		return -1;
	}
	pl->pid = fork();
	if (pl->pid < 0) {
		snprintf(err, errlen, "cannot start the player: %s", strerror(errno));
		close(data[0]);
		close(data[1]);
		close(report[0]);
		close(report[1]);
		return -1;
	}
	if (pl->pid == 0) {
		close(data[1]);
		close(report[0]);
		player_exec(pl, data[0], report[1]);
	}
	close(data[0]);
	close(report[1]);
	pl->fd = data[1];

	/* the report pipe closes on a successful exec, or carries errno */
	do
		n = read(report[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == (ssize_t)sizeof(e)) {
		player_explain(pl, e, err, errlen);
		close(pl->fd);
		pl->fd = -1;
		while (waitpid(pl->pid, NULL, 0) < 0 && errno == EINTR)
			;
		pl->pid = -1;
		return -1;
	}
	log_debug("player %s started (pid %ld)", pl->argv[0], (long)pl->pid);
	return 0;
}

int
player_finish(struct player *pl, int stop)
{
	int status, rc = -1;
	pid_t w;

	if (pl->fd >= 0)
		close(pl->fd);
	pl->fd = -1;
	if (pl->pid > 0) {
		if (stop)
			kill(pl->pid, SIGTERM);
		for (;;) {
			w = waitpid(pl->pid, &status, 0);
			if (w >= 0)
				break;
			if (errno != EINTR)
				break;
			/* interrupted while the song plays: end the player too */
			if (client_stop && !stop) {
				kill(pl->pid, SIGTERM);
				stop = 1;
			}
		}
		if (w == pl->pid) {
			if (WIFEXITED(status))
				rc = WEXITSTATUS(status);
			else if (WIFSIGNALED(status))
				rc = 128 + WTERMSIG(status);
		}
		pl->pid = -1;
	}
	free(pl->words);
	pl->words = NULL;
	return rc;
}

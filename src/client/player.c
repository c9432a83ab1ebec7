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
player_parse(struct player *player, const char *cmd)
{
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
		player->argv[n++] = w;
	}
	player->argv[n] = NULL;
	if (n == 0) {
		free(player->words);
		player->words = NULL;
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

/* In the child: stdin from the pipe, default signal handling, then exec.
 * On failure errno goes back through report_fd and the child exits. */
static void
player_exec(struct player *player, int read_fd, int report_fd)
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
	execvp(player->argv[0], player->argv);
	e = errno;
fail:
	if (write(report_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int
player_start(struct player *player, char *err, size_t errlen)
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
	player->pid = fork();
	if (player->pid < 0) {
		snprintf(err, errlen, "cannot start the player: %s", strerror(errno));
		close(data[0]);
		close(data[1]);
		close(report[0]);
		close(report[1]);
		return -1;
	}
	if (player->pid == 0) {
		close(data[1]);
		close(report[0]);
		player_exec(player, data[0], report[1]);
	}
	close(data[0]);
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
		player->fd = -1;
		while (waitpid(player->pid, NULL, 0) < 0 && errno == EINTR)
			;
		player->pid = -1;
		return -1;
	}
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
	free(player->words);
	player->words = NULL;
	return rc;
}

/* player.h - a player fed through a pipe. */
#ifndef P2PM_CLIENT_PLAYER_H
#define P2PM_CLIENT_PLAYER_H

#include <stddef.h>
#include <sys/types.h>

/* most words in a --player command */
#define PLAYER_MAX_ARGS 64
#define PLAYER_DEFAULT "ffplay -nodisp -autoexit -loglevel error -"

/* room for the player's last line on stderr, its reason for failing */
#define PLAYER_REASON_MAX 256
/* how long the player's stderr is still read after it has exited (a child
 * of the player may hold it open), in milliseconds */
#define PLAYER_STDERR_DRAIN_MS 1000

struct player_stderr;

struct player {
	pid_t pid;
	int fd;			/* write end of the player's stdin */
	char *argv[PLAYER_MAX_ARGS + 2];	/* room for an added "-" */
	char *words;		/* storage for argv */
	struct player_stderr *errs;	/* the thread relaying its stderr */
	char reason[PLAYER_REASON_MAX];	/* its last stderr line, or "" */
};

/* Splits cmd on spaces into an argument vector (no quoting, no shell).
 * When no word names standard input ("-", "fd://0", "pipe:", "/dev/stdin"
 * and the like) a "-" is added at the end, as mpv, vlc and mpg123 need to
 * read it. Returns 0, or -1 if it is empty or has too many words. */
int player_parse(struct player *player, const char *cmd);

/* Checks, before anything is downloaded, that the player's program exists
 * and is executable (searching PATH as execvp does). Returns 0, or -1 with
 * the reason in err, naming the package that provides a known player. */
int player_find(const struct player *player, char *err, size_t errlen);

/* Starts the player with a pipe as its stdin. Returns 0, or -1 with a
 * reason in err (naming the package to install if the program is missing). */
int player_start(struct player *player, char *err, size_t errlen);

/* Closes the pipe (end of the stream) and waits for the player; with stop
 * set, asks it to end first. Returns its exit status, 128+signal if it was
 * killed, or -1; player->reason then holds its last line on stderr (which
 * is relayed to the client's stderr as it comes). Frees what player_parse
 * and player_start allocated. */
int player_finish(struct player *player, int stop);

#endif

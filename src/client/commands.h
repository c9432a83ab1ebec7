/* commands.h - the options every command takes, the exit codes, and the
 * commands of commands.c: query, fetch, and the swarm run that fetch,
 * save, cat and play share. */
#ifndef P2PM_CLIENT_COMMANDS_H
#define P2PM_CLIENT_COMMANDS_H

#include <stddef.h>

#include "p2pm/cli.h"
#include "swarm.h"
#include "tracker_client.h"

/* Exit codes, as documented in --help. */
enum client_exit {
	CLIENT_EXIT_OK = 0,
	CLIENT_EXIT_NOT_FOUND = 1,	/* unknown song, or no peer could serve it */
	CLIENT_EXIT_USAGE = 2,
	CLIENT_EXIT_TRACKER = 3,	/* tracker unreachable or answering badly */
	CLIENT_EXIT_LOCAL = 4,		/* cannot write the output or run the player */
	CLIENT_EXIT_INTERRUPTED = 130	/* SIGINT or SIGTERM */
};

/* most serve --allow-host names */
#define CLIENT_MAX_ALLOW_HOSTS 16
/* longest serve --allow-host name, in bytes */
#define CLIENT_MAX_HOST_NAME 253

struct client_opts {
	struct cli_trackers trackers;	/* -t, else the environment's */
	int quiet;
	int timeout_ms;
	const char *outdir;		/* fetch -o */
	struct peer_list peers;		/* -p, in order */
	const char *content_id;		/* --id */
	size_t jobs;			/* -j */
	int verbose;
	const char *player;		/* play --player */
	int json;			/* list --json */
	int segment_delay_ms;		/* testing aid, see main.c */
	long start_ms;			/* play --start, for the first song */
	const char *playlist_file;	/* cat/play --playlist */
	const char *album;		/* cat/play --album */
	int shuffle;			/* cat/play --shuffle */
	/* serve --allow-host: more names the gateway answers to */
	const char *allow_hosts[CLIENT_MAX_ALLOW_HOSTS];
	size_t nallow_hosts;
};

/* The name song is found under: song itself, or (without -p peers) the
 * song's name when a tracker knows song as the file name of a song its
 * tags name (tracker_resolve; logged with -v). Returns song or buf. */
const char *cmd_song_name(const struct client_opts *o, const char *song,
    char buf[PROTO_MAX_NAME + 1]);

/* Fills peers from -p, or else from the tracker. Returns an exit code
 * (CLIENT_EXIT_OK, or a failure already logged). */
int cmd_peers(const struct client_opts *o, const char *song,
    struct peer_list *peers);

/* Finds the sources and the content id of song and runs the swarm into
 * sink (the path of fetch, of save, and of each song of cat and play),
 * turning a
 * failure into messages and an exit code; *result says what happened. */
int cmd_swarm(const struct client_opts *o, const char *song,
    const struct fetch_sink *sink, struct fetch_report *rep,
    enum fetch_result *result);

int cmd_query(const struct client_opts *o, const char *song);
int cmd_fetch(const struct client_opts *o, const char *song);

#endif

/* commands.c - query, fetch, cat and play (list is in list.c): each turns
 * the options into requests and the outcome into output and an exit code. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "p2pm/fsname.h"
#include "p2pm/log.h"
#include "p2pm/units.h"
#include "client.h"

int
cmd_peers(const struct client_opts *o, const char *song, struct peer_list *peers)
{
	char err[CLIENT_ERR_LEN];

	if (o->peers.count > 0) {
		*peers = o->peers;
		return CLIENT_EXIT_OK;
	}
	if (tracker_query(o->tracker, song, o->timeout_ms, peers, err,
	    sizeof(err)) < 0) {
		log_error("%s", err);
		return CLIENT_EXIT_TRACKER;
	}
	if (peers->count == 0) {
		log_error("no peer holds '%s'", song);
		return CLIENT_EXIT_NOT_FOUND;
	}
	return CLIENT_EXIT_OK;
}

int
cmd_query(const struct client_opts *o, const char *song)
{
	struct peer_list peers;
	int rc = cmd_peers(o, song, &peers);

	if (rc != CLIENT_EXIT_OK)
		return rc;
	for (size_t i = 0; i < peers.count; i++)
		printf("%s\n", peers.addr[i]);
	return fflush(stdout) == 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_LOCAL;
}

int
cmd_run(const struct client_opts *o, const char *song,
    const struct peer_list *peers, const struct fetch_sink *sink,
    struct fetch_report *rep, enum fetch_result *result)
{
	struct fetch_params fp;
	struct progress pr;

	progress_init(&pr, !o->quiet);
	fp.song = song;
	fp.peers = peers;
	fp.timeout_ms = o->timeout_ms;
	fp.segment_delay_ms = o->segment_delay_ms;
	fp.progress = &pr;
	*result = fetch_song(&fp, sink, rep);
	switch (*result) {
	case FETCH_DONE:
	case FETCH_OUTPUT_CLOSED:
		return CLIENT_EXIT_OK;
	case FETCH_NO_PEER:
		log_error("no peer could serve '%s':", song);
		for (size_t i = 0; i < rep->failures; i++)
			log_error("  %s", rep->failure[i]);
		return CLIENT_EXIT_NOT_FOUND;
	case FETCH_LOCAL_ERROR:
		return CLIENT_EXIT_LOCAL;
	case FETCH_INTERRUPTED:
		log_error("interrupted");
		return CLIENT_EXIT_INTERRUPTED;
	}
	return CLIENT_EXIT_LOCAL;
}

/* Prints path so that it can be pasted into a shell as one word. */
static void
cmd_print_quoted(FILE *f, const char *path)
{
	int plain = *path != '\0';

	for (const char *p = path; *p != '\0'; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-/+,:@%=", *p))
			plain = 0;
	if (plain) {
		fputs(path, f);
		return;
	}
	fputc('\'', f);
	for (const char *p = path; *p != '\0'; p++) {
		if (*p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	}
	fputc('\'', f);
}

int
cmd_fetch(const struct client_opts *o, const char *song)
{
	char dir[FSNAME_MAX + 1], err[CLIENT_ERR_LEN], index[PATH_MAX + 16];
	const char *path = o->outdir;
	struct peer_list peers;
	struct fetch_report rep;
	struct fetch_sink sink;
	enum fetch_result result;
	struct outdir *od;
	int rc;

	if (path == NULL) {
		fsname_from_song(song, dir, sizeof(dir));
		path = dir;
	}
	rc = cmd_peers(o, song, &peers);
	if (rc != CLIENT_EXIT_OK)
		return rc;
	od = outdir_open(path, err, sizeof(err));
	if (od == NULL) {
		log_error("%s", err);
		return CLIENT_EXIT_LOCAL;
	}
	outdir_sink(od, &sink);
	rc = cmd_run(o, song, &peers, &sink, &rep, &result);
	outdir_close(od, result == FETCH_DONE);
	if (result != FETCH_DONE)
		return rc == CLIENT_EXIT_OK ? CLIENT_EXIT_LOCAL : rc;
	if (!o->quiet) {
		long secs = (rep.duration_ms + 500) / 1000;
		char size[UNITS_BYTES_LEN];

		units_format_bytes((unsigned long long)rep.bytes, size, sizeof(size));
		snprintf(index, sizeof(index), "%s%s%s", path,
		    path[strlen(path) - 1] == '/' ? "" : "/", PLAYLIST_INDEX_NAME);
		printf("fetched '%s' into ", song);
		cmd_print_quoted(stdout, path);
		printf(" (%zu segments, %s, %ld:%02ld)\n", rep.segments, size,
		    secs / 60, secs % 60);
		printf("play it with: ffplay ");
		cmd_print_quoted(stdout, index);
		printf("\n");
	}
	return fflush(stdout) == 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_LOCAL;
}

int
cmd_cat(const struct client_opts *o, const char *song)
{
	struct outstream os = { STDOUT_FILENO };
	struct peer_list peers;
	struct fetch_report rep;
	struct fetch_sink sink;
	enum fetch_result result;
	int rc;

	if (isatty(STDOUT_FILENO)) {
		log_error("not writing a binary stream to a terminal; "
		    "pipe it into a player: client cat SONG | ffplay -");
		return CLIENT_EXIT_USAGE;
	}
	rc = cmd_peers(o, song, &peers);
	if (rc != CLIENT_EXIT_OK)
		return rc;
	outstream_sink(&os, &sink);
	rc = cmd_run(o, song, &peers, &sink, &rep, &result);
	if (result == FETCH_OUTPUT_CLOSED)
		log_info("the reader of the stream went away; stopped");
	return rc;
}

int
cmd_play(const struct client_opts *o, const char *song)
{
	struct player player;
	struct outstream os;
	struct peer_list peers;
	struct fetch_report rep;
	struct fetch_sink sink;
	enum fetch_result result;
	char err[CLIENT_ERR_LEN];
	int rc, status;

	if (player_parse(&player, o->player ? o->player : PLAYER_DEFAULT) < 0) {
		log_error("--player wants a command of 1 to %d words",
		    PLAYER_MAX_ARGS);
		return CLIENT_EXIT_USAGE;
	}
	if (player_find(&player, err, sizeof(err)) < 0) {
		log_error("%s", err);
		player_finish(&player, 1);
		return CLIENT_EXIT_LOCAL;
	}
	rc = cmd_peers(o, song, &peers);
	if (rc != CLIENT_EXIT_OK) {
		player_finish(&player, 1);
		return rc;
	}
	if (player_start(&player, err, sizeof(err)) < 0) {
		log_error("%s", err);
		player_finish(&player, 1);
		return CLIENT_EXIT_LOCAL;
	}
	os.fd = player.fd;
	outstream_sink(&os, &sink);
	rc = cmd_run(o, song, &peers, &sink, &rep, &result);
	status = player_finish(&player, result != FETCH_DONE &&
	    result != FETCH_OUTPUT_CLOSED);
	if (result != FETCH_DONE && result != FETCH_OUTPUT_CLOSED)
		return rc;
	if (client_stop)
		return CLIENT_EXIT_INTERRUPTED;
	if (result == FETCH_OUTPUT_CLOSED)
		log_info("the player closed; download stopped");
	/* a player the user closed early is not a failure */
	if (status == 0 || (result == FETCH_OUTPUT_CLOSED &&
	    (status == 128 + SIGINT || status == 128 + SIGTERM ||
	    status == 128 + SIGPIPE)))
		return CLIENT_EXIT_OK;
	if (status > 128)
		log_error("player '%s' was killed by signal %d%s%s", o->player ?
		    o->player : PLAYER_DEFAULT, status - 128,
		    *player.reason ? ": " : "", player.reason);
	else
		log_error("player '%s' exited with status %d%s%s", o->player ?
		    o->player : PLAYER_DEFAULT, status,
		    *player.reason ? ": " : "", player.reason);
	return CLIENT_EXIT_LOCAL;
}

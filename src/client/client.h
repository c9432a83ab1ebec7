/* client.h - the client's modules: tracker requests, peer requests, the
 * swarm and its outputs, the progress line and the player. */
#ifndef P2PM_CLIENT_H
#define P2PM_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "p2pm/cli.h"
#include "p2pm/net.h"
#include "p2pm/playlist.h"
#include "p2pm/proto.h"
#include "p2pm/rpc.h"
#include "p2pm/sha256.h"

/* most peers one fetch tries (from the tracker or -p) */
#define CLIENT_MAX_PEERS 64
/* most songs one LIST reply may hold */
#define CLIENT_MAX_LIST_SONGS 1000000
/* room for one failure reason */
#define CLIENT_ERR_LEN 512

/* Set by the SIGINT/SIGTERM handler; long operations stop when they see it. */
extern volatile sig_atomic_t client_stop;

struct peer_list {
	size_t count;
	char addr[CLIENT_MAX_PEERS][NET_ADDR_MAX];
};

/* Adds addr unless it is already listed; returns -1 when the list is full. */
int peer_list_add(struct peer_list *list, const char *addr);

/* most sources one fetch knows of (from LOCATE or -p) */
#define CLIENT_MAX_SOURCES 256
/* most lines of a LOCATE reply read */
#define CLIENT_MAX_LOCATE_LINES 4096

/* How a source can be reached, as LOCATE <name> reach says. */
enum source_reach {
	SOURCE_DIRECT,		/* its address takes connections */
	SOURCE_NAT,		/* behind a NAT: a hole punch, else its relay */
	SOURCE_RELAYED		/* through its relay (after a punch is tried) */
};

/* A place to get a song from, with the content id it registered ("" for
 * none: a version-1 registration, or a peer given with -p), how it is
 * reached, and the tracker that named it (which brokers hole punches). */
struct source_entry {
	char addr[NET_ADDR_MAX];
	char id[SHA256_HEX_LEN];
	enum source_reach reach;
	char relay[NET_ADDR_MAX];	/* SOURCE_RELAYED: the relay */
	char tracker[NET_ADDR_MAX];	/* "" for a peer given with -p */
};

struct source_list {
	size_t count;
	struct source_entry e[CLIENT_MAX_SOURCES];
};

/* Adds addr (with content id id, NULL or "" for none) unless addr is
 * listed already; returns -1 when the list is full. */
int source_list_add(struct source_list *list, const char *addr, const char *id);

/* Adds a copy of e unless its address is listed already; returns -1 when
 * the list is full. */
int source_list_add_entry(struct source_list *list, const struct source_entry *e);

/* Moves the sources reached only through a relay to the end of the list,
 * keeping the order within each part: a relay is the last resort. */
void source_list_relayed_last(struct source_list *list);

/* True if text (len bytes) is a content id: 64 lower-case hex digits. */
int content_id_ok(const char *text, size_t len);

/* ---- tracker_client.c: LOCATE, QUERY and LIST, to several trackers in turn */

/* longest tag value kept from a LIST line, decoded, in bytes */
#define CLIENT_MAX_TAG PROTO_MAX_NAME
/* longest duration a LIST line may give, in seconds (a week) */
#define CLIENT_MAX_DURATION_S (7L * 24 * 3600)
/* highest track number a LIST line may give */
#define CLIENT_MAX_TRACK 100000

struct song_entry {
	char name[PROTO_MAX_NAME + 1];
	long peers;
	/* tags from "key=value" words after the count; NULL when not given;
	 * owned by the list */
	char *artist, *album, *title;
	long duration_ms;	/* -1 when not given */
	long track;		/* track number ("3" or "3/12"), -1 when not given */
};

struct song_list {
	struct song_entry *songs;	/* owned; free with song_list_free */
	size_t count;
};

/* Asks the trackers, in order, for the peers holding song: the first one
 * naming any peer gives the list. A tracker that cannot be reached within
 * timeout_ms, answers ERR or breaks the protocol, or names no peer, hands
 * over to the next; -v logs which one answered. Returns 0 when at least
 * one answered (the list is then empty if none named a peer), or -1 when
 * every tracker failed, with the reasons in err. */
int tracker_query(const struct cli_trackers *trackers, const char *song,
    int timeout_ms, struct peer_list *peers, char *err, size_t errlen);

/* Asks the trackers, in order, for every source of song with its content
 * id (LOCATE): the list keeps the answering tracker's order. A version-1
 * tracker (ERR 400 to LOCATE) is asked QUERY instead: then *version1 is
 * set and no source has a content id. Returns 0 or -1 as tracker_query
 * does. */
int tracker_locate(const struct cli_trackers *trackers, const char *song,
    int timeout_ms, struct source_list *sources, int *version1, char *err,
    size_t errlen);

/* Asks the trackers, in order, for the songs whose names contain filter
 * (NULL: all): the first answer with any song gives the list. Returns 0
 * or -1 as tracker_query does. */
int tracker_list(const struct cli_trackers *trackers, const char *filter,
    int timeout_ms, struct song_list *songs, char *err, size_t errlen);

/* Frees the entries and their tags. */
void song_list_free(struct song_list *songs);

/* Reads one LIST or LISTPAGE reply line, "<encoded name> <count>" and then
 * any "key=value" words with percent-encoded values (artist, album, title,
 * duration in seconds, track as "N" or "N/M"; unknown or malformed words are ignored), into e,
 * whose tags the caller frees (song_list_free, or song_entry_clear).
 * Returns 0, or -1 if the name or the count is bad (e holds no tags). */
int song_entry_parse(const char *line, struct song_entry *e);
void song_entry_clear(struct song_entry *e);

/* ---- peer_client.c: REQUEST_SONG and REQUEST_SEGMENT over a connection
 * to a peer (rpc_open, then any number of requests, then rpc_close) */

/* REQUEST_SONG: on success *body holds the playlist (*len bytes, plus a
 * NUL after them), owned by the caller; otherwise rpc_error(c) says why. */
enum rpc_result peer_request_song(struct rpc_conn *c, const char *song,
    char **body, size_t *len);

/* REQUEST_SEGMENT: on success *body holds the segment (*len bytes), owned
 * by the caller; the reply must name the segment asked for. */
enum rpc_result peer_request_segment(struct rpc_conn *c, const char *name,
    char **body, size_t *len);

/* ---- reach.c: a connection to a source, however it is reached */

/* attempts of a hole punch: each dial waits this long, ms, and they go on
 * until the punch deadline, ms after the tracker's go */
#define REACH_PUNCH_DIAL_MS 1000
#define REACH_PUNCH_DEADLINE_MS 4000
/* between dials refused at once (the other side's NAT not open yet), ms */
#define REACH_PUNCH_RETRY_MS 50

/* Opens a connection to e for requests: directly for a direct source; for
 * one behind a NAT, a hole punch brokered by the tracker that named it
 * (PUNCH), and when that fails its relay (CONNECT). Sets *how to
 * "direct", "punched" or "relayed". Returns the connection, or NULL with
 * the reasons in why. */
struct rpc_conn *source_open(const struct source_entry *e, int timeout_ms,
    const char **how, char *why, size_t whylen);

/* ---- progress.c: one line on a terminal, redrawn in place */

struct progress {
	int enabled;
	int drawn;		/* a line is on screen */
	long long start_ms, last_draw_ms;
};

/* Enabled only if wanted and stderr is a terminal. */
void progress_init(struct progress *p, int wanted);
/* Draws "DONE/TOTAL segments  BYTES  RATE/s  N sources" (at most every
 * PROGRESS_REDRAW_MS unless forced). */
void progress_update(struct progress *p, size_t done, size_t total,
    long long bytes, size_t sources, int force);
/* Erases the line, so that other output starts on a clean line. */
void progress_clear(struct progress *p);

/* ---- swarm.c: a song from many sources at once, every byte verified */

/* most sources used at once (-j) */
#define SWARM_MAX_JOBS 16
#define SWARM_DEFAULT_JOBS 4

/* Where the segments go. start and segment return 0, -1 for a local
 * failure (already logged) or 1 when the reader of the output has gone
 * away; start may also return SINK_HAVE_SONG. */
#define SINK_HAVE_SONG 2	/* the output already holds this song whole */
struct fetch_sink {
	/* the playlist (verified: its canonical form hashes to content_id) */
	int (*start)(void *ctx, const struct playlist *playlist,
	    const char *content_id);
	/* segment index has arrived and hashes to its name */
	int (*segment)(void *ctx, size_t index, const char *data, size_t len);
	/* every segment has been handed over */
	int (*finish)(void *ctx);
	/* segments must come in playlist order (a stream), else in any */
	int in_order;
	void *ctx;
};

enum fetch_result {
	FETCH_DONE = 0,
	FETCH_NO_PEER,		/* no source is left for a missing segment */
	FETCH_LOCAL_ERROR,	/* writing the output failed */
	FETCH_OUTPUT_CLOSED,	/* the output's reader went away */
	FETCH_INTERRUPTED	/* client_stop was set */
};

struct fetch_params {
	const char *song;
	const struct source_list *sources;	/* candidates, best first */
	const char *content_id;	/* the song to get; NULL: the first
				 * playlist fetched fixes it */
	size_t jobs;		/* sources at once, 1..SWARM_MAX_JOBS */
	int timeout_ms;
	int segment_delay_ms;	/* pause before each segment after the first */
	long start_ms;		/* skip the segments before the one holding
				 * this time (0: from the start) */
	struct progress *progress;
};

/* What one source did. */
struct fetch_source_report {
	char addr[NET_ADDR_MAX];
	long long bytes;	/* verified bytes it sent that were used */
	size_t segments;	/* segments it sent that were used */
	size_t duplicates;	/* verified copies another source sent first */
	char dropped[CLIENT_ERR_LEN];	/* why it was dropped; "" if not */
	const char *how;	/* "direct", "punched" or "relayed"; NULL: not
				 * connected */
};

struct fetch_report {
	size_t segments;
	long long bytes;
	long duration_ms;
	long long elapsed_ms;
	char content_id[SHA256_HEX_LEN];
	int had_song;		/* the output held the song already */
	size_t delivered;	/* sources that sent at least one segment used */
	size_t nsources;	/* sources tried */
	struct fetch_source_report src[CLIENT_MAX_SOURCES];
};

/* Fetches the song from the sources and hands verified segments to sink,
 * from up to params->jobs sources at once (one thread and one connection
 * each), earliest missing segment first. A source that fails in any way
 * is dropped for the run (logged, and said in the report) and another is
 * used; the result is FETCH_NO_PEER only when no source is left for a
 * missing segment. */
enum fetch_result fetch_song(const struct fetch_params *params,
    const struct fetch_sink *sink, struct fetch_report *report);

/* ---- outdir.c: a song as a song directory (include/p2pm/songdir.h) */

struct outdir;

/* Creates the missing parent directories of path, as mkdir -p does (the
 * last component is left to the caller). Returns 0, or -1 with errno set. */
int outdir_make_parents(const char *path);

/* Looks at the directory path (it need not exist): refuses (-1, reason in
 * err) a path that is not a directory, or a directory holding anything but
 * one whole song; fills *have_id with the content id of the song it holds,
 * or "" if it is empty or absent. Nothing is written yet. */
struct outdir *outdir_open(const char *path, const char *song,
    char have_id[SHA256_HEX_LEN], char *err, size_t errlen);
/* The sink writing a song directory at od's path. */
void outdir_sink(struct outdir *od, struct fetch_sink *sink);
/* Removes what an unfinished fetch left, then frees od. */
void outdir_close(struct outdir *od);

/* ---- outstream.c: a song as one MPEG-TS stream on a descriptor */

struct outstream {
	int fd;
};

void outstream_sink(struct outstream *os, struct fetch_sink *sink);

/* ---- player.c: a player fed through a pipe */

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

/* ---- commands.c: what each command does */

/* Exit codes, as documented in --help. */
enum client_exit {
	CLIENT_EXIT_OK = 0,
	CLIENT_EXIT_NOT_FOUND = 1,	/* unknown song, or no peer could serve it */
	CLIENT_EXIT_USAGE = 2,
	CLIENT_EXIT_TRACKER = 3,	/* tracker unreachable or answering badly */
	CLIENT_EXIT_LOCAL = 4,		/* cannot write the output or run the player */
	CLIENT_EXIT_INTERRUPTED = 130	/* SIGINT or SIGTERM */
};

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
};

/* list.c: the songs as tab-separated lines, an aligned table on a
 * terminal, or JSON lines (--json) */
int cmd_list(const struct client_opts *o, const char *filter);

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

/* save.c: the song as one audio file, remuxed by ffmpeg */
int cmd_save(const struct client_opts *o, const char *song);
int cmd_query(const struct client_opts *o, const char *song);
int cmd_fetch(const struct client_opts *o, const char *song);

/* queue.c: cat and play of several songs, one after the other into one
 * stream (stdout, or one player's stdin), the next song fetched while the
 * current one is written. songs are the names given on the command line
 * (nsongs may be 0 with --playlist or --album). */
int cmd_cat(const struct client_opts *o, const char *const *songs,
    size_t nsongs);
int cmd_play(const struct client_opts *o, const char *const *songs,
    size_t nsongs);

/* ---- queue_ts.c: songs joined into one MPEG-TS stream */

/* MPEG-TS packet ids */
#define QUEUE_TS_PIDS 8192

struct queue_ts {
	long long offset;	/* added to the song's timestamps, 90 kHz */
	long long next_start;	/* where the next song begins, -1 unknown */
	int song_begins;	/* the next segment is a song's first */
	long long skip_until;	/* PES packets before this PTS are dropped
				 * (--start inside a segment), -1 none */
	unsigned char dropping[QUEUE_TS_PIDS];	/* in a dropped PES packet */
	unsigned char cc[QUEUE_TS_PIDS], cc_seen[QUEUE_TS_PIDS];
};

void queue_ts_init(struct queue_ts *ts);
/* The next segment rewritten is the first of a new song. */
void queue_ts_next_song(struct queue_ts *ts);
/* Rewrites one segment (len bytes, duration_us long) in place: its
 * timestamps moved by the song's offset, fixed at the song's first
 * segment so that it begins where the songs before it ended, and its
 * continuity counters going on from the last packet of the same id. With
 * skip_ms > 0 (a song's first segment, --start) the audio and video PES
 * packets that begin less than skip_ms into it are dropped. Returns the
 * bytes kept, at the start of buf. A segment that is not whole packets is
 * left as it is. */
size_t queue_ts_rewrite(struct queue_ts *ts, char *buf, size_t len,
    long long duration_us, long skip_ms);

/* ---- queue_time.c: the times --start takes */

/* longest time --start takes, in seconds (a week) */
#define QUEUE_MAX_START_S (7L * 24 * 3600)

/* Reads "90", "1:30", "1:02:03" or any of them with a fraction ("90.5")
 * into milliseconds. Returns 0, or -1 if text is no such time or is over
 * QUEUE_MAX_START_S. */
int queue_time_parse(const char *text, long *ms);

/* The index of the segment of pl holding time ms (the last one for a time
 * past the end) and, in *into_ms, how far into it ms lies. */
size_t queue_segment_at(const struct playlist *pl, long ms, long *into_ms);

#endif

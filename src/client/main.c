/* main.c - the client's command line: flags, the command, exit codes. */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/cli.h"
#include "p2pm/defaults.h"
#include "p2pm/log.h"
#include "p2pm/search.h"
#include "client.h"
#include "commands.h"
#include "gateway/serve.h"
#include "list.h"
#include "player.h"
#include "queue.h"
#include "queue_time.h"
#include "save.h"

#define CLIENT_DEFAULT_TIMEOUT_S 5
#define CLIENT_MAX_TIMEOUT_S 3600
/* Testing aid, not in --help: a pause in milliseconds before each segment
 * after the first, so that tests can stop a peer in the middle of a song. */
#define CLIENT_DELAY_ENV "P2PM_CLIENT_SEGMENT_DELAY_MS"
#define CLIENT_MAX_SEGMENT_DELAY_MS 10000

#define STR_(x) #x
#define STR(x) STR_(x)

volatile sig_atomic_t client_stop;

static const char usage_text[] =
"usage: client [-t HOST:PORT]... [-q] [-v] [--timeout SECONDS] COMMAND ...\n"
"\n"
"commands:\n"
"  list [--json] [TEXT]           songs on the network (every word of TEXT in\n"
"                                 the name, artist, album or title, ignoring\n"
"                                 case and accents) and how many peers hold\n"
"                                 each (exit 1 when none):\n"
"                                 \"NAME<TAB>PEERS\" lines, a table on a\n"
"                                 terminal, or JSON lines (--json); with -v\n"
"                                 also the file name each is found by\n"
"  query SONG                     the peers holding SONG, one HOST:PORT a line\n"
"  fetch [-o DIR] [-j N] [-p PEER]... SONG\n"
"                                 download SONG into DIR (default: the song's\n"
"                                 name made safe as a file name); DIR then holds\n"
"                                 index.m3u8, its segments and song.name, a song\n"
"                                 directory a peer shares: ffplay DIR/index.m3u8\n"
"  cat [QUEUE] [-j N] [-p PEER]... [SONG]...\n"
"                                 write the songs to stdout, one after the\n"
"                                 other, as one MPEG-TS stream, as segments\n"
"                                 arrive: client cat SONG | ffplay -\n"
"  play [QUEUE] [--player CMD] [-j N] [-p PEER]... [SONG]...\n"
"                                 stream the songs into one player reading\n"
"                                 stdin (default: " PLAYER_DEFAULT "),\n"
"                                 with no gap between them\n"
"  serve [-l ADDR:PORT] [--allow-host NAME]...\n"
"                                 an HTTP gateway for players and browsers\n"
"                                 (default " SERVE_DEFAULT_LISTEN "): a player\n"
"                                 page at /, /songs/NAME/index.m3u8 for mpv,\n"
"                                 VLC or ffplay, /api/songs?q=TEXT as JSON\n"
"  save [-o FILE] [-j N] [-p PEER]... SONG\n"
"                                 SONG as one audio file, remuxed by ffmpeg\n"
"                                 without re-encoding: NAME.mp3 (MP3) or\n"
"                                 NAME.m4a (AAC), or FILE, or inside DIR\n"
"\n"
"options:\n"
"  -t, --tracker HOST:PORT  a tracker (default $" P2PM_TRACKER_ENV ",\n"
"                           else " P2PM_DEFAULT_TRACKER "); repeat it, or give\n"
"                           HOST:PORT,HOST:PORT, for several: they are asked\n"
"                           in order until one answers\n"
"  -p, --peer HOST:PORT     ask this peer directly, without the tracker;\n"
"                           repeat to give several\n"
"  -j, --jobs N             fetch from up to N sources at once (default "
    STR(SWARM_DEFAULT_JOBS) ", at most " STR(SWARM_MAX_JOBS) ")\n"
"      --id CONTENT_ID      fetch the song with this content id (64 hex\n"
"                           digits), not the one the most peers hold\n"
"  -o, --output DIR         where fetch writes the song\n"
"  -l, --listen ADDR:PORT   where serve listens (port 0 picks a free one);\n"
"                           an address beyond loopback serves the network\n"
"      --allow-host NAME    serve also answers requests naming NAME (at its\n"
"                           port) as their Host, besides its own address,\n"
"                           localhost, 127.0.0.1 and [::1]; repeat it for\n"
"                           several (other names get 421: DNS rebinding)\n"
"      --player CMD         the player for play; CMD is split on spaces into\n"
"                           words (no shell, no quoting) and must read stdin\n"
"  QUEUE, for cat and play (after any SONGs named):\n"
"      --playlist FILE      the songs named in FILE, one a line ('#' lines\n"
"                           and blank lines skipped; - for stdin)\n"
"      --album ALBUM        every song the tracker lists with this album tag\n"
"                           (ignoring case and accents), in track order\n"
"      --shuffle            in random order\n"
"      --start TIME         the first song from TIME on (90, 1:30, 1:02:03.5):\n"
"                           from the segment holding it, the part of that\n"
"                           segment before TIME dropped\n"
"                           A song that cannot be fetched is said and\n"
"                           skipped; the next one is fetched while the\n"
"                           current one plays\n"
"      --timeout SECONDS    connect and read timeout (default "
    STR(CLIENT_DEFAULT_TIMEOUT_S) ", at most " STR(CLIENT_MAX_TIMEOUT_S) ")\n"
"  -q, --quiet              no progress line, no summary, errors only\n"
"  -v, --verbose            say more on stderr (twice: debugging)\n"
"  -h, --help               this text\n"
"      --version            the version\n"
"  --                       ends the options (for a SONG starting with '-')\n"
"\n"
"The song is fetched from several peers at once, earliest segment first;\n"
"every segment is checked against its SHA-256 before it is written or\n"
"played. A peer that sends a wrong byte, refuses, stalls or fails is\n"
"dropped for the run and its segments come from the others. A progress\n"
"line is shown when stderr is a terminal (not with -q).\n"
"\n"
"exit status:\n"
"  0    success (also when the reader of cat or the player stops early)\n"
"  1    the song is unknown, or no peer could serve it (of several songs:\n"
"       any one of them; the others were played), or no song has ALBUM\n"
"  2    usage error\n"
"  3    the tracker is unreachable or answers badly (with several:\n"
"       every one of them)\n"
"  4    local failure: the output cannot be written (the disk is full, or\n"
"       DIR holds another song or other files), or the player is missing\n"
"       (the message names the package providing it) or fails\n"
"  130  interrupted (SIGINT, SIGTERM)\n";

enum client_cmd { CMD_NONE, CMD_LIST, CMD_QUERY, CMD_FETCH, CMD_CAT, CMD_PLAY,
	CMD_SERVE, CMD_SAVE };

static const struct {
	const char *name;
	enum client_cmd cmd;
	int min_args, max_args;
} commands[] = {
	{ "list", CMD_LIST, 0, 1 },
	{ "query", CMD_QUERY, 1, 1 },
	{ "fetch", CMD_FETCH, 1, 1 },
	{ "cat", CMD_CAT, 1, INT_MAX },
	{ "play", CMD_PLAY, 1, INT_MAX },
	{ "serve", CMD_SERVE, 0, 0 },
	{ "save", CMD_SAVE, 1, 1 },
};

/* A name sent on the wire must be 1..PROTO_MAX_NAME bytes of UTF-8 without
 * control bytes. */
static int
name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= PROTO_MAX_NAME && proto_name_valid(name, len);
}

/* The command line: options anywhere (GNU style), "--" ends them. Each
 * option is checked as it is read; what needs the command is checked after. */
int
main(int argc, char **argv)
{
	enum { OPT_PLAYER = 256, OPT_TIMEOUT, OPT_ID, OPT_JSON, OPT_PLAYLIST,
		OPT_ALBUM, OPT_SHUFFLE, OPT_START, OPT_ALLOW_HOST };
	static const struct option opts[] = {
		{ "tracker", required_argument, NULL, 't' },
		{ "peer", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "listen", required_argument, NULL, 'l' },
		{ "player", required_argument, NULL, OPT_PLAYER },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "jobs", required_argument, NULL, 'j' },
		{ "id", required_argument, NULL, OPT_ID },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "playlist", required_argument, NULL, OPT_PLAYLIST },
		{ "album", required_argument, NULL, OPT_ALBUM },
		{ "shuffle", no_argument, NULL, OPT_SHUFFLE },
		{ "start", required_argument, NULL, OPT_START },
		{ "allow-host", required_argument, NULL, OPT_ALLOW_HOST },
		CLI_COMMON_OPTIONS
	};
	struct client_opts o;
	const char **pos, *env, *listen_addr = NULL;
	int npos = 0, verbose = 0, ch, queue, rc;
	enum client_cmd cmd = CMD_NONE;
	size_t maxpos = (size_t)argc;

	/* a command and its arguments: never more than the words given */
	pos = calloc(maxpos, sizeof(*pos));
	if (pos == NULL) {
		fprintf(stderr, "client: out of memory\n");
		return CLIENT_EXIT_LOCAL;
	}

	memset(&o, 0, sizeof(o));
	o.timeout_ms = CLIENT_DEFAULT_TIMEOUT_S * 1000;
	o.jobs = SWARM_DEFAULT_JOBS;

	cli_init("client", NULL);
	opterr = 0;
	/* '-': arguments that are not options come back in order as 1 */
	while ((ch = getopt_long(argc, argv, "-:t:p:o:j:l:qvh", opts, NULL)) != -1) {
		switch (ch) {
		case 1:
			if (npos == (int)maxpos)
				cli_usage_error("too many arguments at '%s'", optarg);
			pos[npos++] = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			free(pos);
			return CLIENT_EXIT_OK;
		case CLI_OPT_VERSION:
			cli_print_version();
			free(pos);
			return CLIENT_EXIT_OK;
		case 'q':
			o.quiet = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 't':
			cli_xtrackers("-t", optarg, &o.trackers);
			break;
		case 'p':
			cli_xaddress("-p", optarg, 0);
			if (peer_list_add(&o.peers, optarg) < 0)
				cli_usage_error("too many peers at '%s'", optarg);
			break;
		case 'o':
			if (*optarg == '\0')
				cli_usage_error("-o wants a directory");
			o.outdir = optarg;
			break;
		case 'l':
			cli_xaddress("-l", optarg, 1);
			listen_addr = optarg;
			break;
		case OPT_ALLOW_HOST:
			if (!serve_host_name_ok(optarg))
				cli_usage_error("--allow-host wants a host name (letters, "
				    "digits, '-' and '.', at most "
				    STR(CLIENT_MAX_HOST_NAME) " bytes), not '%s'", optarg);
			if (o.nallow_hosts == CLIENT_MAX_ALLOW_HOSTS)
				cli_usage_error("at most " STR(CLIENT_MAX_ALLOW_HOSTS)
				    " --allow-host names");
			o.allow_hosts[o.nallow_hosts++] = optarg;
			break;
		case OPT_PLAYER:
			if (optarg[strspn(optarg, " ")] == '\0')
				cli_usage_error("--player wants a command");
			o.player = optarg;
			break;
		case 'j':
			o.jobs = (size_t)cli_xnumber("-j", optarg, 1, SWARM_MAX_JOBS);
			break;
		case OPT_ID:
			if (!content_id_ok(optarg, strlen(optarg)))
				cli_usage_error("--id wants a content id (64 lower-case "
				    "hex digits), not '%s'", optarg);
			o.content_id = optarg;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_PLAYLIST:
			if (*optarg == '\0')
				cli_usage_error("--playlist wants a file");
			o.playlist_file = optarg;
			break;
		case OPT_ALBUM:
			if (*optarg == '\0')
				cli_usage_error("--album wants an album's name");
			o.album = optarg;
			break;
		case OPT_SHUFFLE:
			o.shuffle = 1;
			break;
		case OPT_START:
			if (queue_time_parse(optarg, &o.start_ms) < 0)
				cli_usage_error("--start wants a time such as 90, 1:30 or "
				    "1:02:03.5 (at most %ld s), not '%s'",
				    QUEUE_MAX_START_S, optarg);
			break;
		case OPT_TIMEOUT:
			o.timeout_ms = (int)cli_xnumber("--timeout", optarg, 1,
			    CLIENT_MAX_TIMEOUT_S) * 1000;
			break;
		default:
			cli_bad_option(ch, argv, opts);
		}
	}
	/* after "--" */
	for (int i = optind; i < argc; i++) {
		if (npos == (int)maxpos)
			cli_usage_error("too many arguments at '%s'", argv[i]);
		pos[npos++] = argv[i];
	}
	if (npos == 0)
		cli_usage_error("no command given");
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(pos[0], commands[c].name) != 0)
			continue;
		queue = commands[c].cmd == CMD_CAT || commands[c].cmd == CMD_PLAY;
		if (npos - 1 < commands[c].min_args && !(queue &&
		    (o.playlist_file != NULL || o.album != NULL)))
			cli_usage_error("%s: missing SONG", pos[0]);
		if (npos - 1 > commands[c].max_args)
			cli_usage_error("%s: too many arguments", pos[0]);
		cmd = commands[c].cmd;
	}
	if (cmd == CMD_NONE) {
		const char *names[sizeof(commands) / sizeof(commands[0])];
		long best;

		for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
			names[c] = commands[c].name;
		best = search_nearest(pos[0], names, sizeof(names) / sizeof(names[0]));
		if (best >= 0)
			cli_usage_error("unknown command '%s'; did you mean '%s'?", pos[0],
			    names[best]);
		cli_usage_error("unknown command '%s'", pos[0]);
	}
	if (o.outdir != NULL && cmd != CMD_FETCH && cmd != CMD_SAVE)
		cli_usage_error("-o is for fetch and save only");
	if (o.peers.count > 0 && cmd != CMD_FETCH && cmd != CMD_CAT &&
	    cmd != CMD_PLAY && cmd != CMD_SAVE)
		cli_usage_error("-p is for fetch, cat, play and save only");
	if (listen_addr != NULL && cmd != CMD_SERVE)
		cli_usage_error("-l is for serve only");
	if ((o.content_id != NULL || o.jobs != SWARM_DEFAULT_JOBS) &&
	    cmd != CMD_FETCH && cmd != CMD_CAT && cmd != CMD_PLAY && cmd != CMD_SAVE)
		cli_usage_error("-j and --id are for fetch, cat, play and save only");
	if (o.json && cmd != CMD_LIST)
		cli_usage_error("--json is for list only");
	if (o.nallow_hosts > 0 && cmd != CMD_SERVE)
		cli_usage_error("--allow-host is for serve only");
	if (o.player != NULL && cmd != CMD_PLAY)
		cli_usage_error("--player is for play only");
	if ((o.playlist_file != NULL || o.album != NULL || o.shuffle) &&
	    cmd != CMD_CAT && cmd != CMD_PLAY)
		cli_usage_error("--playlist, --album and --shuffle are for cat and "
		    "play only");
	if (o.start_ms > 0 && cmd != CMD_PLAY && cmd != CMD_CAT)
		cli_usage_error("--start is for play and cat only");
	for (int i = 1; i < npos; i++)
		if (!name_ok(pos[i]))
			cli_usage_error("'%s' is not a valid name (1 to 255 bytes of "
			    "UTF-8, no control, bidi or zero-width characters)", pos[i]);
	/* no -t: the environment's list, else the default */
	env = getenv(P2PM_TRACKER_ENV);
	if (o.trackers.count == 0)
		cli_xtrackers(P2PM_TRACKER_ENV, env != NULL && *env != '\0' ? env :
		    P2PM_DEFAULT_TRACKER, &o.trackers);
	env = getenv(CLIENT_DELAY_ENV);
	if (env != NULL && *env != '\0')
		o.segment_delay_ms = (int)cli_xnumber(CLIENT_DELAY_ENV, env, 0,
		    CLIENT_MAX_SEGMENT_DELAY_MS);

	o.verbose = verbose;
	log_init("client", cli_log_level(LOG_LEVEL_WARN, verbose, o.quiet));
	log_set_brief(1);

	/* a reader or player that goes away shows up as EPIPE, not a signal */
	cli_signals(&client_stop, NULL, NULL);
	/* an interrupt ends any wait on the network at once */
	net_set_interrupt_flag(&client_stop);

	rc = CLIENT_EXIT_USAGE;
	switch (cmd) {
	case CMD_LIST:
		rc = cmd_list(&o, npos > 1 ? pos[1] : NULL);
		break;
	case CMD_QUERY:
		rc = cmd_query(&o, pos[1]);
		break;
	case CMD_FETCH:
		rc = cmd_fetch(&o, pos[1]);
		break;
	case CMD_CAT:
		rc = cmd_cat(&o, pos + 1, (size_t)(npos - 1));
		break;
	case CMD_PLAY:
		rc = cmd_play(&o, pos + 1, (size_t)(npos - 1));
		break;
	case CMD_SERVE:
		rc = cmd_serve(&o, listen_addr ? listen_addr : SERVE_DEFAULT_LISTEN);
		break;
	case CMD_SAVE:
		rc = cmd_save(&o, pos[1]);
		break;
	case CMD_NONE:
		break;
	}
	free(pos);
	return rc;
}

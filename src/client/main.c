/* main.c - the client's command line: flags, the command, exit codes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/log.h"
#include "p2pm/strnum.h"
#include "p2pm/version.h"
#include "client.h"

#define CLIENT_DEFAULT_TRACKER "127.0.0.1:7700"
#define CLIENT_TRACKER_ENV "P2P_MUSIC_TRACKER"
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
"usage: client [-t HOST:PORT] [-q] [-v] [--timeout SECONDS] COMMAND ...\n"
"\n"
"commands:\n"
"  list [TEXT]                    songs on the network (names containing TEXT,\n"
"                                 ignoring case) and how many peers hold each:\n"
"                                 \"NAME<TAB>PEERS\" lines, or aligned columns\n"
"                                 on a terminal\n"
"  query SONG                     the peers holding SONG, one HOST:PORT a line\n"
"  fetch [-o DIR] [-p PEER]... SONG\n"
"                                 download SONG into DIR (default: the song's\n"
"                                 name made safe as a file name); DIR then holds\n"
"                                 index.m3u8 and its segments: ffplay DIR/index.m3u8\n"
"  cat [-p PEER]... SONG          write SONG to stdout as one MPEG-TS stream, as\n"
"                                 segments arrive: client cat SONG | ffplay -\n"
"  play [--player CMD] [-p PEER]... SONG\n"
"                                 stream SONG into a player reading stdin\n"
"                                 (default: " PLAYER_DEFAULT ")\n"
"\n"
"options:\n"
"  -t, --tracker HOST:PORT  the tracker (default $" CLIENT_TRACKER_ENV ",\n"
"                           else " CLIENT_DEFAULT_TRACKER ")\n"
"  -p, --peer HOST:PORT     ask this peer directly, without the tracker;\n"
"                           repeat to give several, tried in order\n"
"  -o, --output DIR         where fetch writes the song\n"
"      --player CMD         the player for play; CMD is split on spaces into\n"
"                           words (no shell, no quoting) and must read stdin\n"
"      --timeout SECONDS    connect and read timeout (default "
    STR(CLIENT_DEFAULT_TIMEOUT_S) ", at most " STR(CLIENT_MAX_TIMEOUT_S) ")\n"
"  -q, --quiet              no progress line, no summary, errors only\n"
"  -v, --verbose            say more on stderr (twice: debugging)\n"
"  -h, --help               this text\n"
"      --version            the version\n"
"  --                       ends the options (for a SONG starting with '-')\n"
"\n"
"Peers that refuse, time out or fail in the middle of a song hand over to\n"
"the next peer from the segment where they stopped. fetch starts over with\n"
"a peer whose playlist differs; cat and play skip such a peer. A progress\n"
"line is shown when stderr is a terminal (not with -q).\n"
"\n"
"exit status:\n"
"  0    success (also when the reader of cat or the player stops early)\n"
"  1    the song is unknown, or no peer could serve it\n"
"  2    usage error\n"
"  3    the tracker is unreachable or answers badly\n"
"  4    local failure: the output cannot be written, or the player is\n"
"       missing (the message names the package providing it) or fails\n"
"  130  interrupted (SIGINT, SIGTERM)\n";

enum client_cmd { CMD_NONE, CMD_LIST, CMD_QUERY, CMD_FETCH, CMD_CAT, CMD_PLAY };

static const struct {
	const char *name;
	enum client_cmd cmd;
	int min_args, max_args;
} commands[] = {
	{ "list", CMD_LIST, 0, 1 },
	{ "query", CMD_QUERY, 1, 1 },
	{ "fetch", CMD_FETCH, 1, 1 },
	{ "cat", CMD_CAT, 1, 1 },
	{ "play", CMD_PLAY, 1, 1 },
};

static void
on_signal(int sig)
{
	(void)sig;
	client_stop = 1;
}

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "client: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\ntry 'client --help'\n");
	return CLIENT_EXIT_USAGE;
}

/* If arg is the option short ("-x", "-xVALUE") or long ("--long",
 * "--long=VALUE"), sets *value (taking the next argument if needed) and
 * returns 1; returns 0 if it is not this option, -1 if its value is missing. */
static int
match_value(int argc, char **argv, int *i, const char *shortopt,
    const char *longopt, const char **value)
{
	const char *a = argv[*i];
	size_t ll = longopt ? strlen(longopt) : 0;

	if (shortopt != NULL && strncmp(a, shortopt, 2) == 0) {
		if (a[2] != '\0') {
			*value = a + 2;
			return 1;
		}
	} else if (longopt != NULL && strncmp(a, longopt, ll) == 0 &&
	    (a[ll] == '\0' || a[ll] == '=')) {
		if (a[ll] == '=') {
			*value = a + ll + 1;
			return 1;
		}
	} else
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

/* A name sent on the wire must be 1..PROTO_MAX_NAME bytes of UTF-8 without
 * control bytes. */
static int
name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= PROTO_MAX_NAME && proto_name_valid(name, len);
}

static int
addr_ok(const char *addr)
{
	char host[NET_HOST_MAX];
	unsigned port;

	return net_parse_hostport(addr, host, sizeof(host), &port, 0) == 0;
}

int
main(int argc, char **argv)
{
	struct client_opts o;
	const char *pos[3], *value, *env;
	int npos = 0, dashdash = 0, verbose = 0, m;
	long num;
	enum client_cmd cmd = CMD_NONE;
	struct sigaction sa;

	memset(&o, 0, sizeof(o));
	o.timeout_ms = CLIENT_DEFAULT_TIMEOUT_S * 1000;
	env = getenv(CLIENT_TRACKER_ENV);
	o.tracker = env != NULL && *env != '\0' ? env : CLIENT_DEFAULT_TRACKER;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (npos == (int)(sizeof(pos) / sizeof(pos[0])))
				return usage_error("too many arguments at '%s'", a);
			pos[npos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			return CLIENT_EXIT_OK;
		} else if (strcmp(a, "--version") == 0) {
			printf("client (p2p-music) %s\n", P2PM_VERSION);
			return CLIENT_EXIT_OK;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			o.quiet = 1;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			verbose++;
		} else if (strcmp(a, "-vv") == 0) {
			verbose += 2;
		} else if ((m = match_value(argc, argv, &i, "-t", "--tracker", &value))) {
			if (m < 0)
				return usage_error("%s wants HOST:PORT", a);
			if (!addr_ok(value))
				return usage_error("bad tracker address '%s' (want HOST:PORT)",
				    value);
			o.tracker = value;
		} else if ((m = match_value(argc, argv, &i, "-p", "--peer", &value))) {
			if (m < 0)
				return usage_error("%s wants HOST:PORT", a);
			if (!addr_ok(value))
				return usage_error("bad peer address '%s' (want HOST:PORT)",
				    value);
			if (peer_list_add(&o.peers, value) < 0)
				return usage_error("too many peers at '%s'", value);
		} else if ((m = match_value(argc, argv, &i, "-o", "--output", &value))) {
			if (m < 0 || *value == '\0')
				return usage_error("%s wants a directory", a);
			o.outdir = value;
		} else if ((m = match_value(argc, argv, &i, NULL, "--player", &value))) {
			if (m < 0 || value[strspn(value, " ")] == '\0')
				return usage_error("%s wants a command", a);
			o.player = value;
		} else if ((m = match_value(argc, argv, &i, NULL, "--timeout", &value))) {
			if (m < 0 || strnum_parse(value, 1, CLIENT_MAX_TIMEOUT_S, &num) < 0)
				return usage_error("%s wants a number of seconds from 1 "
				    "to " STR(CLIENT_MAX_TIMEOUT_S), a);
			o.timeout_ms = (int)num * 1000;
		} else
			return usage_error("unknown option '%s'", a);
	}
	if (npos == 0)
		return usage_error("%s", "no command given");
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(pos[0], commands[c].name) != 0)
			continue;
		if (npos - 1 < commands[c].min_args)
			return usage_error("%s: missing SONG", pos[0]);
		if (npos - 1 > commands[c].max_args)
			return usage_error("%s: too many arguments", pos[0]);
		cmd = commands[c].cmd;
	}
	if (cmd == CMD_NONE)
		return usage_error("unknown command '%s'", pos[0]);
	if (o.outdir != NULL && cmd != CMD_FETCH)
		return usage_error("-o is for %s only", "fetch");
	if (o.peers.count > 0 && cmd != CMD_FETCH && cmd != CMD_CAT && cmd != CMD_PLAY)
		return usage_error("-p is for %s only", "fetch, cat and play");
	if (o.player != NULL && cmd != CMD_PLAY)
		return usage_error("--player is for %s only", "play");
	if (npos > 1 && !name_ok(pos[1]))
		return usage_error("'%s' is not a valid name (1 to 255 bytes of UTF-8, "
		    "no control characters)", pos[1]);
	if (!addr_ok(o.tracker))
		return usage_error("bad tracker address '%s' (want HOST:PORT)",
		    o.tracker);
	env = getenv(CLIENT_DELAY_ENV);
	if (env != NULL && *env != '\0') {
		if (strnum_parse(env, 0, CLIENT_MAX_SEGMENT_DELAY_MS, &num) < 0)
			return usage_error(CLIENT_DELAY_ENV " must be 0 to "
			    STR(CLIENT_MAX_SEGMENT_DELAY_MS) ", not '%s'", env);
		o.segment_delay_ms = (int)num;
	}

	log_init("client", o.quiet ? LOG_LEVEL_ERROR : verbose >= 2 ?
	    LOG_LEVEL_DEBUG : verbose == 1 ? LOG_LEVEL_INFO : LOG_LEVEL_WARN);
	log_set_brief(1);

	/* a reader or player that goes away shows up as EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* an interrupt ends any wait on the network at once */
	net_set_interrupt_flag(&client_stop);

	switch (cmd) {
	case CMD_LIST:
		return cmd_list(&o, npos > 1 ? pos[1] : NULL);
	case CMD_QUERY:
		return cmd_query(&o, pos[1]);
	case CMD_FETCH:
		return cmd_fetch(&o, pos[1]);
	case CMD_CAT:
		return cmd_cat(&o, pos[1]);
	case CMD_PLAY:
		return cmd_play(&o, pos[1]);
	case CMD_NONE:
		break;
	}
	return CLIENT_EXIT_USAGE;
}

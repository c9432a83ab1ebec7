/* main.c - the tracker daemon: flags, signals, the accept loop. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/server.h"
#include "p2pm/strnum.h"
#include "p2pm/version.h"
#include "handlers.h"
#include "registry.h"

#define TRACKER_DEFAULT_LISTEN "127.0.0.1:7700"
#define TRACKER_DEFAULT_TTL_S 60
#define TRACKER_MAX_TTL_S 86400
#define TRACKER_DEFAULT_MAX_PEERS 10000
#define TRACKER_DEFAULT_MAX_PAIRS 10000000L
#define TRACKER_MAX_MAX_PAIRS 1000000000L

static volatile sig_atomic_t tracker_stop;

static void
tracker_on_signal(int sig)
{
	(void)sig;
	tracker_stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tracker [-l ADDR:PORT] [--ttl SECONDS] [--idle-timeout SECONDS]\n"
	    "               [--max-conns N] [--max-peers N] [--max-pairs N] [-v|-q]\n"
	    "\n"
	    "Keeps the registry of which peers hold which songs (docs/protocol.md).\n"
	    "\n"
	    "  -l, --listen ADDR:PORT    address to listen on (default %s;\n"
	    "                            port 0 picks a free port)\n"
	    "      --ttl SECONDS         lease of a registration (default %d)\n"
	    "      --idle-timeout SECONDS  close connections idle this long (default %d)\n"
	    "      --max-conns N         most open connections (default %d)\n"
	    "      --max-peers N         most registered peers (default %d)\n"
	    "      --max-pairs N         most registered (song, peer) pairs (default %ld)\n"
	    "  -v, --verbose             log more (repeat for debug)\n"
	    "  -q, --quiet               log only errors\n"
	    "  -h, --help                show this help\n"
	    "      --version             show the version\n"
	    "\n"
	    "Prints \"listening on HOST:PORT\" on stdout when ready; logs go to stderr.\n",
	    TRACKER_DEFAULT_LISTEN, TRACKER_DEFAULT_TTL_S,
	    SERVER_DEFAULT_IDLE_TIMEOUT_S, SERVER_DEFAULT_MAX_CONNS,
	    TRACKER_DEFAULT_MAX_PEERS, TRACKER_DEFAULT_MAX_PAIRS);
}

static long
flag_number(const char *flag, const char *text, long min, long max)
{
	long v;

	if (strnum_parse(text, min, max, &v) < 0) {
		fprintf(stderr, "tracker: %s wants a number from %ld to %ld, not '%s'\n",
		    flag, min, max, text);
		usage(stderr);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	enum { OPT_TTL = 256, OPT_IDLE, OPT_MAXCONNS, OPT_MAXPEERS, OPT_MAXPAIRS,
		OPT_VERSION };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "ttl", required_argument, NULL, OPT_TTL },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "max-conns", required_argument, NULL, OPT_MAXCONNS },
		{ "max-peers", required_argument, NULL, OPT_MAXPEERS },
		{ "max-pairs", required_argument, NULL, OPT_MAXPAIRS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct server_config cfg = {
		.listen_addr = TRACKER_DEFAULT_LISTEN,
		.idle_timeout_s = SERVER_DEFAULT_IDLE_TIMEOUT_S,
		.max_conns = SERVER_DEFAULT_MAX_CONNS,
		.commands = TRACKER_COMMANDS,
		.handler = tracker_handle,
	};
	enum log_level level = LOG_LEVEL_INFO;
	struct tracker t;
	struct sigaction sa;
	char err[NET_ERR_LEN];
	long ttl = TRACKER_DEFAULT_TTL_S;
	long max_peers = TRACKER_DEFAULT_MAX_PEERS;
	long max_pairs = TRACKER_DEFAULT_MAX_PAIRS;
	int ch;

	while ((ch = getopt_long(argc, argv, "l:vqh", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			cfg.listen_addr = optarg;
			break;
		case OPT_TTL:
			ttl = flag_number("--ttl", optarg, 1, TRACKER_MAX_TTL_S);
			break;
		case OPT_IDLE:
			cfg.idle_timeout_s = (int)flag_number("--idle-timeout", optarg,
			    1, SERVER_MAX_IDLE_TIMEOUT_S);
			break;
		case OPT_MAXCONNS:
			cfg.max_conns = (int)flag_number("--max-conns", optarg, 1,
			    SERVER_MAX_MAX_CONNS);
			break;
		case OPT_MAXPEERS:
			max_peers = flag_number("--max-peers", optarg, 1,
			    TRACKER_MAX_MAX_PAIRS);
			break;
		case OPT_MAXPAIRS:
			max_pairs = flag_number("--max-pairs", optarg, 1,
			    TRACKER_MAX_MAX_PAIRS);
			break;
		case 'v':
			if (level < LOG_LEVEL_DEBUG)
				level++;
			break;
		case 'q':
			level = LOG_LEVEL_ERROR;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("tracker (p2p-music) %s\n", P2PM_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tracker: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_init("tracker", level);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tracker_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	memset(&t, 0, sizeof(t));
	t.reg = registry_new((int)ttl, (size_t)max_peers, (size_t)max_pairs);
	if (t.reg == NULL) {
		log_error("out of memory");
		return 1;
	}
	t.started_ms = clock_now_ms();
	cfg.ctx = &t;
	t.srv = server_open(&cfg, err, sizeof(err));
	if (t.srv == NULL) {
		log_error("%s", err);
		registry_free(t.reg);
		return 1;
	}
	printf("listening on %s\n", server_address(t.srv));
	fflush(stdout);
	log_info("listening on %s (ttl %lds, idle timeout %ds, max %d connections)",
	    server_address(t.srv), ttl, cfg.idle_timeout_s, cfg.max_conns);

	server_run(t.srv, &tracker_stop);

	log_info("shutting down");
	/* a connection thread still running may use the registry: keep it */
	if (server_close(t.srv) == 0)
		registry_free(t.reg);
	return 0;
}

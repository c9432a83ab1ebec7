/* main.c - the tracker daemon: flags, signals, the accept loop. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "p2pm/cli.h"
#include "p2pm/clock.h"
#include "p2pm/defaults.h"
#include "p2pm/log.h"
#include "p2pm/server.h"
#include "handlers.h"
#include "source.h"
#include "registry.h"

/* lease of a registration, seconds */
#define TRACKER_DEFAULT_TTL_S 60
#define TRACKER_MAX_TTL_S 86400
/* registered peers (--max-peers), default and the most it may be set to */
#define TRACKER_DEFAULT_MAX_PEERS REGISTRY_DEFAULT_MAX_PEERS
#define TRACKER_MAX_MAX_PEERS 10000000L
/* registered (song, peer) pairs (--max-pairs), default and the most */
#define TRACKER_DEFAULT_MAX_PAIRS REGISTRY_DEFAULT_MAX_PAIRS
#define TRACKER_MAX_MAX_PAIRS 1000000000L
/* memory budget of the registry (--max-memory), MiB */
#define TRACKER_DEFAULT_MAX_MEMORY_MB REGISTRY_DEFAULT_MAX_MIB
#define TRACKER_MAX_MAX_MEMORY_MB (1024L * 1024)
/* peer addresses registered from one source address (--max-peers-per-source):
 * room for a household or a small office behind one NAT address */
#define TRACKER_DEFAULT_MAX_PEERS_PER_SOURCE 64
/* (song, peer) pairs registered from one source (--max-pairs-per-source):
 * two full REGISTERs (PROTO_MAX_SONGS each) */
#define TRACKER_DEFAULT_MAX_PAIRS_PER_SOURCE (2L * PROTO_MAX_SONGS)

static volatile sig_atomic_t tracker_stop;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tracker [-l ADDR:PORT] [--ttl SECONDS] [--idle-timeout SECONDS]\n"
	    "               [--line-timeout SECONDS] [--min-body-rate BYTES]\n"
	    "               [--max-conns N] [--max-conns-per-source N]\n"
	    "               [--max-peers N] [--max-pairs N]\n"
	    "               [--max-peers-per-source N] [--max-pairs-per-source N]\n"
	    "               [--max-memory MIB] [--trust-advertised] [--limit-loopback]\n"
	    "               [--dialback-from IP]\n"
	    "               [-v|-q]\n"
	    "\n"
	    "Keeps the registry of which peers hold which songs (docs/protocol.md).\n"
	    "\n"
	    "  -l, --listen ADDR:PORT    address to listen on (default %s;\n"
	    "                            port 0 picks a free port)\n"
	    "      --ttl SECONDS         lease of a registration (default %d)\n"
	    "      --idle-timeout SECONDS  close connections idle this long (default %d)\n"
	    "      --line-timeout SECONDS  a request line must be whole this long\n"
	    "                            after its first byte (default %d)\n"
	    "      --min-body-rate BYTES a request body must come at this many\n"
	    "                            bytes a second at least (default %ld)\n"
	    "      --max-conns N         most open connections (default %d)\n"
	    "      --max-conns-per-source N  most open connections from one\n"
	    "                            address (default %d)\n"
	    "      --max-peers N         most registered peers (default %d)\n"
	    "      --max-pairs N         most registered (song, peer) pairs (default %ld)\n"
	    "      --max-memory MIB      memory budget of the registry (default %ld)\n"
	    "      --max-peers-per-source N  most peers registered from one address\n"
	    "                            (default %d)\n"
	    "      --max-pairs-per-source N  most (song, peer) pairs registered from one\n"
	    "                            address (default %ld)\n"
	    "      --trust-advertised    accept REGISTER/UNREGISTER of any IP address, not\n"
	    "                            only the connection's own (behind a proxy)\n"
	    "      --limit-loopback      apply the per-source limits to loopback sources\n"
	    "                            too (they are exempt by default)\n"
	    "      --dialback-from IP    dial peers back (DIALBACK) from this local\n"
	    "                            address, another than the one peers reach\n"
	    "                            (default: the kernel's pick)\n"
	    "  -v, --verbose             log more (repeat for debug)\n"
	    "  -q, --quiet               log only errors\n"
	    "  -h, --help                show this help\n"
	    "      --version             show the version\n"
	    "\n"
	    "Prints \"listening on HOST:PORT\" on stdout when ready; logs go to stderr.\n",
	    P2PM_DEFAULT_TRACKER, TRACKER_DEFAULT_TTL_S,
	    SERVER_DEFAULT_IDLE_TIMEOUT_S, SERVER_DEFAULT_LINE_TIMEOUT_S,
	    (long)SERVER_DEFAULT_MIN_BODY_RATE, SERVER_DEFAULT_MAX_CONNS,
	    SERVER_DEFAULT_MAX_CONNS_PER_SOURCE, TRACKER_DEFAULT_MAX_PEERS, TRACKER_DEFAULT_MAX_PAIRS,
	    TRACKER_DEFAULT_MAX_MEMORY_MB, TRACKER_DEFAULT_MAX_PEERS_PER_SOURCE, TRACKER_DEFAULT_MAX_PAIRS_PER_SOURCE);
}

int
main(int argc, char **argv)
{
	enum { OPT_TTL = 256, OPT_IDLE, OPT_MAXCONNS, OPT_MAXPEERS, OPT_MAXPAIRS,
		OPT_SRCPEERS, OPT_SRCPAIRS, OPT_TRUST, OPT_LIMITLO, OPT_MAXMEM,
		OPT_LINE_TIMEOUT, OPT_MIN_BODY_RATE, OPT_MAXCONNS_SOURCE, OPT_DIALBACK_FROM };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "ttl", required_argument, NULL, OPT_TTL },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "max-conns", required_argument, NULL, OPT_MAXCONNS },
		{ "line-timeout", required_argument, NULL, OPT_LINE_TIMEOUT },
		{ "min-body-rate", required_argument, NULL, OPT_MIN_BODY_RATE },
		{ "max-conns-per-source", required_argument, NULL, OPT_MAXCONNS_SOURCE },
		{ "max-peers", required_argument, NULL, OPT_MAXPEERS },
		{ "max-pairs", required_argument, NULL, OPT_MAXPAIRS },
		{ "max-peers-per-source", required_argument, NULL, OPT_SRCPEERS },
		{ "max-pairs-per-source", required_argument, NULL, OPT_SRCPAIRS },
		{ "max-memory", required_argument, NULL, OPT_MAXMEM },
		{ "trust-advertised", no_argument, NULL, OPT_TRUST },
		{ "limit-loopback", no_argument, NULL, OPT_LIMITLO },
		{ "dialback-from", required_argument, NULL, OPT_DIALBACK_FROM },
		CLI_COMMON_OPTIONS
	};
	struct server_config cfg = {
		.listen_addr = P2PM_DEFAULT_TRACKER,
		.idle_timeout_s = SERVER_DEFAULT_IDLE_TIMEOUT_S,
		.max_conns = SERVER_DEFAULT_MAX_CONNS,
		.commands = TRACKER_COMMANDS,
		.handler = tracker_handle,
	};
	struct tracker t;
	char err[NET_ERR_LEN];
	long ttl = TRACKER_DEFAULT_TTL_S;
	long max_peers = TRACKER_DEFAULT_MAX_PEERS;
	long max_pairs = TRACKER_DEFAULT_MAX_PAIRS;
	long src_peers = TRACKER_DEFAULT_MAX_PEERS_PER_SOURCE;
	long src_pairs = TRACKER_DEFAULT_MAX_PAIRS_PER_SOURCE;
	long max_mb = TRACKER_DEFAULT_MAX_MEMORY_MB;
	int ch, verbose = 0, quiet = 0, trust = 0, limit_loopback = 0;
	const char *dialback_from = NULL;

	cli_init("tracker", usage);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":l:vqh", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_DIALBACK_FROM: {
			char canon[SOURCE_IP_MAX];
			if (!source_canonical_ip(optarg, canon))
				cli_usage_error("--dialback-from wants an IP address, not '%s'",
				    optarg);
			dialback_from = optarg;
			break;
		}
		case 'l':
			cfg.listen_addr = optarg;
			break;
		case OPT_TTL:
			ttl = cli_xnumber("--ttl", optarg, 1, TRACKER_MAX_TTL_S);
			break;
		case OPT_IDLE:
			cfg.idle_timeout_s = (int)cli_xnumber("--idle-timeout", optarg,
			    1, SERVER_MAX_IDLE_TIMEOUT_S);
			break;
		case OPT_MAXCONNS:
			cfg.max_conns = (int)cli_xnumber("--max-conns", optarg, 1,
			    SERVER_MAX_MAX_CONNS);
			break;
		case OPT_MAXPEERS:
			max_peers = cli_xnumber("--max-peers", optarg, 1,
			    TRACKER_MAX_MAX_PEERS);
			break;
		case OPT_MAXPAIRS:
			max_pairs = cli_xnumber("--max-pairs", optarg, 1,
			    TRACKER_MAX_MAX_PAIRS);
			break;
		case OPT_SRCPEERS:
			src_peers = cli_xnumber("--max-peers-per-source", optarg, 1,
			    TRACKER_MAX_MAX_PEERS);
			break;
		case OPT_SRCPAIRS:
			src_pairs = cli_xnumber("--max-pairs-per-source", optarg, 1,
			    TRACKER_MAX_MAX_PAIRS);
			break;
		case OPT_MAXMEM:
			max_mb = cli_xnumber("--max-memory", optarg, 1,
			    TRACKER_MAX_MAX_MEMORY_MB);
			break;
		case OPT_TRUST:
			trust = 1;
			break;
		case OPT_LINE_TIMEOUT:
			cfg.line_timeout_s = (int)cli_xnumber("--line-timeout", optarg,
			    1, SERVER_MAX_LINE_TIMEOUT_S);
			break;
		case OPT_MIN_BODY_RATE:
			cfg.min_body_rate = cli_xnumber("--min-body-rate", optarg, 1,
			    SERVER_MAX_MIN_BODY_RATE);
			break;
		case OPT_MAXCONNS_SOURCE:
			cfg.max_conns_per_source = (int)cli_xnumber(
			    "--max-conns-per-source", optarg, 1, SERVER_MAX_MAX_CONNS);
			break;
		case OPT_LIMITLO:
			/* the registry's per-source limits and the server's */
			limit_loopback = 1;
			cfg.limit_loopback = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case CLI_OPT_VERSION:
			cli_print_version();
			return 0;
		default:
			cli_bad_option(ch, argv, opts);
		}
	}
	if (optind != argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
	log_init("tracker", cli_log_level(LOG_LEVEL_INFO, verbose, quiet));
	cli_signals(&tracker_stop, NULL, NULL);

	memset(&t, 0, sizeof(t));
	struct registry_limits lim = {
		.max_peers = (size_t)max_peers,
		.max_pairs = (size_t)max_pairs,
		.max_peers_per_source = (size_t)src_peers,
		.max_pairs_per_source = (size_t)src_pairs,
		.max_bytes = (size_t)max_mb * 1024 * 1024,
	};
	t.trust_advertised = trust;
	t.limit_loopback = limit_loopback;
	lograte_init(&t.refusals);
	t.reg = registry_new((int)ttl, &lim);
	if (t.reg != NULL && aliases_init(&t.aliases, (int)ttl) < 0) {
		registry_free(t.reg);
		t.reg = NULL;
	}
	t.dial = dialback_new(dialback_from);
	if (t.reg == NULL || t.dial == NULL) {
		log_error("out of memory");
		return 1;
	}
	t.started_ms = clock_now_ms();
	cfg.ctx = &t;
	t.srv = server_open(&cfg, err, sizeof(err));
	if (t.srv == NULL) {
		log_error("%s", err);
		registry_free(t.reg);
		dialback_free(t.dial);
		aliases_free(&t.aliases);
		return 1;
	}
	cli_print_ready(server_address(t.srv));
	log_info("listening on %s (ttl %lds, idle timeout %ds, max %d connections)",
	    server_address(t.srv), ttl, cfg.idle_timeout_s, server_max_conns(t.srv));

	server_run(t.srv, &tracker_stop);

	log_info("shutting down");
	/* a connection thread still running may use the registry: keep it */
	if (server_close(t.srv) == 0) {
		registry_free(t.reg);
		dialback_free(t.dial);
		aliases_free(&t.aliases);
		lograte_destroy(&t.refusals);
	}
	return 0;
}

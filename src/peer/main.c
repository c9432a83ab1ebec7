/* main.c - the peer daemon: flags, signals, start-up, the accept loop. */
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <errno.h>
#include <unistd.h>

#include "p2pm/cli.h"
#include "p2pm/defaults.h"
#include "p2pm/log.h"
#include "p2pm/server.h"
#include "announce.h"
#include "cache.h"
#include "handlers.h"
#include "index.h"
#include "jobs.h"
#include "library.h"
#include "migrate.h"
#include "names.h"
#include "probe.h"
#include "punchwait.h"
#include "relay.h"
#include "reservation.h"
#include "segmenter.h"
#include "shared.h"

#define PEER_CACHE_SUBDIR "p2p-music"
/* most -L directories */
#define PEER_MAX_LIBRARY_DIRS 256
/* the library is looked at again every renewal period / this, so that a
 * song directory made meanwhile is registered within one renewal period */
#define PEER_RESCANS_PER_RENEWAL 2
/* but not more often than this, in milliseconds */
#define PEER_MIN_RESCAN_MS 500

static volatile sig_atomic_t peer_wake;		/* leave server_run */
static volatile sig_atomic_t peer_stop;		/* SIGINT, SIGTERM */
static volatile sig_atomic_t peer_rescan;	/* SIGHUP */
static volatile sig_atomic_t peer_tick;		/* SIGALRM: the periodic rescan */

struct peer_options {
	const char *listen;
	const char *advertise;
	struct cli_trackers trackers;
	const char *cache_dir;
	const char *dirs[PEER_MAX_LIBRARY_DIRS];
	int ndirs;
	int idle_timeout_s;
	int line_timeout_s;
	int max_conns;
	int max_conns_per_source;
	int limit_loopback;
	int renew_s;
	int jobs;
	int aac_kbps;
	int keep_cache;
	int no_port_mapping;
	enum portmap_proto port_mapping;
	int relay;			/* --relay */
	struct relay_limits relay_lim;
	const char *use_relay;		/* --use-relay */
	int behind_nat;			/* --behind-nat */
	int verbose, quiet;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: peer [-l ADDR:PORT] [-a HOST:PORT] [-t HOST:PORT]... [-c CACHE_DIR]\n"
	    "            [-L LIBRARY_DIR]... [-j N] [--renew SECONDS] [--keep-cache]\n"
	    "            [--aac-bitrate KBPS]\n"
	    "            [--idle-timeout SECONDS] [--line-timeout SECONDS]\n"
	    "            [--max-conns N] [--max-conns-per-source N] [--limit-loopback]\n"
	    "            [--no-port-mapping | --port-mapping auto|pcp|natpmp]\n"
	    "            [--relay [--relay-max-reservations N] [--relay-max-bytes BYTES]\n"
	    "            [--relay-max-seconds SECONDS]] [--use-relay HOST:PORT]\n"
	    "            [--behind-nat]\n"
	    "            [-v|-q]\n"
	    "            [NAME=FILE.mp3]...\n"
	    "\n"
	    "Shares songs as HLS playlists and MPEG-TS segments (docs/protocol.md)\n"
	    "and keeps them registered with every tracker.\n"
	    "\n"
	    "  -l, --listen ADDR:PORT     address to listen on (default %s;\n"
	    "                             port 0 picks a free port)\n"
	    "  -a, --advertise HOST:PORT  address given to the tracker (default: the\n"
	    "                             address really listened on)\n"
	    "  -t, --tracker HOST:PORT    a tracker (default $%s, else\n"
	    "                             %s); repeat it, or give\n"
	    "                             HOST:PORT,HOST:PORT, to register with\n"
	    "                             several, each on its own\n"
	    "  -c, --cache DIR            where segments are kept (default\n"
	    "                             $XDG_CACHE_HOME/%s or ~/.cache/%s)\n"
	    "      --keep-cache           keep cached songs that no shared file uses\n"
	    "                             (by default they are removed once the library\n"
	    "                             is ready, at start and after SIGHUP)\n"
	    "  -L, --library DIR          share every audio file in the tree below DIR\n"
	    "                             (.mp3 .m4a .aac .mp4 .flac .ogg .oga .opus\n"
	    "                             .wav .aiff .aif, any case; hidden names left\n"
	    "                             out) as its path below DIR without the ending,\n"
	    "                             and every song directory in it as it is\n"
	    "                             (repeatable; looked at again twice per\n"
	    "                             renewal period)\n"
	    "  NAME=FILE                  share FILE as the song NAME\n"
	    "  -j, --jobs N               songs segmented at once (default %d)\n"
	    "      --aac-bitrate KBPS     FLAC, Ogg, Opus, WAV, AIFF (any audio but MP3\n"
	    "                             and AAC, which are copied) is encoded once to\n"
	    "                             AAC at KBPS kb/s (%d-%d, default %d)\n"
	    "      --renew SECONDS        re-register this often (default %d)\n"
	    "      --idle-timeout SECONDS close connections idle this long (default %d)\n"
	    "      --line-timeout SECONDS a request line must be whole this long\n"
	    "                             after its first byte (default %d)\n"
	    "      --max-conns N          most open connections (default %d)\n"
	    "      --max-conns-per-source N  most open connections from one\n"
	    "                             address (default %d)\n"
	    "      --limit-loopback       apply the per-source limit to loopback\n"
	    "                             addresses too (exempt by default)\n"
	    "      --no-port-mapping      do not ask the home router (the default\n"
	    "                             gateway) to forward the port to this peer\n"
	    "      --port-mapping PROTO   ask it with PCP, falling back to NAT-PMP\n"
	    "                             (auto, the default), or with only pcp or\n"
	    "                             only natpmp\n"
	    "      --relay                carry connections to peers behind NATs that\n"
	    "                             hold a reservation here (off by default)\n"
	    "      --relay-max-reservations N  most reservations held (default %d)\n"
	    "      --relay-max-bytes BYTES  most bytes one relayed connection carries,\n"
	    "                             both ways (default %ld)\n"
	    "      --relay-max-seconds SECONDS  longest a relayed connection lasts\n"
	    "                             (default %d)\n"
	    "      --use-relay HOST:PORT  keep a reservation at that relay and\n"
	    "                             register it, so that listeners reach this\n"
	    "                             peer through it when nothing else works\n"
	    "      --behind-nat           this peer cannot be reached from outside:\n"
	    "                             register so, and wait at every tracker for\n"
	    "                             hole punches from listeners (without -a,\n"
	    "                             done anyway once a tracker finds the peer\n"
	    "                             not reachable)\n"
	    "  -v, --verbose              log more (repeat for debug)\n"
	    "  -q, --quiet                log only errors\n"
	    "  -h, --help                 show this help\n"
	    "      --version              show the version\n"
	    "\n"
	    "Needs ffmpeg. Prints \"listening on HOST:PORT\" on stdout when ready;\n"
	    "songs are segmented in the background and served as they become ready.\n"
	    "Logs go to stderr.\n",
	    P2PM_DEFAULT_PEER, P2PM_TRACKER_ENV, P2PM_DEFAULT_TRACKER,
	    PEER_CACHE_SUBDIR, PEER_CACHE_SUBDIR, JOBS_DEFAULT_THREADS,
	    JOBS_MIN_AAC_KBPS, JOBS_MAX_AAC_KBPS, JOBS_DEFAULT_AAC_KBPS,
	    ANNOUNCE_DEFAULT_RENEW_S, SERVER_DEFAULT_IDLE_TIMEOUT_S,
	    SERVER_DEFAULT_LINE_TIMEOUT_S, SERVER_DEFAULT_MAX_CONNS,
	    SERVER_DEFAULT_MAX_CONNS_PER_SOURCE, RELAY_DEFAULT_MAX_RESERVATIONS,
	    RELAY_DEFAULT_CIRCUIT_BYTES, RELAY_DEFAULT_CIRCUIT_S);
}

/* Parses the command line; positional NAME=FILE arguments go to lib.
 * Exits 0 for --help and --version and 2 for a bad flag. */
static void
parse_options(int argc, char **argv, struct peer_options *o, struct library *lib)
{
	enum { OPT_IDLE = 256, OPT_MAXCONNS, OPT_RENEW, OPT_KEEP_CACHE,
		OPT_LINE_TIMEOUT, OPT_MAXCONNS_SOURCE, OPT_LIMIT_LOOPBACK, OPT_AAC,
		OPT_NO_PORT_MAPPING, OPT_PORT_MAPPING,
		OPT_RELAY, OPT_RELAY_RESV, OPT_RELAY_BYTES, OPT_RELAY_SECONDS,
		OPT_USE_RELAY, OPT_BEHIND_NAT };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "advertise", required_argument, NULL, 'a' },
		{ "tracker", required_argument, NULL, 't' },
		{ "cache", required_argument, NULL, 'c' },
		{ "library", required_argument, NULL, 'L' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "renew", required_argument, NULL, OPT_RENEW },
		{ "keep-cache", no_argument, NULL, OPT_KEEP_CACHE },
		{ "aac-bitrate", required_argument, NULL, OPT_AAC },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "max-conns", required_argument, NULL, OPT_MAXCONNS },
		{ "line-timeout", required_argument, NULL, OPT_LINE_TIMEOUT },
		{ "max-conns-per-source", required_argument, NULL, OPT_MAXCONNS_SOURCE },
		{ "limit-loopback", no_argument, NULL, OPT_LIMIT_LOOPBACK },
		{ "no-port-mapping", no_argument, NULL, OPT_NO_PORT_MAPPING },
		{ "port-mapping", required_argument, NULL, OPT_PORT_MAPPING },
		{ "relay", no_argument, NULL, OPT_RELAY },
		{ "relay-max-reservations", required_argument, NULL, OPT_RELAY_RESV },
		{ "relay-max-bytes", required_argument, NULL, OPT_RELAY_BYTES },
		{ "relay-max-seconds", required_argument, NULL, OPT_RELAY_SECONDS },
		{ "use-relay", required_argument, NULL, OPT_USE_RELAY },
		{ "behind-nat", no_argument, NULL, OPT_BEHIND_NAT },
		CLI_COMMON_OPTIONS
	};
	const char *env = getenv(P2PM_TRACKER_ENV);
	int ch;

	o->listen = P2PM_DEFAULT_PEER;
	o->idle_timeout_s = SERVER_DEFAULT_IDLE_TIMEOUT_S;
	o->max_conns = SERVER_DEFAULT_MAX_CONNS;
	o->renew_s = ANNOUNCE_DEFAULT_RENEW_S;
	o->jobs = JOBS_DEFAULT_THREADS;
	o->aac_kbps = JOBS_DEFAULT_AAC_KBPS;
	o->relay_lim.max_reservations = RELAY_DEFAULT_MAX_RESERVATIONS;
	o->relay_lim.circuit_bytes = RELAY_DEFAULT_CIRCUIT_BYTES;
	o->relay_lim.circuit_s = RELAY_DEFAULT_CIRCUIT_S;

	cli_init("peer", usage);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":l:a:t:c:L:j:vqh", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			cli_xaddress("-l", optarg, 1);
			o->listen = optarg;
			break;
		case 'a':
			cli_xaddress("-a", optarg, 0);
			o->advertise = optarg;
			break;
		case 't':
			cli_xtrackers("-t", optarg, &o->trackers);
			break;
		case 'c':
			if (*optarg == '\0')
				cli_usage_error("-c wants a directory");
			o->cache_dir = optarg;
			break;
		case 'L':
			if (o->ndirs == PEER_MAX_LIBRARY_DIRS)
				cli_usage_error("too many -L directories");
			o->dirs[o->ndirs++] = optarg;
			break;
		case 'j':
			o->jobs = (int)cli_xnumber("-j", optarg, 1, JOBS_MAX_THREADS);
			break;
		case OPT_RENEW:
			o->renew_s = (int)cli_xnumber("--renew", optarg, 1,
			    ANNOUNCE_MAX_RENEW_S);
			break;
		case OPT_AAC:
			o->aac_kbps = (int)cli_xnumber("--aac-bitrate", optarg,
			    JOBS_MIN_AAC_KBPS, JOBS_MAX_AAC_KBPS);
			break;
		case OPT_KEEP_CACHE:
			o->keep_cache = 1;
			break;
		case OPT_IDLE:
			o->idle_timeout_s = (int)cli_xnumber("--idle-timeout", optarg,
			    1, SERVER_MAX_IDLE_TIMEOUT_S);
			break;
		case OPT_MAXCONNS:
			o->max_conns = (int)cli_xnumber("--max-conns", optarg, 1,
			    SERVER_MAX_MAX_CONNS);
			break;
		case OPT_LINE_TIMEOUT:
			o->line_timeout_s = (int)cli_xnumber("--line-timeout", optarg,
			    1, SERVER_MAX_LINE_TIMEOUT_S);
			break;
		case OPT_MAXCONNS_SOURCE:
			o->max_conns_per_source = (int)cli_xnumber(
			    "--max-conns-per-source", optarg, 1, SERVER_MAX_MAX_CONNS);
			break;
		case OPT_LIMIT_LOOPBACK:
			o->limit_loopback = 1;
			break;
		case OPT_NO_PORT_MAPPING:
			o->no_port_mapping = 1;
			break;
		case OPT_PORT_MAPPING:
			if (strcmp(optarg, "auto") == 0)
				o->port_mapping = PORTMAP_AUTO;
			else if (strcmp(optarg, "pcp") == 0)
				o->port_mapping = PORTMAP_PCP;
			else if (strcmp(optarg, "natpmp") == 0)
				o->port_mapping = PORTMAP_NATPMP;
			else
				cli_usage_error("--port-mapping wants auto, pcp or natpmp, not '%s'",
				    optarg);
			break;
		case OPT_RELAY:
			o->relay = 1;
			break;
		case OPT_RELAY_RESV:
			o->relay_lim.max_reservations = (int)cli_xnumber(
			    "--relay-max-reservations", optarg, 1, RELAY_MAX_MAX_RESERVATIONS);
			break;
		case OPT_RELAY_BYTES:
			o->relay_lim.circuit_bytes = cli_xnumber("--relay-max-bytes",
			    optarg, 1, RELAY_MAX_CIRCUIT_BYTES);
			break;
		case OPT_RELAY_SECONDS:
			o->relay_lim.circuit_s = (int)cli_xnumber("--relay-max-seconds",
			    optarg, 1, RELAY_MAX_CIRCUIT_S);
			break;
		case OPT_BEHIND_NAT:
			o->behind_nat = 1;
			break;
		case OPT_USE_RELAY:
			cli_xaddress("--use-relay", optarg, 0);
			o->use_relay = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case CLI_OPT_VERSION:
			cli_print_version();
			exit(0);
		default:
			cli_bad_option(ch, argv, opts);
		}
	}
	/* no -t: the environment's list, else the default */
	if (o->trackers.count == 0)
		cli_xtrackers(P2PM_TRACKER_ENV, env != NULL && *env != '\0' ? env :
		    P2PM_DEFAULT_TRACKER, &o->trackers);
	for (int i = optind; i < argc; i++) {
		int rc = library_add_arg(lib, argv[i]);
		if (rc == -1)
			cli_usage_error("expected NAME=FILE, not '%s'", argv[i]);
		if (rc < 0) {
			fprintf(stderr, "peer: out of memory\n");
			exit(1);
		}
	}
}

/* Writes the default cache directory: $XDG_CACHE_HOME/p2p-music, else
 * $HOME/.cache/p2p-music. */
static int
default_cache_dir(char *out, size_t outlen)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/%s", xdg, PEER_CACHE_SUBDIR);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(out, outlen, "%s/.cache/%s", home, PEER_CACHE_SUBDIR);
	else
		return -1;
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* The songs to share now: the NAME=FILE arguments, then each -L directory.
 * *unreadable counts the -L directories that could not be read. */
static int
collect_library(const struct peer_options *o, const struct library *args,
    struct shared *sh, struct names *names, struct cache *cache, int all,
    struct library *lib, int *unreadable, struct library_stats *ls)
{
	struct filekey_id id;
	struct stat st;

	*unreadable = 0;
	for (size_t i = 0; i < args->n; i++) {
		/* the identity tells a periodic rescan what changed */
		memset(&id, 0, sizeof(id));
		if (stat(args->v[i].path, &st) == 0)
			filekey_id_of(&st, &id);
		if (library_add(lib, args->v[i].name, args->v[i].path, LIBRARY_FILE,
		    &id) < 0)
			return -1;
	}
	for (int i = 0; i < o->ndirs; i++)
		if (library_scan_dir(lib, o->dirs[i], sh, all, ls) < 0) {
			if (all)
				log_warn("skipping library directory %s", o->dirs[i]);
			(*unreadable)++;
		}
	/* the files of the trees, named by their tags where known */
	if (names_apply(names, cache, lib, args->n, all) < 0)
		return -1;
	if (*unreadable == 0)
		shared_sweep(sh);
	return 0;
}

/* Brings the index in line with the library, queues what needs work and
 * asks for a sweep of the cache once that is done. With all (at start and
 * on SIGHUP) every song is checked again and the cache swept; the periodic
 * rescan queues only what changed (and the song directories, whose check
 * costs a stat per file while they are unchanged) and sweeps only when a
 * song file changed or a song was dropped. No sweep while an -L directory
 * cannot be read: an unmounted disk is no reason to throw away the
 * segments of all its songs. */
static void
refresh_library(const struct peer_options *o, const struct library *args,
    struct shared *sh, struct names *names, struct cache *cache, int all,
    struct index *idx, struct jobs *jobs)
{
	struct library lib = { 0 };
	struct index_todo todo = { 0 };
	struct library_stats st = { 0 };
	size_t dropped, renamed, files = 0;
	int unreadable;

	if (collect_library(o, args, sh, names, cache, all, &lib, &unreadable, &st) < 0) {
		log_error("out of memory reading the library");
		library_free(&lib);
		return;
	}
	renamed = jobs_renames_pending(jobs);
	jobs_look_begins(jobs);
	dropped = index_sync(idx, &lib, all, &todo);
	for (size_t i = 0; i < todo.n; i++) {
		if (todo.v[i].kind == LIBRARY_FILE)
			files++;
		if (jobs_add(jobs, todo.v[i].name, todo.v[i].path, todo.v[i].kind,
		    todo.v[i].tagged, todo.v[i].pathname) < 0)
			log_error("out of memory queueing '%s'", todo.v[i].name);
	}
	jobs_rescanned(jobs, files);
	log_debug("look at the library done, %zu to check, %zu dropped, %zu renamed by "
	    "their tags before", todo.n, dropped, renamed);
	/* a look that only finds the songs renamed by their tags (each said
	 * when its tags were read) has nothing new to say */
	if (all || ((files > 0 || dropped > 0) &&
	    (files > renamed || dropped > renamed)))
		log_info("library: %zu song(s), %zu to check, %zu dropped; not "
		    "shared: %zu not audio, %zu hidden, %zu unreadable, %zu loop(s), "
		    "%zu too deep, %zu past the limit%s", lib.n, todo.n, dropped,
		    st.not_audio, st.hidden, st.unreadable, st.loops, st.too_deep,
		    st.too_many, all && o->verbose == 0 && st.not_audio + st.hidden +
		    st.unreadable + st.loops + st.too_deep + st.too_many > 0 ?
		    " (-v names them)" : "");
	if (dropped > 0)
		jobs_announce(jobs);
	if (unreadable == 0 && (all || files > 0 || dropped > 0))
		jobs_sweep_when_idle(jobs);
	else if (unreadable > 0 && all)
		log_warn("cache: nothing removed while %d library director%s cannot "
		    "be read", unreadable, unreadable == 1 ? "y" : "ies");
	index_todo_free(&todo);
	library_free(&lib);
}

/* Has the main loop look at the library again soon, as the periodic
 * rescan does (safe from any thread: the signal goes to the main thread,
 * the only one that does not block it). */
static void
peer_ask_rescan(void)
{
	kill(getpid(), SIGALRM);
}

static void
on_alarm(int sig)
{
	(void)sig;
	peer_tick = 1;
	peer_wake = 1;
}

/* Starts the periodic rescan: SIGALRM every period_ms. */
static void
start_rescan_timer(int period_ms)
{
	struct sigaction sa;
	struct itimerval t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	t.it_interval.tv_sec = period_ms / 1000;
	t.it_interval.tv_usec = (period_ms % 1000) * 1000;
	t.it_value = t.it_interval;
	if (setitimer(ITIMER_REAL, &t, NULL) < 0)
		log_warn("no periodic rescan of the library: %s", strerror(errno));
}

/* True if addr ("host:port") names the unspecified address, 0.0.0.0 or
 * [::]: not an address anyone can connect to. */
static int
peer_wildcard_addr(const char *addr)
{
	return strncmp(addr, "0.0.0.0:", 8) == 0 || strncmp(addr, "[::]:", 5) == 0;
}

/* The router's port mapping for the port the peer listens on (listen,
 * "host:port"), not started; NULL when it is off (--no-port-mapping) or
 * pointless (listening on loopback alone). */
static struct portmap *
peer_portmap_new(const struct peer_options *o, const char *listen)
{
	char host[NET_HOST_MAX];
	unsigned port;
	struct portmap *pm;

	if (o->no_port_mapping)
		return NULL;
	if (net_parse_hostport(listen, host, sizeof(host), &port, 1) < 0 ||
	    strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0)
		return NULL;
	pm = portmap_new(port, o->port_mapping);
	if (pm == NULL)
		log_warn("no port mapping: out of memory");
	return pm;
}

/* portmap's changed(): the address to register appeared, changed or went */
static void
peer_mapping_changed(void *ctx)
{
	announce_poke(ctx);
}

int
main(int argc, char **argv)
{
	struct peer_options o = { 0 };
	struct library args = { 0 };
	struct server_config cfg = { 0 };
	sigset_t all, old;
	char err[NET_ERR_LEN], cache_dir[PATH_MAX], ffmpeg[PATH_MAX];
	char trackers[CLI_MAX_TRACKERS * (NET_ADDR_MAX + 2)];
	char reserve_as[NET_ADDR_MAX];
	/* static: still reachable if connection threads outlive main */
	static struct cache *cache;
	static struct index *idx;
	static struct shared *sh;
	static struct names *names;
	static struct peer_ctx pctx;
	struct reservation *resv = NULL;
	struct punchwait *punch = NULL;
	struct server *srv;
	struct announcer *ann;
	struct portmap *pm;
	int given;
	struct jobs *jobs;
	int status = 1;

	parse_options(argc, argv, &o, &args);
	log_init("peer", cli_log_level(LOG_LEVEL_INFO, o.verbose, o.quiet));
	cli_signals(&peer_stop, &peer_rescan, &peer_wake);

	if (segmenter_find_ffmpeg(ffmpeg, sizeof(ffmpeg)) < 0) {
		log_error("ffmpeg not found in PATH; install it with: apt-get install ffmpeg");
		library_free(&args);
		return 1;
	}
	if (o.cache_dir != NULL)
		snprintf(cache_dir, sizeof(cache_dir), "%s", o.cache_dir);
	else if (default_cache_dir(cache_dir, sizeof(cache_dir)) < 0) {
		log_error("no cache directory: set XDG_CACHE_HOME or HOME, or use -c");
		library_free(&args);
		return 1;
	}
	cache = cache_open(cache_dir, err, sizeof(err));
	if (cache == NULL) {
		log_error("%s", err);
		library_free(&args);
		return 1;
	}
	if (migrate_cache(cache, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out_cache;
	}
	idx = index_new(peer_ask_rescan);
	sh = shared_new();
	names = names_new(peer_ask_rescan);
	if (idx == NULL || sh == NULL || names == NULL) {
		log_error("out of memory");
		goto out_index;
	}
	cfg.listen_addr = o.listen;
	cfg.idle_timeout_s = o.idle_timeout_s;
	cfg.line_timeout_s = o.line_timeout_s;
	cfg.max_conns = o.max_conns;
	cfg.max_conns_per_source = o.max_conns_per_source;
	/* a connection's socket, and a segment file while one is sent */
	cfg.fds_per_conn = 2;
	cfg.limit_loopback = o.limit_loopback;
	cfg.commands = PEER_COMMANDS | (o.relay ? PEER_RELAY_COMMANDS : 0);
	cfg.handler = peer_handle;
	pctx.idx = idx;
	o.relay_lim.limit_loopback = o.limit_loopback;
	if (o.relay && (pctx.relay = relay_new(&o.relay_lim)) == NULL) {
		log_error("out of memory");
		goto out_index;
	}
	cfg.ctx = &pctx;
	srv = server_open(&cfg, err, sizeof(err));
	if (srv == NULL) {
		log_error("%s", err);
		goto out_index;
	}
	given = o.advertise != NULL;
	if (o.advertise == NULL) {
		o.advertise = server_address(srv);
		if (peer_wildcard_addr(o.advertise))
			log_warn("listening on every address (%s) without -a: the tracker "
			    "records the address this host connects from, which may not "
			    "be one listeners can reach; give -a HOST:PORT", o.advertise);
	}
	cli_print_ready(server_address(srv));
	log_info("listening on %s, advertised as %s, tracker%s %s, cache %s",
	    server_address(srv), o.advertise, o.trackers.count > 1 ? "s" : "",
	    cli_format_trackers(&o.trackers, trackers, sizeof(trackers)), cache_dir);

	/* -a says where the peer is reached: nothing to map */
	pm = given ? NULL : peer_portmap_new(&o, server_address(srv));
	/* helper threads start with every signal blocked; this one takes them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* hole punches are waited for with --behind-nat, and from when a
	 * tracker finds the peer not reachable from outside */
	int punching = o.behind_nat || !given;
	if (punching)
		punch = punchwait_start(&o.trackers, o.advertise, srv, o.behind_nat);
	ann = punching && punch == NULL ? NULL : announce_start(&o.trackers,
	    o.advertise, given, o.renew_s, idx, pm, punching ? punchwait_enable : NULL,
	    punch);
	if (ann != NULL && pm != NULL)
		portmap_start(pm, peer_mapping_changed, ann);
	jobs = ann != NULL ? jobs_start(o.jobs, ffmpeg, o.aac_kbps, cache,
	    idx, ann, sh, names, o.keep_cache) : NULL;
	/* a relay serves a peer found behind a NAT; one whose address was
	 * given is not measured, so using a relay says it is behind one */
	if (jobs != NULL && (o.behind_nat || (o.use_relay != NULL && given)))
		announce_set_behind_nat(ann);
	/* without -a the address is the one listened on, which a relay
	 * outside a NAT never sees: reserve the port, at the address the
	 * relay sees the reservation come from, as the tracker registers it */
	snprintf(reserve_as, sizeof(reserve_as), "%s%s", given ? "" : "0.0.0.0",
	    given ? o.advertise : strrchr(o.advertise, ':'));
	if (jobs != NULL && o.use_relay != NULL &&
	    (resv = reservation_start(o.use_relay, reserve_as, srv, ann)) == NULL) {
		jobs_stop(jobs);
		jobs = NULL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (jobs == NULL) {
		log_error("cannot start the background threads");
		portmap_stop(pm);
		announce_stop(ann);
		punchwait_stop(punch);
		portmap_free(pm);
		if (server_close(srv) > 0)
			goto out_busy;
		goto out_index;
	}

	/* the timer first: its handler also serves peer_ask_rescan */
	{
		long long ms = (long long)o.renew_s * 1000 / PEER_RESCANS_PER_RENEWAL;
		start_rescan_timer(ms < PEER_MIN_RESCAN_MS ? PEER_MIN_RESCAN_MS :
		    (int)(ms > INT_MAX ? INT_MAX : ms));
	}
	refresh_library(&o, &args, sh, names, cache, 1, idx, jobs);
	while (!peer_stop) {
		server_run(srv, &peer_wake);
		peer_wake = 0;
		if (peer_rescan && !peer_stop) {
			peer_rescan = 0;
			peer_tick = 0;
			log_info("SIGHUP: reading the library again");
			refresh_library(&o, &args, sh, names, cache, 1, idx, jobs);
		} else if (peer_tick && !peer_stop) {
			peer_tick = 0;
			refresh_library(&o, &args, sh, names, cache, 0, idx, jobs);
		}
	}

	log_info("shutting down");
	reservation_stop(resv);
	jobs_stop(jobs);
	portmap_stop(pm);
	/* the announcers may enable the punch waiters until they stop */
	announce_stop(ann);
	punchwait_stop(punch);
	portmap_free(pm);
	status = 0;
	/* connection threads still running use the index: leave it, and the
	 * cache with it, to the exit */
	if (server_close(srv) > 0)
		goto out_busy;
out_index:
	relay_free(pctx.relay);
	index_free(idx);
	shared_free(sh);
	names_free(names);
out_cache:
	cache_close(cache);
out_busy:
	library_free(&args);
	return status;
}

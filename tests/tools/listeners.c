/* listeners.c - many listeners at once on one peer, for measuring what
 * they cost it: CONNS threads each open one persistent connection to the
 * peer, ask for the song's playlist, wait until every connection has its
 * playlist, and then ask for the song's segments one after the other,
 * round and round, until SECONDS have passed. Then each hangs up.
 *
 * Prints "connected K of N" on stdout once all N connections have tried
 * (K have their playlist: the moment to look at the peer), then one
 * summary line:
 * "listeners: K ok, F failed, S segments, B bytes". Only a peer on 127.0.0.1
 * is accepted: this is a load generator for this machine alone.
 *
 * usage: listeners [-n CONNS] [-d SECONDS] 127.0.0.1:PORT SONG */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/net.h"
#include "p2pm/proto.h"
#include "p2pm/rpc.h"
#include "p2pm/strnum.h"

/* most connections, and longest run in seconds */
#define LISTENERS_MAX_CONNS 20000
#define LISTENERS_MAX_SECONDS 600
#define LISTENERS_DEFAULT_CONNS 1000
#define LISTENERS_DEFAULT_SECONDS 5
/* segments of one playlist taken */
#define LISTENERS_MAX_SEGMENTS 4096
/* each thread's stack, bytes */
#define LISTENERS_STACK (128 * 1024)
/* connect and each wait for data, ms */
#define LISTENERS_CONNECT_MS 10000
#define LISTENERS_IO_MS 30000

struct listeners_run {
	const char *addr;
	const char *song;
	long long end_ms;		/* when the segment requests stop */
	pthread_barrier_t ready;	/* every thread has its playlist (or failed) */
	pthread_barrier_t go;		/* end_ms is set */

	pthread_mutex_t lock;		/* guards the counts */
	long with_playlist, ok, failed, segments;
	long long bytes;
};

/* The segment names of a playlist: its lines that are neither empty nor
 * comments, in place (the text is changed). Returns the count. */
static size_t
listeners_segments(char *text, char **names, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line != NULL && n < max;
	    line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "\r")] = '\0';
		if (line[0] != '\0' && line[0] != '#')
			names[n++] = line;
	}
	return n;
}

static void *
listeners_main(void *arg)
{
	struct listeners_run *run = arg;
	char err[RPC_ERR_LEN], want[PROTO_MAX_REPLY_NAME + 1];
	char *playlist = NULL, *names[LISTENERS_MAX_SEGMENTS];
	size_t len, n = 0;
	long segments = 0;
	long long bytes = 0;
	int ok = 0;
	struct rpc_conn *c;

	snprintf(want, sizeof(want), "%s.m3u8", run->song);
	c = rpc_open(run->addr, LISTENERS_CONNECT_MS, LISTENERS_IO_MS, err,
	    sizeof(err));
	if (c != NULL && rpc_request_name(c, "REQUEST_SONG", run->song) == RPC_OK &&
	    rpc_body(c, "PLAYLIST", want, PROTO_MAX_PLAYLIST_BYTES, &playlist,
	    &len) == RPC_OK)
		n = listeners_segments(playlist, names, LISTENERS_MAX_SEGMENTS);
	else
		fprintf(stderr, "listeners: %s\n", c == NULL ? err : rpc_error(c));
	pthread_mutex_lock(&run->lock);
	run->with_playlist += n > 0;
	pthread_mutex_unlock(&run->lock);
	pthread_barrier_wait(&run->ready);
	pthread_barrier_wait(&run->go);

	if (n > 0) {
		ok = 1;
		for (size_t i = 0; clock_now_ms() < run->end_ms; i = (i + 1) % n) {
			char *body;
			size_t blen;
			if (rpc_request_name(c, "REQUEST_SEGMENT", names[i]) != RPC_OK ||
			    rpc_body(c, "SEGMENT", names[i], PROTO_MAX_SEGMENT_BYTES,
			    &body, &blen) != RPC_OK) {
				fprintf(stderr, "listeners: %s\n", rpc_error(c));
				ok = 0;
				break;
			}
			free(body);
			segments++;
			bytes += (long long)blen;
		}
	}
	rpc_close(c);
	free(playlist);
	pthread_mutex_lock(&run->lock);
	if (ok)
		run->ok++;
	else
		run->failed++;
	run->segments += segments;
	run->bytes += bytes;
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

static void
listeners_usage(void)
{
	fprintf(stderr, "usage: listeners [-n CONNS] [-d SECONDS] 127.0.0.1:PORT SONG\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct listeners_run run = { 0 };
	long conns = LISTENERS_DEFAULT_CONNS, seconds = LISTENERS_DEFAULT_SECONDS;
	char host[NET_HOST_MAX];
	unsigned port;
	pthread_t *threads;
	pthread_attr_t attr;
	struct rlimit rl;
	long started = 0;
	int ch;

	while ((ch = getopt(argc, argv, "n:d:")) != -1) {
		if (ch == 'n' && strnum_parse(optarg, 1, LISTENERS_MAX_CONNS, &conns) == 0)
			continue;
		if (ch == 'd' && strnum_parse(optarg, 1, LISTENERS_MAX_SECONDS, &seconds) == 0)
			continue;
		listeners_usage();
	}
	if (argc - optind != 2)
		listeners_usage();
	run.addr = argv[optind];
	run.song = argv[optind + 1];
	if (net_parse_hostport(run.addr, host, sizeof(host), &port, 0) < 0 ||
	    strcmp(host, "127.0.0.1") != 0) {
		fprintf(stderr, "listeners: only a peer on 127.0.0.1:PORT, not '%s'\n",
		    run.addr);
		return 2;
	}
	if (strlen(run.song) == 0 || strlen(run.song) > PROTO_MAX_NAME)
		listeners_usage();
	/* a descriptor per connection, and some to spare */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)conns + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)conns + 64 ? rl.rlim_max :
		    (rlim_t)conns + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	threads = calloc((size_t)conns, sizeof(*threads));
	if (threads == NULL) {
		fprintf(stderr, "listeners: out of memory\n");
		return 1;
	}
	pthread_mutex_init(&run.lock, NULL);
	/* the threads and this one */
	pthread_barrier_init(&run.ready, NULL, (unsigned)conns + 1);
	pthread_barrier_init(&run.go, NULL, (unsigned)conns + 1);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, LISTENERS_STACK);
	for (; started < conns; started++)
		if (pthread_create(&threads[started], &attr, listeners_main, &run) != 0)
			break;
	pthread_attr_destroy(&attr);
	if (started < conns) {
		/* the barrier counts on every thread: nothing to do but stop */
		fprintf(stderr, "listeners: only %ld threads could start\n", started);
		_exit(1);
	}
	pthread_barrier_wait(&run.ready);
	/* every playlist is in: the segment requests run for seconds from now */
	run.end_ms = clock_now_ms() + seconds * 1000;
	printf("connected %ld of %ld\n", run.with_playlist, conns);
	fflush(stdout);
	pthread_barrier_wait(&run.go);
	for (long i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	printf("listeners: %ld ok, %ld failed, %ld segments, %lld bytes\n", run.ok,
	    run.failed, run.segments, run.bytes);
	pthread_barrier_destroy(&run.ready);
	pthread_barrier_destroy(&run.go);
	pthread_mutex_destroy(&run.lock);
	free(threads);
	return run.failed == 0 ? 0 : 1;
}

/* loadgen.c - a request load generator for scripts/bench-tracker.
 *
 * CLIENTS threads send LINE (a request such as "QUERY song0") to a server
 * on the loopback interface and read each one-line reply, until SECONDS
 * have passed or REQUESTS requests were sent in all, then print
 *
 *   requests N seconds S.SSS rate R errors E
 *
 * MODE "conn" opens a connection per request (connect, request, reply,
 * close); MODE "persist" keeps one connection per client and sends the
 * next request as soon as the reply came.
 *
 * usage: loadgen PORT MODE CLIENTS SECONDS REQUESTS LINE */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "p2pm/clock.h"
#include "p2pm/strnum.h"

#define LOADGEN_MAX_CLIENTS 1024
#define LOADGEN_MAX_SECONDS 600
#define LOADGEN_MAX_REQUESTS 100000000L
/* longest reply line read; longer replies count as errors */
#define LOADGEN_REPLY_MAX 4096
/* a wait for one reply, seconds */
#define LOADGEN_IO_TIMEOUT_S 10

static struct sockaddr_in loadgen_addr;
static char loadgen_line[LOADGEN_REPLY_MAX];
static size_t loadgen_linelen;
static int loadgen_persist;
static long loadgen_max_requests;
static long long loadgen_end_ms;
static atomic_long loadgen_claimed, loadgen_answered, loadgen_errors;

/* Claims one more request of the total; false when the count or the time
 * is used up. */
static int
loadgen_claim(void)
{
	if (clock_now_ms() >= loadgen_end_ms)
		return 0;
	return atomic_fetch_add(&loadgen_claimed, 1) < loadgen_max_requests;
}

static int
loadgen_connect(void)
{
	struct timeval tv = { LOADGEN_IO_TIMEOUT_S, 0 };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&loadgen_addr, sizeof(loadgen_addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends the request and reads one reply line; 0 if it came whole. */
static int
loadgen_exchange(int fd)
{
	char reply[LOADGEN_REPLY_MAX];
	size_t got = 0;

	if (write(fd, loadgen_line, loadgen_linelen) != (ssize_t)loadgen_linelen)
		return -1;
	while (got < sizeof(reply)) {
		ssize_t n = read(fd, reply + got, sizeof(reply) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (memchr(reply + got, '\n', (size_t)n) != NULL)
			return strncmp(reply, "ERR", 3) == 0 ? -1 : 0;
		got += (size_t)n;
	}
	return -1;
}

static void *
loadgen_client(void *arg)
{
	int fd = -1;

	(void)arg;
	while (loadgen_claim()) {
		if (fd < 0 && (fd = loadgen_connect()) < 0) {
			atomic_fetch_add(&loadgen_errors, 1);
			continue;
		}
		if (loadgen_exchange(fd) < 0) {
			atomic_fetch_add(&loadgen_errors, 1);
			close(fd);
			fd = -1;
			continue;
		}
		atomic_fetch_add(&loadgen_answered, 1);
		if (!loadgen_persist) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t tids[LOADGEN_MAX_CLIENTS];
	long port, clients, seconds;
	long long t0, ms;
	int n;

	if (argc != 7 || strnum_parse(argv[1], 1, 65535, &port) < 0 ||
	    (strcmp(argv[2], "conn") != 0 && strcmp(argv[2], "persist") != 0) ||
	    strnum_parse(argv[3], 1, LOADGEN_MAX_CLIENTS, &clients) < 0 ||
	    strnum_parse(argv[4], 1, LOADGEN_MAX_SECONDS, &seconds) < 0 ||
	    strnum_parse(argv[5], 1, LOADGEN_MAX_REQUESTS, &loadgen_max_requests) < 0) {
		fprintf(stderr, "usage: loadgen PORT conn|persist CLIENTS SECONDS "
		    "REQUESTS LINE\n");
		return 2;
	}
	n = snprintf(loadgen_line, sizeof(loadgen_line), "%s\n", argv[6]);
	if (n < 0 || (size_t)n >= sizeof(loadgen_line)) {
		fprintf(stderr, "loadgen: request line too long\n");
		return 2;
	}
	loadgen_linelen = (size_t)n;
	loadgen_persist = strcmp(argv[2], "persist") == 0;
	/* the loopback interface only */
	loadgen_addr.sin_family = AF_INET;
	loadgen_addr.sin_port = htons((unsigned short)port);
	loadgen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	signal(SIGPIPE, SIG_IGN);

	t0 = clock_now_ms();
	loadgen_end_ms = t0 + seconds * 1000;
	for (long i = 0; i < clients; i++)
		if (pthread_create(&tids[i], NULL, loadgen_client, NULL) != 0) {
			fprintf(stderr, "loadgen: cannot start thread %ld\n", i);
			clients = i;
			break;
		}
	for (long i = 0; i < clients; i++)
		pthread_join(tids[i], NULL);
	ms = clock_now_ms() - t0;
	if (ms <= 0)
		ms = 1;
	long answered = atomic_load(&loadgen_answered);
	long errors = atomic_load(&loadgen_errors);

	printf("requests %ld seconds %lld.%03lld rate %lld errors %ld\n", answered,
	    ms / 1000, ms % 1000, (long long)answered * 1000 / ms, errors);
	return answered > 0 ? 0 : 1;
}

/* loadgen.c - a request load generator for scripts/bench-tracker.
 *
 * CLIENTS threads send LINE (a request such as "QUERY song0") to a server
 * on the loopback interface and read each one-line reply, until SECONDS
 * have passed or REQUESTS requests were sent in all, then print
 *
 *   requests N seconds S.SSS rate R errors E gen_us U
 *
 * where U is the generator's own CPU time (user + system, its share of the
 * kernel's work on both ends of the loopback included) per answered
 * request, in microseconds.
 *
 * MODE "conn" opens a connection per request (connect, request, reply,
 * close); MODE "once" sends the request and QUIT in one write and reads
 * until the server has answered and closed, as a client that has only one
 * question does (and as HTTP's "Connection: close" works); MODE "persist"
 * keeps one connection per client and sends the next request as soon as
 * the reply came.
 *
 * MODE "http" speaks to a BitTorrent tracker instead, a connection per
 * request: LINE is an info hash (40 hex digits) and each request is an
 * HTTP GET /announce of it, with the 20-byte info_hash and peer_id
 * percent-encoded, port LOADGEN_HTTP_PORT + the client's number, left=0,
 * compact=1 and numwant=LOADGEN_HTTP_NUMWANT; a reply counts when it is
 * "200" with a bencoded dictionary that is no failure. The peers thus
 * announced stay in the swarm, so a first run with as many clients as
 * the swarm should have fills it.
 *
 * usage: loadgen PORT MODE CLIENTS SECONDS REQUESTS LINE */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
/* MODE http: the port announced by client 0 (client i: + i), and the peers
 * asked for, as many as QUERY names in bench-tracker */
#define LOADGEN_HTTP_PORT 20000
#define LOADGEN_HTTP_NUMWANT 10
/* BitTorrent's info_hash and peer_id, bytes */
#define LOADGEN_HASH_LEN 20
/* the longest announce request */
#define LOADGEN_HTTP_REQUEST_MAX 512

static struct sockaddr_in loadgen_addr;
static char loadgen_line[LOADGEN_REPLY_MAX];
static size_t loadgen_linelen;
static int loadgen_persist, loadgen_once, loadgen_http;
static unsigned char loadgen_info_hash[LOADGEN_HASH_LEN];
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
		if (n < 0 || (n == 0 && !loadgen_once))
			return -1;
		if (n == 0)	/* once: the server closed after its reply */
			return got > 0 && reply[got - 1] == '\n' &&
			    memchr(reply, '\n', got) == reply + got - 1 &&
			    strncmp(reply, "ERR", 3) != 0 ? 0 : -1;
		got += (size_t)n;
		if (!loadgen_once && memchr(reply + got - n, '\n', (size_t)n) != NULL)
			return strncmp(reply, "ERR", 3) == 0 ? -1 : 0;
	}
	return -1;
}

/* Appends the 20 bytes b percent-encoded, every one as %XX. */
static size_t
loadgen_percent20(char *out, const unsigned char b[LOADGEN_HASH_LEN])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (int i = 0; i < LOADGEN_HASH_LEN; i++) {
		out[n++] = '%';
		out[n++] = hex[b[i] >> 4];
		out[n++] = hex[b[i] & 15];
	}
	return n;
}

/* The announce of client `client` into req (LOADGEN_HTTP_REQUEST_MAX
 * bytes); returns its length. */
static size_t
loadgen_announce(char *req, long client)
{
	unsigned char peer_id[LOADGEN_HASH_LEN];
	size_t n = 0;

	/* an Azureus-style client prefix, then the client's number in 12 digits */
	memcpy(peer_id, "-LG0001-000000000000", LOADGEN_HASH_LEN);
	for (int i = LOADGEN_HASH_LEN - 1; i >= 8 && client > 0; i--, client /= 10)
		peer_id[i] = (unsigned char)('0' + client % 10);
	n += (size_t)snprintf(req, LOADGEN_HTTP_REQUEST_MAX, "GET /announce?info_hash=");
	n += loadgen_percent20(req + n, loadgen_info_hash);
	n += (size_t)snprintf(req + n, LOADGEN_HTTP_REQUEST_MAX - n, "&peer_id=");
	n += loadgen_percent20(req + n, peer_id);
	return n;
}

/* Sends an announce and reads the whole reply (the server closes). 0 if
 * it is a 200 with a bencoded dictionary that reports no failure. */
static int
loadgen_http_exchange(int fd, const char *req, size_t reqlen)
{
	char reply[LOADGEN_REPLY_MAX + 1];
	size_t got = 0;

	if (write(fd, req, reqlen) != (ssize_t)reqlen)
		return -1;
	while (got < LOADGEN_REPLY_MAX) {
		ssize_t n = read(fd, reply + got, LOADGEN_REPLY_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	reply[got] = '\0';
	const char *body = strstr(reply, "\r\n\r\n");
	if (got == LOADGEN_REPLY_MAX || strncmp(reply, "HTTP/1.", 7) != 0 ||
	    strncmp(reply + 8, " 200", 4) != 0 || body == NULL || body[4] != 'd' ||
	    strstr(body, "failure reason") != NULL)
		return -1;
	return 0;
}

static void *
loadgen_client(void *arg)
{
	long client = (long)(intptr_t)arg;
	char req[LOADGEN_HTTP_REQUEST_MAX];
	size_t reqlen = 0;
	int fd = -1;

	if (loadgen_http) {
		reqlen = loadgen_announce(req, client);
		reqlen += (size_t)snprintf(req + reqlen, sizeof(req) - reqlen,
		    "&port=%ld&uploaded=0&downloaded=0&left=0&compact=1&numwant=%d HTTP/1.1\r\n"
		    "Host: 127.0.0.1\r\nConnection: close\r\n\r\n",
		    LOADGEN_HTTP_PORT + client, LOADGEN_HTTP_NUMWANT);
	}
	while (loadgen_claim()) {
		if (fd < 0 && (fd = loadgen_connect()) < 0) {
			atomic_fetch_add(&loadgen_errors, 1);
			continue;
		}
		if ((loadgen_http ? loadgen_http_exchange(fd, req, reqlen) :
		    loadgen_exchange(fd)) < 0) {
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

/* The 40 hex digits of text into loadgen_info_hash. 0, or -1. */
static int
loadgen_parse_hash(const char *text)
{
	if (strlen(text) != 2 * LOADGEN_HASH_LEN)
		return -1;
	for (int i = 0; i < LOADGEN_HASH_LEN; i++) {
		unsigned v;
		if (sscanf(text + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)text[2 * i]) ||
		    !isxdigit((unsigned char)text[2 * i + 1]))
			return -1;
		loadgen_info_hash[i] = (unsigned char)v;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	pthread_t tids[LOADGEN_MAX_CLIENTS];
	long port, clients, seconds;
	long long t0, ms;
	int n;

	if (argc != 7 || strnum_parse(argv[1], 1, 65535, &port) < 0 ||
	    (strcmp(argv[2], "conn") != 0 && strcmp(argv[2], "once") != 0 &&
	    strcmp(argv[2], "persist") != 0 && strcmp(argv[2], "http") != 0) ||
	    strnum_parse(argv[3], 1, LOADGEN_MAX_CLIENTS, &clients) < 0 ||
	    strnum_parse(argv[4], 1, LOADGEN_MAX_SECONDS, &seconds) < 0 ||
	    strnum_parse(argv[5], 1, LOADGEN_MAX_REQUESTS, &loadgen_max_requests) < 0) {
		fprintf(stderr, "usage: loadgen PORT conn|once|persist|http CLIENTS SECONDS "
		    "REQUESTS LINE\n");
		return 2;
	}
	loadgen_once = strcmp(argv[2], "once") == 0;
	n = snprintf(loadgen_line, sizeof(loadgen_line), loadgen_once ? "%s\nQUIT\n" :
	    "%s\n", argv[6]);
	if (n < 0 || (size_t)n >= sizeof(loadgen_line)) {
		fprintf(stderr, "loadgen: request line too long\n");
		return 2;
	}
	loadgen_linelen = (size_t)n;
	loadgen_persist = strcmp(argv[2], "persist") == 0;
	loadgen_http = strcmp(argv[2], "http") == 0;
	if (loadgen_http && loadgen_parse_hash(argv[6]) < 0) {
		fprintf(stderr, "loadgen: http wants an info hash of 40 hex digits\n");
		return 2;
	}
	/* the loopback interface only */
	loadgen_addr.sin_family = AF_INET;
	loadgen_addr.sin_port = htons((unsigned short)port);
	loadgen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	signal(SIGPIPE, SIG_IGN);

	t0 = clock_now_ms();
	loadgen_end_ms = t0 + seconds * 1000;
	for (long i = 0; i < clients; i++)
		if (pthread_create(&tids[i], NULL, loadgen_client, (void *)(intptr_t)i) != 0) {
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
	struct rusage ru;
	long long cpu_us = 0;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu_us = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
		    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	printf("requests %ld seconds %lld.%03lld rate %lld errors %ld gen_us %lld\n", answered,
	    ms / 1000, ms % 1000, (long long)answered * 1000 / ms, errors,
	    cpu_us / (answered > 0 ? answered : 1));
	return answered > 0 ? 0 : 1;
}

/* slowloris.c - a hostile client for the servers' tests: it opens CONNS
 * connections to a loopback address, sends PREFIX on each at once, then
 * one more byte on each every INTERVAL_MS (letters, with an LF after every
 * N of them if -e N is given, else never), for SECONDS. It reads whatever
 * the server answers and notes when each connection was closed.
 *
 * It prints "holding N" (N connections made) once all are open, and at
 * the end
 *
 *   connected N refused R cut C open O first_cut_ms A last_cut_ms B
 *
 * where refused counts connections that got an ERR line before they were
 * closed, cut those closed without one (A and B: the earliest and latest
 * such close, in ms after that connection was opened; -1 if none), open
 * those still open at the end.
 *
 * usage: slowloris [-s SOURCE_IPV4] [-p PREFIX] [-e N] HOST:PORT CONNS
 *                  INTERVAL_MS SECONDS
 * PREFIX may hold "\n" for a line end. SOURCE and HOST must be 127.x.y.z. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "p2pm/clock.h"
#include "p2pm/net.h"
#include "p2pm/strnum.h"

#define SLOWLORIS_MAX_CONNS 4096
#define SLOWLORIS_MAX_PREFIX 4096
#define SLOWLORIS_MAX_SECONDS 300

struct slow_conn {
	int fd;			/* -1 once closed */
	long long opened_ms, closed_ms;
	int got_err;		/* an ERR line came */
	size_t sent;		/* dripped bytes so far */
};

static struct slow_conn conns[SLOWLORIS_MAX_CONNS];

/* Parses a dotted IPv4 address in 127.0.0.0/8 into sin. */
static int
slow_loopback(const char *text, unsigned port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
		return -1;
	return (ntohl(sin->sin_addr.s_addr) >> 24) == 127 ? 0 : -1;
}

/* Copies text into out turning each "\n" into an LF. */
static size_t
slow_unescape(const char *text, char *out, size_t outlen)
{
	size_t o = 0;

	for (const char *p = text; *p != '\0' && o + 1 < outlen; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			out[o++] = '\n';
			p++;
		} else {
			out[o++] = *p;
		}
	}
	return o;
}

static void
slow_close(struct slow_conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->closed_ms = clock_now_ms();
}

int
main(int argc, char **argv)
{
	const char *source = NULL;
	char prefix[SLOWLORIS_MAX_PREFIX], host[NET_HOST_MAX];
	size_t prefixlen = 0;
	long every = 0, nconns, interval, seconds;
	unsigned port;
	struct sockaddr_in dst, src;
	int ch, made = 0;

	while ((ch = getopt(argc, argv, "s:p:e:")) != -1) {
		switch (ch) {
		case 's':
			source = optarg;
			break;
		case 'p':
			prefixlen = slow_unescape(optarg, prefix, sizeof(prefix));
			break;
		case 'e':
			if (strnum_parse(optarg, 0, 4096, &every) < 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 4 ||
	    net_parse_hostport(argv[optind], host, sizeof(host), &port, 0) < 0 ||
	    slow_loopback(host, port, &dst) < 0 ||
	    (source != NULL && slow_loopback(source, 0, &src) < 0) ||
	    strnum_parse(argv[optind + 1], 1, SLOWLORIS_MAX_CONNS, &nconns) < 0 ||
	    strnum_parse(argv[optind + 2], 1, 60000, &interval) < 0 ||
	    strnum_parse(argv[optind + 3], 1, SLOWLORIS_MAX_SECONDS, &seconds) < 0)
		goto usage;
	signal(SIGPIPE, SIG_IGN);

	for (long i = 0; i < nconns; i++) {
		struct slow_conn *c = &conns[made];
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			break;
		if ((source != NULL &&
		    bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0) ||
		    connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
			fprintf(stderr, "slowloris: connect: %s\n", strerror(errno));
			close(c->fd);
			break;
		}
		c->opened_ms = clock_now_ms();
		if (prefixlen > 0 && net_write_all(c->fd, prefix, prefixlen) < 0)
			slow_close(c);
		made++;
	}
	printf("holding %d\n", made);
	fflush(stdout);

	long long end = clock_now_ms() + seconds * 1000, next = clock_now_ms() + interval;
	struct pollfd pfds[SLOWLORIS_MAX_CONNS];
	for (;;) {
		long long now = clock_now_ms();
		int open = 0;

		if (now >= end)
			break;
		if (now >= next) {
			/* one more byte on each open connection */
			for (int i = 0; i < made; i++) {
				struct slow_conn *c = &conns[i];
				char b;
				if (c->fd < 0)
					continue;
				c->sent++;
				b = every > 0 && c->sent % (size_t)(every + 1) == 0 ? '\n' :
				    (char)('a' + c->sent % 26);
				if (write(c->fd, &b, 1) != 1)
					slow_close(c);
			}
			next += interval;
			continue;
		}
		for (int i = 0; i < made; i++) {
			pfds[i].fd = conns[i].fd;	/* negative: ignored */
			pfds[i].events = POLLIN;
			pfds[i].revents = 0;
			open += conns[i].fd >= 0;
		}
		if (open == 0)
			break;
		long long wait = (next < end ? next : end) - now;
		if (poll(pfds, (nfds_t)made, (int)wait) <= 0)
			continue;
		for (int i = 0; i < made; i++) {
			char buf[4096];
			ssize_t n;
			if (conns[i].fd < 0 || pfds[i].revents == 0)
				continue;
			n = read(conns[i].fd, buf, sizeof(buf));
			if (n > 0 && n >= 3 && memcmp(buf, "ERR", 3) == 0)
				conns[i].got_err = 1;
			if (n <= 0)
				slow_close(&conns[i]);
		}
	}

	int refused = 0, cut = 0, open = 0;
	long long first = -1, last = -1;
	for (int i = 0; i < made; i++) {
		struct slow_conn *c = &conns[i];
		if (c->fd >= 0) {
			open++;
			close(c->fd);
		} else if (c->got_err) {
			refused++;
		} else {
			long long t = c->closed_ms - c->opened_ms;
			cut++;
			if (first < 0 || t < first)
				first = t;
			if (t > last)
				last = t;
		}
	}
	printf("connected %d refused %d cut %d open %d first_cut_ms %lld last_cut_ms %lld\n",
	    made, refused, cut, open, first, last);
	return 0;
usage:
	fprintf(stderr, "usage: slowloris [-s SOURCE_IPV4] [-p PREFIX] [-e N] "
	    "HOST:PORT CONNS INTERVAL_MS SECONDS\n");
	return 2;
}

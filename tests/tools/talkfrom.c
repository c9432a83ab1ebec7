/* talkfrom.c - a client bound to a chosen source address, for tests of
 * the tracker's per-source rules on one machine (every 127.0.0.0/8
 * address is a different source): connects from SRC_IP to HOST:PORT,
 * sends stdin while printing everything the server sends, half-closes
 * after stdin ends, and exits when the server closes (or after 60 s).
 *
 * SRC_IP:PORT binds that source port too (a test bed's NAT keeps it or
 * not).
 *
 * usage: talkfrom SRC_IP[:PORT] HOST:PORT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2pm/net.h"

/* how long the whole exchange may take */
#define TALKFROM_DEADLINE_MS 60000
#define TALKFROM_BUF 65536

static int
talkfrom_connect(const char *src, const char *hostport)
{
	char host[NET_HOST_MAX], srchost[NET_HOST_MAX];
	struct sockaddr_in from, to;
	unsigned port, srcport = 0;
	int fd, one = 1;

	memset(&from, 0, sizeof(from));
	memset(&to, 0, sizeof(to));
	from.sin_family = to.sin_family = AF_INET;
	if (strchr(src, ':') != NULL) {
		if (net_parse_hostport(src, srchost, sizeof(srchost), &srcport, 0) < 0)
			return -1;
	} else if (snprintf(srchost, sizeof(srchost), "%s", src) >= (int)sizeof(srchost)) {
		return -1;
	}
	from.sin_port = htons((unsigned short)srcport);
	if (inet_pton(AF_INET, srchost, &from.sin_addr) != 1 ||
	    net_parse_hostport(hostport, host, sizeof(host), &port, 0) < 0 ||
	    inet_pton(AF_INET, host, &to.sin_addr) != 1)
		return -1;
	to.sin_port = htons((unsigned short)port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	/* a fixed source port may be taken again at once, run after run */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	static char in[TALKFROM_BUF], out[TALKFROM_BUF];
	size_t inlen = 0, inoff = 0;
	int fd, stdin_open = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: talkfrom SRC_IP[:PORT] HOST:PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = talkfrom_connect(argv[1], argv[2]);
	if (fd < 0) {
		fprintf(stderr, "talkfrom: cannot connect from %s to %s: %s\n", argv[1],
		    argv[2], strerror(errno));
		return 1;
	}
	/* never block on one direction while the other one could move */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (int waited = 0; waited < TALKFROM_DEADLINE_MS;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { 0, POLLIN, 0 } };
		int np = 1;
		if (inoff < inlen)
			p[0].events |= POLLOUT;
		else if (stdin_open)
			np = 2;
		int r = poll(p, (nfds_t)np, 100);
		if (r < 0 && errno != EINTR)
			return 1;
		if (r <= 0) {
			waited += 100;
			continue;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(fd, out, sizeof(out));
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0)
				return 0;
			if (fwrite(out, 1, (size_t)n, stdout) != (size_t)n)
				return 1;
			fflush(stdout);
		}
		if (np == 2 && (p[1].revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(0, in, sizeof(in));
			if (n <= 0) {
				stdin_open = 0;
				shutdown(fd, SHUT_WR);
			} else {
				inlen = (size_t)n;
				inoff = 0;
			}
		}
		if ((p[0].revents & POLLOUT) && inoff < inlen) {
			ssize_t n = write(fd, in + inoff, inlen - inoff);
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				return 1;
			if (n > 0)
				inoff += (size_t)n;
		}
	}
	return 1;
}

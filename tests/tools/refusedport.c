/* refusedport.c - hands out an address on 127.0.0.1 whose port is known to
 * refuse connections, for tests that need a dead tracker or peer: binds
 * port 0, learns the port the kernel chose, closes the socket without
 * listening, and checks that a connect to it is refused. A port taken by
 * someone else meanwhile is given up and another one tried. Prints
 * "127.0.0.1:PORT" and exits 0, or exits 1 saying why.
 *
 * usage: refusedport */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ports tried, at most, before giving up */
#define REFUSEDPORT_TRIES 20

/* Binds 127.0.0.1 port 0 and closes the socket again. Returns the port it
 * had, or 0 on failure (errno set). */
static unsigned short
refusedport_pick(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	unsigned short port = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* True if a connect to 127.0.0.1:port is refused. */
static int
refusedport_refused(unsigned short port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc, err;

	if (fd < 0)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	err = errno;
	close(fd);
	return rc < 0 && err == ECONNREFUSED;
}

int
main(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: refusedport\n");
		return 2;
	}
	for (int i = 0; i < REFUSEDPORT_TRIES; i++) {
		unsigned short port = refusedport_pick();
		if (port == 0) {
			fprintf(stderr, "refusedport: cannot bind 127.0.0.1 port 0: %s\n",
			    strerror(errno));
			return 1;
		}
		if (refusedport_refused(port)) {
			printf("127.0.0.1:%u\n", (unsigned)port);
			return 0;
		}
	}
	fprintf(stderr, "refusedport: no port of %d tried refused connections\n",
	    REFUSEDPORT_TRIES);
	return 1;
}

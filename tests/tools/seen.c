/* seen.c - says where a connection comes from, for the tests of the
 * network test bed's routers: listens on HOST:PORT, writes the address
 * each connection comes from ("SEEN host:port", as this end sees it) and
 * closes it. Prints "listening on HOST:PORT" and one line per connection
 * on stdout.
 *
 * usage: seen HOST:PORT */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2pm/net.h"

int
main(int argc, char **argv)
{
	char err[256], addr[NET_ADDR_MAX], line[NET_ADDR_MAX + 8];
	int lfd;

	if (argc != 2) {
		fprintf(stderr, "usage: seen HOST:PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = net_listen(argv[1], err, sizeof(err));
	if (lfd < 0) {
		fprintf(stderr, "seen: %s\n", err);
		return 1;
	}
	if (net_local_addr(lfd, addr, sizeof(addr)) < 0)
		return 1;
	printf("listening on %s\n", addr);
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		if (net_remote_addr(fd, addr, sizeof(addr)) == 0) {
			int n = snprintf(line, sizeof(line), "SEEN %s\n", addr);
			net_write_all(fd, line, (size_t)n);
			fputs(line, stdout);
			fflush(stdout);
		}
		close(fd);
	}
}

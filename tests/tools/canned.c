/* canned.c - a stand-in server for the client's tests: it answers every
 * request line of a connection (but QUIT, which ends it) with the bytes of
 * FILE, so that a test can give the client replies no real daemon sends
 * yet (LIST lines with tags, say). Listens on 127.0.0.1 port 0 and prints
 * "listening on HOST:PORT".
 *
 * usage: canned FILE */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2pm/net.h"
#include "p2pm/proto.h"
#include "p2pm/reader.h"

/* the largest reply file, in bytes */
#define CANNED_MAX_REPLY (1024 * 1024)

static void
canned_serve(int fd, const char *reply, size_t len)
{
	char line[PROTO_MAX_LINE + 1];
	struct reader rd;
	size_t n;

	reader_init(&rd, fd, 5000);
	while (reader_line(&rd, line, sizeof(line), PROTO_MAX_LINE, &n) == READER_OK) {
		if (n == 4 && memcmp(line, "QUIT", 4) == 0)
			return;
		if (net_write_all(fd, reply, len) < 0)
			return;
	}
}

int
main(int argc, char **argv)
{
	char err[NET_ERR_LEN], addr[NET_ADDR_MAX];
	static char reply[CANNED_MAX_REPLY];
	size_t len;
	FILE *f;
	int lfd, fd;

	if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
		fprintf(stderr, "usage: canned FILE\n");
		return 2;
	}
	len = fread(reply, 1, sizeof(reply), f);
	fclose(f);
	signal(SIGPIPE, SIG_IGN);
	lfd = net_listen("127.0.0.1:0", err, sizeof(err));
	if (lfd < 0 || net_local_addr(lfd, addr, sizeof(addr)) < 0) {
		fprintf(stderr, "canned: %s\n", err);
		return 1;
	}
	printf("listening on %s\n", addr);
	fflush(stdout);
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		canned_serve(fd, reply, len);
		close(fd);
	}
	return 0;
}

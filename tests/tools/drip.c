/* drip.c - a misbehaving peer for the client's tests: it answers the first
 * request of each connection with a body header announcing `bytes` bytes,
 * then sends one byte every `interval_ms`, forever (until the client hangs
 * up). Listens on 127.0.0.1 port 0 and prints "listening on HOST:PORT".
 *
 * usage: drip BYTES INTERVAL_MS */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "p2pm/net.h"
#include "p2pm/proto.h"
#include "p2pm/reader.h"
#include "p2pm/strnum.h"

static void
drip_serve(int fd, long bytes, long interval_ms)
{
	char line[PROTO_MAX_LINE + 1], name[PROTO_MAX_NAME + 1], reply[PROTO_MAX_LINE];
	struct timespec ts = { interval_ms / 1000, (interval_ms % 1000) * 1000000L };
	struct proto_request req;
	struct reader rd;
	size_t len;

	reader_init(&rd, fd, 10000);
	if (reader_line(&rd, line, sizeof(line), PROTO_MAX_LINE, &len) != READER_OK ||
	    proto_parse_request(line, len, &req, NULL, 0) != PROTO_OK)
		return;
	proto_encode_name(req.arg, req.arglen, name, sizeof(name));
	if (req.cmd == PROTO_CMD_REQUEST_SONG)
		snprintf(reply, sizeof(reply), "PLAYLIST %s.m3u8 %ld\n#", name, bytes);
	else
		snprintf(reply, sizeof(reply), "SEGMENT %s %ld\n", name, bytes);
	if (net_write_all(fd, reply, strlen(reply)) < 0)
		return;
	for (long i = 1; i < bytes; i++) {
		nanosleep(&ts, NULL);
		if (net_write_all(fd, "x", 1) < 0)
			return;
	}
}

int
main(int argc, char **argv)
{
	char err[NET_ERR_LEN], addr[NET_ADDR_MAX];
	long bytes, interval_ms;
	int lfd, fd;

	if (argc != 3 || strnum_parse(argv[1], 1, PROTO_MAX_PLAYLIST_BYTES, &bytes) < 0 ||
	    strnum_parse(argv[2], 1, 60000, &interval_ms) < 0) {
		fprintf(stderr, "usage: drip BYTES INTERVAL_MS\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = net_listen("127.0.0.1:0", err, sizeof(err));
	if (lfd < 0 || net_local_addr(lfd, addr, sizeof(addr)) < 0) {
		fprintf(stderr, "drip: %s\n", err);
		return 1;
	}
	printf("listening on %s\n", addr);
	fflush(stdout);
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		drip_serve(fd, bytes, interval_ms);
		close(fd);
	}
	return 0;
}

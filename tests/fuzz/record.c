/* record.c - a recording relay used to grow the fuzz seed corpus from real
 * traffic (tests/fuzz/grow-corpus). It listens on 127.0.0.1 port 0, prints
 * "listening on HOST:PORT", and relays each connection to UPSTREAM, writing
 * what the client sent to DIR/N.req and what the server answered to
 * DIR/N.rep (N counts connections from 1). Stops on SIGTERM.
 *
 * usage: record UPSTREAM DIR */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2pm/net.h"

/* longest a relayed connection may stay silent, in milliseconds */
#define RECORD_IDLE_MS 30000
/* bytes of each direction kept in the record files */
#define RECORD_MAX_KEEP (1L << 20)

struct record_conn {
	int client, server;
	FILE *req, *rep;
};

static const char *record_upstream;

/* Copies what is readable on from to to and into log (up to
 * RECORD_MAX_KEEP bytes per file); returns bytes moved, 0 at EOF, -1. */
static ssize_t
record_move(int from, int to, FILE *log)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return n;
	if (ftell(log) < RECORD_MAX_KEEP)
		fwrite(buf, 1, (size_t)n, log);
	return net_write_all(to, buf, (size_t)n) < 0 ? -1 : n;
}

static void *
record_relay(void *arg)
{
	struct record_conn *rc = arg;
	struct pollfd p[2] = { { rc->client, POLLIN, 0 }, { rc->server, POLLIN, 0 } };
	int open_dirs = 2;

	while (open_dirs > 0 && poll(p, 2, RECORD_IDLE_MS) > 0) {
		if (p[0].revents) {
			if (record_move(rc->client, rc->server, rc->req) <= 0) {
				shutdown(rc->server, SHUT_WR);
				p[0].fd = -1;
				open_dirs--;
			}
		}
		if (p[1].revents) {
			if (record_move(rc->server, rc->client, rc->rep) <= 0) {
				shutdown(rc->client, SHUT_WR);
				p[1].fd = -1;
				open_dirs--;
			}
		}
	}
	close(rc->client);
	close(rc->server);
	fclose(rc->req);
	fclose(rc->rep);
	free(rc);
	return NULL;
}

int
main(int argc, char **argv)
{
	char err[256], addr[NET_ADDR_MAX], path[4096];
	unsigned long n = 0;
	pthread_t tid;
	int lfd;

	if (argc != 3) {
		fprintf(stderr, "usage: record UPSTREAM DIR\n");
		return 2;
	}
	record_upstream = argv[1];
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = net_listen("127.0.0.1:0", err, sizeof(err))) < 0 ||
	    net_local_addr(lfd, addr, sizeof(addr)) < 0) {
		fprintf(stderr, "record: %s\n", err);
		return 1;
	}
	printf("listening on %s\n", addr);
	fflush(stdout);
	for (;;) {
		int c = accept(lfd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return 1;
		}
		struct record_conn *rc = calloc(1, sizeof(*rc));
		if (rc == NULL) {
			close(c);
			continue;
		}
		rc->client = c;
		rc->server = net_connect(record_upstream, 5000, err, sizeof(err));
		n++;
		snprintf(path, sizeof(path), "%s/%lu.req", argv[2], n);
		rc->req = fopen(path, "wb");
		snprintf(path, sizeof(path), "%s/%lu.rep", argv[2], n);
		rc->rep = fopen(path, "wb");
		if (rc->server < 0 || rc->req == NULL || rc->rep == NULL ||
		    pthread_create(&tid, NULL, record_relay, rc) != 0) {
			fprintf(stderr, "record: connection %lu not relayed: %s\n", n, err);
			close(c);
			if (rc->server >= 0)
				close(rc->server);
			if (rc->req)
				fclose(rc->req);
			if (rc->rep)
				fclose(rc->rep);
			free(rc);
			continue;
		}
		pthread_detach(tid);
	}
}

/* test_rpc.c - the request/reply client against a server played by the
 * test over a real loopback connection: requests as sent, OK, ERR, words,
 * counted lists, framed bodies and their limits, timeouts, shutdown. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/net.h"
#include "p2pm/proto.h"
#include "p2pm/reader.h"
#include "p2pm/rpc.h"
#include "tap.h"

static int listen_fd;
static char listen_addr[NET_ADDR_MAX];

/* One connection: the client's end and the server's end (the test). */
struct pair {
	struct rpc_conn *c;
	int srv;
	struct reader rd;	/* what the client sent, as the server reads it */
};

static void
pair_open(struct pair *p, int io_ms)
{
	char err[RPC_ERR_LEN];

	p->c = rpc_open(listen_addr, 1000, io_ms, err, sizeof(err));
	p->srv = p->c != NULL ? accept(listen_fd, NULL, NULL) : -1;
	reader_init(&p->rd, p->srv, 1000);
}

static void
pair_close(struct pair *p)
{
	rpc_close(p->c);
	close(p->srv);
}

/* The next line the client sent, or "(none)". */
static const char *
sent_line(struct pair *p)
{
	static char line[PROTO_MAX_LINE + 1];
	size_t len;

	if (reader_line(&p->rd, line, sizeof(line), PROTO_MAX_LINE, &len) != READER_OK)
		return "(none)";
	return line;
}

static void
reply(struct pair *p, const char *bytes, size_t len)
{
	if (net_write_all(p->srv, bytes, len) < 0)
		abort();
}

#define REPLY(p, s) reply((p), (s), sizeof(s) - 1)

struct drip {
	int fd;
	int count, interval_ms;
};

static void *
drip_main(void *arg)
{
	struct drip *d = arg;
	struct timespec ts = { 0, (long)d->interval_ms * 1000000L };

	for (int i = 0; i < d->count; i++) {
		nanosleep(&ts, NULL);
		if (net_write_all(d->fd, "x", 1) < 0)
			break;
	}
	return NULL;
}

static void *
shutdown_main(void *arg)
{
	struct timespec ts = { 0, 100 * 1000000L };

	nanosleep(&ts, NULL);
	rpc_shutdown(arg);
	return NULL;
}

int
main(void)
{
	char err[RPC_ERR_LEN], *body, *big;
	const char *rest, *line;
	struct pair p;
	size_t len, bytes;
	long n;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	listen_fd = net_listen("127.0.0.1:0", err, sizeof(err));
	net_local_addr(listen_fd, listen_addr, sizeof(listen_addr));

	/* a port nobody listens on: the one just closed */
	fd = net_listen("127.0.0.1:0", err, sizeof(err));
	char dead[NET_ADDR_MAX];
	net_local_addr(fd, dead, sizeof(dead));
	close(fd);
	ok(rpc_open(dead, 1000, 1000, err, sizeof(err)) == NULL &&
	    strcmp(err, "connection refused") == 0,
	    "a refused connection says only why: '%s'", err);
	ok(rpc_open("no-port", 1000, 1000, err, sizeof(err)) == NULL &&
	    strncmp(err, "invalid address", 15) == 0, "a bad address is refused");

	/* a request with a body, answered OK */
	pair_open(&p, 1000);
	ok(p.c != NULL && strcmp(rpc_addr(p.c), listen_addr) == 0,
	    "rpc_open connects and keeps the address");
	rpc_request(p.c, "REGISTER %s", "127.0.0.1:5000");
	rpc_send_line(p.c, "Song%%20A");
	rpc_send_line(p.c, "%s", "");
	REPLY(&p, "OK\n");
	ok(rpc_expect_ok(p.c) == RPC_OK, "OK is taken as OK");
	ok(strcmp(sent_line(&p), "REGISTER 127.0.0.1:5000") == 0 &&
	    strcmp(sent_line(&p), "Song%20A") == 0 && strcmp(sent_line(&p), "") == 0,
	    "the request and its body went out line by line");

	/* names are encoded */
	rpc_request_name(p.c, "QUERY", "Caf\xc3\xa9 %");
	REPLY(&p, "PEERS\n");
	ok(rpc_expect_word(p.c, "PEERS", &rest) == RPC_OK &&
	    strcmp(sent_line(&p), "QUERY Caf%C3%A9%20%25") == 0,
	    "rpc_request_name encodes the name");
	char longname[PROTO_MAX_NAME + 2];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ok(rpc_request_name(p.c, "QUERY", longname) == RPC_LOCAL &&
	    strcmp(rpc_error(p.c), "name too long") == 0,
	    "  and refuses a name over PROTO_MAX_NAME");

	/* ERR is parsed into code and text */
	rpc_request(p.c, "QUERY x");
	REPLY(&p, "ERR 404 no such song\n");
	ok(rpc_expect_ok(p.c) == RPC_REFUSED && rpc_err_code(p.c) == 404 &&
	    strcmp(rpc_err_text(p.c), "no such song") == 0,
	    "ERR gives RPC_REFUSED with its code and text");
	ok(strcmp(rpc_error(p.c), "answered ERR 404 no such song") == 0,
	    "  and says so: '%s'", rpc_error(p.c));
	rpc_request(p.c, "PING");
	REPLY(&p, "ERR 503 busy\033[2J\n");
	ok(rpc_expect_word(p.c, "PONG", &rest) == RPC_REFUSED &&
	    rpc_err_code(p.c) == 503 && strcmp(rpc_err_text(p.c), "busy?[2J") == 0,
	    "control bytes in an ERR text are replaced");
	rpc_request(p.c, "PING");
	REPLY(&p, "ERR 4x4 odd\n");
	ok(rpc_expect_ok(p.c) == RPC_BAD_REPLY &&
	    strcmp(rpc_error(p.c), "unexpected reply to PING") == 0,
	    "a malformed ERR line is a bad reply, not an ERR");
	rpc_request(p.c, "PING");
	REPLY(&p, "OK then\n");
	ok(rpc_expect_ok(p.c) == RPC_BAD_REPLY, "OK followed by more is not OK");

	/* reply words */
	rpc_request(p.c, "QUERY %s", "a");
	REPLY(&p, "PEERS 1.2.3.4:5 6.7.8.9:10\n");
	ok(rpc_expect_word(p.c, "PEERS", &rest) == RPC_OK &&
	    strcmp(rest, "1.2.3.4:5 6.7.8.9:10") == 0, "a reply word and what follows");
	rpc_request(p.c, "QUERY %s", "a");
	REPLY(&p, "PEERS\n");
	ok(rpc_expect_word(p.c, "PEERS", &rest) == RPC_OK && *rest == '\0',
	    "a reply word alone");
	rpc_request(p.c, "QUERY %s", "a");
	REPLY(&p, "PEERSX 1\n");
	ok(rpc_expect_word(p.c, "PEERS", &rest) == RPC_BAD_REPLY &&
	    strcmp(rpc_error(p.c), "unexpected reply to QUERY") == 0,
	    "another word is an unexpected reply, naming the request");

	/* counted lists */
	rpc_request(p.c, "LIST");
	REPLY(&p, "SONGS 2\nA 1\nB 2\n");
	ok(rpc_expect_count(p.c, "SONGS", 10, &n) == RPC_OK && n == 2,
	    "a counted list gives its count");
	ok(rpc_next_line(p.c, &line) == RPC_OK && strcmp(line, "A 1") == 0 &&
	    rpc_next_line(p.c, &line) == RPC_OK && strcmp(line, "B 2") == 0,
	    "  and its lines one by one");
	rpc_request(p.c, "LIST");
	REPLY(&p, "SONGS 11\n");
	ok(rpc_expect_count(p.c, "SONGS", 10, &n) == RPC_BAD_REPLY,
	    "a count over the limit is refused");
	rpc_request(p.c, "LIST");
	REPLY(&p, "SONGS -1\n");
	ok(rpc_expect_count(p.c, "SONGS", 10, &n) == RPC_BAD_REPLY,
	    "a negative count is refused");

	/* framed bodies */
	rpc_request(p.c, "REQUEST_SEGMENT s1");
	REPLY(&p, "SEGMENT s1 5\nhelloPONG\n");
	ok(rpc_body(p.c, "SEGMENT", "s1", 10, &body, &len) == RPC_OK && len == 5 &&
	    strcmp(body, "hello") == 0, "a framed body is read whole, NUL after it");
	free(body);
	rpc_request(p.c, "PING");
	ok(rpc_expect_word(p.c, "PONG", &rest) == RPC_OK,
	    "  and exactly: the next reply follows it");
	rpc_request(p.c, "REQUEST_SEGMENT s1");
	REPLY(&p, "SEGMENT s1 10\n0123456789");
	char mine[10];
	ok(rpc_body_header(p.c, "SEGMENT", "s1", 10, &bytes) == RPC_OK &&
	    bytes == 10 && rpc_body_read(p.c, mine, bytes) == RPC_OK &&
	    memcmp(mine, "0123456789", 10) == 0,
	    "a body of exactly the limit goes into the caller's buffer");
	rpc_request(p.c, "REQUEST_SEGMENT s1");
	REPLY(&p, "SEGMENT s1 11\n");
	ok(rpc_body(p.c, "SEGMENT", "s1", 10, &body, &len) == RPC_BAD_REPLY &&
	    body == NULL && strcmp(rpc_error(p.c),
	    "reply length bad or over the limit to REQUEST_SEGMENT") == 0,
	    "a body over the limit is refused before it is read: '%s'",
	    rpc_error(p.c));
	pair_close(&p);

	pair_open(&p, 1000);
	rpc_request(p.c, "REQUEST_SONG %s", "a");
	REPLY(&p, "PLAYLIST b.m3u8 3\nabc");
	ok(rpc_body(p.c, "PLAYLIST", "a.m3u8", 10, &body, &len) == RPC_BAD_REPLY &&
	    strcmp(rpc_error(p.c), "answered PLAYLIST 'b.m3u8' instead of 'a.m3u8'") == 0,
	    "a body naming something else is refused: '%s'", rpc_error(p.c));
	pair_close(&p);

	pair_open(&p, 1000);
	rpc_request(p.c, "REQUEST_SEGMENT s1");
	REPLY(&p, "SEGMENT s1 10\nabc");
	shutdown(p.srv, SHUT_WR);
	ok(rpc_body(p.c, "SEGMENT", "s1", 10, &body, &len) == RPC_IO &&
	    strncmp(rpc_error(p.c), "connection closed after ", 24) == 0 &&
	    strstr(rpc_error(p.c), " of 10 bytes") != NULL,
	    "a body cut short says how much came: '%s'", rpc_error(p.c));
	pair_close(&p);

	/* reply lines over the limit */
	pair_open(&p, 1000);
	big = malloc(PROTO_MAX_LINE + 1);
	memset(big, 'a', PROTO_MAX_LINE);
	big[PROTO_MAX_LINE] = '\n';
	rpc_request(p.c, "PING");
	reply(&p, big, PROTO_MAX_LINE + 1);
	ok(rpc_expect_ok(p.c) == RPC_BAD_REPLY &&
	    strcmp(rpc_error(p.c), "line too long") == 0,
	    "a reply line over PROTO_MAX_LINE is a bad reply");
	pair_close(&p);

	/* request lines over the limit are not sent */
	pair_open(&p, 1000);
	memset(big, 'a', PROTO_MAX_LINE);
	big[PROTO_MAX_LINE] = '\0';
	ok(rpc_request(p.c, "%s", big) == RPC_LOCAL,
	    "a request line over PROTO_MAX_LINE with its LF is refused");
	big[PROTO_MAX_LINE - 1] = '\0';
	ok(rpc_request(p.c, "%s", big) == RPC_OK && rpc_flush(p.c) == RPC_OK &&
	    strlen(sent_line(&p)) == PROTO_MAX_LINE - 1,
	    "  one of exactly PROTO_MAX_LINE with its LF goes out alone");
	free(big);

	/* silence and slowness */
	pair_close(&p);
	pair_open(&p, 200);
	rpc_request(p.c, "PING");
	long long t0 = clock_now_ms();
	ok(rpc_expect_ok(p.c) == RPC_IO && strcmp(rpc_error(p.c), "timed out") == 0 &&
	    clock_now_ms() - t0 < 1000, "a silent server times out after io_ms");
	pair_close(&p);

	pair_open(&p, 1000);
	struct drip d = { p.srv, 80, 50 };
	pthread_t tid;
	/* 20000 bytes at 16 KiB/s on top of 1 s: about 2.2 s allowed, while
	 * the drip goes on for 4 s with gaps far below the 1 s wait per read */
	rpc_request(p.c, "REQUEST_SEGMENT s1");
	REPLY(&p, "SEGMENT s1 20000\n");
	pthread_create(&tid, NULL, drip_main, &d);
	t0 = clock_now_ms();
	ok(rpc_body(p.c, "SEGMENT", "s1", 20000, &body, &len) == RPC_IO &&
	    strncmp(rpc_error(p.c), "too slow: ", 10) == 0 &&
	    clock_now_ms() - t0 < 7000,
	    "a body dripping in is given up: '%s'", rpc_error(p.c));
	pthread_join(tid, NULL);
	pair_close(&p);

	pair_open(&p, 5000);
	rpc_request(p.c, "PING");
	pthread_create(&tid, NULL, shutdown_main, p.c);
	t0 = clock_now_ms();
	ok(rpc_expect_ok(p.c) == RPC_IO && clock_now_ms() - t0 < 2000,
	    "rpc_shutdown from another thread ends a wait at once");
	pthread_join(tid, NULL);
	pair_close(&p);

	/* the goodbye */
	pair_open(&p, 1000);
	rpc_close(p.c);
	ok(strcmp(sent_line(&p), "QUIT") == 0, "rpc_close says QUIT");
	close(p.srv);

	/* one request with its QUIT: both in one write, the reply read as
	 * usual, and no second QUIT */
	pair_open(&p, 1000);
	{
		char got[64];
		ssize_t got_n;

		ok(rpc_request(p.c, "PING") == RPC_OK && rpc_quit(p.c) == RPC_OK &&
		    rpc_flush(p.c) == RPC_OK, "rpc_quit queues QUIT after the request");
		got_n = read(p.srv, got, sizeof(got) - 1);
		got[got_n > 0 ? got_n : 0] = '\0';
		ok(strcmp(got, "PING\nQUIT\n") == 0,
		    "the request and QUIT go out in one write");
		REPLY(&p, "PONG\n");
		ok(rpc_expect_word(p.c, "PONG", &rest) == RPC_OK, "the reply is read");
		rpc_close(p.c);
		ok(read(p.srv, got, sizeof(got)) == 0, "rpc_close sends no second QUIT");
		close(p.srv);
	}

	close(listen_fd);
	return done_testing();
}

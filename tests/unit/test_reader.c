/* test_reader.c - the buffered line reader: limits, CR LF, NUL, timeouts. */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/proto.h"
#include "p2pm/reader.h"
#include "tap.h"

static struct reader rd, rd2;
static char line[PROTO_MAX_LINE + 1];

static enum reader_result
next_line(size_t *len)
{
	return reader_line(&rd, line, sizeof(line), PROTO_MAX_LINE, len);
}

int
main(void)
{
	int sv[2], sv2[2];
	size_t len;
	char *big = malloc(PROTO_MAX_LINE + 2);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	reader_init(&rd, sv[0], 200);

	write(sv[1], "PING\nQUERY a\r\n", 14);
	ok(next_line(&len) == READER_OK && strcmp(line, "PING") == 0 && len == 4,
	    "an LF-terminated line is read without its LF");
	ok(next_line(&len) == READER_OK && strcmp(line, "QUERY a") == 0,
	    "CR LF is accepted and stripped");

	/* exactly PROTO_MAX_LINE bytes with the LF: accepted */
	memset(big, 'a', PROTO_MAX_LINE - 1);
	big[PROTO_MAX_LINE - 1] = '\n';
	write(sv[1], big, PROTO_MAX_LINE);
	ok(next_line(&len) == READER_OK && len == PROTO_MAX_LINE - 1,
	    "a line of PROTO_MAX_LINE bytes with its LF is accepted");

	write(sv[1], "a\0b\nPING\n", 9);
	ok(next_line(&len) == READER_NUL, "a line with a NUL byte is reported");
	ok(next_line(&len) == READER_OK && strcmp(line, "PING") == 0,
	    "the line after a NUL line is read normally");

	write(sv[1], "abc", 3);
	ok(next_line(&len) == READER_TIMEOUT, "a line that never ends times out");
	write(sv[1], "\n", 1);
	ok(next_line(&len) == READER_OK && strcmp(line, "abc") == 0,
	    "a partial line completes once its LF arrives");

	write(sv[1], "SEGMENT x 5\nhello", 17);
	char body[6] = { 0 };
	ok(next_line(&len) == READER_OK && reader_exact(&rd, body, 5) == READER_OK &&
	    strcmp(body, "hello") == 0, "a framed body follows its header line");

	/* one byte over: refused without waiting for the LF */
	memset(big, 'b', PROTO_MAX_LINE + 1);
	write(sv[1], big, PROTO_MAX_LINE + 1);
	ok(next_line(&len) == READER_TOO_LONG, "a line over PROTO_MAX_LINE is refused");

	/* a rate floor: 1000 bytes/s after 100 ms of grace; 50 bytes arrive,
	 * so reads may wait until 100 + 50 ms, whatever the per-read wait */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv2);
	reader_init(&rd2, sv2[0], 10000);
	reader_set_min_rate(&rd2, 1000, 100);
	memset(big, 'c', 50);
	write(sv2[1], big, 50);
	long long t0 = clock_now_ms();
	ok(reader_wait_input(&rd2) == READER_OK, "reader_wait_input returns once a byte is there");
	ok(reader_line(&rd2, line, sizeof(line), PROTO_MAX_LINE, &len) == READER_TOO_SLOW,
	    "input below the rate floor gives READER_TOO_SLOW");
	long long took = clock_now_ms() - t0;
	ok(took >= 140 && took < 1000, "at the time the floor says, not at the per-read wait");
	reader_set_min_rate(&rd2, 0, 0);
	reader_set_deadline(&rd2, 100);
	write(sv2[1], "\n", 1);
	ok(reader_line(&rd2, line, sizeof(line), PROTO_MAX_LINE, &len) == READER_OK && len == 50,
	    "with the floor off, the line completes");
	ok(reader_line(&rd2, line, sizeof(line), PROTO_MAX_LINE, &len) == READER_TIMEOUT &&
	    reader_deadline_passed(&rd2), "an overall deadline ends a wait early");
	close(sv2[0]);
	close(sv2[1]);

	/* the descriptor's own SO_RCVTIMEO as the wait: one read(2) */
	struct timeval tv = { 0, 150 * 1000 };
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv2);
	setsockopt(sv2[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	reader_init(&rd2, sv2[0], 150);
	reader_set_socket_timeout(&rd2, 150);
	write(sv2[1], "PING\n", 5);
	ok(reader_line(&rd2, line, sizeof(line), PROTO_MAX_LINE, &len) == READER_OK &&
	    strcmp(line, "PING") == 0, "with the socket's timeout, a line is read");
	t0 = clock_now_ms();
	ok(reader_line(&rd2, line, sizeof(line), PROTO_MAX_LINE, &len) == READER_TIMEOUT,
	    "silence past the socket's timeout gives READER_TIMEOUT");
	took = clock_now_ms() - t0;
	ok(took >= 140 && took < 1000, "after the timeout (%lld ms)", took);
	reader_set_deadline(&rd2, 30);
	t0 = clock_now_ms();
	ok(reader_line(&rd2, line, sizeof(line), PROTO_MAX_LINE, &len) == READER_TIMEOUT &&
	    clock_now_ms() - t0 < 140, "a nearer deadline still ends the wait first");
	reader_set_deadline(&rd2, 0);
	close(sv2[1]);
	ok(reader_line(&rd2, line, sizeof(line), PROTO_MAX_LINE, &len) == READER_EOF,
	    "and a closed peer gives EOF");
	close(sv2[0]);

	close(sv[1]);
	reader_init(&rd, sv[0], 200);
	ok(next_line(&len) == READER_EOF, "a closed peer gives EOF");
	close(sv[0]);
	free(big);
	return done_testing();
}

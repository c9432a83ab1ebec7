/* test_reader.c - the buffered line reader: limits, CR LF, NUL, timeouts. */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2pm/proto.h"
#include "p2pm/reader.h"
#include "tap.h"

static struct reader rd;
static char line[PROTO_MAX_LINE + 1];

static enum reader_result
next_line(size_t *len)
{
	return reader_line(&rd, line, sizeof(line), PROTO_MAX_LINE, len);
}

int
main(void)
{
	int sv[2];
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

	close(sv[1]);
	reader_init(&rd, sv[0], 200);
	ok(next_line(&len) == READER_EOF, "a closed peer gives EOF");
	close(sv[0]);
	free(big);
	return done_testing();
}

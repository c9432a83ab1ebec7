/* fuzz_reader.c - a reply stream as the client's session reads it from a
 * socket: reader_line for each header, and for a PLAYLIST or SEGMENT
 * header reader_exact for the body it announces, until the stream ends.
 * The input goes through a pipe, so the reader's real read(2) path runs. */
#include <unistd.h>

#include "fuzz.h"
#include "p2pm/proto.h"
#include "p2pm/reader.h"

/* largest input tried: what a pipe holds without a reader draining it */
#define FUZZ_READER_MAX_INPUT 60000
/* largest body read in one go, so the target stays fast */
#define FUZZ_READER_MAX_BODY 65536

static struct reader fuzz_rd;
static char fuzz_body[FUZZ_READER_MAX_BODY];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[PROTO_MAX_LINE], why[128], name[PROTO_MAX_REPLY_NAME + 1];
	int fds[2];
	size_t len;
	long bytes;

	if (size > FUZZ_READER_MAX_INPUT || pipe(fds) < 0)
		return 0;
	if (size > 0 && write(fds[1], data, size) != (ssize_t)size)
		abort();
	close(fds[1]);
	reader_init(&fuzz_rd, fds[0], 1000);
	for (;;) {
		enum reader_result res = reader_line(&fuzz_rd, line, sizeof(line),
		    PROTO_MAX_LINE, &len);
		if (res == READER_NUL)
			continue;
		if (res != READER_OK)
			break;
		if (len >= sizeof(line) || line[len] != '\0' || memchr(line, '\n', len))
			abort();
		if (proto_parse_body_header(line, "SEGMENT", name, &bytes,
		    FUZZ_READER_MAX_BODY, why, sizeof(why)) < 0 &&
		    proto_parse_body_header(line, "PLAYLIST", name, &bytes,
		    FUZZ_READER_MAX_BODY, why, sizeof(why)) < 0)
			continue;
		if (reader_exact(&fuzz_rd, fuzz_body, (size_t)bytes) != READER_OK)
			break;
	}
	if (reader_buffered(&fuzz_rd) > READER_BUF_SIZE)
		abort();
	close(fds[0]);
	return 0;
}

/* fuzz_reply.c - reply header lines as the client reads them: the body
 * headers (PLAYLIST, SEGMENT) with their announced lengths, and ERR lines. */
#include "fuzz.h"
#include "p2pm/proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[128], name[PROTO_MAX_REPLY_NAME + 1];
	const char *text;
	long bytes;
	char *s;

	if (size >= PROTO_MAX_LINE || (s = fuzz_cstring(data, size)) == NULL)
		return 0;
	if (proto_parse_body_header(s, "SEGMENT", name, &bytes,
	    PROTO_MAX_SEGMENT_BYTES, why, sizeof(why)) == 0 &&
	    (bytes < 0 || bytes > PROTO_MAX_SEGMENT_BYTES ||
	    strlen(name) > PROTO_MAX_REPLY_NAME))
		abort();
	if (proto_parse_body_header(s, "PLAYLIST", name, &bytes,
	    PROTO_MAX_PLAYLIST_BYTES, why, sizeof(why)) == 0 &&
	    (bytes < 0 || bytes > PROTO_MAX_PLAYLIST_BYTES ||
	    strlen(name) > PROTO_MAX_REPLY_NAME))
		abort();
	int code = proto_parse_err(s, &text);
	if (code >= 0 && (code < 400 || code > 599 || text < s || text > s + size))
		abort();
	free(s);
	return 0;
}

/* fuzz_request.c - request lines as a server reads them (tracker and peer):
 * proto_parse_request, and the name codec on the same bytes (decode, then
 * encode and decode again must give the same name, which must also become
 * a safe file name). */
#include "fuzz.h"
#include "p2pm/fsname.h"
#include "p2pm/proto.h"

static void
fuzz_names(const char *s, size_t n)
{
	char dec[PROTO_MAX_NAME + 1], enc[PROTO_MAX_ENCODED_NAME + 1];
	char again[PROTO_MAX_NAME + 1], fs[FSNAME_MAX + 1];
	int d = proto_decode_name(s, n, dec, sizeof(dec), PROTO_MAX_NAME);

	if (d < 0)
		return;
	if (!proto_name_valid(dec, (size_t)d))
		abort();
	int e = proto_encode_name(dec, (size_t)d, enc, sizeof(enc));
	if (e < 0 || memchr(enc, ' ', (size_t)e) != NULL)
		abort();
	int a = proto_decode_name(enc, (size_t)e, again, sizeof(again), PROTO_MAX_NAME);
	if (a != d || memcmp(again, dec, (size_t)d) != 0)
		abort();
	size_t f = fsname_from_song(dec, fs, sizeof(fs));
	if (f == 0 || f > FSNAME_MAX || memchr(fs, '/', f) != NULL || fs[0] == '.')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request req;
	char why[128];
	char *s;

	/* the server hands the parser one line without its terminator */
	if (size >= PROTO_MAX_LINE || (s = fuzz_cstring(data, size)) == NULL)
		return 0;
	if (proto_parse_request(s, size, &req, why, sizeof(why)) == PROTO_OK) {
		if (req.arglen > PROTO_MAX_NAME || strlen(req.arg) != req.arglen)
			abort();
		if (req.cmd == PROTO_CMD_LISTPAGE && (req.limit < 1 ||
		    req.limit > PROTO_MAX_LIST_PAGE || req.afterlen > PROTO_MAX_NAME))
			abort();
	} else if (why[0] == '\0') {
		abort();
	}
	const char *sp = memchr(s, ' ', size);
	if (sp != NULL)
		fuzz_names(sp + 1, size - (size_t)(sp + 1 - s));
	else
		fuzz_names(s, size);
	free(s);
	return 0;
}

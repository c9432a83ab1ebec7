/* fuzz_proto.c - libFuzzer target for everything that parses bytes from the
 * network: request lines, REGISTER body lines, reply headers, ERR lines,
 * addresses, playlists, and names (decode, then encode and decode again
 * must give the same bytes). Run with `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/fsname.h"
#include "p2pm/net.h"
#include "p2pm/playlist.h"
#include "p2pm/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_names(const char *s, size_t n)
{
	char dec[PROTO_MAX_NAME + 1], enc[PROTO_MAX_ENCODED_NAME + 1];
	char again[PROTO_MAX_NAME + 1];
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
	char fs[FSNAME_MAX + 1];
	size_t f = fsname_from_song(dec, fs, sizeof(fs));
	if (f == 0 || f > FSNAME_MAX || memchr(fs, '/', f) != NULL || fs[0] == '.')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct proto_request req;
	char why[128], name[PROTO_MAX_REPLY_NAME + 1], host[NET_HOST_MAX];
	const char *text;
	size_t namelen;
	unsigned port;
	long bytes;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (proto_parse_request(s, size, &req, why, sizeof(why)) == PROTO_OK &&
	    req.arglen > PROTO_MAX_NAME)
		abort();
	if (proto_parse_song_line(s, size, name, &namelen) == 0 && namelen > PROTO_MAX_NAME)
		abort();
	unsigned char id[PROTO_CONTENT_ID_LEN];
	int has_id;
	if (proto_parse_register_line(s, size, name, &namelen, id, &has_id) == 0 &&
	    (namelen > PROTO_MAX_NAME || (has_id != 0 && has_id != 1)))
		abort();
	if (proto_parse_request(s, size, &req, why, sizeof(why)) == PROTO_OK &&
	    req.cmd == PROTO_CMD_LISTPAGE &&
	    (req.limit < 1 || req.limit > PROTO_MAX_LIST_PAGE || req.afterlen > PROTO_MAX_NAME))
		abort();
	fuzz_names(s, size);
	(void)proto_parse_body_header(s, "SEGMENT", name, &bytes,
	    PROTO_MAX_SEGMENT_BYTES, why, sizeof(why));
	(void)proto_parse_err(s, &text);
	if (net_parse_hostport(s, host, sizeof(host), &port, 0) == 0 &&
	    (port == 0 || port > 65535))
		abort();

	struct playlist pl;
	if (playlist_parse(s, size, &pl, why, sizeof(why)) == 0) {
		for (size_t i = 0; i < pl.count; i++)
			if (!playlist_segment_name_ok(pl.segs[i].name,
			    strlen(pl.segs[i].name)))
				abort();
		playlist_free(&pl);
	}
	free(s);
	return 0;
}

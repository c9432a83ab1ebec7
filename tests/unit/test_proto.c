/* test_proto.c - request parsing, percent-encoding and limits. */
#include <stdlib.h>

#include "p2pm/proto.h"
#include "tap.h"

static enum proto_status
parse(const char *line, struct proto_request *req)
{
	char why[128];

	return proto_parse_request(line, strlen(line), req, why, sizeof(why));
}

static void
test_encoding(void)
{
	char enc[PROTO_MAX_ENCODED_NAME + 1], dec[PROTO_MAX_NAME + 1];
	const char *name = "My Song 100% Über";
	int n;

	n = proto_encode_name("SongA", 5, enc, sizeof(enc));
	ok(n == 5 && strcmp(enc, "SongA") == 0, "a plain name is its own encoding");
	n = proto_encode_name(name, strlen(name), enc, sizeof(enc));
	ok(n > 0 && strcmp(enc, "My%20Song%20100%25%20%C3%9Cber") == 0,
	    "space, %% and non-ASCII bytes are escaped: %s", enc);
	n = proto_decode_name(enc, strlen(enc), dec, sizeof(dec), PROTO_MAX_NAME);
	ok(n == (int)strlen(name) && strcmp(dec, name) == 0, "decoding gives the name back");
	n = proto_decode_name("a%2fb%2Fc", 9, dec, sizeof(dec), PROTO_MAX_NAME);
	ok(n == 5 && strcmp(dec, "a/b/c") == 0, "hex digits of either case decode");
	ok(proto_decode_name("Über", strlen("Über"), dec, sizeof(dec), PROTO_MAX_NAME) > 0,
	    "raw UTF-8 is accepted");
	ok(proto_decode_name("a%2", 3, dec, sizeof(dec), PROTO_MAX_NAME) < 0,
	    "a truncated escape is rejected");
	ok(proto_decode_name("a%zz", 4, dec, sizeof(dec), PROTO_MAX_NAME) < 0,
	    "a non-hex escape is rejected");
	ok(proto_decode_name("a%0Ab", 5, dec, sizeof(dec), PROTO_MAX_NAME) < 0,
	    "an escaped control byte is rejected");
	ok(proto_decode_name("a%00b", 5, dec, sizeof(dec), PROTO_MAX_NAME) < 0,
	    "an escaped NUL is rejected");
	ok(proto_decode_name("%C3", 3, dec, sizeof(dec), PROTO_MAX_NAME) < 0,
	    "a truncated UTF-8 sequence is rejected");
	ok(proto_decode_name("%C0%AF", 6, dec, sizeof(dec), PROTO_MAX_NAME) < 0,
	    "an overlong UTF-8 form is rejected");
	ok(proto_decode_name("%ED%A0%80", 9, dec, sizeof(dec), PROTO_MAX_NAME) < 0,
	    "a UTF-16 surrogate is rejected");
	ok(proto_decode_name("", 0, dec, sizeof(dec), PROTO_MAX_NAME) < 0,
	    "an empty name is rejected");

	/* PROTO_MAX_NAME: 255 bytes decode, 256 do not */
	char big[3 * (PROTO_MAX_NAME + 1) + 1];
	memset(big, 'x', PROTO_MAX_NAME);
	big[PROTO_MAX_NAME] = '\0';
	ok(proto_decode_name(big, PROTO_MAX_NAME, dec, sizeof(dec), PROTO_MAX_NAME) ==
	    PROTO_MAX_NAME, "a name of PROTO_MAX_NAME bytes is accepted");
	big[PROTO_MAX_NAME] = 'x';
	big[PROTO_MAX_NAME + 1] = '\0';
	ok(proto_decode_name(big, PROTO_MAX_NAME + 1, dec, sizeof(dec), PROTO_MAX_NAME) < 0,
	    "a name of PROTO_MAX_NAME+1 bytes is rejected");
	for (int i = 0; i < PROTO_MAX_NAME; i++)
		memcpy(big + 3 * i, "%41", 3);
	ok(proto_decode_name(big, 3 * PROTO_MAX_NAME, dec, sizeof(dec), PROTO_MAX_NAME) ==
	    PROTO_MAX_NAME, "a fully escaped longest name decodes");
	char small[4];
	ok(proto_encode_name("abcd", 4, small, sizeof(small)) < 0,
	    "encoding into a too-small buffer fails");

	/* every byte value round-trips when the name rules allow it */
	int roundtrip = 1;
	for (int c = 0x20; c < 0x7f; c++) {
		char one[2] = { (char)c, 0 };
		if (proto_encode_name(one, 1, enc, sizeof(enc)) < 0 ||
		    proto_decode_name(enc, strlen(enc), dec, sizeof(dec), PROTO_MAX_NAME) != 1 ||
		    dec[0] != (char)c || strchr(enc, ' ') != NULL)
			roundtrip = 0;
	}
	ok(roundtrip, "every printable ASCII byte round-trips");
}

static void
test_requests(void)
{
	struct proto_request req;

	ok(parse("PING", &req) == PROTO_OK && req.cmd == PROTO_CMD_PING, "PING parses");
	ok(parse("QUERY SongA", &req) == PROTO_OK && req.cmd == PROTO_CMD_QUERY &&
	    strcmp(req.arg, "SongA") == 0, "QUERY SongA parses (seed syntax)");
	ok(parse("QUERY My%20Song", &req) == PROTO_OK && strcmp(req.arg, "My Song") == 0,
	    "QUERY decodes its name");
	ok(parse("REQUEST_SEGMENT segment0.ts", &req) == PROTO_OK &&
	    req.cmd == PROTO_CMD_REQUEST_SEGMENT, "REQUEST_SEGMENT parses");
	ok(parse("REQUEST_SONG SongA", &req) == PROTO_OK &&
	    req.cmd == PROTO_CMD_REQUEST_SONG, "REQUEST_SONG parses");
	ok(parse("LIST", &req) == PROTO_OK && req.arglen == 0, "LIST without text parses");
	ok(parse("LIST rock", &req) == PROTO_OK && strcmp(req.arg, "rock") == 0,
	    "LIST with text parses");
	ok(parse("REGISTER 127.0.0.1:5000", &req) == PROTO_OK &&
	    strcmp(req.arg, "127.0.0.1:5000") == 0, "REGISTER with host:port parses");
	ok(parse("REGISTER [::1]:5000", &req) == PROTO_OK &&
	    strcmp(req.arg, "[::1]:5000") == 0, "REGISTER with [v6]:port parses");
	ok(parse("REGISTER peer.example:7000", &req) == PROTO_OK,
	    "REGISTER with a host name parses");

	ok(parse("", &req) == PROTO_BAD_REQUEST, "an empty line is malformed");
	ok(parse("FROB x", &req) == PROTO_BAD_REQUEST, "an unknown command is malformed");
	ok(parse("ping", &req) == PROTO_BAD_REQUEST, "commands are case-sensitive");
	ok(parse("QUERY", &req) == PROTO_BAD_REQUEST, "QUERY without a name is malformed");
	ok(parse("QUERY a b", &req) == PROTO_BAD_REQUEST, "QUERY with two words is malformed");
	ok(parse("QUERY ", &req) == PROTO_BAD_REQUEST, "a trailing space is malformed");
	ok(parse("PING extra", &req) == PROTO_BAD_REQUEST, "PING with a word is malformed");
	ok(parse("QUERY a%zz", &req) == PROTO_BAD_REQUEST, "bad percent-encoding is malformed");
	ok(parse("REGISTER 127.0.0.1:0", &req) == PROTO_BAD_REQUEST, "port 0 is rejected");
	ok(parse("REGISTER 127.0.0.1:65536", &req) == PROTO_BAD_REQUEST,
	    "port 65536 is rejected");
	ok(parse("REGISTER 127.0.0.1:65535", &req) == PROTO_OK, "port 65535 is accepted");
	ok(parse("REGISTER 127.0.0.1", &req) == PROTO_BAD_REQUEST, "an address without port is rejected");
	ok(parse("REGISTER 127.0.0.1:+80", &req) == PROTO_BAD_REQUEST, "a signed port is rejected");
	ok(parse("REGISTER a/b:80", &req) == PROTO_BAD_REQUEST, "a host with a slash is rejected");
	ok(parse("REGISTER [::1:80", &req) == PROTO_BAD_REQUEST, "an unclosed bracket is rejected");
	ok(parse("UNREGISTER :80", &req) == PROTO_BAD_REQUEST, "an empty host is rejected");

	struct proto_request r2;
	ok(proto_parse_request("QUERY a\0b", 9, &r2, NULL, 0) == PROTO_BAD_REQUEST,
	    "a NUL byte in a request is malformed");
}

static void
test_replies(void)
{
	char name[PROTO_MAX_REPLY_NAME + 1], why[64], line[PROTO_MAX_LINE];
	const char *text;
	size_t n;
	long bytes;

	ok(proto_parse_song_line("SongA /path/to/songA.ts", 23, name, &n) == 0 &&
	    strcmp(name, "SongA") == 0, "a seed REGISTER body line gives its name");
	ok(proto_parse_song_line("", 0, name, &n) < 0, "an empty body line is no name");
	ok(proto_parse_body_header("PLAYLIST Song%20A.m3u8 123", "PLAYLIST", name,
	    &bytes, 1000, why, sizeof(why)) == 0 && bytes == 123 &&
	    strcmp(name, "Song A.m3u8") == 0, "a PLAYLIST header parses");
	char longest[PROTO_MAX_LINE];
	memset(longest, 0, sizeof(longest));
	memcpy(longest, "PLAYLIST ", 9);
	memset(longest + 9, 'n', PROTO_MAX_NAME);
	memcpy(longest + 9 + PROTO_MAX_NAME, ".m3u8 10", 8);
	ok(proto_parse_body_header(longest, "PLAYLIST", name, &bytes, 1000, why,
	    sizeof(why)) == 0 && strlen(name) == PROTO_MAX_NAME + 5,
	    "the playlist of a song with the longest name is accepted");
	ok(proto_parse_body_header("SEGMENT x.ts 2000", "SEGMENT", name, &bytes, 1000,
	    why, sizeof(why)) < 0, "a body over the limit is refused");
	ok(proto_parse_body_header("SEGMENT x.ts -1", "SEGMENT", name, &bytes, 1000,
	    why, sizeof(why)) < 0, "a negative length is refused");
	ok(proto_parse_body_header("SEGMENT x.ts", "SEGMENT", name, &bytes, 1000,
	    why, sizeof(why)) < 0, "a header without length is refused");
	ok(proto_parse_err("ERR 404 not found", &text) == 404 &&
	    strcmp(text, "not found") == 0, "an ERR line parses");
	ok(proto_parse_err("PEERS", &text) < 0, "a non-ERR line is not an error");
	ok(proto_parse_err("ERR 400 bad request", &text) == 400,
	    "ERR 400, the lowest code, parses");
	ok(proto_parse_err("ERR 599", &text) == 599 && *text == '\0',
	    "ERR 599, the highest code, parses, with an empty text");
	ok(proto_parse_err("ERR 399 nearly", &text) < 0,
	    "ERR 399 is not an error line: codes start at 400");
	ok(proto_parse_err("ERR 100 continue", &text) < 0,
	    "ERR 100 is not an error line");
	ok(proto_parse_err("ERR 200 ok", &text) < 0, "ERR 200 is not an error line");
	ok(proto_parse_err("ERR 600 beyond", &text) < 0,
	    "ERR 600 is not an error line: codes end at 599");
	ok(proto_parse_err("ERR 4041 long", &text) < 0 &&
	    proto_parse_err("ERR 40 short", &text) < 0,
	    "a code of four or two digits is not an error line");
	n = (size_t)proto_format_err(line, sizeof(line), PROTO_NOT_FOUND, NULL);
	ok(strcmp(line, "ERR 404 not found\n") == 0 && n == 18, "ERR lines are formatted");
	ok(strcmp(proto_status_text(PROTO_BUSY), "busy") == 0, "503 reads busy");
}

static void
test_version2(void)
{
	static const char hex[] =
	    "00112233445566778899aabbccddeeff0123456789abcdef0f1e2d3c4b5a6978";
	unsigned char id[PROTO_CONTENT_ID_LEN], back[PROTO_CONTENT_ID_LEN];
	char name[PROTO_MAX_NAME + 1], text[PROTO_CONTENT_ID_HEX + 1], line[512];
	struct proto_request req;
	size_t n;
	int has;

	ok(proto_parse_content_id(hex, 64, id) == 0 && id[0] == 0x00 && id[1] == 0x11 &&
	    id[31] == 0x78, "64 lowercase hex digits are a content id");
	proto_format_content_id(id, text);
	ok(strcmp(text, hex) == 0, "and format back to the same text");
	char upper[65];
	memcpy(upper, hex, 65);
	upper[20] = 'A';
	memcpy(back, id, sizeof(id));
	ok(proto_parse_content_id(upper, 64, back) < 0 && memcmp(back, id, sizeof(id)) == 0,
	    "an upper-case digit is no content id (one spelling per id)");
	ok(proto_parse_content_id(hex, 63, back) < 0, "63 digits are no content id");
	ok(proto_parse_content_id("zz112233445566778899aabbccddeeff0123456789abcdef0f1e2d3c4b5a6978",
	    64, back) < 0, "a non-hex digit is no content id");

	snprintf(line, sizeof(line), "Blue%%20Monday %s", hex);
	ok(proto_parse_register_line(line, strlen(line), name, &n, back, &has) == 0 &&
	    has == 1 && strcmp(name, "Blue Monday") == 0 && memcmp(back, id, sizeof(id)) == 0,
	    "a version-2 body line gives the name and its content id");
	snprintf(line, sizeof(line), "Song %s genre=pop year=1983", hex);
	ok(proto_parse_register_line(line, strlen(line), name, &n, back, &has) == 0 &&
	    has == 1 && strcmp(name, "Song") == 0, "words after the content id are ignored");
	{
		const char *tags;
		size_t tlen;
		proto_parse_register_tags(line, strlen(line), &tags, &tlen);
		ok(tags != NULL && tlen == 19 && memcmp(tags, "genre=pop year=1983", 19) == 0,
		    "the words after the content id are its tags");
		snprintf(line, sizeof(line), "Song %s", hex);
		proto_parse_register_tags(line, strlen(line), &tags, &tlen);
		ok(tags == NULL && tlen == 0, "a line ending in its content id has no tags");
		snprintf(line, sizeof(line), "Song %s Year=1983", hex);
		proto_parse_register_tags(line, strlen(line), &tags, &tlen);
		ok(tags == NULL, "a key with an upper-case letter is no tag");
		snprintf(line, sizeof(line), "Song %s title=A%%20B artist=%%C3", hex);
		proto_parse_register_tags(line, strlen(line), &tags, &tlen);
		ok(tags == NULL, "a value that is not UTF-8 spoils the tags");
		snprintf(line, sizeof(line), "Song %s title=", hex);
		proto_parse_register_tags(line, strlen(line), &tags, &tlen);
		ok(tags == NULL, "an empty value is no tag");
		snprintf(line, sizeof(line), "Song %s title=x ", hex);
		proto_parse_register_tags(line, strlen(line), &tags, &tlen);
		ok(tags == NULL, "a trailing space spoils the tags");
	}
	ok(proto_parse_register_line("SongA /path/to/songA.ts", 23, name, &n, back, &has) == 0 &&
	    has == 0 && strcmp(name, "SongA") == 0,
	    "a seed body line registers the name with no content id");
	ok(proto_parse_register_line("SongA", 5, name, &n, back, &has) == 0 && has == 0,
	    "a name alone has no content id");
	snprintf(line, sizeof(line), "Song %sf", hex);
	ok(proto_parse_register_line(line, strlen(line), name, &n, back, &has) == 0 &&
	    has == 0, "65 hex digits are not a content id, so none is registered");
	ok(proto_parse_register_line(" x", 2, name, &n, back, &has) < 0,
	    "a body line without a name is refused");

	ok(parse("LOCATE Blue%20Monday", &req) == PROTO_OK && req.cmd == PROTO_CMD_LOCATE &&
	    strcmp(req.arg, "Blue Monday") == 0, "LOCATE takes a song name");
	ok(parse("LOCATE", &req) == PROTO_BAD_REQUEST, "LOCATE without a name is malformed");
	ok(parse("LOCATE a b", &req) == PROTO_BAD_REQUEST, "LOCATE with two words is malformed");
	ok(PROTO_VERSION == 2, "the protocol is version 2");
	ok(parse("LOCATE Song reach", &req) == PROTO_OK && req.reach && !req.tags &&
	    strcmp(req.arg, "Song") == 0, "LOCATE <name> reach asks for the reach word");
	ok(parse("LOCATE Song reach tags", &req) == PROTO_OK && req.reach && req.tags &&
	    parse("LOCATE Song tags reach", &req) == PROTO_OK && req.reach && req.tags &&
	    strcmp(req.arg, "Song") == 0, "  with tags, in either order");
	ok(parse("LOCATE Song reach reach", &req) == PROTO_BAD_REQUEST,
	    "  but each once");
	ok(parse("LOCATE reach", &req) == PROTO_OK && !req.reach &&
	    strcmp(req.arg, "reach") == 0, "a song named reach is a name");
	ok(parse("WHOAMI", &req) == PROTO_OK && req.cmd == PROTO_CMD_WHOAMI &&
	    parse("WHOAMI x", &req) == PROTO_BAD_REQUEST, "WHOAMI takes no word");
	ok(parse("DIALBACK 7701", &req) == PROTO_OK && req.cmd == PROTO_CMD_DIALBACK &&
	    req.port == 7701 && parse("DIALBACK 65535", &req) == PROTO_OK,
	    "DIALBACK takes a port");
	ok(parse("DIALBACK", &req) == PROTO_BAD_REQUEST &&
	    parse("DIALBACK 0", &req) == PROTO_BAD_REQUEST &&
	    parse("DIALBACK 65536", &req) == PROTO_BAD_REQUEST &&
	    parse("DIALBACK 07701", &req) == PROTO_BAD_REQUEST &&
	    parse("DIALBACK +1", &req) == PROTO_BAD_REQUEST &&
	    parse("DIALBACK 1.2.3.4:5", &req) == PROTO_BAD_REQUEST,
	    "  1-65535 in plain decimal, nothing else");
	ok(parse("REGISTER 10.0.0.1:7001 reach=nat", &req) == PROTO_OK &&
	    req.reach_word == PROTO_REACH_NAT && strcmp(req.arg, "10.0.0.1:7001") == 0 &&
	    req.has_body, "REGISTER <addr> reach=nat says the peer is behind a NAT");
	ok(parse("REGISTER 10.0.0.1:7001 reach=direct", &req) == PROTO_OK &&
	    req.reach_word == PROTO_REACH_DIRECT &&
	    parse("REGISTER 10.0.0.1:7001", &req) == PROTO_OK &&
	    req.reach_word == PROTO_REACH_DEFAULT, "  reach=direct, or nothing, that it is not");
	ok(parse("REGISTER 198.18.2.1:7701 reach=mapped", &req) == PROTO_OK &&
	    req.reach_word == PROTO_REACH_MAPPED &&
	    strcmp(req.arg, "198.18.2.1:7701") == 0 && req.has_body,
	    "  reach=mapped that it is reachable through its router's port mapping");
	ok(parse("REGISTER 198.18.2.1:7701 reach=mapped relay=198.18.0.9:7701", &req) ==
	    PROTO_OK && req.reach_word == PROTO_REACH_MAPPED &&
	    strcmp(req.relay, "198.18.0.9:7701") == 0 &&
	    parse("REGISTER 198.18.2.1:7701 reach=mapped reach=nat", &req) ==
	    PROTO_BAD_REQUEST &&
	    parse("REGISTER 198.18.2.1:7701 reach=Mapped", &req) == PROTO_BAD_REQUEST &&
	    parse("REGISTER 198.18.2.1:7701 reach=mappedx", &req) == PROTO_BAD_REQUEST &&
	    parse("REGISTER reach=mapped", &req) != PROTO_OK,
	    "  reach=mapped with a relay; twice, in capitals, longer or alone malformed");
	ok(parse("REGISTER 10.0.0.1:7001 reach=other", &req) == PROTO_BAD_REQUEST &&
	    req.has_body, "  another reach= word is malformed, its body still to be read");
	ok(parse("REGISTER 10.0.0.1:7001 reach=nat relay=198.18.0.9:7701", &req) ==
	    PROTO_OK && req.reach_word == PROTO_REACH_NAT &&
	    strcmp(req.relay, "198.18.0.9:7701") == 0 &&
	    strcmp(req.arg, "10.0.0.1:7001") == 0,
	    "REGISTER <addr> reach=nat relay=<host:port> names the peer's relay");
	ok(parse("REGISTER 10.0.0.1:7001 relay=[::1]:7701", &req) == PROTO_OK &&
	    req.reach_word == PROTO_REACH_DEFAULT && strcmp(req.relay, "[::1]:7701") == 0 &&
	    parse("REGISTER 10.0.0.1:7001", &req) == PROTO_OK && req.relay[0] == '\0',
	    "  an IPv6 relay, or none");
	ok(parse("REGISTER 10.0.0.1:7001 relay=nowhere", &req) == PROTO_BAD_REQUEST &&
	    req.has_body &&
	    parse("REGISTER 10.0.0.1:7001 relay=1.2.3.4:5 reach=nat", &req) ==
	    PROTO_BAD_REQUEST &&
	    parse("REGISTER 10.0.0.1:7001 relay=1.2.3.4:5 relay=1.2.3.4:6", &req) ==
	    PROTO_BAD_REQUEST &&
	    parse("REGISTER 10.0.0.1:7001  relay=1.2.3.4:5", &req) == PROTO_BAD_REQUEST,
	    "  a relay= without a port, out of order, twice or after two spaces is "
	    "malformed");

	ok(parse("LISTPAGE limit=500 after=Song%20A match=%C3%9C", &req) == PROTO_OK &&
	    req.cmd == PROTO_CMD_LISTPAGE && req.limit == 500 &&
	    strcmp(req.after, "Song A") == 0 && req.afterlen == 6 &&
	    strcmp(req.arg, "\xc3\x9c") == 0 && req.arglen == 2,
	    "LISTPAGE parses limit=, after= and match=");
	ok(parse("LISTPAGE match=x limit=1", &req) == PROTO_OK && req.limit == 1 &&
	    req.afterlen == 0 && req.arglen == 1, "in any order, after= optional");
	ok(parse("LISTPAGE limit=1", &req) == PROTO_OK && req.arglen == 0,
	    "match= is optional too");
	ok(parse("LISTPAGE limit=0", &req) == PROTO_BAD_REQUEST &&
	    parse("LISTPAGE limit=501", &req) == PROTO_BAD_REQUEST &&
	    parse("LISTPAGE limit=01", &req) == PROTO_BAD_REQUEST &&
	    parse("LISTPAGE limit=-1", &req) == PROTO_BAD_REQUEST &&
	    parse("LISTPAGE limit=99999999999999999999", &req) == PROTO_BAD_REQUEST,
	    "limit= must be 1-500 in plain decimal");
	ok(parse("LISTPAGE", &req) == PROTO_BAD_REQUEST &&
	    parse("LISTPAGE after=a", &req) == PROTO_BAD_REQUEST, "limit= is required");
	ok(parse("LISTPAGE limit=1 after=a after=b", &req) == PROTO_BAD_REQUEST &&
	    parse("LISTPAGE limit=1 limit=2", &req) == PROTO_BAD_REQUEST,
	    "a word given twice is malformed");
	ok(parse("LISTPAGE limit=1 after=", &req) == PROTO_BAD_REQUEST &&
	    parse("LISTPAGE limit=1 match=%ZZ", &req) == PROTO_BAD_REQUEST &&
	    parse("LISTPAGE limit=1 other=1", &req) == PROTO_BAD_REQUEST,
	    "an empty or badly encoded value, or an unknown word, is malformed");
	ok(parse("LISTPAGE limit=1  match=a", &req) == PROTO_BAD_REQUEST &&
	    parse("LISTPAGE limit=1 ", &req) == PROTO_BAD_REQUEST,
	    "two spaces or a trailing space are malformed");
	ok(proto_status_text(PROTO_FORBIDDEN)[0] == 'f', "403 reads forbidden");
}

int
main(void)
{
	test_encoding();
	test_requests();
	test_replies();
	test_version2();
	return done_testing();
}

/* test_http.c - the gateway's HTTP parsing: request heads, limits,
 * keep-alive rules, percent-decoding, Range and response heads. */
#include <stdlib.h>

#include "p2pm/http.h"
#include "tap.h"

static enum http_status
parse(const char *head, struct http_request *req)
{
	return http_parse_request(head, strlen(head), req);
}

static void
test_heads(void)
{
	struct http_request req;
	const char *get = "GET /songs/Blue%20Monday/index.m3u8?x=1 HTTP/1.1\r\n"
	    "Host: a\r\nRange: bytes=0-99\r\n\r\n";

	ok(http_head_length("GET / HTTP/1.1\r\nHost: a\r\n", 25) == 0,
	    "a head without its empty line is not whole");
	ok(http_head_length(get, strlen(get)) == strlen(get),
	    "the head ends after CR LF CR LF");
	ok(http_head_length("GET / HTTP/1.0\n\nxyz", 19) == 16,
	    "bare LF line ends are accepted, and what follows is not the head");
	ok(parse(get, &req) == HTTP_OK, "a GET parses");
	ok(req.method == HTTP_METHOD_GET && req.minor == 1 && req.keep_alive,
	    "  as GET, HTTP/1.1, persistent by default");
	ok(req.pathlen == 31 && strncmp(req.path, "/songs/Blue%20Monday/index.m3u8",
	    req.pathlen) == 0, "  the path stops before the query");
	ok(req.querylen == 3 && strncmp(req.query, "x=1", 3) == 0, "  the query");
	ok(strcmp(req.range, "bytes=0-99") == 0, "  the Range header is kept");
	ok(parse("HEAD / HTTP/1.1\r\nhost: a\r\n\r\n", &req) == HTTP_OK &&
	    req.method == HTTP_METHOD_HEAD, "HEAD parses; header names ignore case");
	ok(parse("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", &req) == HTTP_OK,
	    "an empty line before the request line is skipped");
	ok(parse("DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", &req) == HTTP_OK &&
	    req.method == HTTP_METHOD_OTHER, "another method parses as OTHER (for 405)");
	ok(parse("GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\nOrigin: http://e.x\r\n"
	    "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: cors\r\n\r\n", &req) ==
	    HTTP_OK && strcmp(req.host, "127.0.0.1:80") == 0 &&
	    strcmp(req.origin, "http://e.x") == 0 &&
	    strcmp(req.fetch_site, "cross-site") == 0 &&
	    strcmp(req.fetch_mode, "cors") == 0,
	    "Host, Origin, Sec-Fetch-Site and Sec-Fetch-Mode are kept");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nOrigin: http://a\r\n"
	    "Origin: http://a\r\nSec-Fetch-Site: none\r\n"
	    "Sec-Fetch-Site: none\r\n\r\n", &req) == HTTP_OK &&
	    strcmp(req.origin, "null") == 0 && strcmp(req.fetch_site, "?") == 0,
	    "  two Origins are nobody's, two Sec-Fetch-Sites no relation");
}

static void
test_keep_alive(void)
{
	struct http_request req;

	ok(parse("GET / HTTP/1.0\r\n\r\n", &req) == HTTP_OK && !req.keep_alive,
	    "HTTP/1.0 closes by default (and needs no Host)");
	ok(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req) ==
	    HTTP_OK && req.keep_alive, "HTTP/1.0 with Connection: keep-alive persists");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n",
	    &req) == HTTP_OK && !req.keep_alive,
	    "HTTP/1.1 with close among the Connection options closes");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n",
	    &req) == HTTP_OK && req.keep_alive, "  a longer token is not close");
}

static void
test_bad_heads(void)
{
	struct http_request req;
	char *big;
	size_t n;

	ok(parse("GET / HTTP/1.1\r\n\r\n", &req) == HTTP_BAD_REQUEST,
	    "HTTP/1.1 without Host: 400");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &req) ==
	    HTTP_BAD_REQUEST, "two Host headers: 400");
	ok(parse("GET / HTTP/2.0\r\n\r\n", &req) == HTTP_VERSION_NOT_SUPPORTED,
	    "HTTP/2.0: 505");
	ok(parse("GET / HTTX/1.1\r\n\r\n", &req) == HTTP_BAD_REQUEST,
	    "not HTTP: 400");
	ok(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", &req) == HTTP_BAD_REQUEST,
	    "two spaces in the request line: 400");
	ok(parse("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", &req) ==
	    HTTP_BAD_REQUEST, "a target not starting with /: 400");
	ok(parse("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", &req) ==
	    HTTP_BAD_REQUEST, "a control byte in the target: 400");
	ok(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n", &req) == HTTP_BAD_REQUEST,
	    "space before the colon: 400");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", &req) ==
	    HTTP_BAD_REQUEST, "a folded header line: 400");
	ok(parse("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", &req) == HTTP_BAD_REQUEST,
	    "a lone CR: 400");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", &req) ==
	    HTTP_CONTENT_TOO_LARGE, "a request with a body: 413");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &req) ==
	    HTTP_OK, "  Content-Length: 0 is fine");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", &req) ==
	    HTTP_BAD_REQUEST, "  a bad Content-Length: 400");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
	    &req) == HTTP_NOT_IMPLEMENTED, "Transfer-Encoding: 501");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
	    "Content-Length: 00\r\n\r\n", &req) == HTTP_OK,
	    "two Content-Lengths that agree: fine");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
	    "Content-Length: 5\r\n\r\n", &req) == HTTP_BAD_REQUEST,
	    "two that differ: 400 (RFC 9112 6.3)");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Content-Length: 0\r\n\r\n", &req) == HTTP_BAD_REQUEST,
	    "  the body's first: 400 too");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Content-Length: 05\r\n\r\n", &req) == HTTP_CONTENT_TOO_LARGE,
	    "  5 and 05 agree: a body, 413");
	ok(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &req) == HTTP_NOT_IMPLEMENTED,
	    "Content-Length and Transfer-Encoding: the Transfer-Encoding's 501");

	/* HTTP_MAX_HEADERS */
	big = malloc(HTTP_MAX_HEAD_BYTES * 2);
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 1; i < HTTP_MAX_HEADERS; i++)
		n += (size_t)sprintf(big + n, "X-%d: y\r\n", i);
	strcpy(big + n, "\r\n");
	ok(parse(big, &req) == HTTP_OK, "%d header lines are accepted",
	    HTTP_MAX_HEADERS);
	n += (size_t)sprintf(big + n, "X-last: y\r\n\r\n");
	ok(parse(big, &req) == HTTP_HEADERS_TOO_LARGE, "%d header lines: 431",
	    HTTP_MAX_HEADERS + 1);

	/* HTTP_MAX_REQUEST_LINE, HTTP_MAX_HEAD_BYTES */
	n = (size_t)sprintf(big, "GET /");
	/* " HTTP/1.1" CR LF is 11 bytes */
	memset(big + n, 'a', HTTP_MAX_REQUEST_LINE - n - 11);
	n = HTTP_MAX_REQUEST_LINE - 11;
	n += (size_t)sprintf(big + n, " HTTP/1.1\r\nHost: a\r\n\r\n");
	ok(parse(big, &req) == HTTP_OK, "a request line of %d bytes is accepted",
	    HTTP_MAX_REQUEST_LINE);
	ok(http_check_request_line(big, strlen(big)) == HTTP_OK, "  and passes the early check");
	memmove(big + 6, big + 5, strlen(big + 5) + 1);
	ok(parse(big, &req) == HTTP_URI_TOO_LONG, "one byte more: 414");
	ok(http_check_request_line(big, HTTP_MAX_REQUEST_LINE + 1) ==
	    HTTP_URI_TOO_LONG, "  seen early, before the line ends");
	memset(big, 'x', HTTP_MAX_HEAD_BYTES + 1);
	ok(http_parse_request(big, HTTP_MAX_HEAD_BYTES + 1, &req) ==
	    HTTP_HEADERS_TOO_LARGE, "a head over %d bytes: 431", HTTP_MAX_HEAD_BYTES);
	free(big);
}

static void
test_decoding(void)
{
	char out[64];
	const char *q = "a=1&q=blue+monday%21&empty=&flag";

	ok(http_decode_path("Blue%20Monday", 13, out, sizeof(out)) == 11 &&
	    strcmp(out, "Blue Monday") == 0, "%%20 decodes to a space");
	ok(http_decode_path("AC%2fDC", 7, out, sizeof(out)) == 5 &&
	    strcmp(out, "AC/DC") == 0, "%%2f decodes to a slash (the caller split first)");
	ok(http_decode_path("a+b", 3, out, sizeof(out)) == 3 &&
	    strcmp(out, "a+b") == 0, "+ stays + in a path");
	ok(http_decode_path("a%2", 3, out, sizeof(out)) < 0, "a cut escape fails");
	ok(http_decode_path("a%g0", 4, out, sizeof(out)) < 0, "a non-hex escape fails");
	ok(http_decode_path("a%00", 4, out, sizeof(out)) < 0, "%%00 fails");
	ok(http_decode_path("abcdef", 6, out, 6) < 0, "a result that does not fit fails");
	ok(http_query_value(q, strlen(q), "q", out, sizeof(out)) == 12 &&
	    strcmp(out, "blue monday!") == 0, "a query value: + is a space, %%21 is !");
	ok(http_query_value(q, strlen(q), "empty", out, sizeof(out)) == 0 &&
	    out[0] == '\0', "an empty value");
	ok(http_query_value(q, strlen(q), "flag", out, sizeof(out)) == 0,
	    "a key without =");
	ok(http_query_value(q, strlen(q), "zz", out, sizeof(out)) == 0 &&
	    out[0] == '\0', "an absent key");
	ok(http_query_value("q=%zz", 5, "q", out, sizeof(out)) < 0,
	    "a badly encoded value fails");
	ok(http_query_value(NULL, 0, "q", out, sizeof(out)) == 0, "no query at all");
}

static void
test_ranges(void)
{
	unsigned long long s, l;

	ok(http_parse_range("", 100, &s, &l) == HTTP_RANGE_NONE && s == 0 &&
	    l == 100, "no Range: the whole body");
	ok(http_parse_range("bytes=0-9", 100, &s, &l) == HTTP_RANGE_OK && s == 0 &&
	    l == 10, "bytes=0-9: ten bytes from 0");
	ok(http_parse_range("bytes=90-", 100, &s, &l) == HTTP_RANGE_OK && s == 90 &&
	    l == 10, "bytes=90-: to the end");
	ok(http_parse_range("bytes=-30", 100, &s, &l) == HTTP_RANGE_OK && s == 70 &&
	    l == 30, "bytes=-30: the last 30");
	ok(http_parse_range("bytes=-300", 100, &s, &l) == HTTP_RANGE_OK && s == 0 &&
	    l == 100, "bytes=-300 of 100: all of it");
	ok(http_parse_range("bytes=50-1000", 100, &s, &l) == HTTP_RANGE_OK && s == 50 &&
	    l == 50, "an end past the body is cut to it");
	ok(http_parse_range("bytes=100-", 100, &s, &l) == HTTP_RANGE_UNSATISFIABLE,
	    "a start at the end: 416");
	ok(http_parse_range("bytes=-0", 100, &s, &l) == HTTP_RANGE_UNSATISFIABLE,
	    "the last 0 bytes: 416");
	ok(http_parse_range("bytes=9-1", 100, &s, &l) == HTTP_RANGE_NONE,
	    "an inverted range is ignored");
	ok(http_parse_range("bytes=0-1,5-6", 100, &s, &l) == HTTP_RANGE_NONE,
	    "several ranges: the whole body");
	ok(http_parse_range("items=0-1", 100, &s, &l) == HTTP_RANGE_NONE,
	    "another unit is ignored");
	ok(http_parse_range("bytes=99999999999999999999-", 100, &s, &l) ==
	    HTTP_RANGE_NONE, "a number too big for 64 bits is ignored");
	ok(http_parse_range("bytes=1-2x", 100, &s, &l) == HTTP_RANGE_NONE,
	    "junk after the range is ignored");
}

static void
test_etags_and_heads(void)
{
	struct http_head h;
	char longval[HTTP_MAX_RESPONSE_HEAD];

	ok(http_etag_matches("\"abc\"", "abc"), "an entity tag matches itself");
	ok(http_etag_matches("\"x\", W/\"abc\"", "abc"), "  in a list, weak or not");
	ok(http_etag_matches("*", "abc"), "  * matches anything");
	ok(!http_etag_matches("\"abcd\"", "abc"), "  a different tag does not");
	ok(!http_etag_matches("", "abc"), "  nor an empty header");

	http_head_start(&h, HTTP_PARTIAL_CONTENT);
	http_head_add(&h, "Content-Length", "%d", 10);
	ok(http_head_finish(&h) == 0 && h.len == 52 && memcmp(h.buf,
	    "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n\r\n", h.len) == 0,
	    "a response head: status line, header, empty line");
	http_head_start(&h, HTTP_OK);
	http_head_add(&h, "X", "%s", "a\r\nSet-Cookie: b");
	ok(http_head_finish(&h) < 0, "a value with CR LF spoils the head");
	memset(longval, 'v', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	http_head_start(&h, HTTP_OK);
	http_head_add(&h, "X", "%s", longval);
	ok(http_head_finish(&h) < 0, "a head over %d bytes overflows",
	    HTTP_MAX_RESPONSE_HEAD);
	ok(strcmp(http_status_text(HTTP_RANGE_NOT_SATISFIABLE),
	    "Range Not Satisfiable") == 0, "status texts");
}

int
main(void)
{
	test_heads();
	test_keep_alive();
	test_bad_heads();
	test_decoding();
	test_ranges();
	test_etags_and_heads();
	return done_testing();
}

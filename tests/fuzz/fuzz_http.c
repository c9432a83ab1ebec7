/* fuzz_http.c - libFuzzer target for the gateway's HTTP parsing: request
 * heads, path and query decoding, Range headers and entity-tag lists.
 * Whatever the bytes, the parser must not crash and what it returns must
 * keep its promises (lengths inside the buffer, ranges inside the body). */
#include "fuzz.h"
#include "p2pm/http.h"

/* the body size Range headers are read against */
#define FUZZ_BODY_SIZE 1000ULL

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	char out[HTTP_MAX_HEAD_BYTES + 1], *s;
	unsigned long long start, len;
	size_t head;

	s = fuzz_cstring(data, size);
	if (s == NULL)
		return 0;

	head = http_head_length(s, size);
	if (head > size)
		abort();
	(void)http_check_request_line(s, size);
	if (head > 0 && http_parse_request(s, head, &req) == HTTP_OK) {
		if (req.path < s || req.path + req.pathlen > s + head ||
		    req.path[0] != '/' || (req.minor != 0 && req.minor != 1))
			abort();
		if (req.query != NULL && req.query + req.querylen > s + head)
			abort();
		int n = http_decode_path(req.path, req.pathlen, out, sizeof(out));
		if (n >= 0 && (size_t)n != strlen(out))
			abort();
		if (http_query_value(req.query, req.querylen, "q", out,
		    sizeof(out)) > (int)sizeof(out))
			abort();
		if (http_parse_range(req.range, FUZZ_BODY_SIZE, &start, &len) ==
		    HTTP_RANGE_OK && (len == 0 || start + len > FUZZ_BODY_SIZE))
			abort();
		(void)http_etag_matches(req.if_none_match, "abc");
	}
	int n = http_decode_path(s, size, out, sizeof(out));
	if (n >= 0 && (memchr(out, '\0', (size_t)n) != NULL || (size_t)n > size))
		abort();
	if (http_parse_range(s, FUZZ_BODY_SIZE, &start, &len) == HTTP_RANGE_OK &&
	    (len == 0 || start + len > FUZZ_BODY_SIZE))
		abort();
	(void)http_etag_matches(s, "0123");
	free(s);
	return 0;
}

/* http.h - a small HTTP/1.1 request parser and response-head writer for
 * the client's gateway: the request line, headers, percent-decoding of
 * path pieces and query values, the Range header and the keep-alive rules.
 *
 * Works on buffers only: no sockets, so it is unit-testable and fuzzable.
 * Nothing here allocates, exits or prints. */
#ifndef P2PM_HTTP_H
#define P2PM_HTTP_H

#include <stdarg.h>
#include <stddef.h>

/* longest request line, CR LF included, in bytes */
#define HTTP_MAX_REQUEST_LINE 8192
/* longest request head (request line, headers, the empty line), in bytes */
#define HTTP_MAX_HEAD_BYTES 16384
/* most header lines in one request */
#define HTTP_MAX_HEADERS 64
/* longest header value the parser keeps (Range, If-None-Match, Host,
 * Origin, Sec-Fetch-Site, Sec-Fetch-Mode), in bytes */
#define HTTP_MAX_KEPT_VALUE 256
/* a whole request head must arrive within this many milliseconds of its
 * first byte (a client dripping bytes is cut off: 408) */
#define HTTP_HEAD_DEADLINE_MS 10000
/* an idle persistent connection is closed after this many milliseconds
 * without the first byte of a next request */
#define HTTP_IDLE_TIMEOUT_MS 15000
/* a reader that takes more than this many milliseconds to accept one
 * write is given up */
#define HTTP_SEND_TIMEOUT_MS 20000
/* room for a response head written with http_head_*, in bytes */
#define HTTP_MAX_RESPONSE_HEAD 2048

/* Status codes: the values are the codes sent. */
enum http_status {
	HTTP_OK = 200,
	HTTP_PARTIAL_CONTENT = 206,
	HTTP_NOT_MODIFIED = 304,
	HTTP_BAD_REQUEST = 400,
	HTTP_FORBIDDEN = 403,
	HTTP_NOT_FOUND = 404,
	HTTP_METHOD_NOT_ALLOWED = 405,
	HTTP_REQUEST_TIMEOUT = 408,
	HTTP_CONTENT_TOO_LARGE = 413,
	HTTP_URI_TOO_LONG = 414,
	HTTP_RANGE_NOT_SATISFIABLE = 416,
	HTTP_MISDIRECTED_REQUEST = 421,
	HTTP_HEADERS_TOO_LARGE = 431,
	HTTP_INTERNAL_ERROR = 500,
	HTTP_NOT_IMPLEMENTED = 501,
	HTTP_BAD_GATEWAY = 502,
	HTTP_UNAVAILABLE = 503,
	HTTP_GATEWAY_TIMEOUT = 504,
	HTTP_VERSION_NOT_SUPPORTED = 505
};

/* The reason phrase of a status ("Not Found"); "Unknown" for others. */
const char *http_status_text(enum http_status status);

enum http_method {
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_OTHER	/* any other token: answered 405 */
};

/* A parsed request head. path and query point into the buffer given to
 * http_parse_request (still percent-encoded) and are valid while it is. */
struct http_request {
	enum http_method method;
	int minor;		/* HTTP/1.<minor>: 0 or 1 */
	const char *path;	/* from the '/' up to '?' or the end */
	size_t pathlen;
	const char *query;	/* after '?' (NULL: none) */
	size_t querylen;
	int keep_alive;		/* the connection may carry another request */
	int has_host;
	int has_length;		/* a Content-Length came */
	/* its digits after any leading zeros, in the head ("" for 0) */
	const char *length;
	size_t lengthlen;
	char range[HTTP_MAX_KEPT_VALUE + 1];	/* "" when absent */
	char if_none_match[HTTP_MAX_KEPT_VALUE + 1];	/* "" when absent */
	/* "" when absent; one too long to keep is kept as "" too: a name
	 * no server has */
	char host[HTTP_MAX_KEPT_VALUE + 1];
	/* "" when absent; one too long to keep is kept as "null", an origin
	 * that is nobody's */
	char origin[HTTP_MAX_KEPT_VALUE + 1];
	/* "" when absent; one too long to keep is kept as "?", a value
	 * naming no relation */
	char fetch_site[HTTP_MAX_KEPT_VALUE + 1];	/* Sec-Fetch-Site */
	char fetch_mode[HTTP_MAX_KEPT_VALUE + 1];	/* Sec-Fetch-Mode */
};

/* Looks for the end of a request head (an empty line, CR LF or LF) in the
 * len bytes of buf. Returns the head's length including that empty line,
 * or 0 if it has not all arrived. */
size_t http_head_length(const char *buf, size_t len);

/* Parses a whole request head (len bytes, as measured by http_head_length)
 * into req. Returns HTTP_OK, or the status to answer: 400 (malformed, an
 * HTTP/1.1 request without Host, a bad Content-Length or two that differ,
 * RFC 9112 6.3), 414 (request line over HTTP_MAX_REQUEST_LINE), 431 (over
 * HTTP_MAX_HEADERS lines), 413 (a request announcing a body: the gateway
 * takes none), 501 (a Transfer-Encoding, with a Content-Length or not),
 * 505 (not HTTP/1.0 or 1.1). After an error the connection is to be
 * closed; req is filled as far as it got. */
enum http_status http_parse_request(const char *buf, size_t len,
    struct http_request *req);

/* Checks only the request line at the start of buf (len bytes so far,
 * maybe without its line end): returns HTTP_URI_TOO_LONG once it is known
 * to exceed HTTP_MAX_REQUEST_LINE, else HTTP_OK. Lets a server answer 414
 * rather than 431 to a head that is too big because of its target. */
enum http_status http_check_request_line(const char *buf, size_t len);

/* Percent-decodes len bytes of a path piece into out (outlen bytes, NUL
 * added). '+' stays '+'. Fails on a '%' not followed by two hex digits, on
 * %00, and when the result does not fit. Returns its length or -1. */
int http_decode_path(const char *in, size_t len, char *out, size_t outlen);

/* Finds key in a query string ("a=1&q=blue+monday") and decodes its value
 * ('+' is a space) into out. Returns the value's length, 0 for an empty
 * or absent value (out ""), or -1 if it is badly encoded or too long. */
int http_query_value(const char *query, size_t querylen, const char *key,
    char *out, size_t outlen);

/* What a Range header asks of a body of size bytes. */
enum http_range_result {
	HTTP_RANGE_NONE,	/* no range, or one to ignore (a bad header, a
				 * unit other than bytes, several ranges):
				 * send the whole body */
	HTTP_RANGE_OK,		/* send *len bytes from *start (206) */
	HTTP_RANGE_UNSATISFIABLE	/* 416, with Content-Range: bytes * / size */
};

/* Reads "bytes=a-b", "bytes=a-" or "bytes=-n" (text as kept in
 * http_request.range) against a body of size bytes. */
enum http_range_result http_parse_range(const char *text,
    unsigned long long size, unsigned long long *start,
    unsigned long long *len);

/* True if an If-None-Match value (a list of entity tags, or "*") names
 * the entity tag etag (written without quotes). */
int http_etag_matches(const char *if_none_match, const char *etag);

/* A response head being written. */
struct http_head {
	char buf[HTTP_MAX_RESPONSE_HEAD];
	size_t len;
	int overflow;		/* something did not fit: do not send */
};

/* Starts "HTTP/1.1 <code> <reason>" CR LF. */
void http_head_start(struct http_head *h, enum http_status status);

/* Adds "<name>: <value>" CR LF (value printf-style). Values with a CR or
 * LF mark the head as overflowed rather than split it. */
void http_head_add(struct http_head *h, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds the empty line. Returns 0, or -1 if the head overflowed. */
int http_head_finish(struct http_head *h);

#endif

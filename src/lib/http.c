/* http.c - HTTP/1.1 request heads in, response heads out (see http.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "p2pm/http.h"
#include "p2pm/proto.h"

/* longest method token we look at */
#define HTTP_MAX_METHOD 16

const char *
http_status_text(enum http_status status)
{
	switch (status) {
	case HTTP_OK: return "OK";
	case HTTP_PARTIAL_CONTENT: return "Partial Content";
	case HTTP_NOT_MODIFIED: return "Not Modified";
	case HTTP_BAD_REQUEST: return "Bad Request";
	case HTTP_FORBIDDEN: return "Forbidden";
	case HTTP_NOT_FOUND: return "Not Found";
	case HTTP_METHOD_NOT_ALLOWED: return "Method Not Allowed";
	case HTTP_REQUEST_TIMEOUT: return "Request Timeout";
	case HTTP_CONTENT_TOO_LARGE: return "Content Too Large";
	case HTTP_URI_TOO_LONG: return "URI Too Long";
	case HTTP_RANGE_NOT_SATISFIABLE: return "Range Not Satisfiable";
	case HTTP_MISDIRECTED_REQUEST: return "Misdirected Request";
	case HTTP_HEADERS_TOO_LARGE: return "Request Header Fields Too Large";
	case HTTP_INTERNAL_ERROR: return "Internal Server Error";
	case HTTP_NOT_IMPLEMENTED: return "Not Implemented";
	case HTTP_BAD_GATEWAY: return "Bad Gateway";
	case HTTP_UNAVAILABLE: return "Service Unavailable";
	case HTTP_GATEWAY_TIMEOUT: return "Gateway Timeout";
	case HTTP_VERSION_NOT_SUPPORTED: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

size_t
http_head_length(const char *buf, size_t len)
{
	/* an empty line: LF LF or LF CR LF */
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

enum http_status
http_check_request_line(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);
	size_t linelen = nl != NULL ? (size_t)(nl - buf) + 1 : len;

	return linelen > HTTP_MAX_REQUEST_LINE ? HTTP_URI_TOO_LONG : HTTP_OK;
}

/* RFC 9110 tchar */
static int
http_is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Bytes allowed in a request target: visible ASCII. */
static int
http_is_target_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* True if the comma-separated list value (len bytes) holds token, in any
 * case (the Connection header's options). */
static int
http_list_has(const char *value, size_t len, const char *token)
{
	size_t tlen = strlen(token), i = 0;

	while (i < len) {
		size_t j;
		while (i < len && (value[i] == ' ' || value[i] == '\t' ||
		    value[i] == ','))
			i++;
		j = i;
		while (j < len && value[j] != ',')
			j++;
		size_t end = j;
		while (end > i && (value[end - 1] == ' ' || value[end - 1] == '\t'))
			end--;
		if (end - i == tlen && strncasecmp(value + i, token, tlen) == 0)
			return 1;
		i = j;
	}
	return 0;
}

/* How many of the first len bytes of s are in set. */
static size_t
http_span(const char *s, size_t len, const char *set)
{
	size_t i = 0;

	while (i < len && s[i] != '\0' && strchr(set, s[i]) != NULL)
		i++;
	return i;
}

/* Copies a header value into a kept field, or fails if it is too long. */
static int
http_keep(char *dst, const char *value, size_t len)
{
	if (len > HTTP_MAX_KEPT_VALUE)
		return -1;
	memcpy(dst, value, len);
	dst[len] = '\0';
	return 0;
}

/* Parses "METHOD SP target SP HTTP/1.x" (len bytes, without its line
 * end). */
static enum http_status
http_parse_request_line(const char *line, size_t len, struct http_request *req)
{
	const char *sp1, *sp2, *target, *version, *q;
	size_t mlen, tlen;

	if (len + 2 > HTTP_MAX_REQUEST_LINE)
		return HTTP_URI_TOO_LONG;
	sp1 = memchr(line, ' ', len);
	if (sp1 == NULL || sp1 == line)
		return HTTP_BAD_REQUEST;
	mlen = (size_t)(sp1 - line);
	for (size_t i = 0; i < mlen; i++)
		if (!http_is_tchar((unsigned char)line[i]))
			return HTTP_BAD_REQUEST;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', len - (size_t)(target - line));
	if (sp2 == NULL)
		return HTTP_BAD_REQUEST;
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	if ((size_t)(line + len - version) != 8 || memcmp(version, "HTTP/", 5) != 0 ||
	    version[5] < '0' || version[5] > '9' || version[6] != '.' ||
	    version[7] < '0' || version[7] > '9')
		return HTTP_BAD_REQUEST;
	if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
		return HTTP_VERSION_NOT_SUPPORTED;
	req->minor = version[7] - '0';
	req->keep_alive = req->minor == 1;

	if (mlen == 3 && memcmp(line, "GET", 3) == 0)
		req->method = HTTP_METHOD_GET;
	else if (mlen == 4 && memcmp(line, "HEAD", 4) == 0)
		req->method = HTTP_METHOD_HEAD;
	else
		req->method = HTTP_METHOD_OTHER;

	/* origin form only: "/path[?query]" */
	if (tlen == 0 || target[0] != '/')
		return HTTP_BAD_REQUEST;
	for (size_t i = 0; i < tlen; i++)
		if (!http_is_target_char((unsigned char)target[i]) || target[i] == '#')
			return HTTP_BAD_REQUEST;
	req->path = target;
	q = memchr(target, '?', tlen);
	if (q != NULL) {
		req->pathlen = (size_t)(q - target);
		req->query = q + 1;
		req->querylen = tlen - req->pathlen - 1;
	} else {
		req->pathlen = tlen;
	}
	return HTTP_OK;
}

/* Parses one "Name: value" line (len bytes, without its line end). */
static enum http_status
http_parse_header(const char *line, size_t len, struct http_request *req)
{
	const char *colon = memchr(line, ':', len), *v, *end;
	size_t nlen;

	if (colon == NULL || colon == line)
		return HTTP_BAD_REQUEST;
	nlen = (size_t)(colon - line);
	for (size_t i = 0; i < nlen; i++)
		if (!http_is_tchar((unsigned char)line[i]))
			return HTTP_BAD_REQUEST;	/* also space before ':' */
	v = colon + 1;
	end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (const char *p = v; p < end; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return HTTP_BAD_REQUEST;
	size_t vlen = (size_t)(end - v);

#define HTTP_IS(name) (nlen == sizeof(name) - 1 && \
	strncasecmp(line, name, sizeof(name) - 1) == 0)
	if (HTTP_IS("Host")) {
		if (req->has_host)
			return HTTP_BAD_REQUEST;
		req->has_host = 1;
		if (http_keep(req->host, v, vlen) < 0)
			req->host[0] = '\0';
	} else if (HTTP_IS("Origin")) {
		/* two of them: nobody's */
		if (req->origin[0] != '\0' || http_keep(req->origin, v, vlen) < 0)
			snprintf(req->origin, sizeof(req->origin), "null");
	} else if (HTTP_IS("Sec-Fetch-Site")) {
		if (req->fetch_site[0] != '\0' ||
		    http_keep(req->fetch_site, v, vlen) < 0)
			snprintf(req->fetch_site, sizeof(req->fetch_site), "?");
	} else if (HTTP_IS("Sec-Fetch-Mode")) {
		if (http_keep(req->fetch_mode, v, vlen) < 0)
			snprintf(req->fetch_mode, sizeof(req->fetch_mode), "?");
	} else if (HTTP_IS("Connection")) {
		if (http_list_has(v, vlen, "close"))
			req->keep_alive = 0;
		else if (http_list_has(v, vlen, "keep-alive"))
			req->keep_alive = 1;
	} else if (HTTP_IS("Content-Length")) {
		if (vlen == 0 || http_span(v, vlen, "0123456789") < vlen)
			return HTTP_BAD_REQUEST;
		size_t zeros = http_span(v, vlen, "0");
		/* two that differ: the framing is invalid (RFC 9112 6.3) */
		if (req->has_length && (vlen - zeros != req->lengthlen ||
		    memcmp(v + zeros, req->length, req->lengthlen) != 0))
			return HTTP_BAD_REQUEST;
		req->has_length = 1;
		req->length = v + zeros;
		req->lengthlen = vlen - zeros;
	} else if (HTTP_IS("Transfer-Encoding")) {
		return HTTP_NOT_IMPLEMENTED;
	} else if (HTTP_IS("Range")) {
		/* one too long to keep is ignored, as a bad Range is */
		if (http_keep(req->range, v, vlen) < 0)
			req->range[0] = '\0';
	} else if (HTTP_IS("If-None-Match")) {
		if (http_keep(req->if_none_match, v, vlen) < 0)
			req->if_none_match[0] = '\0';
	}
#undef HTTP_IS
	return HTTP_OK;
}

enum http_status
http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	size_t pos = 0, nheaders = 0;
	int first = 1;
	enum http_status st;

	memset(req, 0, sizeof(*req));
	if (len > HTTP_MAX_HEAD_BYTES)
		return HTTP_HEADERS_TOO_LARGE;
	while (pos < len) {
		const char *line = buf + pos, *nl;
		size_t linelen;

		nl = memchr(line, '\n', len - pos);
		if (nl == NULL)
			return HTTP_BAD_REQUEST;	/* head not whole */
		linelen = (size_t)(nl - line);
		pos += linelen + 1;
		if (linelen > 0 && line[linelen - 1] == '\r')
			linelen--;
		if (memchr(line, '\r', linelen) != NULL ||
		    memchr(line, '\0', linelen) != NULL)
			return HTTP_BAD_REQUEST;
		if (first) {
			/* RFC 9112 2.2: empty lines before the request line */
			if (linelen == 0)
				continue;
			st = http_parse_request_line(line, linelen, req);
			if (st != HTTP_OK)
				return st;
			first = 0;
			continue;
		}
		if (linelen == 0)
			break;		/* the end of the head */
		if (line[0] == ' ' || line[0] == '\t')
			return HTTP_BAD_REQUEST;	/* obsolete line folding */
		if (++nheaders > HTTP_MAX_HEADERS)
			return HTTP_HEADERS_TOO_LARGE;
		st = http_parse_header(line, linelen, req);
		if (st != HTTP_OK)
			return st;
	}
	if (first)
		return HTTP_BAD_REQUEST;
	/* a body, which the gateway takes none of, once every
	 * Content-Length was seen to agree */
	if (req->lengthlen > 0)
		return HTTP_CONTENT_TOO_LARGE;
	if (req->minor == 1 && !req->has_host)
		return HTTP_BAD_REQUEST;
	return HTTP_OK;
}

/* Percent-decodes in into out, '+' as a space if plus_space. */
static int
http_decode(const char *in, size_t len, char *out, size_t outlen,
    int plus_space)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -1;
			hi = proto_hexval(in[i + 1]);
			lo = proto_hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			if (c == 0)
				return -1;
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		} else if (c == '\0') {
			return -1;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int
http_decode_path(const char *in, size_t len, char *out, size_t outlen)
{
	return http_decode(in, len, out, outlen, 0);
}

int
http_query_value(const char *query, size_t querylen, const char *key,
    char *out, size_t outlen)
{
	size_t klen = strlen(key), i = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	while (query != NULL && i < querylen) {
		const char *amp = memchr(query + i, '&', querylen - i);
		size_t end = amp != NULL ? (size_t)(amp - query) : querylen;
		const char *eq = memchr(query + i, '=', end - i);
		size_t nend = eq != NULL ? (size_t)(eq - query) : end;

		if (nend - i == klen && memcmp(query + i, key, klen) == 0) {
			if (eq == NULL)
				return 0;
			return http_decode(eq + 1, end - nend - 1, out, outlen, 1);
		}
		i = end + 1;
	}
	return 0;
}

/* Reads a run of decimal digits as a number; fails on overflow or none. */
static int
http_number(const char **p, unsigned long long *out)
{
	unsigned long long n = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (~0ULL - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*p = s;
	*out = n;
	return 0;
}

enum http_range_result
http_parse_range(const char *text, unsigned long long size,
    unsigned long long *start, unsigned long long *len)
{
	const char *p = text;
	unsigned long long a, b;

	*start = 0;
	*len = size;
	if (text == NULL || strncasecmp(p, "bytes=", 6) != 0)
		return HTTP_RANGE_NONE;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strchr(p, ',') != NULL)
		return HTTP_RANGE_NONE;		/* several ranges: all of it */
	if (*p == '-') {
		/* the last b bytes */
		p++;
		if (http_number(&p, &b) < 0)
			return HTTP_RANGE_NONE;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0')
			return HTTP_RANGE_NONE;
		if (b == 0 || size == 0)
			return HTTP_RANGE_UNSATISFIABLE;
		if (b > size)
			b = size;
		*start = size - b;
		*len = b;
		return HTTP_RANGE_OK;
	}
	if (http_number(&p, &a) < 0 || *p++ != '-')
		return HTTP_RANGE_NONE;
	if (*p >= '0' && *p <= '9') {
		if (http_number(&p, &b) < 0 || b < a)
			return HTTP_RANGE_NONE;
	} else {
		b = ~0ULL;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0')
		return HTTP_RANGE_NONE;
	if (a >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	if (b >= size)
		b = size - 1;
	*start = a;
	*len = b - a + 1;
	return HTTP_RANGE_OK;
}

int
http_etag_matches(const char *if_none_match, const char *etag)
{
	const char *p = if_none_match;
	size_t elen = strlen(etag);

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p != '"')
			return 0;
		const char *close = strchr(p + 1, '"');
		if (close == NULL)
			return 0;
		if ((size_t)(close - p - 1) == elen && memcmp(p + 1, etag, elen) == 0)
			return 1;
		p = close + 1;
	}
	return 0;
}

/* Appends text to the head, marking it overflowed if it does not fit. */
static void
http_head_vappend(struct http_head *h, const char *fmt, va_list ap)
{
	int n;

	if (h->overflow)
		return;
	n = vsnprintf(h->buf + h->len, sizeof(h->buf) - h->len, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(h->buf) - h->len) {
		h->overflow = 1;
		return;
	}
	h->len += (size_t)n;
}

static void __attribute__((format(printf, 2, 3)))
http_head_append(struct http_head *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_head_vappend(h, fmt, ap);
	va_end(ap);
}

void
http_head_start(struct http_head *h, enum http_status status)
{
	h->len = 0;
	h->overflow = 0;
	http_head_append(h, "HTTP/1.1 %d %s\r\n", (int)status,
	    http_status_text(status));
}

void
http_head_add(struct http_head *h, const char *name, const char *fmt, ...)
{
	size_t mark = h->len;
	va_list ap;

	http_head_append(h, "%s: ", name);
	va_start(ap, fmt);
	http_head_vappend(h, fmt, ap);
	va_end(ap);
	http_head_append(h, "\r\n");
	if (!h->overflow && (memchr(h->buf + mark, '\r', h->len - mark - 2) != NULL ||
	    memchr(h->buf + mark, '\n', h->len - mark - 2) != NULL))
		h->overflow = 1;
}

int
http_head_finish(struct http_head *h)
{
	http_head_append(h, "\r\n");
	return h->overflow ? -1 : 0;
}

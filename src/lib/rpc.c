/* rpc.c - a request/reply connection to a tracker or a peer: buffered
 * request lines, reply lines, counted lists and framed bodies. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2pm/net.h"
#include "p2pm/proto.h"
#include "p2pm/reader.h"
#include "p2pm/rpc.h"
#include "p2pm/sha256.h"
#include "p2pm/strnum.h"
#include "p2pm/textsafe.h"

/* longest request word kept for error messages, terminator included */
#define RPC_CMD_MAX 32

struct rpc_conn {
	int fd;
	int io_ms;
	int write_failed;	/* sticky: the connection is done */
	int quit_queued;	/* rpc_quit was called: rpc_close sends nothing */
	char addr[NET_ADDR_MAX];
	char cmd[RPC_CMD_MAX];	/* first word of the last request */
	int err_code;
	char err_text[PROTO_MAX_LINE];
	char err[RPC_ERR_LEN];
	char line[PROTO_MAX_LINE + 1];	/* the reply line last read */
	size_t outlen;
	char out[RPC_OUT_BUF];
	struct reader rd;
};

__attribute__((format(printf, 3, 4))) static enum rpc_result
rpc_fail(struct rpc_conn *c, enum rpc_result res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return res;
}

struct rpc_conn *
rpc_open(const char *addr, int connect_ms, int io_ms, char *err, size_t errlen)
{
	return rpc_open_from(addr, NULL, connect_ms, io_ms, err, errlen);
}

struct rpc_conn *
rpc_open_from(const char *addr, const char *from, int connect_ms, int io_ms,
    char *err, size_t errlen)
{
	char neterr[NET_ERR_LEN], prefix[NET_ADDR_MAX + 32];
	struct rpc_conn *c;
	int fd;

	fd = net_connect_from(addr, from, connect_ms, neterr, sizeof(neterr));
	if (fd < 0) {
		/* keep only the reason: "connection refused", "timed out" */
		const char *why = neterr;
		snprintf(prefix, sizeof(prefix), "cannot connect to %s: ", addr);
		if (strncmp(neterr, prefix, strlen(prefix)) == 0)
			why = neterr + strlen(prefix);
		snprintf(err, errlen, "%s", why);
		if (errlen > 0)
			err[0] = (char)tolower((unsigned char)err[0]);
		return NULL;
	}
	c = rpc_adopt(fd, addr, io_ms);
	if (c == NULL)
		snprintf(err, errlen, "out of memory");
	return c;
}

struct rpc_conn *
rpc_adopt(int fd, const char *addr, int io_ms)
{
	struct rpc_conn *c = malloc(sizeof(*c));

	if (c == NULL) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	net_set_timeouts(fd, io_ms, io_ms);
	reader_init(&c->rd, fd, io_ms);
	c->io_ms = io_ms;
	c->write_failed = 0;
	c->quit_queued = 0;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->cmd[0] = '\0';
	c->err_code = 0;
	c->err_text[0] = '\0';
	c->err[0] = '\0';
	c->outlen = 0;
	return c;
}

const char *
rpc_addr(const struct rpc_conn *c)
{
	return c->addr;
}

const char *
rpc_error(const struct rpc_conn *c)
{
	return c->err;
}

int
rpc_err_code(const struct rpc_conn *c)
{
	return c->err_code;
}

const char *
rpc_err_text(const struct rpc_conn *c)
{
	return c->err_text;
}

enum rpc_result
rpc_flush(struct rpc_conn *c)
{
	if (!c->write_failed && c->outlen > 0 &&
	    net_write_all(c->fd, c->out, c->outlen) < 0)
		c->write_failed = 1;
	c->outlen = 0;
	if (c->write_failed)
		return rpc_fail(c, RPC_IO, "connection lost");
	return RPC_OK;
}

/* Formats one line and queues it with its LF, flushing first if it does
 * not fit in what is left of the buffer; the first word of a request is
 * kept to name it in messages. */
static enum rpc_result
rpc_queue(struct rpc_conn *c, int is_request, const char *fmt, va_list ap)
{
	char line[PROTO_MAX_LINE];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	/* the line with its LF must fit the protocol's limit */
	if (n < 0 || (size_t)n + 1 > sizeof(line))
		return rpc_fail(c, RPC_LOCAL, "request line too long");
	if (c->outlen + (size_t)n + 1 > sizeof(c->out) && rpc_flush(c) != RPC_OK)
		return RPC_IO;
	if (c->write_failed)
		return rpc_fail(c, RPC_IO, "connection lost");
	if (is_request)
		snprintf(c->cmd, sizeof(c->cmd), "%.*s", (int)strcspn(line, " "),
		    line);
	memcpy(c->out + c->outlen, line, (size_t)n);
	c->out[c->outlen + (size_t)n] = '\n';
	c->outlen += (size_t)n + 1;
	return RPC_OK;
}

enum rpc_result
rpc_request(struct rpc_conn *c, const char *fmt, ...)
{
	enum rpc_result res;
	va_list ap;

	va_start(ap, fmt);
	res = rpc_queue(c, 1, fmt, ap);
	va_end(ap);
	return res;
}

enum rpc_result
rpc_request_name(struct rpc_conn *c, const char *cmd, const char *name)
{
	char enc[PROTO_MAX_ENCODED_NAME + 1];

	if (strlen(name) > PROTO_MAX_NAME ||
	    proto_encode_name(name, strlen(name), enc, sizeof(enc)) < 0)
		return rpc_fail(c, RPC_LOCAL, "name too long");
	return rpc_request(c, "%s %s", cmd, enc);
}

enum rpc_result
rpc_send_line(struct rpc_conn *c, const char *fmt, ...)
{
	enum rpc_result res;
	va_list ap;

	va_start(ap, fmt);
	res = rpc_queue(c, 0, fmt, ap);
	va_end(ap);
	return res;
}

/* Maps a reader failure to a result, its text becoming the reason. */
static enum rpc_result
rpc_read_failed(struct rpc_conn *c, enum reader_result res)
{
	enum rpc_result kind = RPC_IO;

	if (res == READER_TOO_LONG || res == READER_NUL)
		kind = RPC_BAD_REPLY;
	else if (res == READER_INTERRUPTED)
		kind = RPC_INTERRUPTED;
	return rpc_fail(c, kind, "%s", reader_strerror(res));
}

enum rpc_result
rpc_next_line(struct rpc_conn *c, const char **line)
{
	enum reader_result res;
	size_t len;

	res = reader_line(&c->rd, c->line, sizeof(c->line), PROTO_MAX_LINE, &len);
	if (res != READER_OK)
		return rpc_read_failed(c, res);
	*line = c->line;
	return RPC_OK;
}

/* Sends what is queued and reads the first line of a reply into c->line;
 * an ERR line gives RPC_REFUSED with its code and text kept. */
static enum rpc_result
rpc_reply_line(struct rpc_conn *c)
{
	const char *line, *text;
	enum rpc_result res;
	int code;

	res = rpc_flush(c);
	if (res == RPC_OK)
		res = rpc_next_line(c, &line);
	if (res != RPC_OK)
		return res;
	code = proto_parse_err(c->line, &text);
	if (code < 0)
		return RPC_OK;
	/* the text is the server's: no escape sequence, C1 control, bidi
	 * override or invalid UTF-8 reaches a terminal, a log or a page */
	c->err_code = code;
	textsafe_copy(c->err_text, sizeof(c->err_text), text, strlen(text));
	return rpc_fail(c, RPC_REFUSED, "answered ERR %d %s", code, c->err_text);
}

enum rpc_result
rpc_expect_word(struct rpc_conn *c, const char *word, const char **rest)
{
	enum rpc_result res = rpc_reply_line(c);
	size_t wl = strlen(word);

	if (res != RPC_OK)
		return res;
	if (strncmp(c->line, word, wl) != 0 ||
	    (c->line[wl] != ' ' && c->line[wl] != '\0'))
		return rpc_fail(c, RPC_BAD_REPLY, "unexpected reply to %s", c->cmd);
	*rest = c->line[wl] == ' ' ? c->line + wl + 1 : c->line + wl;
	return RPC_OK;
}

enum rpc_result
rpc_expect_ok(struct rpc_conn *c)
{
	const char *rest;
	enum rpc_result res = rpc_expect_word(c, "OK", &rest);

	if (res == RPC_OK && *rest != '\0')
		return rpc_fail(c, RPC_BAD_REPLY, "unexpected reply to %s", c->cmd);
	return res;
}

enum rpc_result
rpc_expect_count(struct rpc_conn *c, const char *word, long max, long *n)
{
	const char *rest;
	enum rpc_result res = rpc_expect_word(c, word, &rest);

	if (res == RPC_OK && strnum_parse(rest, 0, max, n) < 0)
		return rpc_fail(c, RPC_BAD_REPLY, "unexpected reply to %s", c->cmd);
	return res;
}

enum rpc_result
rpc_body_header(struct rpc_conn *c, const char *word, const char *want,
    long maxbytes, size_t *bytes)
{
	char name[PROTO_MAX_REPLY_NAME + 1], why[128];
	enum rpc_result res = rpc_reply_line(c);
	long n;

	if (res != RPC_OK)
		return res;
	if (proto_parse_body_header(c->line, word, name, &n, maxbytes, why,
	    sizeof(why)) < 0)
		return rpc_fail(c, RPC_BAD_REPLY, "%s to %s", why, c->cmd);
	if (strcmp(name, want) != 0)
		return rpc_fail(c, RPC_BAD_REPLY, "answered %s '%s' instead of '%s'",
		    word, name, want);
	*bytes = (size_t)n;
	return RPC_OK;
}

enum rpc_result
rpc_body_read(struct rpc_conn *c, void *buf, size_t bytes)
{
	return rpc_body_read_hashed(c, buf, bytes, NULL);
}

enum rpc_result
rpc_body_read_hashed(struct rpc_conn *c, void *buf, size_t bytes,
    struct sha256 *h)
{
	/* the whole body must come at a useful rate, not a byte now and then */
	long long limit_ms = (long long)c->io_ms +
	    (long long)bytes * 1000 / RPC_MIN_BYTES_PER_S;
	enum rpc_result rc = RPC_OK;
	char *dst = buf;
	size_t got;

	reader_set_deadline(&c->rd, limit_ms);
	for (got = 0; got < bytes; ) {
		size_t n = bytes - got;
		if (n > RPC_READ_CHUNK)
			n = RPC_READ_CHUNK;
		if (net_interrupted()) {
			rc = rpc_fail(c, RPC_INTERRUPTED, "interrupted");
			break;
		}
		enum reader_result res = reader_exact(&c->rd, dst + got, n);
		if (res == READER_TIMEOUT && reader_deadline_passed(&c->rd)) {
			rc = rpc_fail(c, RPC_IO, "too slow: %zu of %zu bytes in %lld s",
			    got, bytes, limit_ms / 1000);
			break;
		}
		if (res != READER_OK) {
			rc = rpc_read_failed(c, res);
			rpc_fail(c, rc, "%s after %zu of %zu bytes",
			    reader_strerror(res), got, bytes);
			break;
		}
		if (h != NULL)
			sha256_update(h, dst + got, n);
		got += n;
	}
	reader_set_deadline(&c->rd, 0);
	return rc;
}

enum rpc_result
rpc_body(struct rpc_conn *c, const char *word, const char *want,
    long maxbytes, char **body, size_t *len)
{
	enum rpc_result res;
	size_t bytes;
	char *buf;

	*body = NULL;
	res = rpc_body_header(c, word, want, maxbytes, &bytes);
	if (res != RPC_OK)
		return res;
	buf = malloc(bytes + 1);
	if (buf == NULL)
		return rpc_fail(c, RPC_LOCAL, "out of memory");
	res = rpc_body_read(c, buf, bytes);
	if (res != RPC_OK) {
		free(buf);
		return res;
	}
	buf[bytes] = '\0';
	*body = buf;
	*len = bytes;
	return RPC_OK;
}

void
rpc_shutdown(struct rpc_conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
}

enum rpc_result
rpc_quit(struct rpc_conn *c)
{
	enum rpc_result res = rpc_send_line(c, "QUIT");

	if (res == RPC_OK)
		c->quit_queued = 1;
	return res;
}

void
rpc_close(struct rpc_conn *c)
{
	if (c == NULL)
		return;
	if (!c->quit_queued && rpc_send_line(c, "QUIT") == RPC_OK)
		(void)rpc_flush(c);
	close(c->fd);
	free(c);
}

/* reader.c - buffered line and body reader with limits and timeouts. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/net.h"
#include "p2pm/reader.h"

void
reader_init(struct reader *r, int fd, int timeout_ms)
{
	r->fd = fd;
	r->timeout_ms = timeout_ms;
	r->sock_timeout_ms = 0;
	r->deadline_ms = 0;
	r->min_rate = 0;
	r->start = r->end = 0;
}

void
reader_set_socket_timeout(struct reader *r, int ms)
{
	r->sock_timeout_ms = ms > 0 ? ms : 0;
}

void
reader_set_deadline(struct reader *r, long long ms)
{
	r->deadline_ms = ms > 0 ? clock_now_ms() + ms : 0;
}

void
reader_set_deadline_at(struct reader *r, long long at_ms)
{
	r->deadline_ms = at_ms > 0 ? at_ms : 0;
}

long long
reader_deadline(const struct reader *r)
{
	return r->deadline_ms;
}

void
reader_set_min_rate(struct reader *r, long bytes_per_s, long long grace_ms)
{
	r->min_rate = bytes_per_s > 0 ? bytes_per_s : 0;
	r->rate_start_ms = clock_now_ms();
	r->rate_grace_ms = grace_ms > 0 ? grace_ms : 0;
	r->rate_bytes = 0;
}

/* Milliseconds left before the input falls below the rate floor; only
 * meaningful with a floor set. */
static long long
reader_rate_left(const struct reader *r, long long now)
{
	unsigned long long owed_ms = r->rate_bytes * 1000ULL / (unsigned long long)r->min_rate;

	return r->rate_start_ms + r->rate_grace_ms + (long long)owed_ms - now;
}

int
reader_deadline_passed(const struct reader *r)
{
	return r->deadline_ms > 0 && clock_now_ms() >= r->deadline_ms;
}

size_t
reader_buffered(const struct reader *r)
{
	return r->end - r->start;
}

const char *
reader_strerror(enum reader_result res)
{
	switch (res) {
	case READER_OK: return "ok";
	case READER_EOF: return "connection closed";
	case READER_TOO_LONG: return "line too long";
	case READER_TIMEOUT: return "timed out";
	case READER_ERROR: return "read error";
	case READER_NUL: return "NUL byte in line";
	case READER_INTERRUPTED: return "interrupted";
	case READER_TOO_SLOW: return "below the minimum receive rate";
	}
	return "unknown";
}

/* The end of one read(2) of n bytes (errno set when n < 0) into *got,
 * or why there are none. */
static enum reader_result
reader_took(struct reader *r, ssize_t n, size_t *got)
{
	if (n < 0)
		return errno == ETIMEDOUT ? READER_TIMEOUT : READER_ERROR;
	if (n == 0)
		return READER_EOF;
	r->rate_bytes += (unsigned long long)n;
	*got = (size_t)n;
	return READER_OK;
}

/* Waits for input (at most timeout_ms) and reads what arrives, up to
 * cap bytes, into dst; *got is set to the count read (at least 1). */
static enum reader_result
reader_read(struct reader *r, char *dst, size_t cap, size_t *got)
{
	struct pollfd pfd;
	ssize_t n;
	int rc;

	/* the socket's own timeout is the wait: read(2) alone */
	if (r->sock_timeout_ms > 0 && r->sock_timeout_ms == r->timeout_ms &&
	    r->deadline_ms == 0 && r->min_rate == 0) {
		do
			n = read(r->fd, dst, cap);
		while (n < 0 && errno == EINTR && !net_interrupted());
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return READER_TIMEOUT;
		if (n < 0 && errno == EINTR)
			return READER_INTERRUPTED;
		return reader_took(r, n, got);
	}
	for (;;) {
		long long wait = r->timeout_ms > 0 ? r->timeout_ms : -1;
		long long now = clock_now_ms();
		int by_rate = 0;
		if (r->deadline_ms > 0) {
			long long left = r->deadline_ms - now;
			if (left <= 0)
				return READER_TIMEOUT;
			if (wait < 0 || left < wait)
				wait = left;
		}
		if (r->min_rate > 0) {
			long long left = reader_rate_left(r, now);
			if (left <= 0)
				return READER_TOO_SLOW;
			if (wait < 0 || left < wait) {
				wait = left;
				by_rate = 1;
			}
		}
		if (net_interrupted())
			return READER_INTERRUPTED;
		pfd.fd = r->fd;
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, wait > INT_MAX ? INT_MAX : (int)wait);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return READER_ERROR;
		if (rc == 0)
			return by_rate ? READER_TOO_SLOW : READER_TIMEOUT;
		n = read(r->fd, dst, cap);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return reader_took(r, n, got);
	}
}

/* Appends what arrives next to the buffer, first moving unread bytes to
 * the front. */
static enum reader_result
reader_fill(struct reader *r)
{
	enum reader_result res;
	size_t got;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == sizeof(r->buf))
		return READER_TOO_LONG;
	res = reader_read(r, r->buf + r->end, sizeof(r->buf) - r->end, &got);
	if (res == READER_OK)
		r->end += got;
	return res;
}

enum reader_result
reader_wait_input(struct reader *r)
{
	if (r->end > r->start)
		return READER_OK;
	return reader_fill(r);
}

enum reader_result
reader_line(struct reader *r, char *line, size_t linesz, size_t maxline,
    size_t *len)
{
	size_t scanned = 0;
	enum reader_result res;

	if (maxline > linesz)
		maxline = linesz;
	for (;;) {
		char *p = r->buf + r->start + scanned;
		size_t avail = r->end - r->start - scanned;
		char *nl = memchr(p, '\n', avail);

		if (nl != NULL) {
			size_t n = (size_t)(nl - (r->buf + r->start));
			/* the line with its LF must fit the limit */
			if (n + 1 > maxline)
				return READER_TOO_LONG;
			int has_nul = memchr(r->buf + r->start, '\0', n) != NULL;
			size_t keep = n;
			if (keep > 0 && r->buf[r->start + keep - 1] == '\r')
				keep--;
			memcpy(line, r->buf + r->start, keep);
			line[keep] = '\0';
			*len = keep;
			r->start += n + 1;
			return has_nul ? READER_NUL : READER_OK;
		}
		scanned = r->end - r->start;
		if (scanned + 1 > maxline)
			return READER_TOO_LONG;
		res = reader_fill(r);
		if (res != READER_OK)
			return res;
	}
}

enum reader_result
reader_exact(struct reader *r, void *out, size_t n)
{
	char *dst = out;
	size_t have = r->end - r->start, got;
	enum reader_result res;

	if (have > n)
		have = n;
	memcpy(dst, r->buf + r->start, have);
	r->start += have;
	dst += have;
	n -= have;
	while (n > 0) {
		res = reader_read(r, dst, n, &got);
		if (res != READER_OK)
			return res;
		dst += got;
		n -= got;
	}
	return READER_OK;
}

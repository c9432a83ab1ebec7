/* splice.c - a bounded copy loop between two sockets. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/splice.h"

const char *
splice_end_text(enum splice_end end)
{
	switch (end) {
	case SPLICE_BYTES:
		return "the byte limit was reached";
	case SPLICE_TIME:
		return "the time limit was reached";
	case SPLICE_IDLE:
		return "both sides went quiet";
	default:
		return "a side closed the connection";
	}
}

/* The send timeout of socket fd in ms (SO_SNDTIMEO), 0 for none. */
static long long
splice_send_timeout_ms(int fd)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) < 0)
		return 0;
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Writes all n bytes of buf to fd, waiting for room as long as fd's send
 * timeout (send_ms, 0: as long as it takes) allows and never past
 * lim->deadline_ms (0: none). Returns SPLICE_BYTES once all is written
 * (the caller goes on), SPLICE_TIME when the deadline came first, or
 * SPLICE_CLOSED when fd failed or its send timeout passed. */
static enum splice_end
splice_write(int fd, const char *buf, size_t n, long long send_ms,
    const struct splice_limits *lim)
{
	long long give_up = send_ms > 0 ? clock_now_ms() + send_ms : 0;

	while (n > 0) {
		long long now = clock_now_ms(), wait = -1;
		if (lim->deadline_ms > 0) {
			if (now >= lim->deadline_ms)
				return SPLICE_TIME;
			wait = lim->deadline_ms - now;
		}
		if (give_up > 0) {
			if (now >= give_up)
				return SPLICE_CLOSED;
			if (wait < 0 || give_up - now < wait)
				wait = give_up - now;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int rc = poll(&pfd, 1, wait < 0 ? -1 : (int)wait);
		if (rc < 0 && errno != EINTR)
			return SPLICE_CLOSED;
		if (rc <= 0)
			continue;	/* interrupted, or a limit: looked at above */
		ssize_t w = send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (w < 0)
			return SPLICE_CLOSED;
		buf += w;
		n -= (size_t)w;
	}
	return SPLICE_BYTES;
}

enum splice_end
splice_run(int a, int b, const struct splice_limits *lim, long long *carried)
{
	char buf[SPLICE_BUF];
	long long idle_since = clock_now_ms();
	long long send_ms[2] = { splice_send_timeout_ms(a), splice_send_timeout_ms(b) };

	*carried = 0;
	for (;;) {
		struct pollfd pfd[2] = { { .fd = a, .events = POLLIN },
			{ .fd = b, .events = POLLIN } };
		long long now = clock_now_ms(), wait = -1;
		long long left_bytes = lim->max_bytes - *carried;

		if (left_bytes <= 0)
			return SPLICE_BYTES;
		if (lim->deadline_ms > 0) {
			if (now >= lim->deadline_ms)
				return SPLICE_TIME;
			wait = lim->deadline_ms - now;
		}
		if (lim->idle_ms > 0) {
			long long idle_left = idle_since + lim->idle_ms - now;
			if (idle_left <= 0)
				return SPLICE_IDLE;
			if (wait < 0 || idle_left < wait)
				wait = idle_left;
		}
		int rc = poll(pfd, 2, wait < 0 ? -1 : (int)wait);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return SPLICE_CLOSED;
		for (int k = 0; k < 2; k++) {
			if (pfd[k].revents == 0)
				continue;
			size_t want = left_bytes < (long long)sizeof(buf) ?
			    (size_t)left_bytes : sizeof(buf);
			ssize_t n = read(pfd[k].fd, buf, want);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				return SPLICE_CLOSED;
			enum splice_end w = splice_write(pfd[1 - k].fd, buf, (size_t)n,
			    send_ms[1 - k], lim);
			if (w != SPLICE_BYTES)
				return w;
			*carried += n;
			left_bytes -= n;
			idle_since = clock_now_ms();
			if (left_bytes <= 0)
				return SPLICE_BYTES;
		}
	}
}

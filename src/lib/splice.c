/* splice.c - a bounded copy loop between two sockets. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/net.h"
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

enum splice_end
splice_run(int a, int b, const struct splice_limits *lim, long long *carried)
{
	char buf[SPLICE_BUF];
	long long idle_since = clock_now_ms();

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
			if (net_write_all(pfd[1 - k].fd, buf, (size_t)n) < 0)
				return SPLICE_CLOSED;
			*carried += n;
			left_bytes -= n;
			idle_since = clock_now_ms();
			if (left_bytes <= 0)
				return SPLICE_BYTES;
		}
	}
}

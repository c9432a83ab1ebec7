/* net.c - socket helpers shared by the three programs. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "p2pm/clock.h"
#include "p2pm/net.h"

/* Writes a printf-style message into err, if the caller gave one. */
static void __attribute__((format(printf, 3, 4)))
net_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const volatile sig_atomic_t *net_interrupt_flag;

void
net_set_interrupt_flag(const volatile sig_atomic_t *flag)
{
	net_interrupt_flag = flag;
}

int
net_interrupted(void)
{
	return net_interrupt_flag != NULL && *net_interrupt_flag != 0;
}


int
net_parse_hostport(const char *text, char *host, size_t hostlen, unsigned *port,
    int allow_port0)
{
	const char *h, *hend, *p;
	size_t n;
	int v6 = 0;

	if (text == NULL || *text == '\0')
		return -1;
	if (text[0] == '[') {
		h = text + 1;
		hend = strchr(h, ']');
		if (hend == NULL || hend[1] != ':')
			return -1;
		p = hend + 2;
		v6 = 1;
	} else {
		h = text;
		hend = strrchr(text, ':');
		if (hend == NULL)
			return -1;
		p = hend + 1;
	}
	n = (size_t)(hend - h);
	if (n == 0 || n >= hostlen || n >= NET_HOST_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F') || c == '.';
		if (v6)
			ok = ok || c == ':';
		else
			ok = ok || (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z') ||
			    c == '-';
		if (!ok)
			return -1;
	}
	/* port: 1-5 decimal digits, no sign, no leading junk */
	size_t plen = strlen(p);
	if (plen == 0 || plen > 5)
		return -1;
	unsigned long v = 0;
	for (size_t i = 0; i < plen; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v > 65535 || (v == 0 && !allow_port0))
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (unsigned)v;
	return 0;
}

int
net_format_hostport(const char *host, unsigned port, char *out, size_t outlen)
{
	int n;

	if (strchr(host, ':') != NULL)
		n = snprintf(out, outlen, "[%s]:%u", host, port);
	else
		n = snprintf(out, outlen, "%s:%u", host, port);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

static int
net_resolve(const char *hostport, int passive, int allow_port0,
    struct addrinfo **res, char *err, size_t errlen)
{
	char host[NET_HOST_MAX], portstr[8];
	struct addrinfo hints;
	unsigned port;
	int rc;

	if (net_parse_hostport(hostport, host, sizeof(host), &port, allow_port0) < 0) {
		net_seterr(err, errlen, "invalid address '%s' (want HOST:PORT)",
		    hostport);
		return -1;
	}
	snprintf(portstr, sizeof(portstr), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	rc = getaddrinfo(host, portstr, &hints, res);
	if (rc != 0) {
		net_seterr(err, errlen, "cannot resolve '%s': %s", host,
		    gai_strerror(rc));
		return -1;
	}
	return 0;
}

int
net_listen(const char *hostport, char *err, size_t errlen)
{
	struct addrinfo *res, *ai;
	int fd = -1, one = 1, saved = 0;

	if (net_resolve(hostport, 1, 1, &res, err, errlen) < 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, NET_LISTEN_BACKLOG) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		net_seterr(err, errlen, "cannot listen on %s: %s", hostport,
		    strerror(saved));
	return fd;
}

int
net_sockaddr_format(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
	} else
		return -1;
	return net_format_hostport(host, port, out, outlen);
}

int
net_local_addr(int fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	return net_sockaddr_format(&ss, out, outlen);
}

int
net_remote_addr(int fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	return net_sockaddr_format(&ss, out, outlen);
}

/* Binds fd to local_port on every address with SO_REUSEADDR and
 * SO_REUSEPORT, so that other sockets bound the same way may share it. */
static int
net_bind_shared(int fd, int family, unsigned local_port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)local_port);
		sl = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)local_port);
		sl = sizeof(*sin);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		return -1;
	return bind(fd, (struct sockaddr *)&ss, sl);
}

/* Connects one address with a deadline: non-blocking connect, poll, then
 * back to blocking mode. from: the local address to bind (NULL: none);
 * local_port: -1 binds no port, 0 or a port binds it shared (only with
 * from NULL). */
static int
net_connect_one(const struct addrinfo *ai, const struct sockaddr_storage *from,
    int local_port, int timeout_ms)
{
	struct pollfd pfd;
	socklen_t sl;
	int fd, flags, soerr = 0, rc, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (from != NULL) {
		/* only an address of the same family can be bound */
		if (from->ss_family != ai->ai_family) {
			errno = EAFNOSUPPORT;
			goto fail;
		}
		if (bind(fd, (const struct sockaddr *)from, from->ss_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0)
			goto fail;
	} else if (local_port >= 0 && net_bind_shared(fd, ai->ai_family,
	    (unsigned)local_port) < 0) {
		goto fail;
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (rc < 0 && errno != EINPROGRESS)
		goto fail;
	if (rc < 0) {
		long long deadline = clock_now_ms() + timeout_ms;
		for (;;) {
			long long left = deadline - clock_now_ms();
			if (left <= 0) {
				errno = ETIMEDOUT;
				goto fail;
			}
			pfd.fd = fd;
			pfd.events = POLLOUT;
			rc = poll(&pfd, 1, (int)left);
			if (rc < 0 && errno == EINTR && !net_interrupted())
				continue;
			if (rc < 0)
				goto fail;
			if (rc == 0) {
				errno = ETIMEDOUT;
				goto fail;
			}
			break;
		}
		sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			goto fail;
		if (soerr != 0) {
			errno = soerr;
			goto fail;
		}
	}
	fcntl(fd, F_SETFL, flags);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	rc = errno;
	close(fd);
	errno = rc;
	return -1;
}

/* net_connect from the local address from (NULL: any) and local_port (-1:
 * any, else bound shared; only with from NULL) */
static int
net_connect_bound(const char *hostport, const char *from, int local_port,
    int timeout_ms, char *err, size_t errlen);

int
net_connect(const char *hostport, int timeout_ms, char *err, size_t errlen)
{
	return net_connect_bound(hostport, NULL, -1, timeout_ms, err, errlen);
}

int
net_connect_from(const char *hostport, const char *from, int timeout_ms, char *err,
    size_t errlen)
{
	return net_connect_bound(hostport, from, -1, timeout_ms, err, errlen);
}

int
net_connect_from_port(const char *hostport, unsigned local_port, int timeout_ms,
    char *err, size_t errlen)
{
	return net_connect_bound(hostport, NULL, (int)local_port, timeout_ms, err,
	    errlen);
}

int
net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

static int
net_connect_bound(const char *hostport, const char *from, int local_port,
    int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_storage src;
	struct addrinfo *res, *ai;
	int fd = -1, saved = 0;

	memset(&src, 0, sizeof(src));
	if (from != NULL) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src;
		if (inet_pton(AF_INET, from, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
		} else if (inet_pton(AF_INET6, from, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
		} else {
			net_seterr(err, errlen, "invalid source address %s", from);
			return -1;
		}
	}
	if (net_resolve(hostport, 0, 0, &res, err, errlen) < 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = net_connect_one(ai, from != NULL ? &src : NULL, local_port,
		    timeout_ms);
		if (fd >= 0)
			break;
		saved = errno;
	}
	freeaddrinfo(res);
	if (fd < 0)
		net_seterr(err, errlen, "cannot connect to %s: %s", hostport,
		    saved == ETIMEDOUT ? "timed out" : strerror(saved));
	return fd;
}

int
net_set_timeouts(int fd, int recv_ms, int send_ms)
{
	struct timeval tv;

	tv.tv_sec = recv_ms / 1000;
	tv.tv_usec = (recv_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	tv.tv_sec = send_ms / 1000;
	tv.tv_usec = (send_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	return 0;
}

int
net_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR && !net_interrupted())
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
net_send_more(int sock, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(sock, p, len, MSG_MORE | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR && !net_interrupted())
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
net_sendfile_all(int sock, int file_fd, size_t len)
{
	off_t off = 0;

	while ((size_t)off < len) {
		ssize_t n = sendfile(sock, file_fd, &off, len - (size_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;	/* file shrank under us */
			return -1;
		}
	}
	return 0;
}

int
net_read_line_exact(int fd, char *line, size_t linesz, int timeout_ms)
{
	long long deadline = clock_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		long long left = deadline - clock_now_ms();
		ssize_t n;
		char *lf;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		n = recv(fd, line, linesz - 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		lf = memchr(line, '\n', (size_t)n);
		if (lf == NULL) {
			if ((size_t)n == linesz - 1) {
				errno = EMSGSIZE;
				return -1;
			}
			/* a part of the line: wait for more (no busy loop: the
			 * rest is at least one more segment away) */
			struct pollfd none;
			poll(&none, 0, NET_LINE_PEEK_WAIT_MS);
			continue;
		}
		size_t want = (size_t)(lf - line) + 1;
		if (recv(fd, line, want, MSG_WAITALL) != (ssize_t)want)
			return -1;
		line[want - 1] = '\0';
		if (want >= 2 && line[want - 2] == '\r')
			line[want - 2] = '\0';
		return (int)strlen(line);
	}
}

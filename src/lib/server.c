/* server.c - accept loop, connection threads, connection cap, shutdown. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/net.h"
#include "p2pm/server.h"

struct server {
	struct server_config cfg;
	int listen_fd;
	char address[NET_ADDR_MAX];
	pthread_attr_t attr;

	pthread_mutex_t lock;		/* guards drained, conns and live */
	pthread_cond_t drained;
	struct conn *conns;		/* live connections */
	int live;

	atomic_ullong requests;		/* counted without the lock */
};

struct server *
server_open(const struct server_config *cfg, char *err, size_t errlen)
{
	struct server *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->listen_fd = net_listen(cfg->listen_addr, err, errlen);
	if (s->listen_fd < 0) {
		free(s);
		return NULL;
	}
	if (net_local_addr(s->listen_fd, s->address, sizeof(s->address)) < 0)
		snprintf(s->address, sizeof(s->address), "%s", cfg->listen_addr);
	pthread_mutex_init(&s->lock, NULL);
	clock_cond_init(&s->drained);
	pthread_attr_init(&s->attr);
	pthread_attr_setstacksize(&s->attr, SERVER_THREAD_STACK);
	pthread_attr_setdetachstate(&s->attr, PTHREAD_CREATE_DETACHED);
	return s;
}

const char *
server_address(const struct server *s)
{
	return s->address;
}

unsigned long long
server_requests(struct server *s)
{
	return atomic_load_explicit(&s->requests, memory_order_relaxed);
}

int
server_live_conns(struct server *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->live;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int
conn_flush(struct conn *c)
{
	if (c->failed)
		return -1;
	if (c->outlen > 0 && net_write_all(c->fd, c->out, c->outlen) < 0)
		c->failed = 1;
	c->outlen = 0;
	return c->failed ? -1 : 0;
}

int
conn_write(struct conn *c, const void *buf, size_t len)
{
	if (c->failed)
		return -1;
	if (c->outlen + len > sizeof(c->out)) {
		if (conn_flush(c) < 0)
			return -1;
		if (len > sizeof(c->out)) {
			if (net_write_all(c->fd, buf, len) < 0)
				c->failed = 1;
			return c->failed ? -1 : 0;
		}
	}
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
	return 0;
}

int
conn_printf(struct conn *c, const char *fmt, ...)
{
	char line[PROTO_MAX_LINE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;	/* a reply line never exceeds the protocol limit */
	return conn_write(c, line, (size_t)n);
}

int
conn_error(struct conn *c, enum proto_status status, const char *text)
{
	char line[PROTO_MAX_LINE];
	int n = proto_format_err(line, sizeof(line), status, text);

	/* these close the connection with input still unread */
	if (status == PROTO_LINE_TOO_LONG || status == PROTO_TOO_LARGE)
		c->linger = 1;
	return conn_write(c, line, (size_t)n);
}

int
conn_sendfile(struct conn *c, int file_fd, size_t len)
{
	if (conn_flush(c) < 0)
		return -1;
	if (net_sendfile_all(c->fd, file_fd, len) < 0) {
		c->failed = 1;
		return -1;
	}
	return 0;
}

enum reader_result
conn_read_line(struct conn *c, char *line, size_t linesz, size_t *len)
{
	return reader_line(&c->rd, line, linesz, PROTO_MAX_LINE, len);
}

void
conn_body_deadline(struct conn *c, int on)
{
	reader_set_deadline(&c->rd, on ? SERVER_BODY_DEADLINE_MS : 0);
}

int
conn_read_body(struct conn *c, conn_line_fn on_line, void *ctx)
{
	char line[PROTO_MAX_LINE + 1];
	size_t len, lines = 0;
	int rc = -1;

	conn_body_deadline(c, 1);
	for (;;) {
		enum reader_result res = conn_read_line(c, line, sizeof(line), &len);
		if (res == READER_TOO_LONG) {
			conn_error(c, PROTO_LINE_TOO_LONG, NULL);
			break;
		}
		if (res != READER_OK && res != READER_NUL) {
			log_info("%s: request body not finished: %s", c->remote,
			    reader_strerror(res));
			break;
		}
		if (res == READER_OK && len == 0) {
			rc = 0;
			break;
		}
		if (++lines > PROTO_MAX_SONGS) {
			conn_error(c, PROTO_TOO_LARGE, "too many songs");
			break;
		}
		if (on_line != NULL &&
		    on_line(ctx, res == READER_NUL ? NULL : line, len) < 0)
			break;
	}
	conn_body_deadline(c, 0);
	return rc;
}

/* Serves one connection: reads request lines until the client quits, goes
 * quiet past the idle timeout, loses framing, or the server shuts down. */
static void
server_serve(struct conn *c)
{
	struct server *s = c->srv;
	char line[PROTO_MAX_LINE + 1];
	char why[128];
	struct proto_request req;
	size_t len;

	for (;;) {
		enum reader_result res = reader_line(&c->rd, line, sizeof(line),
		    PROTO_MAX_LINE, &len);
		if (res == READER_TOO_LONG) {
			conn_error(c, PROTO_LINE_TOO_LONG, NULL);
			break;
		}
		if (res == READER_NUL) {
			conn_error(c, PROTO_BAD_REQUEST, "NUL byte in request");
			if (conn_flush(c) < 0)
				break;
			continue;
		}
		if (res != READER_OK) {
			log_debug("%s: %s", c->remote, reader_strerror(res));
			break;
		}
		atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
		if (proto_parse_request(line, len, &req, why, sizeof(why)) != PROTO_OK) {
			log_debug("%s: bad request: %s", c->remote, why);
			/* one reply per request: a body is read, then refused */
			if (req.has_body && conn_read_body(c, NULL, NULL) < 0)
				break;
			conn_error(c, PROTO_BAD_REQUEST, why);
		} else if (req.cmd == PROTO_CMD_QUIT) {
			break;
		} else if (s->cfg.commands != 0 &&
		    (s->cfg.commands & SERVER_CMD(req.cmd)) == 0) {
			if (req.has_body && conn_read_body(c, NULL, NULL) < 0)
				break;
			conn_error(c, PROTO_BAD_REQUEST, "unknown command");
		} else if (s->cfg.handler(c, &req, s->cfg.ctx) < 0) {
			break;
		}
		if (conn_flush(c) < 0)
			break;
	}
	conn_flush(c);
}

/* Half-closes a connection and reads what the client still sends, for at
 * most SERVER_LINGER_MS and SERVER_LINGER_BYTES, so that closing with
 * unread input does not reset the connection before the client has read
 * our last reply. */
static void
server_linger(int fd)
{
	long long deadline = clock_now_ms() + SERVER_LINGER_MS;
	size_t drained = 0;
	char buf[4096];

	shutdown(fd, SHUT_WR);
	while (drained < SERVER_LINGER_BYTES) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - clock_now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		drained += (size_t)n;
	}
}

static void *
server_conn_main(void *arg)
{
	struct conn *c = arg;
	struct server *s = c->srv;

	server_serve(c);
	if (c->linger)
		server_linger(c->fd);
	/* unlink, then close, under the lock: server_close must never
	 * shut down a descriptor number that another thread reused */
	pthread_mutex_lock(&s->lock);
	close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->live--;
	if (s->live == 0)
		pthread_cond_broadcast(&s->drained);
	pthread_mutex_unlock(&s->lock);
	free(c);
	return NULL;
}

/* Turns away a connection over the cap with one ERR line. */
static void
server_refuse(int fd)
{
	char line[64];
	int n = proto_format_err(line, sizeof(line), PROTO_BUSY, NULL);

	char drop[4096];

	net_set_timeouts(fd, 1000, 1000);
	net_write_all(fd, line, (size_t)n);
	shutdown(fd, SHUT_WR);
	/* drop what already arrived, without waiting: a close with unread
	 * input would reset the connection before the ERR is read */
	while (recv(fd, drop, sizeof(drop), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

static void
server_accept_one(struct server *s)
{
	sigset_t all, old;
	pthread_t tid;
	struct conn *c;
	int fd, one = 1, rc;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			log_warn("accept: %s", strerror(errno));
		if (errno == EMFILE || errno == ENFILE) {
			struct timespec ts = { 0, 100 * 1000000L };
			nanosleep(&ts, NULL);
		}
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->live >= s->cfg.max_conns) {
		pthread_mutex_unlock(&s->lock);
		log_warn("connection limit (%d) reached, refusing one", s->cfg.max_conns);
		server_refuse(fd);
		return;
	}
	s->live++;
	pthread_mutex_unlock(&s->lock);

	c = malloc(sizeof(*c));
	if (c == NULL) {
		close(fd);
		goto undo;
	}
	memset(c, 0, offsetof(struct conn, out));	/* next and prev too */
	c->fd = fd;
	c->srv = s;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	net_set_timeouts(fd, 0, s->cfg.idle_timeout_s * 1000);
	reader_init(&c->rd, fd, s->cfg.idle_timeout_s * 1000);
	if (net_remote_addr(fd, c->remote, sizeof(c->remote)) < 0)
		snprintf(c->remote, sizeof(c->remote), "?");

	pthread_mutex_lock(&s->lock);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	pthread_mutex_unlock(&s->lock);

	/* c belongs to the thread once it runs (it may be gone at once):
	 * named before */
	log_debug("%s: connected", c->remote);
	/* the thread starts with every signal blocked; main takes them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&tid, &s->attr, server_conn_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		return;
	log_warn("cannot start a connection thread: %s", strerror(rc));
	pthread_mutex_lock(&s->lock);
	if (c->next != NULL)
		c->next->prev = NULL;
	s->conns = c->next;
	pthread_mutex_unlock(&s->lock);
	server_refuse(fd);
	free(c);
undo:
	pthread_mutex_lock(&s->lock);
	s->live--;
	pthread_mutex_unlock(&s->lock);
}

void
server_run(struct server *s, volatile sig_atomic_t *stop)
{
	struct pollfd pfd;

	while (!*stop) {
		pfd.fd = s->listen_fd;
		pfd.events = POLLIN;
		int rc = poll(&pfd, 1, SERVER_POLL_MS);
		if (rc <= 0)
			continue;
		server_accept_one(s);
	}
}

int
server_close(struct server *s)
{
	struct timespec deadline;
	struct conn *c;

	close(s->listen_fd);
	clock_deadline_after(&deadline, SERVER_SHUTDOWN_WAIT_MS);
	pthread_mutex_lock(&s->lock);
	/* wake threads blocked in read or write; they close their own fds */
	for (c = s->conns; c != NULL; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (s->live > 0)
		if (pthread_cond_timedwait(&s->drained, &s->lock, &deadline) != 0)
			break;
	int left = s->live;
	pthread_mutex_unlock(&s->lock);
	if (left > 0) {
		/* threads still own the server: leave it allocated */
		log_warn("%d connection(s) still open at exit", left);
		return left;
	}
	pthread_attr_destroy(&s->attr);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->drained);
	free(s);
	return 0;
}

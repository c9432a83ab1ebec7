/* server.c - accept loop, connection threads, connection caps, deadlines,
 * shutdown. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "p2pm/clock.h"
#include "p2pm/htable.h"
#include "p2pm/log.h"
#include "p2pm/lograte.h"
#include "p2pm/net.h"
#include "p2pm/server.h"

struct server {
	struct server_config cfg;
	int listen_fd;
	char address[NET_ADDR_MAX];
	pthread_attr_t attr;

	pthread_mutex_t lock;		/* guards what follows up to sources */
	pthread_cond_t drained;		/* threads became 0 */
	struct conn *conns;		/* live connections */
	int live;
	int acceptors;			/* threads in accept(2), or on their way */
	int threads;			/* connection threads, serving or accepting */
	int closing;			/* server_close began: threads end */
	/* open connections per source address (16 bytes, IPv4 mapped):
	 * the count is the value, cast to a pointer */
	struct htable sources;

	pthread_mutex_t spare_lock;	/* held by the thread shedding */
	int spare_fd;		/* /dev/null, given up to shed a connection
				 * when descriptors run out */
	/* refusals and cut connections, a line a second per reason and
	 * source */
	struct lograte refusals;
	atomic_ullong requests;		/* counted without the lock */
};

/* Raises the soft RLIMIT_NOFILE to the hard limit and lowers
 * cfg->max_conns to what the limit leaves after SERVER_FD_RESERVE. */
static void
server_fit_nofile(struct server_config *cfg)
{
	struct rlimit rl;
	long fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur != rl.rlim_max) {
		struct rlimit want = rl;
		want.rlim_cur = rl.rlim_max;
		if (want.rlim_cur == RLIM_INFINITY)
			want.rlim_cur = SERVER_NOFILE_WANTED;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl.rlim_cur = want.rlim_cur;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)SERVER_NOFILE_WANTED * 16)
		return;
	fit = ((long)rl.rlim_cur - SERVER_FD_RESERVE) / cfg->fds_per_conn;
	if (fit < 1)
		fit = 1;
	if (cfg->max_conns > fit) {
		log_warn("--max-conns %d is more than the open-file limit (%ld) allows: "
		    "at most %ld connections", cfg->max_conns, (long)rl.rlim_cur, fit);
		cfg->max_conns = (int)fit;
	}
}

/* Sets on the listening socket what every accepted socket inherits from
 * it (Linux copies socket options to the accepted socket), so that a
 * connection costs no system call for them: no Nagle delay, and the idle
 * timeout on each write. Its own receive timeout is how long an acceptor
 * waits in accept(2) before it looks whether it has been idle too long;
 * each connection's is set when it is admitted. */
static void
server_socket_options(int fd, int idle_timeout_s)
{
	struct timeval tv = { idle_timeout_s, 0 };
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void
server_listen_options(struct server *s)
{
	struct timeval tv = { SERVER_THREAD_IDLE_MS / 1000, 0 };

	server_socket_options(s->listen_fd, s->cfg.idle_timeout_s);
	setsockopt(s->listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int
server_max_conns(const struct server *s)
{
	return s->cfg.max_conns;
}

struct server *
server_open(const struct server_config *cfg, char *err, size_t errlen)
{
	struct server *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	if (s->cfg.line_timeout_s <= 0)
		s->cfg.line_timeout_s = SERVER_DEFAULT_LINE_TIMEOUT_S;
	if (s->cfg.min_body_rate <= 0)
		s->cfg.min_body_rate = SERVER_DEFAULT_MIN_BODY_RATE;
	if (s->cfg.max_conns_per_source <= 0)
		s->cfg.max_conns_per_source = SERVER_DEFAULT_MAX_CONNS_PER_SOURCE;
	if (s->cfg.fds_per_conn <= 0)
		s->cfg.fds_per_conn = 1;
	server_fit_nofile(&s->cfg);
	if (htable_init(&s->sources) < 0) {
		snprintf(err, errlen, "out of memory");
		free(s);
		return NULL;
	}
	s->listen_fd = net_listen(cfg->listen_addr, err, errlen);
	if (s->listen_fd < 0) {
		htable_free(&s->sources);
		free(s);
		return NULL;
	}
	server_listen_options(s);
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (net_local_addr(s->listen_fd, s->address, sizeof(s->address)) < 0)
		snprintf(s->address, sizeof(s->address), "%s", cfg->listen_addr);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->spare_lock, NULL);
	lograte_init(&s->refusals);
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
	/* the head goes out with the first of the file's bytes (an empty
	 * file sends nothing after it to push it out) */
	if (len == 0)
		return conn_flush(c);
	if (c->failed)
		return -1;
	if (c->outlen > 0 && net_send_more(c->fd, c->out, c->outlen) < 0)
		c->failed = 1;
	c->outlen = 0;
	if (c->failed)
		return -1;
	if (net_sendfile_all(c->fd, file_fd, len) < 0) {
		c->failed = 1;
		return -1;
	}
	return 0;
}

const char *
conn_remote_host(const struct conn *c)
{
	return c->remote_host;
}

/* Reads one line: its first byte within the idle timeout (or whatever
 * deadline is set), the rest within the line timeout of that byte. A
 * line cut by the line timeout is READER_TIMEOUT with *by_line set. */
int
conn_wait_input(struct conn *c, int ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int rc;

	if (reader_buffered(&c->rd) > 0)
		return 1;
	do
		rc = poll(&pfd, 1, ms);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -1 : rc > 0;
}

int
conn_dup_fd(struct conn *c)
{
	if (reader_buffered(&c->rd) > 0 || conn_flush(c) < 0)
		return -1;
	return fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
}

enum splice_end
conn_splice(struct conn *c, int fd, const struct splice_limits *lim,
    long long *carried)
{
	struct splice_limits rest = *lim;
	size_t early = reader_buffered(&c->rd);
	long long more = 0;
	enum splice_end end;

	*carried = 0;
	if (conn_flush(c) < 0)
		return SPLICE_CLOSED;
	/* what the client sent after its request, already read: first */
	if (early > 0) {
		char buf[READER_BUF_SIZE];
		if ((long long)early > lim->max_bytes)
			early = (size_t)lim->max_bytes;
		if (reader_exact(&c->rd, buf, early) != READER_OK ||
		    net_write_all(fd, buf, early) < 0)
			return SPLICE_CLOSED;
		*carried = (long long)early;
		rest.max_bytes -= (long long)early;
	}
	end = splice_run(c->fd, fd, &rest, &more);
	*carried += more;
	return end;
}

static enum reader_result
conn_line(struct conn *c, char *line, size_t linesz, size_t *len, int *by_line)
{
	long long outer = reader_deadline(&c->rd), at;
	enum reader_result res;

	*by_line = 0;
	res = reader_wait_input(&c->rd);
	if (res != READER_OK)
		return res;
	at = clock_now_ms() + (long long)c->srv->cfg.line_timeout_s * 1000;
	if (outer > 0 && outer < at)
		at = outer;
	reader_set_deadline_at(&c->rd, at);
	res = reader_line(&c->rd, line, linesz, PROTO_MAX_LINE, len);
	if (res == READER_TIMEOUT && at != outer && reader_deadline_passed(&c->rd))
		*by_line = 1;
	reader_set_deadline_at(&c->rd, outer);
	return res;
}

enum reader_result
conn_read_line(struct conn *c, char *line, size_t linesz, size_t *len)
{
	int by_line;

	return conn_line(c, line, linesz, len, &by_line);
}

void
conn_body_deadline(struct conn *c, int on)
{
	reader_set_deadline(&c->rd, on ? SERVER_BODY_DEADLINE_MS : 0);
	reader_set_min_rate(&c->rd, on ? c->srv->cfg.min_body_rate : 0,
	    SERVER_BODY_GRACE_MS);
}

int
conn_read_body(struct conn *c, conn_line_fn on_line, void *ctx)
{
	char line[PROTO_MAX_LINE + 1];
	size_t len, lines = 0;
	int rc = -1;

	conn_body_deadline(c, 1);
	for (;;) {
		int by_line;
		enum reader_result res = conn_line(c, line, sizeof(line), &len,
		    &by_line);
		if (res == READER_TOO_LONG) {
			conn_error(c, PROTO_LINE_TOO_LONG, NULL);
			break;
		}
		if (res != READER_OK && res != READER_NUL) {
			if (by_line)
				lograte_log(&c->srv->refusals, LOG_LEVEL_INFO,
				    "body line deadline", conn_remote_host(c),
				    "%s: request body not finished: a line took "
				    "over %d s", c->remote, c->srv->cfg.line_timeout_s);
			else if (res == READER_TOO_SLOW)
				lograte_log(&c->srv->refusals, LOG_LEVEL_INFO,
				    "body rate", conn_remote_host(c),
				    "%s: request body not finished: below %ld "
				    "bytes/s", c->remote, c->srv->cfg.min_body_rate);
			else
				lograte_log(&c->srv->refusals, LOG_LEVEL_INFO,
				    "body cut", conn_remote_host(c),
				    "%s: request body not finished: %s", c->remote,
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
		int by_line;
		enum reader_result res = conn_line(c, line, sizeof(line), &len,
		    &by_line);
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
		if (by_line) {
			lograte_log(&s->refusals, LOG_LEVEL_INFO, "line deadline",
			    conn_remote_host(c), "%s: request line not complete %d s "
			    "after its first byte, closing", c->remote,
			    s->cfg.line_timeout_s);
			break;
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

/* Adds delta to the count of open connections from source (16 bytes);
 * under s->lock. Returns the new count, or -1 if out of memory (then the
 * source counts as having none open). */
static long
server_source_add(struct server *s, const unsigned char *source, long delta)
{
	long n = (long)(intptr_t)htable_del(&s->sources, source, 16) + delta;

	if (n <= 0)
		return 0;
	if (htable_put(&s->sources, source, 16, (void *)(intptr_t)n) == NULL)
		return -1;
	return n;
}

/* Takes c out of the live list; under s->lock. */
static void
server_conn_unlist(struct server *s, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

/* Takes c out of the counts of live connections and of its source;
 * under s->lock. */
static void
server_conn_uncount(struct server *s, struct conn *c)
{
	if (c->source_counted)
		server_source_add(s, c->source, -1);
	s->live--;
}

/* Ends a connection: takes it out of the live list under s->lock, so
 * that server_close never shuts down its descriptor, then closes it
 * without the lock (a TCP close does the protocol's work inline). Its
 * counts stay until the caller drops them (server_conn_uncount). */
static void
server_conn_end(struct server *s, struct conn *c)
{
	int fd = c->fd;

	pthread_mutex_lock(&s->lock);
	server_conn_unlist(s, c);
	c->fd = -1;
	pthread_mutex_unlock(&s->lock);
	close(fd);
}

/* Turns a connection away with one ERR 503 line (text NULL: "busy"). */
static void
server_refuse(int fd, const char *text)
{
	char line[128];
	int n = proto_format_err(line, sizeof(line), PROTO_BUSY, text);

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

/* A newcomer, before it is admitted: its address. */
struct server_newcomer {
	char remote[NET_ADDR_MAX], remote_host[NET_ADDR_MAX];
	unsigned char source[16];
	int source_counted;
};

/* Sets c's source (as 16 bytes of IPv6, IPv4 mapped), its address text
 * with and without the port, and returns 1 if it is a loopback address. */
static int
server_source_of(struct server_newcomer *c, const struct sockaddr_storage *ss)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	unsigned port = 0;
	int loopback = 0;

	memset(c->source, 0, sizeof(c->source));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		memcpy(c->source, mapped, sizeof(mapped));
		memcpy(c->source + 12, &sin->sin_addr, 4);
		port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		memcpy(c->source, &sin6->sin6_addr, 16);
		port = ntohs(sin6->sin6_port);
		loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	if (memcmp(c->source, mapped, sizeof(mapped)) == 0) {
		loopback = c->source[12] == 127;
		inet_ntop(AF_INET, c->source + 12, c->remote_host, sizeof(c->remote_host));
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, c->source, c->remote_host, sizeof(c->remote_host));
	} else {
		snprintf(c->remote_host, sizeof(c->remote_host), "?");
	}
	if (net_format_hostport(c->remote_host, port, c->remote, sizeof(c->remote)) < 0)
		snprintf(c->remote, sizeof(c->remote), "?");
	return loopback;
}

/* accept(2) found no descriptor free: sheds the waiting connection with
 * ERR 503 through the spare descriptor (so that accept does not fail at
 * once for it again) and logs that at most once a second. One thread at
 * a time sheds; the others only back off. */
static void
server_out_of_fds(struct server *s, int err)
{
	lograte_log(&s->refusals, LOG_LEVEL_WARN, "out of descriptors", "",
	    "accept: %s: turning connections away", strerror(err));
	if (pthread_mutex_trylock(&s->spare_lock) == 0) {
		struct pollfd pfd = { .fd = s->listen_fd, .events = POLLIN };
		if (s->spare_fd >= 0) {
			close(s->spare_fd);
			/* another thread may have taken it: accept only if
			 * one still waits, not to block here */
			if (poll(&pfd, 1, 0) == 1) {
				int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
				if (fd >= 0)
					server_refuse(fd, NULL);
			}
			s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		}
		pthread_mutex_unlock(&s->spare_lock);
	}
}

/* Makes c serve fd (the newcomer nc) and links it into the live
 * list; under s->lock. */
static void
server_conn_start(struct server *s, struct conn *c, int fd,
    const struct server_newcomer *nc)
{
	c->fd = fd;
	memcpy(c->remote, nc->remote, sizeof(c->remote));
	memcpy(c->remote_host, nc->remote_host, sizeof(c->remote_host));
	memcpy(c->source, nc->source, sizeof(c->source));
	c->source_counted = nc->source_counted;
	c->failed = 0;
	c->linger = 0;
	c->outlen = 0;
	reader_init(&c->rd, fd, s->cfg.idle_timeout_s * 1000);
	reader_set_socket_timeout(&c->rd, s->cfg.idle_timeout_s * 1000);
	c->prev = NULL;
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
}

/* Admits fd, connected to ss, under the caps and makes c serve it
 * (counted against its source and in live, linked into the live list),
 * or refuses it (and closes it). The socket options come from the
 * listening socket (server_open), but for the receive timeout, which
 * the listening socket holds for its acceptors. Returns 1 if c serves
 * it, 0 if it was refused. */
static int
server_take(struct server *s, struct conn *c, int fd,
    const struct sockaddr_storage *ss)
{
	struct server_newcomer nc;
	struct timeval tv = { s->cfg.idle_timeout_s, 0 };
	long from_source;

	nc.source_counted = !server_source_of(&nc, ss) || s->cfg.limit_loopback;
	pthread_mutex_lock(&s->lock);
	if (s->live >= s->cfg.max_conns) {
		pthread_mutex_unlock(&s->lock);
		lograte_log(&s->refusals, LOG_LEVEL_WARN, "connection limit", "",
		    "connection limit (%d) reached, refusing one", s->cfg.max_conns);
		server_refuse(fd, NULL);
		return 0;
	}
	if (nc.source_counted) {
		from_source = (long)(intptr_t)htable_get(&s->sources, nc.source,
		    sizeof(nc.source));
		if (from_source >= s->cfg.max_conns_per_source ||
		    server_source_add(s, nc.source, 1) < 0) {
			pthread_mutex_unlock(&s->lock);
			lograte_log(&s->refusals, LOG_LEVEL_WARN,
			    "per-source connection limit", nc.remote_host,
			    "%s: per-source connection limit (%d) reached, refusing one",
			    nc.remote_host, s->cfg.max_conns_per_source);
			server_refuse(fd, "too many connections from this address");
			return 0;
		}
	}
	s->live++;
	server_conn_start(s, c, fd, &nc);
	pthread_mutex_unlock(&s->lock);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 1;
}

/* Most connection threads at once: every live connection's, and the
 * acceptors. */
static int
server_thread_cap(const struct server *s)
{
	return s->cfg.max_conns + SERVER_THREAD_CACHE;
}

static void *server_thread_main(void *arg);

/* A new struct conn for a new thread. Only its small fields are set: the
 * buffers are left as malloc gave them, untouched until used. */
static struct conn *
server_conn_new(struct server *s)
{
	struct conn *c = malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = -1;
	c->srv = s;
	c->next = c->prev = NULL;
	return c;
}

/* Starts a connection thread for c (its connection set, or c->fd -1 for
 * one that starts by accepting); s->threads already counts it. On
 * failure the count is taken back, and c's connection (if any) ended and
 * freed. Returns 0 or -1. */
static int
server_spawn(struct server *s, struct conn *c)
{
	sigset_t all, old;
	pthread_t tid;
	int rc = -1;

	if (c == NULL)
		c = server_conn_new(s);
	if (c != NULL) {
		/* the thread starts with every signal blocked; main takes them */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		rc = pthread_create(&tid, &s->attr, server_thread_main, c);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc != 0)
			lograte_log(&s->refusals, LOG_LEVEL_WARN, "thread start", "",
			    "cannot start a connection thread: %s", strerror(rc));
	}
	if (rc == 0)
		return 0;
	if (c != NULL && c->fd >= 0) {
		server_conn_end(s, c);
		pthread_mutex_lock(&s->lock);
		server_conn_uncount(s, c);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	if (--s->threads == 0)
		pthread_cond_broadcast(&s->drained);
	pthread_mutex_unlock(&s->lock);
	free(c);
	return -1;
}

/* Whether an idle thread may wait in accept(2) (under s->lock): not when
 * the server is closing, nor past SERVER_THREAD_CACHE acceptors, nor past
 * the connections the cap still admits (but one is always let wait, to
 * turn newcomers away), so that the descriptors acceptors hold stay
 * within what server_fit_nofile counted. */
static int
server_may_accept(const struct server *s)
{
	int room = s->cfg.max_conns - s->live;

	return !s->closing && s->acceptors < SERVER_THREAD_CACHE &&
	    s->acceptors < (room > 1 ? room : 1);
}

/* Whether one more acceptor should start: none is left (the one that
 * just took a connection was the last) and the cap leaves room. Counts
 * it in s->threads when so; under s->lock. */
static int
server_acceptor_wanted(struct server *s)
{
	if (s->closing || s->acceptors > 0 || s->threads >= server_thread_cap(s))
		return 0;
	s->threads++;
	return 1;
}

/* What an acceptor does when accept(2) failed with err: sheds a
 * connection when out of descriptors, logs any other real failure (at
 * most once a second), and after either backs off
 * SERVER_ACCEPT_BACKOFF_MS, so that no thread spins; a timeout, an
 * interruption or a connection gone before it was taken need nothing. */
static void
server_accept_failed(struct server *s, int err)
{
	struct pollfd none;

	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	    err == ECONNABORTED)
		return;
	if (err == EMFILE || err == ENFILE)
		server_out_of_fds(s, err);
	else
		lograte_log(&s->refusals, LOG_LEVEL_WARN, "accept", "",
		    "accept: %s", strerror(err));
	poll(&none, 0, SERVER_ACCEPT_BACKOFF_MS);
}

/* Waits in accept(2) for the next connection, as one of the acceptors
 * (s->acceptors counts this thread on entry and no longer on return),
 * and makes c serve it. Starts another acceptor first when this one was
 * the last. Returns 1 when c has a connection, 0 when none came (it was
 * refused, or the wait ended) and -1 when the thread should end: the
 * server is closing, or the thread waited SERVER_THREAD_IDLE_MS since
 * *idle_since with other acceptors left. */
static int
server_accept_next(struct server *s, struct conn *c, long long idle_since)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, err, closing, spawn, idle;

	fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	err = errno;
	/* a failure backs off while the thread still counts as an acceptor,
	 * so that none starts in its place only to fail the same way */
	if (fd < 0)
		server_accept_failed(s, err);
	pthread_mutex_lock(&s->lock);
	s->acceptors--;
	closing = s->closing;
	idle = fd < 0 && s->acceptors > 0 &&
	    clock_now_ms() - idle_since >= SERVER_THREAD_IDLE_MS;
	spawn = fd >= 0 && server_acceptor_wanted(s);
	pthread_mutex_unlock(&s->lock);
	if (spawn)
		server_spawn(s, NULL);
	if (closing) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd >= 0)
		return server_take(s, c, fd, &ss);
	return idle ? -1 : 0;
}

/* A connection thread: serves the connection it was started with (if
 * any), then takes turns with the other idle threads at accepting the
 * next one and serves it, the same thread and buffers from accept to
 * close. Ends when the server closes, when SERVER_THREAD_CACHE threads
 * already wait in accept, or after SERVER_THREAD_IDLE_MS without a
 * connection while others wait. */
static void *
server_thread_main(void *arg)
{
	struct conn *c = arg;
	struct server *s = c->srv;
	long long idle_since = clock_now_ms();

	for (;;) {
		if (c->fd >= 0) {
			log_debug("%s: connected", c->remote);
			server_serve(c);
			if (c->linger)
				server_linger(c->fd);
			server_conn_end(s, c);
			idle_since = clock_now_ms();
			pthread_mutex_lock(&s->lock);
			server_conn_uncount(s, c);
		} else {
			pthread_mutex_lock(&s->lock);
		}
		if (!server_may_accept(s))
			break;
		s->acceptors++;
		pthread_mutex_unlock(&s->lock);
		if (server_accept_next(s, c, idle_since) < 0) {
			pthread_mutex_lock(&s->lock);
			break;
		}
	}
	if (--s->threads == 0)
		pthread_cond_broadcast(&s->drained);
	pthread_mutex_unlock(&s->lock);
	free(c);
	return NULL;
}

int
server_adopt(struct server *s, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct conn *c;
	int room;

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
		close(fd);
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	room = !s->closing && s->threads < server_thread_cap(s);
	if (room)
		s->threads++;
	pthread_mutex_unlock(&s->lock);
	if (!room) {
		close(fd);
		return -1;
	}
	server_socket_options(fd, s->cfg.idle_timeout_s);
	c = server_conn_new(s);
	if (c == NULL || server_take(s, c, fd, &ss) == 0) {
		if (c == NULL)
			server_refuse(fd, NULL);
		free(c);
		pthread_mutex_lock(&s->lock);
		if (--s->threads == 0)
			pthread_cond_broadcast(&s->drained);
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	return server_spawn(s, c);
}

void
server_run(struct server *s, volatile sig_atomic_t *stop)
{
	while (!*stop) {
		struct pollfd none;
		int spawn;

		/* the acceptors start one another; this thread starts the
		 * first, and another whenever none is left (a thread could
		 * not be started) */
		pthread_mutex_lock(&s->lock);
		spawn = server_acceptor_wanted(s);
		pthread_mutex_unlock(&s->lock);
		if (spawn)
			server_spawn(s, NULL);
		poll(&none, 0, SERVER_POLL_MS);
	}
}

int
server_close(struct server *s)
{
	struct timespec deadline;
	struct conn *c;

	clock_deadline_after(&deadline, SERVER_SHUTDOWN_WAIT_MS);
	pthread_mutex_lock(&s->lock);
	/* wake the acceptors (accept(2) on a listening socket shut down
	 * fails at once, and they end) and the threads blocked in read or
	 * write (they close their own fds) */
	s->closing = 1;
	shutdown(s->listen_fd, SHUT_RDWR);
	for (c = s->conns; c != NULL; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (s->threads > 0)
		if (pthread_cond_timedwait(&s->drained, &s->lock, &deadline) != 0)
			break;
	int left = s->threads;
	pthread_mutex_unlock(&s->lock);
	if (left > 0) {
		/* threads still own the server: leave it allocated, and its
		 * listening socket open (an acceptor may yet call accept) */
		log_warn("%d connection thread(s) still running at exit", left);
		return left;
	}
	close(s->listen_fd);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	htable_free(&s->sources);
	pthread_attr_destroy(&s->attr);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->spare_lock);
	lograte_destroy(&s->refusals);
	pthread_cond_destroy(&s->drained);
	free(s);
	return 0;
}

/* server.h - the accept loop shared by the tracker and the peer.
 *
 * One detached thread per connection with a bounded stack, from accept
 * to close (threads and their buffers are reused: idle ones wait in
 * accept(2) together, up to SERVER_THREAD_CACHE of them, and the kernel
 * hands each new connection to one), a cap on live
 * connections (beyond it a newcomer gets "ERR 503 busy") and on those from
 * one source address, deadlines no trickle of bytes can stretch (the idle
 * timeout between requests, a whole request line within line_timeout_s of
 * its first byte, a minimum receive rate for bodies), and a shutdown that
 * waits (boundedly) for connections to finish. The program supplies one
 * function that answers a parsed request. */
#ifndef P2PM_SERVER_H
#define P2PM_SERVER_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include "p2pm/proto.h"
#include "p2pm/reader.h"
#include "p2pm/splice.h"

#define SERVER_DEFAULT_IDLE_TIMEOUT_S 30
#define SERVER_MAX_IDLE_TIMEOUT_S 86400
/* a request line (or a body line) must be whole this long after its first
 * byte came, seconds (--line-timeout) */
#define SERVER_DEFAULT_LINE_TIMEOUT_S 5
#define SERVER_MAX_LINE_TIMEOUT_S 3600
/* a request body must arrive at this many bytes/s at least, counted from
 * SERVER_BODY_GRACE_MS after its request line (--min-body-rate) */
#define SERVER_DEFAULT_MIN_BODY_RATE 16384
#define SERVER_MAX_MIN_BODY_RATE (1L << 30)
#define SERVER_BODY_GRACE_MS 3000
#define SERVER_DEFAULT_MAX_CONNS 256
#define SERVER_MAX_MAX_CONNS 100000
/* open connections from one source address (--max-conns-per-source);
 * loopback sources are exempt unless limit_loopback is set */
#define SERVER_DEFAULT_MAX_CONNS_PER_SOURCE 16
/* connection threads kept waiting in accept(2) for the next connection
 * once theirs ended, with their buffers, instead of ending (a thread
 * cache), and how long one waits, ms, before it ends after all (the last
 * one stays) */
#define SERVER_THREAD_CACHE 64
#define SERVER_THREAD_IDLE_MS (60 * 1000)
/* open files kept for everything but connections (logs, the listening
 * socket, the tracker connection, ffmpeg's pipes, cache files): max_conns
 * is lowered to fit the open-file limit less this */
#define SERVER_FD_RESERVE 32
/* the open-file limit asked for when the hard limit is unlimited */
#define SERVER_NOFILE_WANTED 1048576
/* after accept(2) fails for want of descriptors, a thread waits this
 * long, ms, before it accepts again */
#define SERVER_ACCEPT_BACKOFF_MS 100
#define SERVER_THREAD_STACK (512 * 1024)
/* how long a connection's replies are gathered before a write(2) */
#define SERVER_OUT_BUF 65536
/* how long shutdown waits for open connections to end */
#define SERVER_SHUTDOWN_WAIT_MS 1500
/* longest a whole request body (REGISTER) may take to arrive */
#define SERVER_BODY_DEADLINE_MS (120 * 1000)
/* unread input is drained for at most this long before a close, so
 * that the last reply is not lost to a TCP reset */
#define SERVER_LINGER_MS 500
#define SERVER_LINGER_BYTES (1024 * 1024)
/* how often server_run looks at the stop flag (and whether a thread is
 * left to accept) */
#define SERVER_POLL_MS 200

/* One client connection, owned by its thread, and reused by that thread
 * for the next connection it accepts. Handlers use the conn_* functions
 * below and never the descriptor itself. */
struct conn {
	int fd;			/* -1 while the thread waits in accept */
	struct server *srv;
	struct conn *next, *prev;	/* the server's list of live conns */
	char remote[NET_ADDR_MAX];	/* "host:port" of the other end */
	char remote_host[NET_ADDR_MAX];	/* its address alone, canonical */
	unsigned char source[16];	/* that address as IPv6 (IPv4 mapped) */
	int source_counted;	/* counts against the per-source limit */
	int failed;		/* a write failed: the connection is done */
	int linger;		/* input may be left unread: drain before close */
	size_t outlen;
	struct reader rd;	/* its buffer is never cleared */
	char out[SERVER_OUT_BUF];
};

/* Answers one request. Returns 0 to keep the connection, -1 to close it. */
typedef int (*server_handler_fn)(struct conn *c, const struct proto_request *req,
    void *ctx);

/* bit for a command in server_config.commands */
#define SERVER_CMD(cmd) (1u << (cmd))

struct server_config {
	const char *listen_addr;	/* "HOST:PORT", port may be 0 */
	int idle_timeout_s;
	int line_timeout_s;	/* 0: SERVER_DEFAULT_LINE_TIMEOUT_S */
	long min_body_rate;	/* bytes/s; 0: SERVER_DEFAULT_MIN_BODY_RATE */
	int max_conns;		/* lowered to what RLIMIT_NOFILE allows */
	/* descriptors one connection may hold at once (the peer: its socket
	 * and a segment file); 0: 1 */
	int fds_per_conn;
	int max_conns_per_source;	/* 0: SERVER_DEFAULT_MAX_CONNS_PER_SOURCE */
	/* non-zero: loopback sources count against the per-source limits
	 * too (--limit-loopback, for single-host tests and demos) */
	int limit_loopback;
	/* SERVER_CMD bits of the commands the handler serves (0: all); the
	 * others get "ERR 400 unknown command", and their body is skipped */
	unsigned commands;
	server_handler_fn handler;
	void *ctx;
};

struct server;

/* Raises the soft open-file limit to the hard one, lowers max_conns to
 * what that limit allows (logging one line if it does), and binds the
 * listening socket. Returns NULL with a reason in err on failure. */
struct server *server_open(const struct server_config *cfg, char *err, size_t errlen);

/* The address really bound ("127.0.0.1:40123"). */
const char *server_address(const struct server *s);

/* Serves connections until *stop becomes non-zero: starts the first
 * thread to accept (and another whenever none is left), then waits. Call
 * from the thread that should receive signals; connection threads block
 * all signals. */
void server_run(struct server *s, volatile sig_atomic_t *stop);

/* Stops listening, wakes every open connection, waits for them to end
 * (at most SERVER_SHUTDOWN_WAIT_MS) and frees the server. Returns the
 * number of connection threads still running: when it is not 0 the server
 * is left allocated, and so must be whatever those threads use (the
 * handler's ctx): the caller should exit without freeing it. */
int server_close(struct server *s);

/* Serves fd, a connected socket the program made itself rather than
 * accepted (a connection carried by a relay, or one opened by a hole
 * punch), as if it had been accepted: the same caps, deadlines and
 * handler, its other end as the remote address. The server owns fd from
 * then on. Returns 0, or -1 if it was refused or the server is closing
 * (fd closed). */
int server_adopt(struct server *s, int fd);
/* Number of requests answered so far, and of connections now open. */
unsigned long long server_requests(struct server *s);
int server_live_conns(struct server *s);
/* The connection cap in force (max_conns after the open-file clamp). */
int server_max_conns(const struct server *s);

/* The address of the connection's other end without the port, in one
 * canonical spelling ("192.0.2.1", "2001:db8::1"; IPv4-mapped IPv6 is
 * written as IPv4). Lives as long as the connection. */
const char *conn_remote_host(const struct conn *c);

/* Replies: buffered until the handler returns or the buffer fills. */
int conn_printf(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int conn_write(struct conn *c, const void *buf, size_t len);
/* Sends "ERR <code> <text>"; text NULL uses the code's own text. */
int conn_error(struct conn *c, enum proto_status status, const char *text);
/* Sends len bytes of an open file after what is buffered, with sendfile(2);
 * the buffered head leaves in the same packet as the file's first bytes. */
int conn_sendfile(struct conn *c, int file_fd, size_t len);
int conn_flush(struct conn *c);
/* Reads one more line of a request body (for REGISTER), under the same
 * limits as request lines: the idle timeout for its first byte, then the
 * line timeout for the rest, and any body deadline and rate floor. */
enum reader_result conn_read_line(struct conn *c, char *line, size_t linesz,
    size_t *len);
/* Starts (on) or ends (off) the limits on reading a whole request body:
 * SERVER_BODY_DEADLINE_MS, and the minimum receive rate after
 * SERVER_BODY_GRACE_MS. */
void conn_body_deadline(struct conn *c, int on);

/* Waits up to ms milliseconds (0: not at all) for input on c, buffered
 * or arriving, or for its end. Returns 1 if there is some (a read will
 * not wait), 0 if none came, -1 on error. For a handler that holds its
 * connection and also waits for something else. */
int conn_wait_input(struct conn *c, int ms);
/* Flushes c and returns a second descriptor for its socket, which the
 * caller owns and closes, to pass the connection on (a relay handing a
 * circuit to the thread that carries it); the handler then returns -1 so
 * that the server closes its own. -1 if input is already buffered (it
 * would be lost) or on error. */
int conn_dup_fd(struct conn *c);
/* Flushes c, then carries bytes both ways between c and fd (splice_run),
 * starting with what c has buffered past its last request, within lim.
 * *carried counts every byte passed on. The handler returns -1 after it
 * (the connection is spent); fd stays the caller's. */
enum splice_end conn_splice(struct conn *c, int fd,
    const struct splice_limits *lim, long long *carried);
/* Called for each body line (line NULL for a line holding a NUL byte);
 * returns 0 to go on, -1 to stop and close (having queued an ERR). */
typedef int (*conn_line_fn)(void *ctx, const char *line, size_t len);

/* Reads a request body (REGISTER) up to its empty line: at most
 * PROTO_MAX_SONGS lines (more: ERR 413), within SERVER_BODY_DEADLINE_MS
 * and at the minimum receive rate, each line under the request-line
 * limits (longer: ERR 414), handing each
 * to on_line (NULL: the body is dropped). Returns 0 when the empty line
 * came, -1 when the connection must close. */
int conn_read_body(struct conn *c, conn_line_fn on_line, void *ctx);

#endif

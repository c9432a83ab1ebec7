/* server.h - the accept loop shared by the tracker and the peer.
 *
 * One detached thread per connection with a bounded stack, a cap on live
 * connections (beyond it a newcomer gets "ERR 503 busy"), an idle timeout,
 * and a shutdown that waits (boundedly) for connections to finish. The
 * program supplies one function that answers a parsed request. */
#ifndef P2PM_SERVER_H
#define P2PM_SERVER_H

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include "p2pm/proto.h"
#include "p2pm/reader.h"

#define SERVER_DEFAULT_IDLE_TIMEOUT_S 30
#define SERVER_DEFAULT_MAX_CONNS 256
#define SERVER_MAX_MAX_CONNS 100000
#define SERVER_MAX_IDLE_TIMEOUT_S 86400
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
/* how often the accept loop looks at the stop flag */
#define SERVER_POLL_MS 200

/* One client connection, owned by its thread. Handlers use the conn_*
 * functions below and never the descriptor itself. */
struct conn {
	int fd;
	struct server *srv;
	struct conn *next, *prev;	/* the server's list of live conns */
	char remote[NET_ADDR_MAX];
	int failed;		/* a write failed: the connection is done */
	int linger;		/* input may be left unread: drain before close */
	size_t outlen;
	struct reader rd;
	char out[SERVER_OUT_BUF];	/* last: not cleared on accept */
};

/* Answers one request. Returns 0 to keep the connection, -1 to close it. */
typedef int (*server_handler_fn)(struct conn *c, const struct proto_request *req,
    void *ctx);

/* bit for a command in server_config.commands */
#define SERVER_CMD(cmd) (1u << (cmd))

struct server_config {
	const char *listen_addr;	/* "HOST:PORT", port may be 0 */
	int idle_timeout_s;
	int max_conns;
	/* SERVER_CMD bits of the commands the handler serves (0: all); the
	 * others get "ERR 400 unknown command", and their body is skipped */
	unsigned commands;
	server_handler_fn handler;
	void *ctx;
};

struct server;

/* Binds the listening socket. Returns NULL with a reason in err on failure. */
struct server *server_open(const struct server_config *cfg, char *err, size_t errlen);

/* The address really bound ("127.0.0.1:40123"). */
const char *server_address(const struct server *s);

/* Accepts connections until *stop becomes non-zero. Call from the thread
 * that should receive signals; connection threads block all signals. */
void server_run(struct server *s, volatile sig_atomic_t *stop);

/* Stops listening, wakes every open connection, waits for them to end
 * (at most SERVER_SHUTDOWN_WAIT_MS) and frees the server. Returns the
 * number of connection threads still running: when it is not 0 the server
 * is left allocated, and so must be whatever those threads use (the
 * handler's ctx): the caller should exit without freeing it. */
int server_close(struct server *s);

/* Number of requests answered so far, and of connections now open. */
unsigned long long server_requests(struct server *s);
int server_live_conns(struct server *s);

/* Replies: buffered until the handler returns or the buffer fills. */
int conn_printf(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int conn_write(struct conn *c, const void *buf, size_t len);
/* Sends "ERR <code> <text>"; text NULL uses the code's own text. */
int conn_error(struct conn *c, enum proto_status status, const char *text);
/* Sends len bytes of an open file after what is buffered, with sendfile(2). */
int conn_sendfile(struct conn *c, int file_fd, size_t len);
int conn_flush(struct conn *c);
/* Reads one more line of a request body (for REGISTER), under the same
 * limits as request lines. */
enum reader_result conn_read_line(struct conn *c, char *line, size_t linesz,
    size_t *len);
/* Starts (on) or ends (off) the SERVER_BODY_DEADLINE_MS limit on reading
 * a whole request body. */
void conn_body_deadline(struct conn *c, int on);

/* Called for each body line (line NULL for a line holding a NUL byte);
 * returns 0 to go on, -1 to stop and close (having queued an ERR). */
typedef int (*conn_line_fn)(void *ctx, const char *line, size_t len);

/* Reads a request body (REGISTER) up to its empty line: at most
 * PROTO_MAX_SONGS lines (more: ERR 413), within SERVER_BODY_DEADLINE_MS,
 * each line under the request-line limits (longer: ERR 414), handing each
 * to on_line (NULL: the body is dropped). Returns 0 when the empty line
 * came, -1 when the connection must close. */
int conn_read_body(struct conn *c, conn_line_fn on_line, void *ctx);

#endif

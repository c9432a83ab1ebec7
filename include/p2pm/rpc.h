/* rpc.h - the one request/reply client: a connection to any of our servers
 * (a tracker or a peer), carrying one request after the other.
 *
 * Requests are queued with rpc_request (and the lines of a request body
 * with rpc_send_line) and go out, buffered, with rpc_flush or when a reply
 * is read. A reply is read as one line (rpc_expect_ok, rpc_expect_word), a
 * counted list of lines (rpc_expect_count, then rpc_next_line n times) or a
 * framed body ("<WORD> <name> <bytes>" then exactly that many bytes:
 * rpc_body_header then rpc_body_read, or rpc_body for both at once).
 *
 * Every call returns an enum rpc_result. On failure rpc_error(c) says why
 * in one line that does not name the server (rpc_addr does); after
 * RPC_REFUSED, rpc_err_code and rpc_err_text give what the server's
 * "ERR <code> <text>" said. A failed connection is not to be used for more
 * requests: framing may be lost. Nothing here exits or prints.
 *
 * One thread uses a connection at a time; only rpc_shutdown may be called
 * from another thread while it is in use. */
#ifndef P2PM_RPC_H
#define P2PM_RPC_H

#include <stddef.h>

#include "p2pm/net.h"

/* room for the reason of a failure, in bytes */
#define RPC_ERR_LEN 512
/* requests are gathered in a buffer this big (bytes) before a write(2) */
#define RPC_OUT_BUF 65536
/* bodies are read in pieces of at most this many bytes (a read(2) may
 * bring less), each hashed, for rpc_body_read_hashed, while it is still in
 * the CPU's cache */
#define RPC_READ_CHUNK (256 * 1024)
/* slowest a body may arrive (bytes per second), on top of one wait of
 * io_ms: a server dripping bytes more slowly is given up like one that
 * went silent */
#define RPC_MIN_BYTES_PER_S (16 * 1024)

enum rpc_result {
	RPC_OK = 0,
	RPC_REFUSED = -1,	/* the server answered "ERR <code> <text>" */
	RPC_BAD_REPLY = -2,	/* the reply broke the protocol or a limit */
	RPC_IO = -3,		/* cannot send or receive: closed, reset, timed
				 * out, or a body arriving too slowly */
	RPC_INTERRUPTED = -4,	/* net_interrupted() became true */
	RPC_LOCAL = -5		/* out of memory, or a request line too long */
};

struct rpc_conn;

/* Connects to addr ("host:port"), waiting at most connect_ms, and then at
 * most io_ms for each wait to send or receive. Returns a connection to end
 * with rpc_close, or NULL with the reason in err ("connection refused",
 * "timed out", "invalid address ...": without "cannot connect to ADDR"). */
struct rpc_conn *rpc_open(const char *addr, int connect_ms, int io_ms,
    char *err, size_t errlen);

/* rpc_open from the local IP address `from` (NULL: any, as rpc_open). */
struct rpc_conn *rpc_open_from(const char *addr, const char *from, int connect_ms,
    int io_ms, char *err, size_t errlen);

/* A connection over fd, a socket already connected (by a hole punch) to
 * the server called addr, with rpc_open's io_ms. Owns fd from then on
 * (closed if out of memory: NULL). */
struct rpc_conn *rpc_adopt(int fd, const char *addr, int io_ms);

/* The address the connection was opened to, as given to rpc_open. */
const char *rpc_addr(const struct rpc_conn *c);

/* Queues a request line (printf-style, without its LF, which is added);
 * its first word names the request in later error messages. The line with
 * its LF must fit PROTO_MAX_LINE (else RPC_LOCAL). */
enum rpc_result rpc_request(struct rpc_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Queues the request "<cmd> <name>" with name percent-encoded for the
 * wire; a name over PROTO_MAX_NAME bytes gives RPC_LOCAL ("name too
 * long"). */
enum rpc_result rpc_request_name(struct rpc_conn *c, const char *cmd,
    const char *name);

/* Queues one more line of a request body (a REGISTER's songs, its empty
 * last line), under the same limit. */
enum rpc_result rpc_send_line(struct rpc_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sends what is queued. A failed write fails every later send too
 * (RPC_IO, "connection lost"). */
enum rpc_result rpc_flush(struct rpc_conn *c);

/* Sends what is queued and reads one reply line: OK for exactly "OK",
 * RPC_REFUSED for an ERR line, RPC_BAD_REPLY for anything else. */
enum rpc_result rpc_expect_ok(struct rpc_conn *c);

/* Sends what is queued and reads one reply line that must be word, alone
 * or followed by a space; *rest points after that space (or at ""), valid
 * until the next read on c. */
enum rpc_result rpc_expect_word(struct rpc_conn *c, const char *word,
    const char **rest);

/* Sends what is queued and reads the head of a counted list, "<word> <n>"
 * with n in 0..max; the n lines follow, each read with rpc_next_line. */
enum rpc_result rpc_expect_count(struct rpc_conn *c, const char *word,
    long max, long *n);

/* Reads one more line of a reply (a line of a counted list) as it is:
 * an ERR line is not special here. *line is valid until the next read. */
enum rpc_result rpc_next_line(struct rpc_conn *c, const char **line);

/* Sends what is queued and reads a body header "<word> <name> <bytes>":
 * the name must decode to want (else RPC_BAD_REPLY, before the body is
 * read) and bytes be 0..maxbytes. Then exactly *bytes bytes follow, to be
 * read with rpc_body_read before anything else on c. */
enum rpc_result rpc_body_header(struct rpc_conn *c, const char *word,
    const char *want, long maxbytes, size_t *bytes);

/* Reads the bytes announced by rpc_body_header into buf (bytes long),
 * within io_ms plus bytes at RPC_MIN_BYTES_PER_S; a body arriving more
 * slowly is given up ("too slow: ..."). */
enum rpc_result rpc_body_read(struct rpc_conn *c, void *buf, size_t bytes);

struct sha256;

/* rpc_body_read that also feeds each piece to h as it arrives, so that
 * the digest is ready when the last byte is: verification overlaps the
 * network instead of following it. */
enum rpc_result rpc_body_read_hashed(struct rpc_conn *c, void *buf,
    size_t bytes, struct sha256 *h);

/* rpc_body_header and rpc_body_read into a fresh buffer: on success *body
 * holds *len bytes and a NUL after them, owned by the caller (free). */
enum rpc_result rpc_body(struct rpc_conn *c, const char *word,
    const char *want, long maxbytes, char **body, size_t *len);

/* The reason for the last failure on c, one line. */
const char *rpc_error(const struct rpc_conn *c);

/* After RPC_REFUSED: the ERR code and its text, made safe to show by
 * textsafe_copy (invalid UTF-8, control codes and bidi controls replaced
 * by '?'); 0 and "" before any ERR. */
int rpc_err_code(const struct rpc_conn *c);
const char *rpc_err_text(const struct rpc_conn *c);

/* Makes whatever c is waiting for fail at once. The only call that may
 * come from another thread while c is in use; never after rpc_close. */
void rpc_shutdown(struct rpc_conn *c);

/* Queues QUIT after the requests queued, to go out with them: the server
 * answers those and then closes, so that a connection opened for one
 * request costs no second write, nor a server's wait for the next one.
 * Their replies are read as usual; nothing may be requested after it,
 * and rpc_close sends no second QUIT. */
enum rpc_result rpc_quit(struct rpc_conn *c);

/* Sends QUIT after what is queued (best effort; not again after
 * rpc_quit), closes the connection and frees c. NULL is allowed. */
void rpc_close(struct rpc_conn *c);

#endif

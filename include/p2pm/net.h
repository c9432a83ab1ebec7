/* net.h - socket helpers: listen, connect, full writes, timeouts, sendfile.
 *
 * Every function returns 0 (or a descriptor) on success and -1 on failure,
 * leaving a one-line reason in err (at most errlen bytes) where it takes one.
 * Nothing here exits or prints. */
#ifndef P2PM_NET_H
#define P2PM_NET_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#define NET_ERR_LEN 256
/* longest "host:port" or "[v6addr]:port" text we accept */
#define NET_ADDR_MAX 300
#define NET_HOST_MAX 256
#define NET_LISTEN_BACKLOG 128

/* Splits "host:port" or "[v6addr]:port" into host and port. The host must be
 * 1..NET_HOST_MAX-1 bytes of [A-Za-z0-9.-] (or an IPv6 literal in brackets
 * made of hex digits, ':' and '.'), and the port 1..65535 in decimal.
 * With allow_port0, port 0 is accepted (for listening addresses). */
int net_parse_hostport(const char *text, char *host, size_t hostlen,
    unsigned *port, int allow_port0);

/* Writes host and port back as text, bracketing IPv6 literals. */
int net_format_hostport(const char *host, unsigned port, char *out, size_t outlen);

/* Binds and listens on ADDR:PORT (port 0 picks a free one). */
int net_listen(const char *hostport, char *err, size_t errlen);

struct sockaddr_storage;

/* Writes an IPv4 or IPv6 socket address as "host:port" / "[v6]:port". */
int net_sockaddr_format(const struct sockaddr_storage *ss, char *out, size_t outlen);

/* Writes the address a socket is bound to (net_local_addr) or connected to
 * (net_remote_addr) as "host:port". */
int net_local_addr(int fd, char *out, size_t outlen);
int net_remote_addr(int fd, char *out, size_t outlen);

/* Connects to host:port, giving up after timeout_ms for each address tried.
 * The socket returned is blocking, with no timeouts set. */
int net_connect(const char *hostport, int timeout_ms, char *err, size_t errlen);

/* net_connect from the local IP address `from` (an IPv4 or IPv6 literal,
 * any port; NULL: wherever the kernel picks): an address of the other
 * family cannot be reached from it. */
int net_connect_from(const char *hostport, const char *from, int timeout_ms,
    char *err, size_t errlen);

/* The same from local_port on every address (0: a free port), bound with
 * SO_REUSEADDR and SO_REUSEPORT so that several sockets bound alike share
 * the port: one to the tracker, so that it sees the port, and the ones a
 * hole punch dials from it. */
int net_connect_from_port(const char *hostport, unsigned local_port, int timeout_ms,
    char *err, size_t errlen);
/* The local port a socket is bound to, or -1. */
int net_local_port(int fd);
/* while a line read by net_read_line_exact is only partly there, it looks
 * again after this many milliseconds */
#define NET_LINE_PEEK_WAIT_MS 5
/* Reads one line ending in LF within timeout_ms, and not one byte more, so
 * that what follows it stays in the socket for whoever reads it next (a
 * server taking over the connection). Strips the LF and a CR before it and
 * NUL-terminates line (linesz bytes). Returns the line's length, or -1
 * with errno set (ETIMEDOUT, EMSGSIZE for a line longer than linesz - 1,
 * ECONNRESET for a connection closed first). */
int net_read_line_exact(int fd, char *line, size_t linesz, int timeout_ms);
/* Sets receive and send timeouts (0 = none) on a socket. */
int net_set_timeouts(int fd, int recv_ms, int send_ms);

/* Writes all len bytes to a socket, pipe or file, retrying on EINTR and
 * short writes. A closed reader gives -1 with EPIPE: the programs ignore
 * SIGPIPE (sendfile(2) would raise it too). */
int net_write_all(int fd, const void *buf, size_t len);

/* net_write_all for a socket, telling TCP that more follows at once
 * (MSG_MORE): a reply's head then leaves in one packet with the start of
 * the body sent next, as with TCP_CORK. */
int net_send_more(int sock, const void *buf, size_t len);

/* Sends len bytes of file_fd starting at offset 0 with sendfile(2). Fails if the
 * file is shorter than len or the peer stops reading past the send timeout. */
int net_sendfile_all(int sock, int file_fd, size_t len);

/* Makes waits in this library give up when *flag is non-zero after a
 * signal interrupts them: for a program whose main thread takes SIGINT
 * (a command-line tool). Daemons leave it unset. */
void net_set_interrupt_flag(const volatile sig_atomic_t *flag);
/* True once the flag set above is non-zero. */
int net_interrupted(void);

#endif

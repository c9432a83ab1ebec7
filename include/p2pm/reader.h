/* reader.h - buffered reading of protocol lines and framed bodies from a
 * descriptor, with a hard line limit, a wait limit for each read, an
 * overall deadline and a minimum receive rate. */
#ifndef P2PM_READER_H
#define P2PM_READER_H

#include <stddef.h>
#include <sys/types.h>

#define READER_BUF_SIZE 65536

enum reader_result {
	READER_OK = 0,
	READER_EOF = -1,	/* peer closed before a whole line */
	READER_TOO_LONG = -2,	/* line longer than the limit: framing lost */
	READER_TIMEOUT = -3,	/* nothing arrived within the timeout */
	READER_ERROR = -4,	/* read error (errno is set) */
	READER_NUL = -5,	/* line held a NUL byte (line consumed) */
	READER_INTERRUPTED = -6,	/* a signal came and net_interrupted() is true */
	READER_TOO_SLOW = -7	/* input fell below the minimum rate */
};

/* Use the functions below, not the fields: they are here only so that a
 * reader can live inside another struct. */
struct reader {
	int fd;
	int timeout_ms;		/* for each wait; <= 0 waits forever */
	int sock_timeout_ms;	/* the descriptor's SO_RCVTIMEO; 0: none */
	long long deadline_ms;	/* clock_now_ms() past which every read times
				 * out, whatever trickles in; 0: none */
	long min_rate;		/* bytes/s owed after the grace; 0: none */
	long long rate_start_ms, rate_grace_ms;
	unsigned long long rate_bytes;	/* read since rate_start_ms */
	size_t start, end;
	char buf[READER_BUF_SIZE];
};

/* Starts a reader on fd with no deadline and no rate floor. Touches only
 * the bookkeeping fields, never the buffer, so that a reader may be
 * reused for a new descriptor cheaply. */
void reader_init(struct reader *r, int fd, int timeout_ms);

/* Tells the reader that fd's SO_RCVTIMEO is ms (the caller set it), so
 * that a wait as long as the reader's own timeout, with no deadline or
 * rate floor nearer, is one blocking read(2) instead of a poll(2) and a
 * read. ms <= 0: the descriptor has none (every wait polls). */
void reader_set_socket_timeout(struct reader *r, int ms);

/* Sets an overall deadline ms milliseconds from now for what is read next
 * (a whole body, say), on top of the wait for each read; ms <= 0 clears it. */
void reader_set_deadline(struct reader *r, long long ms);

/* The same with an absolute clock_now_ms() time (0 clears it), and the
 * deadline now in force (0: none), to put one back after a shorter one. */
void reader_set_deadline_at(struct reader *r, long long at_ms);
long long reader_deadline(const struct reader *r);

/* From now on, reads give READER_TOO_SLOW once fewer than bytes_per_s
 * bytes a second, counted from grace_ms after now, have arrived: by time
 * t, at least (t - now - grace_ms) * bytes_per_s / 1000 bytes. A trickle
 * cannot stretch it the way it stretches the wait for each read.
 * bytes_per_s <= 0 turns the floor off. */
void reader_set_min_rate(struct reader *r, long bytes_per_s, long long grace_ms);

/* Waits (under the limits above) until at least one byte is buffered:
 * READER_OK, or why not. For timing a line from its first byte. */
enum reader_result reader_wait_input(struct reader *r);

/* True once the deadline set with reader_set_deadline has passed: a read
 * that gave READER_TIMEOUT then did so because of the deadline, not
 * because one wait went silent. */
int reader_deadline_passed(const struct reader *r);

/* Reads one line ending in LF, strips LF and an optional CR before it, and
 * copies it NUL-terminated into line (linesz bytes, terminator included).
 * A line whose length with terminator exceeds maxline (and linesz) gives
 * READER_TOO_LONG. */
enum reader_result reader_line(struct reader *r, char *line, size_t linesz,
    size_t maxline, size_t *len);

/* Reads exactly n bytes, first from the buffer, then from the descriptor. */
enum reader_result reader_exact(struct reader *r, void *out, size_t n);

/* Bytes already buffered and not yet consumed. */
size_t reader_buffered(const struct reader *r);

/* Returns a short text for a result ("timed out", "connection closed"...). */
const char *reader_strerror(enum reader_result res);

#endif

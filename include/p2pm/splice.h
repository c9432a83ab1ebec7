/* splice.h - carrying bytes both ways between two sockets, within a byte
 * and a time limit (the relay's circuits).
 *
 * One thread, two descriptors, one bounded buffer: whatever one side
 * sends is written whole to the other before more is read. Nothing here
 * exits or prints. */
#ifndef P2PM_SPLICE_H
#define P2PM_SPLICE_H

#include <stddef.h>

/* bytes read from one side before they are written to the other */
#define SPLICE_BUF 65536

enum splice_end {
	SPLICE_CLOSED,		/* a side closed its connection, or failed */
	SPLICE_BYTES,		/* the byte limit was carried: both closed */
	SPLICE_TIME,		/* the time limit passed */
	SPLICE_IDLE		/* neither side sent anything for idle_ms */
};

struct splice_limits {
	long long max_bytes;	/* both ways together; never more is read */
	long long deadline_ms;	/* clock_now_ms() time it ends at; 0: none */
	int idle_ms;		/* silence both ways that ends it; 0: none */
};

/* Carries bytes between a and b until one side closes or fails or a
 * limit is reached, never reading more than the byte limit leaves.
 * *carried counts the bytes written on (both ways; a write the time
 * limit cut short is not counted). The descriptors are left open (the
 * caller closes them); a write waits for room as long as its socket's
 * send timeout, and never past the deadline: a side that stops reading
 * holds the splice no longer than the time limit. Returns why it ended. */
enum splice_end splice_run(int a, int b, const struct splice_limits *lim,
    long long *carried);

/* A short text for how a splice ended ("the byte limit was reached"). */
const char *splice_end_text(enum splice_end end);

#endif

/* punchwait.h - a peer behind a NAT waiting for hole punches: one
 * connection to each tracker held open from a port of its own
 * (PUNCHWAIT), and for each PUNCH the tracker writes on it, a dial from
 * that same port to the client's observed address while the client dials
 * ours (TCP simultaneous open; docs/protocol.md, "Hole punching"). A
 * connection that opens is served like an accepted one. */
#ifndef P2PM_PEER_PUNCHWAIT_H
#define P2PM_PEER_PUNCHWAIT_H

#include "p2pm/cli.h"
#include "p2pm/server.h"

#define PUNCHWAIT_CONNECT_TIMEOUT_MS 2000
/* how long the tracker has to answer PUNCHWAIT, ms */
#define PUNCHWAIT_REPLY_TIMEOUT_MS 5000
/* how often the held connection is looked at, ms, and a PING sent on it,
 * seconds (well inside the tracker's PUNCH_SILENCE_MS) */
#define PUNCHWAIT_POLL_MS 500
#define PUNCHWAIT_PING_S 15
/* one punch: each dial waits this long, ms, until the deadline, ms after
 * the tracker's PUNCH line; a dial refused at once is tried again after
 * PUNCHWAIT_RETRY_MS */
#define PUNCHWAIT_DIAL_MS 1000
#define PUNCHWAIT_DEADLINE_MS 4000
#define PUNCHWAIT_RETRY_MS 50
/* retry delays while a tracker cannot be reached, seconds */
#define PUNCHWAIT_BACKOFF_MIN_S 1
#define PUNCHWAIT_BACKOFF_MAX_S 30
#define PUNCHWAIT_THREAD_STACK (256 * 1024)

struct punchwait;

/* Starts one thread per tracker waiting for punches to advertise and
 * serving what they open with srv: at once if enabled, else from the
 * first punchwait_enable on. Call with signals blocked. NULL (logged) if
 * a thread cannot start; none is left running then. */
struct punchwait *punchwait_start(const struct cli_trackers *trackers,
    const char *advertise, struct server *srv, int enabled);

/* Has every thread of p wait for punches from now on (again a no-op);
 * void *, so that it serves as a callback. NULL allowed. */
void punchwait_enable(void *p);

/* Stops every thread (before srv is closed) and frees p; NULL allowed. */
void punchwait_stop(struct punchwait *p);

#endif

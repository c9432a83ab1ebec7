/* punch.h - the tracker brokering TCP hole punches (libp2p DCUtR is the
 * model; docs/protocol.md, "Hole punching").
 *
 * A peer behind a NAT holds a connection open with PUNCHWAIT; the tracker
 * answers with the address it sees it at and keeps the connection. A
 * client that wants that peer sends PUNCH <peer> from the local port it
 * will dial from; the tracker writes "PUNCH <client's observed address>"
 * to the peer and answers the client "PUNCH <peer's observed address>",
 * and both dial each other at once from those ports. */
#ifndef P2PM_TRACKER_PUNCH_H
#define P2PM_TRACKER_PUNCH_H

#include "p2pm/server.h"

/* peers waiting for punches at once, in all */
#define PUNCH_MAX_WAITERS 65536
/* punch requests queued for one peer and not yet written to it */
#define PUNCH_MAX_PENDING 8
/* a waiting peer says something (PING) at least this often, ms, or its
 * connection is closed */
#define PUNCH_SILENCE_MS (60 * 1000)
/* how often a waiting connection is looked at, ms */
#define PUNCH_POLL_MS 200

struct punch_broker;

/* NULL if out of memory. */
struct punch_broker *punch_new(void);
/* Frees it; no handler may be in it any more. */
void punch_free(struct punch_broker *b);

/* PUNCHWAIT for the peer addr (already bound to c's source): answers
 * "OK <observed>" and holds c, writing a PUNCH line for each request,
 * answering PING, until c ends, goes silent for PUNCH_SILENCE_MS or a
 * newer PUNCHWAIT of addr takes over. Returns -1 (the connection is
 * done) or what a handler returns. */
int punch_wait(struct punch_broker *b, struct conn *c, const char *addr);

/* PUNCH addr from c: "PUNCH <observed>" of the waiting peer, after its
 * connection was given c's observed address, or ERR 404 when the peer is
 * not waiting, ERR 503 when it has too many punches queued. */
int punch_request(struct punch_broker *b, struct conn *c, const char *addr);

#endif

/* reservation.h - a peer behind a NAT keeping a reservation at a relay
 * (--use-relay): one connection to it held open, RESERVE renewed at half
 * its lifetime, and for each INCOMING circuit a connection dialled to the
 * relay (ACCEPT) and served like an accepted one (docs/protocol.md,
 * "Relays"). While it holds a reservation the peer registers
 * relay=HOST:PORT. */
#ifndef P2PM_PEER_RESERVATION_H
#define P2PM_PEER_RESERVATION_H

#include "p2pm/server.h"
#include "announce.h"

#define RESERVATION_CONNECT_TIMEOUT_MS 2000
/* how long the relay has to answer RESERVE or ACCEPT, ms */
#define RESERVATION_REPLY_TIMEOUT_MS 5000
/* how often the held connection is looked at (stop, renewal), ms */
#define RESERVATION_POLL_MS 500
/* retry delays while the relay cannot be reached or refuses, seconds:
 * from the first, doubling up to the last */
#define RESERVATION_BACKOFF_MIN_S 1
#define RESERVATION_BACKOFF_MAX_S 30
/* longest reservation lifetime taken from a relay's answer, seconds */
#define RESERVATION_MAX_S 86400
#define RESERVATION_THREAD_STACK (256 * 1024)

struct reservation;

/* Starts the thread that keeps advertise reserved at relay, serving its
 * circuits with srv and telling ann when it holds a reservation. Call
 * with signals blocked. NULL (logged) if it cannot start. */
struct reservation *reservation_start(const char *relay, const char *advertise,
    struct server *srv, struct announcer *ann);

/* Stops the thread (before srv is closed) and frees r; NULL is allowed. */
void reservation_stop(struct reservation *r);

#endif

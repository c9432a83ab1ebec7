/* announce.h - keeping the peer registered with the tracker. */
#ifndef P2PM_PEER_ANNOUNCE_H
#define P2PM_PEER_ANNOUNCE_H

#include "index.h"

#define ANNOUNCE_DEFAULT_RENEW_S 20
#define ANNOUNCE_MAX_RENEW_S 86400
#define ANNOUNCE_CONNECT_TIMEOUT_MS 1000
/* how long a REGISTER may take to send and answer */
#define ANNOUNCE_IO_TIMEOUT_MS 5000
/* UNREGISTER at shutdown: connect and answer, each */
#define ANNOUNCE_BYE_TIMEOUT_MS 400
/* first retry delay while the tracker is unreachable (then doubling) */
#define ANNOUNCE_BACKOFF_MIN_S 1
/* after a poke, how long to gather more changes before registering */
#define ANNOUNCE_GATHER_MS 200
#define ANNOUNCE_THREAD_STACK (256 * 1024)

struct announcer;

/* Starts the thread that REGISTERs the ready songs of idx as advertise with
 * tracker, again every renew_s seconds, and after each announce_poke;
 * while the tracker cannot be reached it retries after 1 s, doubling up to
 * renew_s. Call with signals blocked. Returns NULL if the thread cannot
 * start. */
struct announcer *announce_start(const char *tracker, const char *advertise,
    int renew_s, struct index *idx);

/* Asks for a REGISTER soon because the set of ready songs changed. */
void announce_poke(struct announcer *a);

/* Stops the thread, sends UNREGISTER (best effort, about one second at
 * most) and frees a. */
void announce_stop(struct announcer *a);

#endif

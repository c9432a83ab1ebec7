/* announce.h - keeping the peer registered with each of its trackers. */
#ifndef P2PM_PEER_ANNOUNCE_H
#define P2PM_PEER_ANNOUNCE_H

#include "p2pm/cli.h"
#include "index.h"
#include "portmap.h"

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

/* The announcers of every tracker of the peer, as one handle. */
struct announcer;

/* Starts one thread per tracker (at least one) that REGISTERs the ready
 * songs of idx as advertise with that tracker, again every renew_s
 * seconds, and after each announce_poke; while its tracker cannot be
 * reached it retries after 1 s, doubling up to renew_s. Each tracker has
 * its own connection, renewals and backoff: one that is down, slow or
 * silent delays no other. While pm (NULL: none) holds a mapping on the
 * router, the mapped address is registered instead of advertise. Before
 * registering, each asks its tracker whether the address is reachable
 * from outside (reach.h: again when the address changes, and every
 * REACH_RECHECK_S) and registers a peer that is not as behind a NAT
 * (reach=nat), unless `given` (the user gave advertise with -a: it is
 * registered as it is, and only a warning says it was not reached).
 * Each time a tracker finds it not reachable so, on_nat (NULL: none) is
 * called with on_nat_arg from that tracker's thread.
 * Call with signals blocked. Returns NULL (after logging
 * why) if a thread cannot start; none is left running then. */
struct announcer *announce_start(const struct cli_trackers *trackers,
    const char *advertise, int given, int renew_s, struct index *idx,
    struct portmap *pm, void (*on_nat)(void *), void *on_nat_arg);

/* Asks every tracker's thread for a REGISTER soon because the set of
 * ready songs changed. */
void announce_poke(struct announcer *a);

/* From now on every REGISTER says reach=nat, whatever the check of
 * reachability finds (--behind-nat; or a relay used by a peer whose
 * address was given with -a, which is not measured). One is sent soon. */
void announce_set_behind_nat(struct announcer *a);

/* The relay that holds a reservation for this peer, or none (NULL or
 * ""). REGISTERs name it (relay=RELAY) while the peer registers as behind
 * a NAT; a peer the tracker reached (directly or through its router's
 * mapping) registers without it, so that it is located as direct or
 * mapped, not through the relay. One is sent soon when it changes. */
void announce_set_relay(struct announcer *a, const char *relay);

/* Stops every thread; each sends its tracker UNREGISTER (best effort),
 * all at the same time, so that it takes as long as the slowest one does
 * alone: ANNOUNCE_BYE_TIMEOUT_MS to connect and as much for the answer,
 * after an ANNOUNCE_CONNECT_TIMEOUT_MS connect in progress, at most.
 * Frees a; NULL is allowed. */
void announce_stop(struct announcer *a);

#endif

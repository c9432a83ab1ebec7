/* portmap.h - a port mapping on the home router, kept while the peer runs.
 *
 * A thread asks the default gateway (from /proc/net/route) for a TCP
 * mapping of the peer's port with PCP (RFC 6887), falling back to NAT-PMP
 * (RFC 6886) when the router speaks only that; renews it at half its
 * lifetime; maps again when the router lost it (its epoch went back: a
 * restart) or stopped answering; deletes it (lifetime 0) on stop. Each
 * exchange retries after 250 ms, doubling, PORTMAP_TRIES times. */
#ifndef P2PM_PEER_PORTMAP_H
#define P2PM_PEER_PORTMAP_H

#include <stddef.h>

/* the lifetime asked for, seconds (RFC 6886's recommendation; the router
 * may grant less, and the mapping is renewed at half of what it grants) */
#define PORTMAP_LIFETIME_S 7200
/* an exchange: first wait for an answer, ms, doubled after each of
 * PORTMAP_TRIES sends (250 + 500 + 1000 + 2000 ms in all) */
#define PORTMAP_FIRST_WAIT_MS 250
#define PORTMAP_TRIES 4
/* deleting the mapping at stop: sends, from PORTMAP_FIRST_WAIT_MS on */
#define PORTMAP_DELETE_TRIES 2
/* after a failure, the next attempt comes after this many seconds, or
 * half the last granted lifetime if that is sooner */
#define PORTMAP_RETRY_S 60
/* the shortest renewal period, seconds (a router granting 1 s) */
#define PORTMAP_MIN_RENEW_S 1
/* how long an announcer waits for the first mapping attempt, ms */
#define PORTMAP_SETTLE_MS ((PORTMAP_FIRST_WAIT_MS << PORTMAP_TRIES) * 2)

enum portmap_proto {
	PORTMAP_AUTO,	/* PCP, then NAT-PMP if the router speaks only that */
	PORTMAP_PCP,
	PORTMAP_NATPMP
};

struct portmap;

/* A mapping of TCP internal_port, not started: NULL if out of memory. */
struct portmap *portmap_new(unsigned internal_port, enum portmap_proto proto);

/* Starts the thread; changed(ctx) is called from it whenever the mapped
 * address appears, changes or goes. Call with signals blocked. Returns 0,
 * or -1 (logged) when the thread cannot start: there is no mapping then. */
int portmap_start(struct portmap *pm, void (*changed)(void *), void *ctx);

/* The router's external "ip:port" for the peer's port into out (outlen
 * bytes) and 1 while a mapping holds; 0 while none does (pm NULL too). */
int portmap_external(struct portmap *pm, char *out, size_t outlen);

/* The address of the router that holds the mapping into out (outlen
 * bytes) and 1 while a mapping holds; 0 while none does (pm NULL too). */
int portmap_router(struct portmap *pm, char *out, size_t outlen);

/* Waits until the first attempt ended (mapped or not), at most max_ms. */
void portmap_wait_settled(struct portmap *pm, int max_ms);

/* Stops the thread, deleting the mapping it holds (best effort, at most
 * PORTMAP_DELETE_TRIES sends). No more changed() calls after it. */
void portmap_stop(struct portmap *pm);

/* Frees pm (stopped, or never started); NULL is allowed. */
void portmap_free(struct portmap *pm);

#endif

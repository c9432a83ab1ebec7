/* dialback.h - telling a peer whether it can be reached from outside.
 *
 * On a peer's DIALBACK request the tracker opens a fresh connection to the
 * peer's port at the address the request comes from (never anywhere else)
 * and sees whether a p2p-music server answers there (PING -> PONG). Each
 * dial is bounded in time, dials from one source address are rate-limited
 * and those under way at once are capped, so that the tracker can be used
 * neither to scan nor to flood anyone. */
#ifndef P2PM_TRACKER_DIALBACK_H
#define P2PM_TRACKER_DIALBACK_H

#include <stddef.h>

/* how long a dial-back may take to connect, and then to get its PONG, ms */
#define DIALBACK_CONNECT_MS 2000
#define DIALBACK_IO_MS 2000
/* dial-backs one source address may ask for in DIALBACK_WINDOW_MS */
#define DIALBACK_PER_SOURCE 6
#define DIALBACK_WINDOW_MS 60000
/* dial-backs under way at once, from every source together */
#define DIALBACK_MAX_INFLIGHT 16
/* source addresses whose recent dial-backs are remembered (a table of
 * this many slots; a source whose slot another one took starts afresh) */
#define DIALBACK_SLOTS 4096

enum dialback_result {
	DIALBACK_REACHABLE,	/* a p2p-music server answered PONG there */
	DIALBACK_UNREACHABLE,	/* nothing, or something else, answered */
	DIALBACK_RATE_LIMITED,	/* this source asked too often */
	DIALBACK_BUSY		/* DIALBACK_MAX_INFLIGHT are under way */
};

struct dialback;

/* A dial-back service with an empty rate table, dialing from the local
 * IP address `from` (copied; NULL: the kernel picks, which is the address
 * the tracker is reached at). Dialing from another address than the one
 * the peer has talked to is what tells a router that lets in only
 * addresses its host has sent to (address-dependent filtering) from a
 * reachable peer. NULL if out of memory. */
struct dialback *dialback_new(const char *from);
void dialback_free(struct dialback *d);

/* Dials src_ip (canonical, as source.h makes it) at port, unless src_ip
 * has asked DIALBACK_PER_SOURCE times in the last DIALBACK_WINDOW_MS (only
 * when `limited`: loopback sources are not, unless the tracker limits
 * them) or DIALBACK_MAX_INFLIGHT dials are under way. Blocks the calling
 * thread for at most DIALBACK_CONNECT_MS + DIALBACK_IO_MS. For
 * DIALBACK_UNREACHABLE writes why to why ("connection refused", "timed
 * out", ...). */
enum dialback_result dialback_run(struct dialback *d, const char *src_ip,
    unsigned port, int limited, long long now_ms, char *why, size_t whylen);

#endif

/* reach.h - how the outside sees the peer, measured by a tracker: the
 * address the peer's connection comes from (WHOAMI) and whether a fresh
 * connection from the tracker to the peer's port there gets through
 * (DIALBACK), docs/protocol.md. */
#ifndef P2PM_PEER_REACH_H
#define P2PM_PEER_REACH_H

#include "p2pm/net.h"
#include "p2pm/rpc.h"

/* how often a peer measures its reachability again, seconds, when its
 * address has not changed (a router's mapping may lapse meanwhile) */
#define REACH_RECHECK_S 300

enum reach_state {
	REACH_UNKNOWN,	/* the tracker does not measure it (older version) */
	REACH_DIRECT,	/* the tracker connected back: reachable */
	REACH_NAT	/* it could not: behind a NAT or a firewall */
};

struct reach_result {
	enum reach_state state;
	char observed[NET_ADDR_MAX];	/* "ip:port" the tracker sees, or "" */
	char dialed[NET_ADDR_MAX];	/* "ip:port" it dialed back, or "" */
	char why[RPC_ERR_LEN];		/* REACH_NAT: what the tracker said */
};

/* Asks the tracker on c (a connection of the announcer's) where c comes
 * from and to dial back to `port` there. Fills r. Returns 0 (r->state
 * REACH_UNKNOWN when the tracker answers ERR 400: it does not know these
 * requests; REACH_NAT when it could not connect), or -1 with the reason
 * in r->why when c failed or the tracker refused for now (rate limit,
 * busy): the caller keeps what it knew and asks again later. */
int reach_check(struct rpc_conn *c, unsigned port, struct reach_result *r);

#endif

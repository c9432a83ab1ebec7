/* reach.h - a connection to a source, however it is reached: directly,
 * through a hole punch the tracker brokers, or through its relay. */
#ifndef P2PM_CLIENT_REACH_H
#define P2PM_CLIENT_REACH_H

#include <stddef.h>

#include "p2pm/rpc.h"
#include "tracker_client.h"

/* attempts of a hole punch: each dial waits this long, ms, and they go on
 * until the punch deadline, ms after the tracker's go */
#define REACH_PUNCH_DIAL_MS 1000
#define REACH_PUNCH_DEADLINE_MS 4000
/* between dials refused at once (the other side's NAT not open yet), ms */
#define REACH_PUNCH_RETRY_MS 50

/* Opens a connection to e for requests: directly for a direct source (or
 * one reached through its router's port mapping); for one behind a NAT, a
 * hole punch brokered by the tracker that named it (PUNCH), and when that
 * fails its relay (CONNECT). Sets *how to "direct", "mapped", "punched"
 * or "relayed". Returns the connection, or NULL with
 * the reasons in why. */
struct rpc_conn *source_open(const struct source_entry *e, int timeout_ms,
    const char **how, char *why, size_t whylen);

#endif

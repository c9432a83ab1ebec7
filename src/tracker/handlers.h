/* handlers.h - the tracker's answer to each request. */
#ifndef P2PM_TRACKER_HANDLERS_H
#define P2PM_TRACKER_HANDLERS_H

#include <stdatomic.h>

#include "p2pm/lograte.h"
#include "p2pm/server.h"
#include "aliases.h"
#include "dialback.h"
#include "registry.h"

/* most peers one QUERY reply names (a random pick when more hold a song) */
#define TRACKER_QUERY_MAX_PEERS 64
/* most LOCATE rows per content id (a random pick when more hold it) */
#define TRACKER_LOCATE_MAX_PER_ID 64
/* most content ids one LOCATE reply names (those held by the most peers) */
#define TRACKER_LOCATE_MAX_IDS 16
/* most bytes one REGISTER body may take while it is staged (names, ids
 * and their index, as allocated): 100000 names of 150 bytes fit; past it
 * ERR 413, nothing changed */
#define TRACKER_MAX_BODY_BYTES (24L * 1024 * 1024)
/* most bytes all REGISTER bodies being read may take together beyond
 * TRACKER_BODY_FREE_BYTES each; past it the REGISTER gets ERR 503 and the
 * connection is closed */
#define TRACKER_STAGING_BUDGET (64L * 1024 * 1024)
/* what each body may stage without counting against the budget, so that
 * big bodies held open cannot lock out peers with ordinary ones (a few
 * thousand songs); bounded by the connection cap */
#define TRACKER_BODY_FREE_BYTES (256L * 1024)
/* rows per page when a version-1 LIST is served page by page */
#define TRACKER_LIST_PAGE 256
/* the commands the tracker serves; others get ERR 400 unknown command */
#define TRACKER_COMMANDS (SERVER_CMD(PROTO_CMD_REGISTER) | \
	SERVER_CMD(PROTO_CMD_UNREGISTER) | SERVER_CMD(PROTO_CMD_QUERY) | \
	SERVER_CMD(PROTO_CMD_LOCATE) | SERVER_CMD(PROTO_CMD_LIST) | \
	SERVER_CMD(PROTO_CMD_LISTPAGE) | SERVER_CMD(PROTO_CMD_RESOLVE) | \
	SERVER_CMD(PROTO_CMD_STATS) | SERVER_CMD(PROTO_CMD_PING) | \
	SERVER_CMD(PROTO_CMD_WHOAMI) | SERVER_CMD(PROTO_CMD_DIALBACK))

struct tracker {
	struct registry *reg;
	struct server *srv;
	struct dialback *dial;	/* DIALBACK's rate table */
	long long started_ms;
	int trust_advertised;	/* believe any advertised IP (--trust-advertised) */
	int limit_loopback;	/* per-source limits apply to loopback too */
	atomic_size_t staged;	/* bytes REGISTER bodies hold now */
	/* refused REGISTERs and UNREGISTERs: a line a second per reason
	 * and source */
	struct lograte refusals;
	struct aliases aliases;	/* file names of songs named by their tags */
};

/* server_handler_fn for the tracker: ctx is a struct tracker. */
int tracker_handle(struct conn *c, const struct proto_request *req, void *ctx);

#endif

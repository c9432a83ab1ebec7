/* handlers.h - the peer's answers to protocol requests. */
#ifndef P2PM_PEER_HANDLERS_H
#define P2PM_PEER_HANDLERS_H

#include "p2pm/server.h"

/* the commands a peer serves; others get ERR 400 unknown command */
#define PEER_COMMANDS (SERVER_CMD(PROTO_CMD_REQUEST_SONG) | \
	SERVER_CMD(PROTO_CMD_REQUEST_SEGMENT) | SERVER_CMD(PROTO_CMD_PING))

/* ... and those a peer started with --relay serves too */
#define PEER_RELAY_COMMANDS (SERVER_CMD(PROTO_CMD_RESERVE) | \
	SERVER_CMD(PROTO_CMD_CONNECT) | SERVER_CMD(PROTO_CMD_ACCEPT))

struct index;
struct relay;

/* What the handlers answer from: the index, and the relay (NULL when the
 * peer offers none). */
struct peer_ctx {
	struct index *idx;
	struct relay *relay;
};

/* The server_handler_fn of the peer; ctx is its struct peer_ctx. */
int peer_handle(struct conn *c, const struct proto_request *req, void *ctx);

#endif

/* relay.h - the relay a reachable peer offers with --relay: it keeps
 * reservations for peers behind NATs and carries circuits to them
 * (circuit relay v2 is the model; docs/protocol.md, "Relays").
 *
 * A reserved peer holds one connection to the relay (RESERVE); a client
 * asks for a circuit (CONNECT <peer>); the relay tells the reserved peer
 * over its connection (INCOMING <token>), the peer dials the relay again
 * (ACCEPT <token>) and the relay carries bytes between the two sockets,
 * within a byte and a time limit per circuit. It sees only
 * content-addressed bytes, which the client checks. */
#ifndef P2PM_PEER_RELAY_H
#define P2PM_PEER_RELAY_H

#include "p2pm/server.h"

/* reservations held at once, in all (--relay-max-reservations) */
#define RELAY_DEFAULT_MAX_RESERVATIONS 128
#define RELAY_MAX_MAX_RESERVATIONS 100000
/* reservations held at once by peers at one source address (loopback
 * exempt unless --limit-loopback) */
#define RELAY_MAX_RESERVATIONS_PER_SOURCE 8
/* circuits open or being opened to one reserved peer at once */
#define RELAY_MAX_CIRCUITS_PER_PEER 8
/* how long a reservation lasts unless renewed (the peer renews at half
 * of it), seconds */
#define RELAY_RESERVATION_S 600
/* bytes one circuit carries, both ways together, before it is closed
 * (--relay-max-bytes): a few songs */
#define RELAY_DEFAULT_CIRCUIT_BYTES (256L * 1024 * 1024)
#define RELAY_MAX_CIRCUIT_BYTES (1L << 40)
/* how long one circuit lasts, seconds (--relay-max-seconds) */
#define RELAY_DEFAULT_CIRCUIT_S 600
#define RELAY_MAX_CIRCUIT_S 86400
/* how long a CONNECT waits for the reserved peer's ACCEPT, ms */
#define RELAY_ACCEPT_WAIT_MS 5000
/* a circuit's token: random bytes, sent as lowercase hex */
#define RELAY_TOKEN_BYTES 16
#define RELAY_TOKEN_HEX (2 * RELAY_TOKEN_BYTES)
/* how often a reservation's thread looks at its connection, ms */
#define RELAY_POLL_MS 200

struct relay_limits {
	int max_reservations;
	long long circuit_bytes;
	int circuit_s;
	int limit_loopback;	/* per-source caps apply to loopback too */
};

struct relay;

/* A relay with these limits (copied). NULL if out of memory. */
struct relay *relay_new(const struct relay_limits *lim);
/* Frees it; no handler may be running in it any more. */
void relay_free(struct relay *r);

/* The handlers of RESERVE, CONNECT and ACCEPT. Each returns what a
 * server_handler_fn returns: RESERVE and CONNECT hold their connection
 * until the reservation or the circuit ends, then return -1. */
int relay_reserve(struct relay *r, struct conn *c, const struct proto_request *req);
int relay_connect(struct relay *r, struct conn *c, const struct proto_request *req);
int relay_accept(struct relay *r, struct conn *c, const struct proto_request *req);

#endif

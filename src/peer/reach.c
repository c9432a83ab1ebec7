/* reach.c - WHOAMI and DIALBACK, from the peer's side. */
#include <stdio.h>
#include <string.h>

#include "p2pm/proto.h"
#include "reach.h"

/* Takes a reply's address word (all of rest up to a space) into out;
 * -1 if it is not a host:port that fits. */
static int
reach_take_addr(const char *rest, char out[NET_ADDR_MAX])
{
	char host[NET_HOST_MAX];
	size_t n = strcspn(rest, " ");
	unsigned port;

	if (n == 0 || n >= NET_ADDR_MAX)
		return -1;
	memcpy(out, rest, n);
	out[n] = '\0';
	return net_parse_hostport(out, host, sizeof(host), &port, 0);
}

int
reach_check(struct rpc_conn *c, unsigned port, struct reach_result *r)
{
	const char *rest;
	enum rpc_result res;

	memset(r, 0, sizeof(*r));
	rpc_request(c, "WHOAMI");
	res = rpc_expect_word(c, "ADDR", &rest);
	if (res == RPC_REFUSED && rpc_err_code(c) == PROTO_BAD_REQUEST) {
		r->state = REACH_UNKNOWN;
		return 0;
	}
	if (res != RPC_OK) {
		snprintf(r->why, sizeof(r->why), "WHOAMI: %s", rpc_error(c));
		return -1;
	}
	if (reach_take_addr(rest, r->observed) < 0 || strchr(rest, ' ') != NULL) {
		snprintf(r->why, sizeof(r->why), "WHOAMI: malformed ADDR reply");
		return -1;
	}
	rpc_request(c, "DIALBACK %u", port);
	res = rpc_expect_word(c, "OK", &rest);
	if (res == RPC_OK) {
		/* "OK reachable <addr>" */
		if (strncmp(rest, "reachable ", 10) != 0 ||
		    reach_take_addr(rest + 10, r->dialed) < 0 ||
		    strchr(rest + 10, ' ') != NULL) {
			snprintf(r->why, sizeof(r->why), "DIALBACK: malformed reply");
			return -1;
		}
		r->state = REACH_DIRECT;
		return 0;
	}
	if (res == RPC_REFUSED && rpc_err_code(c) == PROTO_UNREACHABLE) {
		r->state = REACH_NAT;
		snprintf(r->why, sizeof(r->why), "%s", rpc_err_text(c));
		return 0;
	}
	if (res == RPC_REFUSED && rpc_err_code(c) == PROTO_BAD_REQUEST) {
		r->state = REACH_UNKNOWN;
		return 0;
	}
	snprintf(r->why, sizeof(r->why), "DIALBACK: %s", rpc_error(c));
	return -1;
}

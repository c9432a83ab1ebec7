/* reach.c - a connection to a source: directly, through a hole punch the
 * tracker brokers, or through the source's relay (docs/protocol.md,
 * "Peers behind NATs"). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/net.h"
#include "p2pm/proto.h"
#include "client.h"
#include "reach.h"

/* Asks the tracker that named e to broker a hole punch, then dials e's
 * observed address from the port the tracker saw, again and again until
 * one dial meets the peer's (TCP simultaneous open) or the deadline.
 * Returns a connected descriptor, or -1 with why. */
static int
reach_punch(const struct source_entry *e, int timeout_ms, char *why, size_t whylen)
{
	char err[NET_ERR_LEN], line[PROTO_MAX_LINE], host[NET_HOST_MAX];
	const char *target;
	unsigned port;
	int ctl, fd = -1, lport, attempts = 0;
	long long deadline;

	if (e->tracker[0] == '\0') {
		snprintf(why, whylen, "no tracker to broker a hole punch");
		return -1;
	}
	/* the tracker sees the port the dials will come from */
	ctl = net_connect_from_port(e->tracker, 0, timeout_ms, err, sizeof(err));
	if (ctl < 0 || (lport = net_local_port(ctl)) <= 0) {
		snprintf(why, whylen, "hole punch: %s", ctl < 0 ? err : "no local port");
		if (ctl >= 0)
			close(ctl);
		return -1;
	}
	net_set_timeouts(ctl, timeout_ms, timeout_ms);
	int n = snprintf(line, sizeof(line), "PUNCH %s\n", e->addr);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    net_write_all(ctl, line, (size_t)n) < 0 ||
	    net_read_line_exact(ctl, line, sizeof(line), timeout_ms) < 0) {
		snprintf(why, whylen, "hole punch: tracker %s did not answer PUNCH",
		    e->tracker);
		close(ctl);
		return -1;
	}
	if (strncmp(line, "PUNCH ", 6) != 0 ||
	    net_parse_hostport(line + 6, host, sizeof(host), &port, 0) < 0) {
		snprintf(why, whylen, "hole punch refused: tracker said %.200s", line);
		close(ctl);
		return -1;
	}
	target = line + 6;
	log_debug("hole punch to %s: dialling %s from port %d", e->addr, target, lport);
	deadline = clock_now_ms() + REACH_PUNCH_DEADLINE_MS;
	while (fd < 0 && clock_now_ms() < deadline && !client_stop) {
		long long left = deadline - clock_now_ms();
		attempts++;
		fd = net_connect_from_port(target, (unsigned)lport,
		    left < REACH_PUNCH_DIAL_MS ? (int)left : REACH_PUNCH_DIAL_MS,
		    err, sizeof(err));
		if (fd < 0) {
			struct pollfd none;
			poll(&none, 0, REACH_PUNCH_RETRY_MS);
		}
	}
	close(ctl);
	if (fd < 0) {
		snprintf(why, whylen, "hole punch to %.100s failed after %d dials in %d ms "
		    "(%.100s)", target, attempts, REACH_PUNCH_DEADLINE_MS, err);
		return -1;
	}
	log_info("peer %s: hole punched (%s from port %d, %d dial%s)", e->addr,
	    target, lport, attempts, attempts == 1 ? "" : "s");
	return fd;
}

/* Opens a circuit to e through its relay. NULL with why on failure. */
static struct rpc_conn *
reach_relay(const struct source_entry *e, int timeout_ms, char *why, size_t whylen)
{
	char err[CLIENT_ERR_LEN];
	struct rpc_conn *c = rpc_open(e->relay, timeout_ms, timeout_ms, err,
	    sizeof(err));
	enum rpc_result res;

	if (c == NULL) {
		snprintf(why, whylen, "relay %s: %s", e->relay, err);
		return NULL;
	}
	res = rpc_request(c, "CONNECT %s", e->addr);
	if (res == RPC_OK)
		res = rpc_expect_ok(c);
	if (res != RPC_OK) {
		if (res == RPC_REFUSED)
			snprintf(why, whylen, "relay %s refused: ERR %d %s", e->relay,
			    rpc_err_code(c), rpc_err_text(c));
		else
			snprintf(why, whylen, "relay %s: %s", e->relay, rpc_error(c));
		rpc_close(c);
		return NULL;
	}
	log_info("peer %s: relayed through %s", e->addr, e->relay);
	return c;
}

struct rpc_conn *
source_open(const struct source_entry *e, int timeout_ms, const char **how,
    char *why, size_t whylen)
{
	char punch_why[CLIENT_ERR_LEN] = "";
	struct rpc_conn *c;
	int fd;

	*how = NULL;
	if (e->reach == SOURCE_DIRECT || e->reach == SOURCE_MAPPED) {
		c = rpc_open(e->addr, timeout_ms, timeout_ms, why, whylen);
		if (c != NULL)
			*how = e->reach == SOURCE_MAPPED ? "mapped" : "direct";
		return c;
	}
	fd = reach_punch(e, timeout_ms, punch_why, sizeof(punch_why));
	if (fd >= 0) {
		if ((c = rpc_adopt(fd, e->addr, timeout_ms)) == NULL) {
			snprintf(why, whylen, "out of memory");
			return NULL;
		}
		*how = "punched";
		return c;
	}
	if (e->relay[0] == '\0') {
		snprintf(why, whylen, "%s; no relay", punch_why);
		return NULL;
	}
	log_info("peer %s: %s; trying its relay %s", e->addr, punch_why, e->relay);
	c = reach_relay(e, timeout_ms, why, whylen);
	if (c != NULL)
		*how = "relayed";
	return c;
}

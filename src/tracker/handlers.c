/* handlers.c - one function per tracker command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "handlers.h"
#include "source.h"

/* the text of ERR 403 */
#define TRACKER_FORBIDDEN_TEXT "address is not the one this connection comes from"

/* A REGISTER body being read: the names so far, and whether a line was
 * not a valid name (then the whole REGISTER is refused). */
struct register_body {
	struct conn *c;
	struct registry_names names;
	int bad;
};

static int
handle_register_line(void *ctx, const char *line, size_t len)
{
	struct register_body *b = ctx;
	char name[PROTO_MAX_NAME + 1];
	unsigned char id[PROTO_CONTENT_ID_LEN];
	size_t namelen;
	int has_id;

	if (line == NULL || proto_parse_register_line(line, len, name, &namelen,
	    id, &has_id) < 0) {
		b->bad = 1;
		return 0;
	}
	if (!b->bad && registry_names_add(&b->names, name, namelen,
	    has_id ? id : NULL) < 0) {
		conn_error(b->c, PROTO_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

/* Where a REGISTER or UNREGISTER of req->arg on c binds (source.h), into
 * addr; the connection's source IP into src. Returns 0, or -1 if the
 * request is forbidden (logged). */
static int
handle_bind(struct tracker *t, struct conn *c, const struct proto_request *req,
    char src[SOURCE_IP_MAX], char addr[NET_ADDR_MAX])
{
	if (source_of_remote(c->remote, src) < 0 ||
	    source_bind(src, req->arg, t->trust_advertised, addr, NET_ADDR_MAX) !=
	    SOURCE_ACCEPT) {
		log_warn("%s: %s %s refused: not its address", c->remote,
		    req->cmd == PROTO_CMD_REGISTER ? "REGISTER" : "UNREGISTER", req->arg);
		return -1;
	}
	return 0;
}

static int
handle_register(struct tracker *t, struct conn *c, const struct proto_request *req)
{
	char src[SOURCE_IP_MAX], addr[NET_ADDR_MAX];
	struct register_body b;
	int rc;

	if (handle_bind(t, c, req, src, addr) < 0) {
		/* the body is read and dropped, never staged */
		rc = conn_read_body(c, NULL, NULL);
		if (rc == 0)
			conn_error(c, PROTO_FORBIDDEN, TRACKER_FORBIDDEN_TEXT);
		return rc;
	}
	memset(&b, 0, sizeof(b));
	b.c = c;
	rc = conn_read_body(c, handle_register_line, &b);
	if (rc == 0 && b.bad) {
		conn_error(c, PROTO_BAD_REQUEST, "invalid song name in REGISTER body");
	} else if (rc == 0) {
		int limited = t->limit_loopback || !source_is_loopback(src);
		int res = registry_register(t->reg, addr, src, limited, &b.names,
		    clock_now_ms());
		if (res == REGISTRY_FULL) {
			log_warn("REGISTER %s: registry full, refused", addr);
			conn_error(c, PROTO_BUSY, "registry full");
		} else if (res == REGISTRY_SOURCE_PEERS) {
			log_warn("REGISTER %s: too many peers from %s, refused", addr, src);
			conn_error(c, PROTO_BUSY, "too many peers registered from this address");
		} else if (res == REGISTRY_SOURCE_PAIRS) {
			log_warn("REGISTER %s: too many songs from %s, refused", addr, src);
			conn_error(c, PROTO_BUSY, "too many songs registered from this address");
		} else if (res < 0) {
			log_error("REGISTER %s: out of memory", addr);
			conn_error(c, PROTO_INTERNAL, "out of memory");
		} else {
			log_info("REGISTER %s: %zu song(s)", addr, b.names.count);
			conn_printf(c, "OK\n");
		}
	}
	registry_names_free(&b.names);
	return rc;
}

static void
handle_unregister(struct tracker *t, struct conn *c, const struct proto_request *req)
{
	char src[SOURCE_IP_MAX], addr[NET_ADDR_MAX];

	if (handle_bind(t, c, req, src, addr) < 0) {
		conn_error(c, PROTO_FORBIDDEN, TRACKER_FORBIDDEN_TEXT);
		return;
	}
	if (registry_unregister(t->reg, addr))
		log_info("UNREGISTER %s", addr);
	conn_printf(c, "OK\n");
}

static void
handle_query(struct tracker *t, struct conn *c, const struct proto_request *req)
{
	char peers[TRACKER_QUERY_MAX_PEERS][NET_ADDR_MAX];
	char line[PROTO_MAX_LINE];
	size_t n, len;

	n = registry_query(t->reg, req->arg, req->arglen, peers,
	    TRACKER_QUERY_MAX_PEERS, clock_now_ms());
	if (n > TRACKER_QUERY_MAX_PEERS)
		n = TRACKER_QUERY_MAX_PEERS;
	len = (size_t)snprintf(line, sizeof(line), "PEERS");
	for (size_t i = 0; i < n; i++) {
		size_t a = strlen(peers[i]);
		/* the reply stays one protocol line, LF included */
		if (len + 1 + a + 1 > PROTO_MAX_LINE)
			break;
		line[len++] = ' ';
		memcpy(line + len, peers[i], a);
		len += a;
	}
	line[len++] = '\n';
	conn_write(c, line, len);
}

static void
handle_locate(struct tracker *t, struct conn *c, const struct proto_request *req)
{
	enum { MAX_ROWS = TRACKER_LOCATE_MAX_IDS * TRACKER_LOCATE_MAX_PER_ID };
	struct registry_source *rows = malloc(MAX_ROWS * sizeof(*rows));
	char id[PROTO_CONTENT_ID_HEX + 1];
	size_t n;

	if (rows == NULL) {
		conn_error(c, PROTO_INTERNAL, "out of memory");
		return;
	}
	n = registry_locate(t->reg, req->arg, req->arglen, TRACKER_LOCATE_MAX_PER_ID,
	    rows, MAX_ROWS, clock_now_ms());
	conn_printf(c, "SOURCES %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].has_id)
			proto_format_content_id(rows[i].id, id);
		else
			snprintf(id, sizeof(id), "-");
		if (conn_printf(c, "%s %s\n", id, rows[i].addr) < 0)
			break;
	}
	free(rows);
}

static void
handle_list(struct tracker *t, struct conn *c, const struct proto_request *req)
{
	char enc[PROTO_MAX_ENCODED_NAME + 1];
	struct registry_entry *e;
	size_t n;
	int oom;

	e = registry_list(t->reg, req->arg, req->arglen, clock_now_ms(), &n, &oom);
	if (oom) {
		conn_error(c, PROTO_INTERNAL, "out of memory");
		return;
	}
	conn_printf(c, "SONGS %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		if (proto_encode_name(e[i].name, e[i].namelen, enc, sizeof(enc)) < 0)
			enc[0] = '\0';	/* cannot happen: names are <= PROTO_MAX_NAME */
		if (conn_printf(c, "%s %zu\n", enc, e[i].peers) < 0)
			break;
	}
	registry_entries_free(e, n);
}

static void
handle_stats(struct tracker *t, struct conn *c)
{
	struct registry_stats st;
	long long now = clock_now_ms();

	registry_stats(t->reg, now, &st);
	conn_printf(c, "STATS peers=%zu songs=%zu pairs=%zu uptime=%lld requests=%llu "
	    "connections=%d\n", st.peers, st.songs, st.pairs,
	    (now - t->started_ms) / 1000, server_requests(t->srv),
	    server_live_conns(t->srv));
}

int
tracker_handle(struct conn *c, const struct proto_request *req, void *ctx)
{
	struct tracker *t = ctx;

	switch (req->cmd) {
	case PROTO_CMD_REGISTER:
		return handle_register(t, c, req);
	case PROTO_CMD_UNREGISTER:
		handle_unregister(t, c, req);
		return 0;
	case PROTO_CMD_QUERY:
		handle_query(t, c, req);
		return 0;
	case PROTO_CMD_LOCATE:
		handle_locate(t, c, req);
		return 0;
	case PROTO_CMD_LIST:
		handle_list(t, c, req);
		return 0;
	case PROTO_CMD_STATS:
		handle_stats(t, c);
		return 0;
	case PROTO_CMD_PING:
		conn_printf(c, "PONG\n");
		return 0;
	default:
		conn_error(c, PROTO_BAD_REQUEST, "unknown command");
		return 0;
	}
}

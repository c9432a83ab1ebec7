/* handlers.c - one function per tracker command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "handlers.h"

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

static int
handle_register(struct tracker *t, struct conn *c, const struct proto_request *req)
{
	struct register_body b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.c = c;
	rc = conn_read_body(c, handle_register_line, &b);
	if (rc == 0 && b.bad) {
		conn_error(c, PROTO_BAD_REQUEST, "invalid song name in REGISTER body");
	} else if (rc == 0) {
		int res = registry_register(t->reg, req->arg, &b.names, clock_now_ms());
		if (res == REGISTRY_FULL) {
			log_warn("REGISTER %s: registry full, refused", req->arg);
			conn_error(c, PROTO_BUSY, "registry full");
		} else if (res < 0) {
			log_error("REGISTER %s: out of memory", req->arg);
			conn_error(c, PROTO_INTERNAL, "out of memory");
		} else {
			log_info("REGISTER %s: %zu song(s)", req->arg, b.names.count);
			conn_printf(c, "OK\n");
		}
	}
	registry_names_free(&b.names);
	return rc;
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
		if (registry_unregister(t->reg, req->arg))
			log_info("UNREGISTER %s", req->arg);
		conn_printf(c, "OK\n");
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

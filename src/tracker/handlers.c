/* handlers.c - one function per tracker command. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/rpc.h"
#include "handlers.h"
#include "source.h"

/* the text of ERR 403 */
#define TRACKER_FORBIDDEN_TEXT "address is not the one this connection comes from"

/* A REGISTER body being read: the names so far, and whether a line was
 * not a valid name (then the whole REGISTER is refused). */
struct register_body {
	struct tracker *t;
	struct conn *c;
	struct registry_names names;
	size_t reserved;	/* bytes counted in t->staged for it */
	int bad;
};

/* Counts what the body has grown to against TRACKER_STAGING_BUDGET.
 * Returns 0, or -1 when the budget is spent. */
static int
register_body_reserve(struct register_body *b)
{
	size_t now = registry_names_bytes(&b->names);

	now = now > (size_t)TRACKER_BODY_FREE_BYTES ? now - (size_t)TRACKER_BODY_FREE_BYTES : 0;
	if (now <= b->reserved)
		return 0;
	size_t delta = now - b->reserved;
	size_t before = atomic_fetch_add(&b->t->staged, delta);
	b->reserved = now;
	return before + delta > (size_t)TRACKER_STAGING_BUDGET ? -1 : 0;
}

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
	if (b->bad)
		return 0;
	const char *tags = NULL;
	size_t tagslen = 0;
	if (has_id)
		proto_parse_register_tags(line, len, &tags, &tagslen);
	int rc = registry_names_add_tags(&b->names, name, namelen, has_id ? id : NULL,
	    tags, tagslen);
	if (rc == REGISTRY_NAMES_FULL) {
		lograte_log(&b->t->refusals, LOG_LEVEL_WARN, "body too large",
		    conn_remote_host(b->c), "%s: REGISTER body over %ld bytes, refused",
		    b->c->remote, TRACKER_MAX_BODY_BYTES);
		conn_error(b->c, PROTO_TOO_LARGE, "REGISTER body too large");
		return -1;
	}
	if (rc < 0) {
		conn_error(b->c, PROTO_INTERNAL, "out of memory");
		return -1;
	}
	if (register_body_reserve(b) < 0) {
		lograte_log(&b->t->refusals, LOG_LEVEL_WARN, "staging budget",
		    conn_remote_host(b->c), "%s: REGISTER bodies over %ld bytes in all, "
		    "refused", b->c->remote, TRACKER_STAGING_BUDGET);
		conn_error(b->c, PROTO_BUSY, "busy: too many REGISTERs being read");
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
	enum source_verdict v = SOURCE_FORBIDDEN;

	if (source_of_remote(c->remote, src) == 0)
		/* a peer behind a NAT, and one waiting for punches, is bound
		 * to the address it comes from */
		v = req->reach_word == PROTO_REACH_NAT || req->cmd == PROTO_CMD_PUNCHWAIT ?
		    source_bind_nat(src, req->arg, addr, NET_ADDR_MAX) :
		    source_bind(src, req->arg, t->trust_advertised, addr, NET_ADDR_MAX);
	if (v != SOURCE_ACCEPT) {
		lograte_log(&t->refusals, LOG_LEVEL_WARN, "not its address",
		    conn_remote_host(c), "%s: %s %s refused: not its address", c->remote,
		    req->cmd == PROTO_CMD_REGISTER ? "REGISTER" :
		    req->cmd == PROTO_CMD_PUNCHWAIT ? "PUNCHWAIT" : "UNREGISTER", req->arg);
		return -1;
	}
	return 0;
}

/* Records the alias= tag word of each song of a REGISTER body that has
 * one (aliases.h); a table that is full is logged, a line a second. */
static void
handle_aliases(struct tracker *t, const struct registry_names *names)
{
	char alias[PROTO_MAX_NAME + 1];
	long long now = clock_now_ms();

	for (size_t i = 0; i < names->count; i++) {
		const struct registry_name *nm = &names->items[i];
		long n;
		/* the tag words come right after the name */
		if (nm->tagslen == 0 || (n = aliases_from_tags(names->buf + nm->off +
		    nm->len, nm->tagslen, alias)) < 0)
			continue;
		if (aliases_put(&t->aliases, alias, (size_t)n, names->buf + nm->off,
		    nm->len, now) < 0)
			lograte_log(&t->refusals, LOG_LEVEL_WARN, "aliases full", "",
			    "alias '%s' not recorded: the alias table is full (%d MiB)",
			    alias, ALIASES_MAX_BYTES / (1024 * 1024));
	}
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
	b.t = t;
	b.c = c;
	b.names.max_bytes = TRACKER_MAX_BODY_BYTES;
	/* a peer reached through a relay takes no direct connections either */
	b.names.nat = req->reach_word == PROTO_REACH_NAT || req->relay[0] != '\0';
	b.names.mapped = req->reach_word == PROTO_REACH_MAPPED;
	b.names.relay = req->relay;
	rc = conn_read_body(c, handle_register_line, &b);
	if (rc == 0 && b.bad) {
		conn_error(c, PROTO_BAD_REQUEST, "invalid song name in REGISTER body");
	} else if (rc == 0) {
		int limited = t->limit_loopback || !source_is_loopback(src);
		int res = registry_register(t->reg, addr, src, limited, &b.names,
		    clock_now_ms());
		if (res == REGISTRY_FULL) {
			lograte_log(&t->refusals, LOG_LEVEL_WARN, "registry full", src,
			    "REGISTER %s: registry full, refused", addr);
			conn_error(c, PROTO_BUSY, "registry full");
		} else if (res == REGISTRY_SOURCE_PEERS) {
			lograte_log(&t->refusals, LOG_LEVEL_WARN, "peers per source", src,
			    "REGISTER %s: too many peers from %s, refused", addr, src);
			conn_error(c, PROTO_BUSY, "too many peers registered from this address");
		} else if (res == REGISTRY_SOURCE_PAIRS) {
			lograte_log(&t->refusals, LOG_LEVEL_WARN, "pairs per source", src,
			    "REGISTER %s: too many songs from %s, refused", addr, src);
			conn_error(c, PROTO_BUSY, "too many songs registered from this address");
		} else if (res < 0) {
			log_error("REGISTER %s: out of memory", addr);
			conn_error(c, PROTO_INTERNAL, "out of memory");
		} else {
			log_info("REGISTER %s: %zu song(s)%s%s%s", addr, b.names.count,
			    req->reach_word == PROTO_REACH_NAT ? ", behind a NAT" :
			    req->reach_word == PROTO_REACH_MAPPED ?
			    ", through its router's port mapping" : "",
			    req->relay[0] != '\0' ? ", relay " : "", req->relay);
			handle_aliases(t, &b.names);
			conn_printf(c, "OK\n");
		}
	}
	registry_names_free(&b.names);
	atomic_fetch_sub(&t->staged, b.reserved);
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

_Static_assert(TRACKER_QUERY_MAX_PEERS <= REGISTRY_QUERY_MAX,
    "a QUERY reply names no more peers than registry_query picks");

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
	/* without "reach" the reader cannot reach a peer behind a NAT */
	if (!req->reach) {
		size_t kept = 0;
		for (size_t i = 0; i < n; i++)
			if (!rows[i].nat)
				rows[kept++] = rows[i];
		n = kept;
	}
	conn_printf(c, "SOURCES %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].has_id)
			proto_format_content_id(rows[i].id, id);
		else
			snprintf(id, sizeof(id), "-");
		/* the reach word: direct, mapped, nat, or the relay that
		 * carries it */
		char reach[NET_ADDR_MAX + 16] = "";
		if (req->reach && rows[i].relay[0] != '\0')
			snprintf(reach, sizeof(reach), " relay=%s", rows[i].relay);
		else if (req->reach)
			snprintf(reach, sizeof(reach), " %s", rows[i].nat ? "nat" :
			    rows[i].mapped ? "mapped" : "direct");
		if (conn_printf(c, "%s %s%s%s%s\n", id, rows[i].addr, reach,
		    req->tags && rows[i].tags[0] != '\0' ? " " : "",
		    req->tags ? rows[i].tags : "") < 0)
			break;
	}
	free(rows);
}

/* RESOLVE <name>: the name to LOCATE for it. The name itself while a
 * live peer holds a song of that name, else the song an alias of that
 * name points to, else the name itself. */
static void
handle_resolve(struct tracker *t, struct conn *c, const struct proto_request *req)
{
	char real[PROTO_MAX_NAME + 1], enc[PROTO_MAX_ENCODED_NAME + 1];
	long long now = clock_now_ms();
	long n = -1;

	if (registry_query(t->reg, req->arg, req->arglen, NULL, 0, now) == 0)
		n = aliases_get(&t->aliases, req->arg, req->arglen, now, real);
	if (n < 0 || registry_query(t->reg, real, (size_t)n, NULL, 0, now) == 0) {
		memcpy(real, req->arg, req->arglen + 1);
		n = (long)req->arglen;
	}
	if (proto_encode_name(real, (size_t)n, enc, sizeof(enc)) < 0) {
		conn_error(c, PROTO_INTERNAL, "name too long");
		return;
	}
	conn_printf(c, "NAME %s\n", enc);
}

/* Writes rows as "<name> <peer-count>" lines, with their tag words after
 * when tags is set. Returns 0, or -1 once a write failed. */
static int
handle_list_rows(struct conn *c, const struct registry_entry *rows, size_t n,
    int tags)
{
	char enc[PROTO_MAX_ENCODED_NAME + 1];

	for (size_t i = 0; i < n; i++) {
		if (proto_encode_name(rows[i].name, rows[i].namelen, enc, sizeof(enc)) < 0)
			enc[0] = '\0';	/* cannot happen: names are <= PROTO_MAX_NAME */
		if (conn_printf(c, "%s %zu%s%s\n", enc, rows[i].peers,
		    tags && rows[i].tags[0] != '\0' ? " " : "",
		    tags ? rows[i].tags : "") < 0)
			return -1;
	}
	return 0;
}

/* Version-1 LIST: "SONGS <n>" and every song, served page by page so the
 * registry lock is held for one page at a time and never across a write:
 * a first walk counts, a second one sends at most that many rows. A song
 * dropped between the two walks would leave the reply short: the
 * connection is then closed, so that the reader sees a truncated reply
 * rather than a wrong one. Returns -1 to close. */
static int
handle_list(struct tracker *t, struct conn *c, const struct proto_request *req)
{
	struct registry_entry *rows = malloc(TRACKER_LIST_PAGE * sizeof(*rows));
	char cursor[PROTO_MAX_NAME + 1];
	struct namefilter f;
	size_t total = 0, sent = 0, curlen = 0;
	int more, first = 1;

	if (rows == NULL) {
		conn_error(c, PROTO_INTERNAL, "out of memory");
		return 0;
	}
	namefilter_init(&f, req->arg, req->arglen);
	do {
		total += registry_list_page(t->reg, &f, first ? NULL : cursor, curlen,
		    NULL, SIZE_MAX, clock_now_ms(), cursor, &curlen, &more);
		first = 0;
	} while (more);
	conn_printf(c, "SONGS %zu\n", total);
	first = 1;
	while (sent < total) {
		size_t want = total - sent < TRACKER_LIST_PAGE ? total - sent : TRACKER_LIST_PAGE;
		size_t n = registry_list_page(t->reg, &f, first ? NULL : cursor, curlen,
		    rows, want, clock_now_ms(), cursor, &curlen, &more);
		first = 0;
		if (handle_list_rows(c, rows, n, 0) < 0)
			break;
		sent += n;
		if (!more)
			break;
	}
	free(rows);
	if (sent < total) {
		log_info("%s: LIST reply cut short (%zu of %zu): the registry changed",
		    c->remote, sent, total);
		return -1;
	}
	return 0;
}

/* LISTPAGE: one page, then "NEXT <cursor>" or "END". */
static void
handle_listpage(struct tracker *t, struct conn *c, const struct proto_request *req)
{
	struct registry_entry *rows = malloc((size_t)req->limit * sizeof(*rows));
	char cursor[PROTO_MAX_NAME + 1], enc[PROTO_MAX_ENCODED_NAME + 1];
	struct namefilter f;
	size_t n, curlen;
	int more;

	if (rows == NULL) {
		conn_error(c, PROTO_INTERNAL, "out of memory");
		return;
	}
	namefilter_init(&f, req->arg, req->arglen);
	n = registry_list_page(t->reg, &f, req->afterlen > 0 ? req->after : NULL,
	    req->afterlen, rows, (size_t)req->limit, clock_now_ms(), cursor, &curlen,
	    &more);
	conn_printf(c, "PAGE %zu\n", n);
	if (handle_list_rows(c, rows, n, req->tags) == 0) {
		if (more && proto_encode_name(cursor, curlen, enc, sizeof(enc)) >= 0)
			conn_printf(c, "NEXT %s\n", enc);
		else
			conn_printf(c, "END\n");
	}
	free(rows);
}

/* WHOAMI: the address the connection comes from, as the tracker sees it
 * (canonical IP, and port). */
static void
handle_whoami(struct conn *c)
{
	char src[SOURCE_IP_MAX], host[NET_HOST_MAX], addr[NET_ADDR_MAX];
	unsigned port;

	if (source_of_remote(c->remote, src) < 0 ||
	    net_parse_hostport(c->remote, host, sizeof(host), &port, 1) < 0 ||
	    net_format_hostport(src, port, addr, sizeof(addr)) < 0) {
		conn_error(c, PROTO_INTERNAL, "cannot tell where this connection comes from");
		return;
	}
	conn_printf(c, "ADDR %s\n", addr);
}

/* DIALBACK <port>: a fresh connection to the requester's own address at
 * that port (dialback.h). */
static void
handle_dialback(struct tracker *t, struct conn *c, const struct proto_request *req)
{
	char src[SOURCE_IP_MAX], addr[NET_ADDR_MAX], why[RPC_ERR_LEN + 64];

	if (source_of_remote(c->remote, src) < 0 ||
	    net_format_hostport(src, req->port, addr, sizeof(addr)) < 0) {
		conn_error(c, PROTO_INTERNAL, "cannot tell where this connection comes from");
		return;
	}
	int limited = t->limit_loopback || !source_is_loopback(src);
	switch (dialback_run(t->dial, src, req->port, limited, clock_now_ms(), why,
	    sizeof(why))) {
	case DIALBACK_REACHABLE:
		log_debug("%s: DIALBACK %s: reachable", c->remote, addr);
		conn_printf(c, "OK reachable %s\n", addr);
		break;
	case DIALBACK_UNREACHABLE:
		log_debug("%s: DIALBACK %s: not reachable: %s", c->remote, addr, why);
		conn_printf(c, "ERR %d not reachable at %s: %s\n", PROTO_UNREACHABLE, addr,
		    why);
		break;
	case DIALBACK_RATE_LIMITED:
		conn_error(c, PROTO_TOO_MANY, "too many dial-backs from this address");
		break;
	case DIALBACK_BUSY:
		conn_error(c, PROTO_BUSY, "busy: too many dial-backs under way");
		break;
	}
}

static void
handle_stats(struct tracker *t, struct conn *c)
{
	struct registry_stats st;
	long long now = clock_now_ms();

	registry_stats(t->reg, now, &st);
	conn_printf(c, "STATS peers=%zu songs=%zu pairs=%zu uptime=%lld requests=%llu "
	    "connections=%d memory=%zu staged=%zu\n", st.peers, st.songs, st.pairs,
	    (now - t->started_ms) / 1000, server_requests(t->srv),
	    server_live_conns(t->srv), st.bytes, atomic_load(&t->staged));
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
	case PROTO_CMD_RESOLVE:
		handle_resolve(t, c, req);
		return 0;
	case PROTO_CMD_LIST:
		return handle_list(t, c, req);
	case PROTO_CMD_LISTPAGE:
		handle_listpage(t, c, req);
		return 0;
	case PROTO_CMD_STATS:
		handle_stats(t, c);
		return 0;
	case PROTO_CMD_PING:
		conn_printf(c, "PONG\n");
		return 0;
	case PROTO_CMD_PUNCHWAIT: {
		char src[SOURCE_IP_MAX], addr[NET_ADDR_MAX];
		if (handle_bind(t, c, req, src, addr) < 0)
			return conn_error(c, PROTO_FORBIDDEN, TRACKER_FORBIDDEN_TEXT);
		return punch_wait(t->punch, c, addr);
	}
	case PROTO_CMD_PUNCH:
		return punch_request(t->punch, c, req->arg);
	case PROTO_CMD_WHOAMI:
		handle_whoami(c);
		return 0;
	case PROTO_CMD_DIALBACK:
		handle_dialback(t, c, req);
		return 0;
	default:
		conn_error(c, PROTO_BAD_REQUEST, "unknown command");
		return 0;
	}
}

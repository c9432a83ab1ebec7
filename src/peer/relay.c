/* relay.c - reservations and circuits of the relay (relay.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/htable.h"
#include "p2pm/log.h"
#include "p2pm/net.h"
#include "relay.h"

/* A client's circuit waiting for the reserved peer's ACCEPT. Lives on
 * the CONNECT thread's stack while it is in r->circuits. */
struct relay_circuit {
	char token[RELAY_TOKEN_HEX + 1];
	char src[NET_ADDR_MAX];	/* the reserved peer's source address */
	int peer_fd;		/* set by ACCEPT: the peer's end */
	pthread_cond_t ready;
};

/* One reservation. Lives on the RESERVE thread's stack while it is in
 * r->resv; only touched under r->lock. */
struct relay_resv {
	char addr[NET_ADDR_MAX];	/* the reserved peer, the key */
	char src[NET_ADDR_MAX];		/* where its connection comes from */
	int source_counted;
	unsigned long long gen;		/* tells this one from a later one */
	long long expires_ms;
	int circuits;			/* open or being opened */
	char pending[RELAY_MAX_CIRCUITS_PER_PEER][RELAY_TOKEN_HEX + 1];
	int npending;			/* INCOMING lines still to send */
	int replaced;			/* a newer RESERVE of addr took over */
	pthread_cond_t wake;
};

struct relay {
	struct relay_limits lim;
	pthread_mutex_t lock;		/* guards everything below */
	struct htable resv;		/* addr -> struct relay_resv */
	struct htable circuits;		/* token -> struct relay_circuit */
	struct htable sources;		/* source -> reservations (as pointer) */
	unsigned long long gen;
};

struct relay *
relay_new(const struct relay_limits *lim)
{
	struct relay *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->lim = *lim;
	if (htable_init(&r->resv) < 0 || htable_init(&r->circuits) < 0 ||
	    htable_init(&r->sources) < 0) {
		htable_free(&r->resv);
		htable_free(&r->circuits);
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	htable_free(&r->resv);
	htable_free(&r->circuits);
	htable_free(&r->sources);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Adds delta to what src has reserved (lock held); returns the new count
 * (-1 if out of memory). */
static long
relay_source_add(struct relay *r, const char *src, long delta)
{
	long n = (long)(intptr_t)htable_del(&r->sources, src, strlen(src)) + delta;

	if (n <= 0)
		return 0;
	if (htable_put(&r->sources, src, strlen(src), (void *)(intptr_t)n) == NULL)
		return -1;
	return n;
}

/* Takes a reservation out of the table and the counts (lock held). */
static void
relay_resv_unlink(struct relay *r, struct relay_resv *v)
{
	htable_del(&r->resv, v->addr, strlen(v->addr));
	if (v->source_counted)
		relay_source_add(r, v->src, -1);
}

/* True when host (an IP literal) is the address src (canonical text). */
static int
relay_same_ip(const char *host, const char *src)
{
	unsigned char a[16], b[16];

	if (inet_pton(AF_INET, host, a) == 1 && inet_pton(AF_INET, src, b) == 1)
		return memcmp(a, b, 4) == 0;
	if (inet_pton(AF_INET6, host, a) == 1 && inet_pton(AF_INET6, src, b) == 1)
		return memcmp(a, b, 16) == 0;
	return 0;
}

/* True for an address that is no particular host: a name, 0.0.0.0, [::]. */
static int
relay_unspecified(const char *host)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, host, a) == 1)
		return memcmp(a, "\0\0\0\0", 4) == 0;
	if (inet_pton(AF_INET6, host, a) == 1)
		return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0;
	return 1;
}

/* Where a RESERVE of text from c binds, as REGISTER does at a tracker:
 * a name or the unspecified address becomes c's source address; an IP
 * must be c's own, unless c comes from loopback. Returns 0, or -1. */
static int
relay_bind(struct conn *c, const char *text, char out[NET_ADDR_MAX])
{
	char host[NET_HOST_MAX];
	const char *src = conn_remote_host(c);
	unsigned port;

	if (net_parse_hostport(text, host, sizeof(host), &port, 0) < 0)
		return -1;
	if (relay_unspecified(host))
		return net_format_hostport(src, port, out, NET_ADDR_MAX);
	if (relay_same_ip(host, src) || strncmp(src, "127.", 4) == 0 ||
	    strcmp(src, "::1") == 0)
		return snprintf(out, NET_ADDR_MAX, "%s", text) < NET_ADDR_MAX ? 0 : -1;
	return -1;
}

static int
relay_is_loopback(const char *src)
{
	return strncmp(src, "127.", 4) == 0 || strcmp(src, "::1") == 0;
}

/* Renews or refuses a RESERVE line read on a held reservation. Returns 0
 * to go on, -1 to end it. */
static int
relay_reserve_line(struct relay *r, struct conn *c, struct relay_resv *v)
{
	char line[PROTO_MAX_LINE + 1], why[128], addr[NET_ADDR_MAX];
	struct proto_request req;
	size_t len;

	if (conn_read_line(c, line, sizeof(line), &len) != READER_OK)
		return -1;
	if (proto_parse_request(line, len, &req, why, sizeof(why)) != PROTO_OK) {
		conn_error(c, PROTO_BAD_REQUEST, why);
		return 0;
	}
	switch (req.cmd) {
	case PROTO_CMD_PING:
		conn_printf(c, "PONG\n");
		return 0;
	case PROTO_CMD_RESERVE:
		if (relay_bind(c, req.arg, addr) < 0 || strcmp(addr, v->addr) != 0) {
			conn_error(c, PROTO_BAD_REQUEST, "one reservation per connection");
			return 0;
		}
		pthread_mutex_lock(&r->lock);
		v->expires_ms = clock_now_ms() + RELAY_RESERVATION_S * 1000LL;
		pthread_mutex_unlock(&r->lock);
		conn_printf(c, "OK %d %lld\n", RELAY_RESERVATION_S, r->lim.circuit_bytes);
		return 0;
	default:
		return -1;	/* QUIT, or anything else: the reservation ends */
	}
}

int
relay_reserve(struct relay *r, struct conn *c, const struct proto_request *req)
{
	struct relay_resv v;
	struct relay_resv *old;
	long n;

	memset(&v, 0, sizeof(v));
	if (relay_bind(c, req->arg, v.addr) < 0) {
		log_warn("relay: %s: RESERVE %s refused: not its address", c->remote,
		    req->arg);
		return conn_error(c, PROTO_FORBIDDEN,
		    "address is not the one this connection comes from");
	}
	snprintf(v.src, sizeof(v.src), "%s", conn_remote_host(c));
	v.source_counted = r->lim.limit_loopback || !relay_is_loopback(v.src);
	v.expires_ms = clock_now_ms() + RELAY_RESERVATION_S * 1000LL;
	clock_cond_init(&v.wake);

	pthread_mutex_lock(&r->lock);
	/* a new RESERVE of the same peer takes over (it reconnected) */
	if ((old = htable_get(&r->resv, v.addr, strlen(v.addr))) != NULL) {
		old->replaced = 1;
		pthread_cond_signal(&old->wake);
		relay_resv_unlink(r, old);
	}
	n = (long)(intptr_t)htable_get(&r->sources, v.src, strlen(v.src));
	if (r->resv.count >= (size_t)r->lim.max_reservations) {
		pthread_mutex_unlock(&r->lock);
		pthread_cond_destroy(&v.wake);
		log_warn("relay: RESERVE %s refused: %d reservations held", v.addr,
		    r->lim.max_reservations);
		return conn_error(c, PROTO_BUSY, "relay full: too many reservations");
	}
	if (v.source_counted && n >= RELAY_MAX_RESERVATIONS_PER_SOURCE) {
		pthread_mutex_unlock(&r->lock);
		pthread_cond_destroy(&v.wake);
		log_warn("relay: RESERVE %s refused: %ld reservations from %s", v.addr,
		    n, v.src);
		return conn_error(c, PROTO_BUSY, "too many reservations from this address");
	}
	v.gen = ++r->gen;
	if (htable_put(&r->resv, v.addr, strlen(v.addr), &v) == NULL ||
	    (v.source_counted && relay_source_add(r, v.src, 1) < 0)) {
		htable_del(&r->resv, v.addr, strlen(v.addr));
		pthread_mutex_unlock(&r->lock);
		pthread_cond_destroy(&v.wake);
		return conn_error(c, PROTO_INTERNAL, "out of memory");
	}
	pthread_mutex_unlock(&r->lock);
	log_info("relay: %s reserved by %s (%d s, %lld bytes a circuit)", v.addr,
	    c->remote, RELAY_RESERVATION_S, r->lim.circuit_bytes);
	conn_printf(c, "OK %d %lld\n", RELAY_RESERVATION_S, r->lim.circuit_bytes);

	/* hold the connection: INCOMING lines out, renewals in */
	for (;;) {
		char tokens[RELAY_MAX_CIRCUITS_PER_PEER][RELAY_TOKEN_HEX + 1];
		int ntok, ended;
		struct timespec until;

		if (conn_flush(c) < 0)
			break;
		pthread_mutex_lock(&r->lock);
		if (!v.replaced && v.npending == 0) {
			clock_deadline_after(&until, RELAY_POLL_MS);
			pthread_cond_timedwait(&v.wake, &r->lock, &until);
		}
		ntok = v.npending;
		memcpy(tokens, v.pending, sizeof(tokens));
		v.npending = 0;
		ended = v.replaced || clock_now_ms() >= v.expires_ms;
		pthread_mutex_unlock(&r->lock);
		for (int k = 0; k < ntok; k++)
			conn_printf(c, "INCOMING %s\n", tokens[k]);
		if (ended) {
			log_info("relay: reservation of %s %s", v.addr,
			    v.replaced ? "taken over by a new one" : "expired");
			break;
		}
		int in = conn_wait_input(c, 0);
		if (in < 0 || (in > 0 && relay_reserve_line(r, c, &v) < 0))
			break;
	}
	conn_flush(c);
	pthread_mutex_lock(&r->lock);
	if (!v.replaced)
		relay_resv_unlink(r, &v);
	pthread_mutex_unlock(&r->lock);
	pthread_cond_destroy(&v.wake);
	log_info("relay: reservation of %s ended", v.addr);
	return -1;
}

/* Lowers the circuit count of reservation addr if it is still the one of
 * generation gen (lock held). */
static void
relay_circuit_done(struct relay *r, const char *addr, unsigned long long gen)
{
	struct relay_resv *v = htable_get(&r->resv, addr, strlen(addr));

	if (v != NULL && v->gen == gen && v->circuits > 0)
		v->circuits--;
}

int
relay_connect(struct relay *r, struct conn *c, const struct proto_request *req)
{
	struct relay_circuit circ;
	struct relay_resv *v;
	unsigned char raw[RELAY_TOKEN_BYTES];
	unsigned long long gen;
	struct timespec until;

	memset(&circ, 0, sizeof(circ));
	circ.peer_fd = -1;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return conn_error(c, PROTO_INTERNAL, "no random bytes");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(circ.token + 2 * i, 3, "%02x", raw[i]);
	clock_cond_init(&circ.ready);

	pthread_mutex_lock(&r->lock);
	v = htable_get(&r->resv, req->arg, req->arglen);
	if (v == NULL || v->replaced) {
		pthread_mutex_unlock(&r->lock);
		pthread_cond_destroy(&circ.ready);
		return conn_error(c, PROTO_NOT_FOUND, "no reservation for that peer");
	}
	if (v->circuits >= RELAY_MAX_CIRCUITS_PER_PEER ||
	    htable_put(&r->circuits, circ.token, strlen(circ.token), &circ) == NULL) {
		pthread_mutex_unlock(&r->lock);
		pthread_cond_destroy(&circ.ready);
		log_warn("relay: CONNECT %s from %s refused: %d circuits open to it",
		    req->arg, c->remote, RELAY_MAX_CIRCUITS_PER_PEER);
		return conn_error(c, PROTO_BUSY, "too many circuits to that peer");
	}
	snprintf(circ.src, sizeof(circ.src), "%s", v->src);
	memcpy(v->pending[v->npending++], circ.token, sizeof(circ.token));
	v->circuits++;
	gen = v->gen;
	pthread_cond_signal(&v->wake);
	clock_deadline_after(&until, RELAY_ACCEPT_WAIT_MS);
	while (circ.peer_fd < 0)
		if (pthread_cond_timedwait(&circ.ready, &r->lock, &until) != 0)
			break;
	htable_del(&r->circuits, circ.token, strlen(circ.token));
	if (circ.peer_fd < 0)
		relay_circuit_done(r, req->arg, gen);
	pthread_mutex_unlock(&r->lock);
	pthread_cond_destroy(&circ.ready);
	if (circ.peer_fd < 0) {
		log_warn("relay: CONNECT %s from %s: the peer did not answer within %d ms",
		    req->arg, c->remote, RELAY_ACCEPT_WAIT_MS);
		return conn_error(c, PROTO_BUSY, "the peer did not answer");
	}

	struct splice_limits lim = {
		.max_bytes = r->lim.circuit_bytes,
		.deadline_ms = clock_now_ms() + r->lim.circuit_s * 1000LL,
		.idle_ms = 0,
	};
	long long carried = 0;
	enum splice_end end;

	log_info("relay: circuit from %s to %s open", c->remote, req->arg);
	conn_printf(c, "OK\n");
	end = conn_splice(c, circ.peer_fd, &lim, &carried);
	close(circ.peer_fd);
	log_info("relay: circuit from %s to %s closed after %lld bytes: %s",
	    c->remote, req->arg, carried, splice_end_text(end));
	pthread_mutex_lock(&r->lock);
	relay_circuit_done(r, req->arg, gen);
	pthread_mutex_unlock(&r->lock);
	return -1;
}

int
relay_accept(struct relay *r, struct conn *c, const struct proto_request *req)
{
	struct relay_circuit *circ;
	int known, fd;

	pthread_mutex_lock(&r->lock);
	circ = htable_get(&r->circuits, req->arg, req->arglen);
	known = circ != NULL && strcmp(circ->src, conn_remote_host(c)) == 0;
	pthread_mutex_unlock(&r->lock);
	if (!known)
		return conn_error(c, PROTO_NOT_FOUND, "no such circuit");
	conn_printf(c, "OK\n");
	if ((fd = conn_dup_fd(c)) < 0)
		return -1;
	/* the CONNECT may have given up meanwhile: look again */
	pthread_mutex_lock(&r->lock);
	circ = htable_get(&r->circuits, req->arg, req->arglen);
	if (circ != NULL && circ->peer_fd < 0) {
		circ->peer_fd = fd;
		fd = -1;
		pthread_cond_signal(&circ->ready);
	}
	pthread_mutex_unlock(&r->lock);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* dialback.c - the rate-limited dial-back to a requester's own address. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/net.h"
#include "p2pm/rpc.h"
#include "p2pm/siphash.h"
#include "dialback.h"
#include "source.h"

/* one source's recent dial-backs */
struct dialback_slot {
	char ip[SOURCE_IP_MAX];		/* "" while unused */
	long long window_start_ms;
	int count;
};

struct dialback {
	pthread_mutex_t lock;	/* guards slots */
	struct dialback_slot *slots;
	uint8_t key[SIPHASH_KEY_LEN];
	atomic_int inflight;
	char from[SOURCE_IP_MAX];	/* "" : any */
};

struct dialback *
dialback_new(const char *from)
{
	struct dialback *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	snprintf(d->from, sizeof(d->from), "%s", from != NULL ? from : "");
	d->slots = calloc(DIALBACK_SLOTS, sizeof(*d->slots));
	if (d->slots == NULL) {
		free(d);
		return NULL;
	}
	siphash_random_key(d->key);
	pthread_mutex_init(&d->lock, NULL);
	atomic_init(&d->inflight, 0);
	return d;
}

void
dialback_free(struct dialback *d)
{
	if (d == NULL)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d->slots);
	free(d);
}

/* Counts one dial-back of ip at now_ms; returns -1 (not counted) when ip
 * has had DIALBACK_PER_SOURCE in its current window. */
static int
dialback_count(struct dialback *d, const char *ip, long long now_ms)
{
	size_t i = (size_t)(siphash24(d->key, ip, strlen(ip)) % DIALBACK_SLOTS);
	struct dialback_slot *s = &d->slots[i];
	int rc = 0;

	pthread_mutex_lock(&d->lock);
	if (strcmp(s->ip, ip) != 0 || now_ms - s->window_start_ms >= DIALBACK_WINDOW_MS) {
		snprintf(s->ip, sizeof(s->ip), "%s", ip);
		s->window_start_ms = now_ms;
		s->count = 0;
	}
	if (s->count >= DIALBACK_PER_SOURCE)
		rc = -1;
	else
		s->count++;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* Connects to addr and asks PING; 0 when the answer is PONG. */
static int
dialback_ping(const struct dialback *d, const char *addr, char *why, size_t whylen)
{
	char err[RPC_ERR_LEN];
	struct rpc_conn *c = rpc_open_from(addr, d->from[0] != '\0' ? d->from : NULL,
	    DIALBACK_CONNECT_MS, DIALBACK_IO_MS, err, sizeof(err));
	const char *rest;
	int rc = -1;

	if (c == NULL) {
		snprintf(why, whylen, "%s", err);
		return -1;
	}
	if (rpc_request(c, "PING") != RPC_OK ||
	    rpc_expect_word(c, "PONG", &rest) != RPC_OK)
		snprintf(why, whylen, "no p2p-music server there (%s)", rpc_error(c));
	else if (rest[0] != '\0')
		snprintf(why, whylen, "no p2p-music server there (a PONG with more)");
	else
		rc = 0;
	if (rc == 0) {
		rpc_request(c, "QUIT");
		rpc_flush(c);
	}
	rpc_close(c);
	return rc;
}

enum dialback_result
dialback_run(struct dialback *d, const char *src_ip, unsigned port, int limited,
    long long now_ms, char *why, size_t whylen)
{
	char addr[NET_ADDR_MAX];
	enum dialback_result res;

	if (limited && dialback_count(d, src_ip, now_ms) < 0)
		return DIALBACK_RATE_LIMITED;
	if (atomic_fetch_add(&d->inflight, 1) >= DIALBACK_MAX_INFLIGHT) {
		atomic_fetch_sub(&d->inflight, 1);
		return DIALBACK_BUSY;
	}
	if (net_format_hostport(src_ip, port, addr, sizeof(addr)) < 0) {
		snprintf(why, whylen, "invalid address");
		res = DIALBACK_UNREACHABLE;
	} else {
		res = dialback_ping(d, addr, why, whylen) == 0 ? DIALBACK_REACHABLE :
		    DIALBACK_UNREACHABLE;
	}
	atomic_fetch_sub(&d->inflight, 1);
	return res;
}

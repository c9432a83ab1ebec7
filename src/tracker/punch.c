/* punch.c - hole punches brokered between a client and a waiting peer. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/clock.h"
#include "p2pm/htable.h"
#include "p2pm/log.h"
#include "punch.h"

/* One waiting peer; lives on its PUNCHWAIT thread's stack while it is in
 * the broker's table, touched only under the broker's lock. */
struct punch_waiter {
	char addr[NET_ADDR_MAX];	/* the peer, the key */
	char observed[NET_ADDR_MAX];	/* where its connection comes from */
	char pending[PUNCH_MAX_PENDING][NET_ADDR_MAX];	/* clients to dial */
	int npending;
	int replaced;
	pthread_cond_t wake;
};

struct punch_broker {
	pthread_mutex_t lock;	/* guards the table and every waiter in it */
	struct htable waiters;	/* addr -> struct punch_waiter */
};

struct punch_broker *
punch_new(void)
{
	struct punch_broker *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	if (htable_init(&b->waiters) < 0) {
		free(b);
		return NULL;
	}
	pthread_mutex_init(&b->lock, NULL);
	return b;
}

void
punch_free(struct punch_broker *b)
{
	if (b == NULL)
		return;
	htable_free(&b->waiters);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* Reads one line from a waiting peer: PING is answered, anything else
 * ends the wait. Returns 0 to go on, -1 to end. */
static int
punch_wait_line(struct conn *c)
{
	char line[PROTO_MAX_LINE + 1];
	size_t len;

	if (conn_read_line(c, line, sizeof(line), &len) != READER_OK)
		return -1;
	if (strcmp(line, "PING") == 0)
		return conn_printf(c, "PONG\n") < 0 ? -1 : 0;
	return -1;
}

int
punch_wait(struct punch_broker *b, struct conn *c, const char *addr)
{
	struct punch_waiter w, *old;
	long long heard = clock_now_ms();

	memset(&w, 0, sizeof(w));
	snprintf(w.addr, sizeof(w.addr), "%s", addr);
	snprintf(w.observed, sizeof(w.observed), "%s", c->remote);
	clock_cond_init(&w.wake);
	pthread_mutex_lock(&b->lock);
	if ((old = htable_del(&b->waiters, w.addr, strlen(w.addr))) != NULL) {
		old->replaced = 1;
		pthread_cond_signal(&old->wake);
	}
	if (b->waiters.count >= PUNCH_MAX_WAITERS ||
	    htable_put(&b->waiters, w.addr, strlen(w.addr), &w) == NULL) {
		pthread_mutex_unlock(&b->lock);
		pthread_cond_destroy(&w.wake);
		return conn_error(c, PROTO_BUSY, "too many peers waiting for punches");
	}
	pthread_mutex_unlock(&b->lock);
	log_info("PUNCHWAIT %s: seen at %s", w.addr, w.observed);
	conn_printf(c, "OK %s\n", w.observed);

	for (;;) {
		char to[PUNCH_MAX_PENDING][NET_ADDR_MAX];
		int n, replaced;
		struct timespec until;

		if (conn_flush(c) < 0)
			break;
		pthread_mutex_lock(&b->lock);
		if (!w.replaced && w.npending == 0) {
			clock_deadline_after(&until, PUNCH_POLL_MS);
			pthread_cond_timedwait(&w.wake, &b->lock, &until);
		}
		n = w.npending;
		memcpy(to, w.pending, sizeof(to));
		w.npending = 0;
		replaced = w.replaced;
		pthread_mutex_unlock(&b->lock);
		for (int k = 0; k < n; k++)
			conn_printf(c, "PUNCH %s\n", to[k]);
		if (replaced)
			break;
		int in = conn_wait_input(c, 0);
		if (in < 0 || (in > 0 && punch_wait_line(c) < 0))
			break;
		if (in > 0)
			heard = clock_now_ms();
		else if (clock_now_ms() - heard > PUNCH_SILENCE_MS) {
			log_info("PUNCHWAIT %s: silent for %d s, closing", w.addr,
			    PUNCH_SILENCE_MS / 1000);
			break;
		}
	}
	conn_flush(c);
	pthread_mutex_lock(&b->lock);
	if (!w.replaced)
		htable_del(&b->waiters, w.addr, strlen(w.addr));
	pthread_mutex_unlock(&b->lock);
	pthread_cond_destroy(&w.wake);
	log_info("PUNCHWAIT %s: ended", w.addr);
	return -1;
}

int
punch_request(struct punch_broker *b, struct conn *c, const char *addr)
{
	char observed[NET_ADDR_MAX];
	struct punch_waiter *w;

	pthread_mutex_lock(&b->lock);
	w = htable_get(&b->waiters, addr, strlen(addr));
	if (w == NULL || w->replaced) {
		pthread_mutex_unlock(&b->lock);
		return conn_error(c, PROTO_NOT_FOUND, "peer not waiting for hole punches");
	}
	if (w->npending >= PUNCH_MAX_PENDING) {
		pthread_mutex_unlock(&b->lock);
		return conn_error(c, PROTO_BUSY, "too many hole punches queued for that peer");
	}
	snprintf(w->pending[w->npending++], NET_ADDR_MAX, "%s", c->remote);
	snprintf(observed, sizeof(observed), "%s", w->observed);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&b->lock);
	log_info("PUNCH %s (seen at %s) from %s", addr, observed, c->remote);
	return conn_printf(c, "PUNCH %s\n", observed);
}

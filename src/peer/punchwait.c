/* punchwait.c - waiting for hole punches at each tracker (punchwait.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/net.h"
#include "p2pm/proto.h"
#include "p2pm/reader.h"
#include "punchwait.h"

/* One tracker's waiter; the waiters of a peer form a chain. */
struct punchwait {
	struct punchwait *next;
	char tracker[NET_ADDR_MAX];
	char advertise[NET_ADDR_MAX];
	struct server *srv;
	pthread_t thread;

	pthread_mutex_t lock;	/* guards the fields below */
	pthread_cond_t wake;
	int stopping;
	int enabled;		/* waiting for punches (else idle until it is) */
	int fd;			/* the held connection, or -1 */

	struct reader rd;	/* the held connection's, the thread's */
};

static int
punchwait_stopping(struct punchwait *p)
{
	pthread_mutex_lock(&p->lock);
	int stop = p->stopping;
	pthread_mutex_unlock(&p->lock);
	return stop;
}

/* Dials client from lport until a dial opens or the deadline passes, and
 * serves what opens. */
static void
punchwait_punch(struct punchwait *p, const char *client, int lport)
{
	long long deadline = clock_now_ms() + PUNCHWAIT_DEADLINE_MS;
	char err[NET_ERR_LEN] = "";
	int fd = -1, attempts = 0;

	while (fd < 0 && clock_now_ms() < deadline && !punchwait_stopping(p)) {
		long long left = deadline - clock_now_ms();
		attempts++;
		fd = net_connect_from_port(client, (unsigned)lport,
		    left < PUNCHWAIT_DIAL_MS ? (int)left : PUNCHWAIT_DIAL_MS, err,
		    sizeof(err));
		if (fd < 0) {
			struct pollfd none;
			poll(&none, 0, PUNCHWAIT_RETRY_MS);
		}
	}
	if (fd < 0) {
		log_warn("hole punch from %s failed after %d dial%s: %s", client,
		    attempts, attempts == 1 ? "" : "s", err);
		return;
	}
	log_info("hole punched: serving %s (port %d, %d dial%s)", client, lport,
	    attempts, attempts == 1 ? "" : "s");
	if (server_adopt(p->srv, fd) < 0)
		log_warn("punched connection from %s refused (busy)", client);
}

/* Holds one PUNCHWAIT until it fails or the thread stops. Returns 1 if
 * the tracker took it. */
static int
punchwait_hold(struct punchwait *p)
{
	char err[NET_ERR_LEN], line[PROTO_MAX_LINE + 1];
	long long ping_at;
	size_t len;
	int fd, lport, n;

	fd = net_connect_from_port(p->tracker, 0, PUNCHWAIT_CONNECT_TIMEOUT_MS, err,
	    sizeof(err));
	if (fd < 0 || (lport = net_local_port(fd)) <= 0) {
		log_warn("tracker %s: cannot wait for hole punches: %s", p->tracker,
		    fd < 0 ? err : "no local port");
		if (fd >= 0)
			close(fd);
		return 0;
	}
	net_set_timeouts(fd, 0, PUNCHWAIT_REPLY_TIMEOUT_MS);
	pthread_mutex_lock(&p->lock);
	p->fd = fd;
	if (p->stopping)
		shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&p->lock);
	reader_init(&p->rd, fd, PUNCHWAIT_REPLY_TIMEOUT_MS);
	n = snprintf(line, sizeof(line), "PUNCHWAIT %s\n", p->advertise);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    net_write_all(fd, line, (size_t)n) < 0 ||
	    reader_line(&p->rd, line, sizeof(line), PROTO_MAX_LINE, &len) != READER_OK) {
		log_warn("tracker %s: no answer to PUNCHWAIT", p->tracker);
		goto out;
	}
	if (strncmp(line, "OK ", 3) != 0) {
		log_warn("tracker %s: PUNCHWAIT refused: %.200s", p->tracker, line);
		goto out;
	}
	log_info("tracker %s: waiting for hole punches (seen at %.200s from port %d)",
	    p->tracker, line + 3, lport);
	p->rd.timeout_ms = PUNCHWAIT_POLL_MS;
	ping_at = clock_now_ms() + PUNCHWAIT_PING_S * 1000LL;
	for (;;) {
		enum reader_result res = reader_line(&p->rd, line, sizeof(line),
		    PROTO_MAX_LINE, &len);
		char host[NET_HOST_MAX];
		unsigned port;

		if (punchwait_stopping(p))
			break;
		if (res == READER_OK && strncmp(line, "PUNCH ", 6) == 0 &&
		    net_parse_hostport(line + 6, host, sizeof(host), &port, 0) == 0) {
			punchwait_punch(p, line + 6, lport);
		} else if (res == READER_OK && strcmp(line, "PONG") == 0) {
			continue;
		} else if (res == READER_OK) {
			log_warn("tracker %s: %.200s", p->tracker, line);
		} else if (res != READER_TIMEOUT) {
			log_warn("tracker %s: hole punch connection lost: %s", p->tracker,
			    reader_strerror(res));
			break;
		}
		if (clock_now_ms() >= ping_at) {
			if (net_write_all(fd, "PING\n", 5) < 0)
				break;
			ping_at = clock_now_ms() + PUNCHWAIT_PING_S * 1000LL;
		}
	}
out:
	pthread_mutex_lock(&p->lock);
	p->fd = -1;
	pthread_mutex_unlock(&p->lock);
	close(fd);
	return 1;
}

static void *
punchwait_main(void *arg)
{
	struct punchwait *p = arg;
	int backoff = PUNCHWAIT_BACKOFF_MIN_S;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping && !p->enabled)
		pthread_cond_wait(&p->wake, &p->lock);
	while (!p->stopping) {
		struct timespec until;

		pthread_mutex_unlock(&p->lock);
		if (punchwait_hold(p))
			backoff = PUNCHWAIT_BACKOFF_MIN_S;
		pthread_mutex_lock(&p->lock);
		clock_deadline_after(&until, backoff * 1000LL);
		if (!p->stopping)
			pthread_cond_timedwait(&p->wake, &p->lock, &until);
		backoff = backoff * 2 > PUNCHWAIT_BACKOFF_MAX_S ?
		    PUNCHWAIT_BACKOFF_MAX_S : backoff * 2;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct punchwait *
punchwait_start(const struct cli_trackers *trackers, const char *advertise,
    struct server *srv, int enabled)
{
	struct punchwait *first = NULL, **tail = &first;

	for (size_t i = 0; i < trackers->count; i++) {
		struct punchwait *p = calloc(1, sizeof(*p));
		pthread_attr_t attr;
		int rc;

		if (p == NULL) {
			log_error("cannot wait for hole punches: out of memory");
			punchwait_stop(first);
			return NULL;
		}
		snprintf(p->tracker, sizeof(p->tracker), "%s", trackers->addr[i]);
		snprintf(p->advertise, sizeof(p->advertise), "%s", advertise);
		p->srv = srv;
		p->enabled = enabled;
		p->fd = -1;
		pthread_mutex_init(&p->lock, NULL);
		clock_cond_init(&p->wake);
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, PUNCHWAIT_THREAD_STACK);
		rc = pthread_create(&p->thread, &attr, punchwait_main, p);
		pthread_attr_destroy(&attr);
		if (rc != 0) {
			log_error("cannot wait for hole punches: %s", strerror(rc));
			pthread_mutex_destroy(&p->lock);
			pthread_cond_destroy(&p->wake);
			free(p);
			punchwait_stop(first);
			return NULL;
		}
		*tail = p;
		tail = &p->next;
	}
	return first;
}

void
punchwait_enable(void *arg)
{
	for (struct punchwait *s = arg; s != NULL; s = s->next) {
		pthread_mutex_lock(&s->lock);
		s->enabled = 1;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
	}
}

void
punchwait_stop(struct punchwait *p)
{
	for (struct punchwait *s = p; s != NULL; s = s->next) {
		pthread_mutex_lock(&s->lock);
		s->stopping = 1;
		if (s->fd >= 0)
			shutdown(s->fd, SHUT_RDWR);
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
	}
	while (p != NULL) {
		struct punchwait *next = p->next;
		pthread_join(p->thread, NULL);
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->wake);
		free(p);
		p = next;
	}
}

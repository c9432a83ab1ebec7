/* reservation.c - the peer's end of a relay reservation (reservation.h). */
#include <errno.h>
#include <limits.h>
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
#include "p2pm/strnum.h"
#include "relay.h"
#include "reservation.h"

struct reservation {
	char relay[NET_ADDR_MAX];
	char advertise[NET_ADDR_MAX];
	struct server *srv;
	struct announcer *ann;
	pthread_t thread;

	pthread_mutex_t lock;	/* guards the fields below */
	pthread_cond_t wake;
	int stopping;
	int fd;			/* the held connection, or -1 */

	struct reader rd;	/* the held connection's, used by the thread */
};

/* Sends one line (with its LF) on fd. */
static int
reservation_send(int fd, const char *fmt, const char *arg)
{
	char line[PROTO_MAX_LINE];
	int n = snprintf(line, sizeof(line), fmt, arg);

	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return net_write_all(fd, line, (size_t)n);
}

/* Opens the relay's end of circuit token and hands it to the server. */
static void
reservation_circuit(struct reservation *r, const char *token)
{
	char err[NET_ERR_LEN], line[PROTO_MAX_LINE];
	int fd = net_connect(r->relay, RESERVATION_CONNECT_TIMEOUT_MS, err,
	    sizeof(err));

	if (fd < 0) {
		log_warn("relay %s: circuit %.8s...: %s", r->relay, token, err);
		return;
	}
	net_set_timeouts(fd, 0, RESERVATION_REPLY_TIMEOUT_MS);
	if (reservation_send(fd, "ACCEPT %s\n", token) < 0 ||
	    net_read_line_exact(fd, line, sizeof(line), RESERVATION_REPLY_TIMEOUT_MS) < 0) {
		log_warn("relay %s: circuit %.8s...: no answer to ACCEPT", r->relay, token);
		close(fd);
		return;
	}
	if (strcmp(line, "OK") != 0) {
		log_warn("relay %s: circuit %.8s...: %.200s", r->relay, token, line);
		close(fd);
		return;
	}
	log_info("relay %s: serving a relayed connection", r->relay);
	if (server_adopt(r->srv, fd) < 0)
		log_warn("relay %s: relayed connection refused (busy)", r->relay);
}

/* Reads "OK <seconds> <bytes>" after a RESERVE; returns the seconds the
 * reservation lasts, or -1 with the reply (or reason) in err. */
static long
reservation_parse_ok(const char *line, char *err, size_t errlen)
{
	char copy[PROTO_MAX_LINE + 1], *save = NULL, *word, *secs_w, *bytes_w;
	long secs, bytes;

	snprintf(copy, sizeof(copy), "%s", line);
	word = strtok_r(copy, " ", &save);
	secs_w = strtok_r(NULL, " ", &save);
	bytes_w = strtok_r(NULL, " ", &save);
	if (word == NULL || strcmp(word, "OK") != 0 || secs_w == NULL ||
	    bytes_w == NULL || strtok_r(NULL, " ", &save) != NULL ||
	    strnum_parse(secs_w, 1, RESERVATION_MAX_S, &secs) < 0 ||
	    strnum_parse(bytes_w, 1, LONG_MAX, &bytes) < 0) {
		snprintf(err, errlen, "relay said: %.200s", line);
		return -1;
	}
	return secs;
}

/* Holds one reservation until it fails or the thread stops. Returns 1 if
 * a reservation was held (the backoff starts again), 0 if not. */
static int
reservation_hold(struct reservation *r)
{
	char err[NET_ERR_LEN], line[PROTO_MAX_LINE + 1];
	long long renew_at;
	size_t len;
	long secs;
	int fd, held = 0;

	fd = net_connect(r->relay, RESERVATION_CONNECT_TIMEOUT_MS, err, sizeof(err));
	if (fd < 0) {
		log_warn("relay %s: %s", r->relay, err);
		return 0;
	}
	net_set_timeouts(fd, 0, RESERVATION_REPLY_TIMEOUT_MS);
	pthread_mutex_lock(&r->lock);
	r->fd = fd;
	if (r->stopping)
		shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&r->lock);
	reader_init(&r->rd, fd, RESERVATION_REPLY_TIMEOUT_MS);
	if (reservation_send(fd, "RESERVE %s\n", r->advertise) < 0 ||
	    reader_line(&r->rd, line, sizeof(line), PROTO_MAX_LINE, &len) != READER_OK) {
		log_warn("relay %s: no answer to RESERVE", r->relay);
		goto out;
	}
	if ((secs = reservation_parse_ok(line, err, sizeof(err))) < 0) {
		log_warn("relay %s: reservation refused: %s", r->relay, err);
		goto out;
	}
	log_info("relay %s: reserved for %ld s; registering relay=%s while not "
	    "reachable otherwise", r->relay, secs, r->relay);
	announce_set_relay(r->ann, r->relay);
	held = 1;
	renew_at = clock_now_ms() + secs * 500;
	r->rd.timeout_ms = RESERVATION_POLL_MS;
	for (;;) {
		enum reader_result res = reader_line(&r->rd, line, sizeof(line),
		    PROTO_MAX_LINE, &len);

		pthread_mutex_lock(&r->lock);
		int stop = r->stopping;
		pthread_mutex_unlock(&r->lock);
		if (stop)
			break;
		if (res == READER_TIMEOUT) {
			if (clock_now_ms() >= renew_at) {
				if (reservation_send(fd, "RESERVE %s\n", r->advertise) < 0)
					break;
				renew_at = clock_now_ms() + secs * 500;
			}
			continue;
		}
		if (res != READER_OK) {
			log_warn("relay %s: reservation lost: %s", r->relay,
			    reader_strerror(res));
			break;
		}
		if (strncmp(line, "INCOMING ", 9) == 0 &&
		    strlen(line + 9) == RELAY_TOKEN_HEX) {
			reservation_circuit(r, line + 9);
		} else if (strncmp(line, "OK ", 3) == 0) {
			long s2 = reservation_parse_ok(line, err, sizeof(err));
			if (s2 > 0)
				secs = s2;
			log_debug("relay %s: reservation renewed", r->relay);
		} else {
			log_warn("relay %s: %.200s", r->relay, line);
		}
	}
	announce_set_relay(r->ann, NULL);
out:
	pthread_mutex_lock(&r->lock);
	r->fd = -1;
	pthread_mutex_unlock(&r->lock);
	close(fd);
	return held;
}

static void *
reservation_main(void *arg)
{
	struct reservation *r = arg;
	int backoff = RESERVATION_BACKOFF_MIN_S;

	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		struct timespec until;

		pthread_mutex_unlock(&r->lock);
		if (reservation_hold(r))
			backoff = RESERVATION_BACKOFF_MIN_S;
		pthread_mutex_lock(&r->lock);
		clock_deadline_after(&until, backoff * 1000LL);
		if (!r->stopping)
			pthread_cond_timedwait(&r->wake, &r->lock, &until);
		backoff = backoff * 2 > RESERVATION_BACKOFF_MAX_S ?
		    RESERVATION_BACKOFF_MAX_S : backoff * 2;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct reservation *
reservation_start(const char *relay, const char *advertise, struct server *srv,
    struct announcer *ann)
{
	struct reservation *r = calloc(1, sizeof(*r));
	pthread_attr_t attr;
	int rc;

	if (r == NULL) {
		log_error("relay %s: out of memory", relay);
		return NULL;
	}
	snprintf(r->relay, sizeof(r->relay), "%s", relay);
	snprintf(r->advertise, sizeof(r->advertise), "%s", advertise);
	r->srv = srv;
	r->ann = ann;
	r->fd = -1;
	pthread_mutex_init(&r->lock, NULL);
	clock_cond_init(&r->wake);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, RESERVATION_THREAD_STACK);
	rc = pthread_create(&r->thread, &attr, reservation_main, r);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_error("relay %s: cannot start a thread: %s", relay, strerror(rc));
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->wake);
		free(r);
		return NULL;
	}
	return r;
}

void
reservation_stop(struct reservation *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = 1;
	if (r->fd >= 0)
		shutdown(r->fd, SHUT_RDWR);
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
	free(r);
}

/* announce.c - the announcer thread: REGISTER, renewals, UNREGISTER. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/net.h"
#include "p2pm/proto.h"
#include "p2pm/reader.h"
#include "announce.h"

struct announcer {
	char tracker[NET_ADDR_MAX];
	char advertise[NET_ADDR_MAX];
	int renew_s;
	struct index *idx;
	pthread_t thread;

	pthread_mutex_t lock;	/* guards the fields below */
	pthread_cond_t wake;
	int poked;
	int stopping;
	int fd;			/* the connection in use, or -1 */
};

/* A REGISTER body being written to the tracker in ANNOUNCE_OUT_BUF pieces. */
struct announce_out {
	int fd;
	size_t len;
	int failed;
	char buf[ANNOUNCE_OUT_BUF];
};

static void
announce_out_flush(struct announce_out *o)
{
	if (!o->failed && o->len > 0 && net_write_all(o->fd, o->buf, o->len) < 0)
		o->failed = 1;
	o->len = 0;
}

static void
announce_out_line(struct announce_out *o, const char *line)
{
	size_t n = strlen(line);

	if (o->len + n + 1 > sizeof(o->buf))
		announce_out_flush(o);
	memcpy(o->buf + o->len, line, n);
	o->buf[o->len + n] = '\n';
	o->len += n + 1;
}

/* Connects to the tracker and publishes the socket so that announce_stop
 * can interrupt it. */
static int
announce_connect(struct announcer *a, int connect_ms, int io_ms, char *err,
    size_t errlen)
{
	int fd = net_connect(a->tracker, connect_ms, err, errlen);

	if (fd < 0)
		return -1;
	net_set_timeouts(fd, io_ms, io_ms);
	pthread_mutex_lock(&a->lock);
	a->fd = fd;
	pthread_mutex_unlock(&a->lock);
	return fd;
}

static void
announce_disconnect(struct announcer *a)
{
	pthread_mutex_lock(&a->lock);
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	pthread_mutex_unlock(&a->lock);
}

/* Reads the tracker's one-line answer; 0 if it is OK. */
static int
announce_expect_ok(int fd, int timeout_ms, char *err, size_t errlen)
{
	struct reader *rd = malloc(sizeof(*rd));
	char line[PROTO_MAX_LINE + 1];
	const char *text;
	enum reader_result res;
	size_t len;
	int rc = -1;

	if (rd == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	reader_init(rd, fd, timeout_ms);
	res = reader_line(rd, line, sizeof(line), PROTO_MAX_LINE, &len);
	if (res != READER_OK)
		snprintf(err, errlen, "no answer: %s", reader_strerror(res));
	else if (strcmp(line, "OK") == 0)
		rc = 0;
	else if (proto_parse_err(line, &text) > 0)
		snprintf(err, errlen, "tracker said: %.200s", line);
	else
		snprintf(err, errlen, "unexpected answer '%.64s'", line);
	free(rd);
	return rc;
}

/* Sends one REGISTER with every ready song. Returns the number of songs
 * registered, or -1 with a reason in err. */
static long
announce_register(struct announcer *a, char *err, size_t errlen)
{
	char line[PROTO_MAX_LINE], enc[PROTO_MAX_ENCODED_NAME + 1];
	struct announce_out *o;
	char **names;
	size_t n;
	long rc = -1;
	int fd;

	names = index_ready_names(a->idx, PROTO_MAX_SONGS, &n);
	if (names == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o = malloc(sizeof(*o));
	if (o == NULL) {
		snprintf(err, errlen, "out of memory");
		index_names_free(names, n);
		return -1;
	}
	fd = announce_connect(a, ANNOUNCE_CONNECT_TIMEOUT_MS, ANNOUNCE_IO_TIMEOUT_MS,
	    err, errlen);
	if (fd >= 0) {
		o->fd = fd;
		o->len = 0;
		o->failed = 0;
		snprintf(line, sizeof(line), "REGISTER %s", a->advertise);
		announce_out_line(o, line);
		for (size_t i = 0; i < n; i++)
			if (proto_encode_name(names[i], strlen(names[i]), enc, sizeof(enc)) > 0)
				announce_out_line(o, enc);
		announce_out_line(o, "");
		announce_out_flush(o);
		if (o->failed)
			snprintf(err, errlen, "cannot send: %s", strerror(errno));
		else if (announce_expect_ok(fd, ANNOUNCE_IO_TIMEOUT_MS, err, errlen) == 0)
			rc = (long)n;
		announce_disconnect(a);
	}
	free(o);
	index_names_free(names, n);
	return rc;
}

/* Waits until ms have passed, a poke, or stop. Lock held. */
static void
announce_wait(struct announcer *a, long long ms)
{
	struct timespec deadline;

	clock_deadline_after(&deadline, ms);
	while (!a->stopping && !a->poked)
		if (pthread_cond_timedwait(&a->wake, &a->lock, &deadline) == ETIMEDOUT)
			break;
}

static void *
announce_main(void *arg)
{
	struct announcer *a = arg;
	char err[NET_ERR_LEN + 64];
	int backoff = ANNOUNCE_BACKOFF_MIN_S, down = 0;
	long registered = -1;

	pthread_mutex_lock(&a->lock);
	while (!a->stopping) {
		a->poked = 0;
		pthread_mutex_unlock(&a->lock);
		long n = announce_register(a, err, sizeof(err));
		pthread_mutex_lock(&a->lock);
		if (a->stopping)
			break;
		if (n >= 0) {
			if (down || n != registered)
				log_info("registered %ld song(s) with tracker %s as %s", n,
				    a->tracker, a->advertise);
			else
				log_debug("renewed %ld song(s) with tracker %s", n, a->tracker);
			down = 0;
			registered = n;
			backoff = ANNOUNCE_BACKOFF_MIN_S;
			announce_wait(a, (long long)a->renew_s * 1000);
		} else {
			if (!down)
				log_warn("cannot register with tracker %s: %s (retrying)",
				    a->tracker, err);
			else
				log_debug("tracker %s still unreachable: %s", a->tracker, err);
			down = 1;
			announce_wait(a, (long long)backoff * 1000);
			backoff = backoff * 2 > a->renew_s ? a->renew_s : backoff * 2;
		}
		/* a poke often comes with more: let them gather briefly */
		if (a->poked && !a->stopping) {
			a->poked = 0;
			announce_wait(a, ANNOUNCE_GATHER_MS);
		}
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct announcer *
announce_start(const char *tracker, const char *advertise, int renew_s,
    struct index *idx)
{
	struct announcer *a = calloc(1, sizeof(*a));
	pthread_attr_t attr;
	int rc;

	if (a == NULL)
		return NULL;
	snprintf(a->tracker, sizeof(a->tracker), "%s", tracker);
	snprintf(a->advertise, sizeof(a->advertise), "%s", advertise);
	a->renew_s = renew_s;
	a->idx = idx;
	a->fd = -1;
	pthread_mutex_init(&a->lock, NULL);
	clock_cond_init(&a->wake);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, ANNOUNCE_THREAD_STACK);
	rc = pthread_create(&a->thread, &attr, announce_main, a);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_error("cannot start the announcer: %s", strerror(rc));
		pthread_mutex_destroy(&a->lock);
		pthread_cond_destroy(&a->wake);
		free(a);
		return NULL;
	}
	return a;
}

void
announce_poke(struct announcer *a)
{
	pthread_mutex_lock(&a->lock);
	a->poked = 1;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
}

void
announce_stop(struct announcer *a)
{
	char line[NET_ADDR_MAX + 16], err[NET_ERR_LEN + 64];
	int fd, ok = 0;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = 1;
	if (a->fd >= 0)
		shutdown(a->fd, SHUT_RDWR);	/* cut a REGISTER in progress short */
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);

	fd = announce_connect(a, ANNOUNCE_BYE_TIMEOUT_MS, ANNOUNCE_BYE_TIMEOUT_MS,
	    err, sizeof(err));
	if (fd >= 0) {
		int n = snprintf(line, sizeof(line), "UNREGISTER %s\n", a->advertise);
		if (net_write_all(fd, line, (size_t)n) < 0)
			snprintf(err, sizeof(err), "cannot send: %s", strerror(errno));
		else if (announce_expect_ok(fd, ANNOUNCE_BYE_TIMEOUT_MS, err,
		    sizeof(err)) == 0)
			ok = 1;
		announce_disconnect(a);
	}
	if (ok)
		log_info("unregistered %s from tracker %s", a->advertise, a->tracker);
	else
		log_warn("cannot unregister from tracker %s: %s", a->tracker, err);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->wake);
	free(a);
}

/* relay.c - a TCP relay for tests that need a slow, late or stuck link.
 *
 * Listens on ADDR:PORT (default 127.0.0.1:0), prints "listening on
 * HOST:PORT", and forwards each accepted connection to TARGET, both ways:
 *
 *   --rate BYTES    at most BYTES per second from TARGET to the client, per
 *                   connection (a capped uplink of the target)
 *   --delay MS      every chunk, both ways, is delivered MS milliseconds
 *                   after it was read (one-way delay; this kernel may have
 *                   no netem, and this works everywhere)
 *   --freeze-after BYTES  after BYTES from TARGET, forward nothing more that
 *                   way and keep the connection open (a stalled source)
 *
 * usage: relay [-l ADDR:PORT] [--rate BYTES] [--delay MS]
 *              [--freeze-after BYTES] TARGET */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/net.h"
#include "p2pm/strnum.h"

/* bytes read from one side in one go */
#define RELAY_CHUNK 16384
/* most bytes queued in one direction while they wait out the delay */
#define RELAY_QUEUE_BYTES (4L * 1024 * 1024)
/* how long connecting to the target may take */
#define RELAY_CONNECT_MS 5000

struct relay_opts {
	const char *target;
	long rate;		/* bytes per second, 0: no cap */
	long delay_ms;
	long freeze_after;	/* -1: never */
};

struct relay_chunk {
	struct relay_chunk *next;
	long long due_ms;
	size_t len;
	char data[];
};

/* One direction of one connection: a reader thread queues what it reads,
 * a writer thread sends it when due, at the rate allowed. */
struct relay_pipe {
	int from, to;
	long rate;
	long long delay_ms;
	long freeze_after;	/* -1: never */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct relay_chunk *head, *tail;
	long queued;
	int eof;
};

static void
relay_sleep_ms(long long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *
relay_reader(void *arg)
{
	struct relay_pipe *p = arg;
	char buf[RELAY_CHUNK];
	ssize_t n;

	for (;;) {
		n = read(p->from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		struct relay_chunk *c = malloc(sizeof(*c) + (size_t)n);
		if (c == NULL)
			break;
		c->next = NULL;
		c->len = (size_t)n;
		c->due_ms = clock_now_ms() + p->delay_ms;
		memcpy(c->data, buf, (size_t)n);
		pthread_mutex_lock(&p->lock);
		while (p->queued > RELAY_QUEUE_BYTES)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->tail != NULL)
			p->tail->next = c;
		else
			p->head = c;
		p->tail = c;
		p->queued += n;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_lock(&p->lock);
	p->eof = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Sends len bytes, no faster than p->rate bytes a second: *free_us is the
 * time (microseconds on the monotonic clock) when the link is next free,
 * and *sent counts what went out so far, for --freeze-after. */
static int
relay_send(struct relay_pipe *p, const char *data, size_t len, long long *sent,
    long long *free_us)
{
	while (len > 0) {
		size_t n = len;
		if (p->rate > 0) {
			/* pace in slices of a fiftieth of a second */
			size_t slice = (size_t)(p->rate / 50 > 0 ? p->rate / 50 : 1);
			long long now_us = clock_now_ms() * 1000;
			if (n > slice)
				n = slice;
			if (*free_us < now_us)
				*free_us = now_us;
			relay_sleep_ms((*free_us - now_us) / 1000);
			*free_us += (long long)n * 1000000 / p->rate;
		}
		if (p->freeze_after >= 0 && *sent + (long long)n > p->freeze_after) {
			n = (size_t)(p->freeze_after - *sent);
			if (n > 0 && net_write_all(p->to, data, n) < 0)
				return -1;
			*sent += (long long)n;
			for (;;)	/* stuck: hold the connection, forward nothing */
				relay_sleep_ms(60000);
		}
		if (net_write_all(p->to, data, n) < 0)
			return -1;
		*sent += (long long)n;
		data += n;
		len -= n;
	}
	return 0;
}

static void *
relay_writer(void *arg)
{
	struct relay_pipe *p = arg;
	long long sent = 0, free_us = 0;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->head == NULL && !p->eof)
			pthread_cond_wait(&p->cond, &p->lock);
		struct relay_chunk *c = p->head;
		if (c == NULL) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		p->head = c->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued -= (long)c->len;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		relay_sleep_ms(c->due_ms - clock_now_ms());
		int rc = relay_send(p, c->data, c->len, &sent, &free_us);
		free(c);
		if (rc < 0)
			break;
	}
	shutdown(p->to, SHUT_WR);
	return NULL;
}

struct relay_conn {
	int client, target;
	struct relay_opts opts;
};

static void
relay_pipe_init(struct relay_pipe *p, int from, int to, long rate, long delay_ms,
    long freeze_after)
{
	memset(p, 0, sizeof(*p));
	p->from = from;
	p->to = to;
	p->rate = rate;
	p->delay_ms = delay_ms;
	p->freeze_after = freeze_after;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
}

static void *
relay_conn_run(void *arg)
{
	struct relay_conn *rc = arg;
	struct relay_pipe up, down;
	pthread_t t[4];

	relay_pipe_init(&up, rc->client, rc->target, 0, rc->opts.delay_ms, -1);
	relay_pipe_init(&down, rc->target, rc->client, rc->opts.rate,
	    rc->opts.delay_ms, rc->opts.freeze_after);
	pthread_create(&t[0], NULL, relay_reader, &up);
	pthread_create(&t[1], NULL, relay_writer, &up);
	pthread_create(&t[2], NULL, relay_reader, &down);
	pthread_create(&t[3], NULL, relay_writer, &down);
	/* the connection ends when the target has said all it will */
	pthread_join(t[3], NULL);
	shutdown(rc->client, SHUT_RDWR);
	shutdown(rc->target, SHUT_RDWR);
	pthread_join(t[2], NULL);
	pthread_join(t[1], NULL);
	pthread_join(t[0], NULL);
	close(rc->client);
	close(rc->target);
	free(rc);
	return NULL;
}

static int
relay_usage(void)
{
	fprintf(stderr, "usage: relay [-l ADDR:PORT] [--rate BYTES] [--delay MS] "
	    "[--freeze-after BYTES] TARGET\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct relay_opts o = { NULL, 0, 0, -1 };
	const char *listen_addr = "127.0.0.1:0";
	char err[NET_ERR_LEN], addr[NET_ADDR_MAX];
	int lfd, fd;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		long *num = NULL, max = 0;
		if (strcmp(a, "-l") == 0 && i + 1 < argc) {
			listen_addr = argv[++i];
			continue;
		} else if (strcmp(a, "--rate") == 0) {
			num = &o.rate;
			max = 1L << 30;
		} else if (strcmp(a, "--delay") == 0) {
			num = &o.delay_ms;
			max = 60000;
		} else if (strcmp(a, "--freeze-after") == 0) {
			num = &o.freeze_after;
			max = 1L << 40;
		} else if (a[0] != '-' && o.target == NULL) {
			o.target = a;
			continue;
		} else {
			return relay_usage();
		}
		if (i + 1 >= argc || strnum_parse(argv[++i], 0, max, num) < 0)
			return relay_usage();
	}
	if (o.target == NULL)
		return relay_usage();
	signal(SIGPIPE, SIG_IGN);
	lfd = net_listen(listen_addr, err, sizeof(err));
	if (lfd < 0 || net_local_addr(lfd, addr, sizeof(addr)) < 0) {
		fprintf(stderr, "relay: %s\n", lfd < 0 ? err : strerror(errno));
		return 1;
	}
	printf("listening on %s\n", addr);
	fflush(stdout);
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			relay_sleep_ms(100);
			continue;
		}
		struct relay_conn *rc = malloc(sizeof(*rc));
		int tfd = net_connect(o.target, RELAY_CONNECT_MS, err, sizeof(err));
		if (rc == NULL || tfd < 0) {
			fprintf(stderr, "relay: %s\n", tfd < 0 ? err : "out of memory");
			free(rc);
			if (tfd >= 0)
				close(tfd);
			close(fd);
			continue;
		}
		rc->client = fd;
		rc->target = tfd;
		rc->opts = o;
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, relay_conn_run, rc) != 0) {
			close(fd);
			close(tfd);
			free(rc);
		}
		pthread_attr_destroy(&attr);
	}
}

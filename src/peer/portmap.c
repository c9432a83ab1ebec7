/* portmap.c - the router's port mapping: PCP or NAT-PMP over UDP to the
 * default gateway, renewed, re-made and deleted (portmap.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/natpmp.h"
#include "p2pm/net.h"
#include "portmap.h"

/* the routing table, and the longest line of it read */
#define PORTMAP_ROUTE_FILE "/proc/net/route"
#define PORTMAP_ROUTE_LINE 512
/* how often a waiting exchange looks whether the peer is stopping, ms */
#define PORTMAP_POLL_SLICE_MS 50
#define PORTMAP_THREAD_STACK (128 * 1024)
/* the largest datagram read (a PCP message's limit) */
#define PORTMAP_MAX_DATAGRAM PCP_MAX_LEN

struct portmap {
	unsigned internal_port;
	enum portmap_proto proto;
	void (*changed)(void *);
	void *ctx;
	pthread_t thread;
	int started;
	atomic_int stopping;

	pthread_mutex_t lock;	/* guards the fields below */
	pthread_cond_t wake;
	int settled;		/* the first attempt ended */
	int mapped;
	char external[NET_ADDR_MAX];
	char router[INET_ADDRSTRLEN];	/* the gateway that mapped it */

	/* the thread's own */
	int fd;			/* UDP, connected to the gateway's port 5351 */
	char gateway[INET_ADDRSTRLEN];
	unsigned char client_ip[4];	/* where requests come from, as PCP says */
	int use_natpmp;		/* the router answered PCP "unsupported version" */
	unsigned char nonce[PCP_NONCE_LEN];
	int have_epoch;
	uint32_t epoch;
	long long epoch_at_s;
	unsigned ext_port;
	unsigned char ext_ip[4];
	uint32_t lifetime;
};

struct portmap *
portmap_new(unsigned internal_port, enum portmap_proto proto)
{
	struct portmap *pm = calloc(1, sizeof(*pm));

	if (pm == NULL)
		return NULL;
	pm->internal_port = internal_port;
	pm->proto = proto;
	pm->use_natpmp = proto == PORTMAP_NATPMP;
	pm->fd = -1;
	atomic_init(&pm->stopping, 0);
	pthread_mutex_init(&pm->lock, NULL);
	clock_cond_init(&pm->wake);
	return pm;
}

/* Reads the default IPv4 gateway from the routing table into gw. Returns
 * 0, or -1 when there is none. */
static int
portmap_gateway(struct in_addr *gw)
{
	char line[PORTMAP_ROUTE_LINE];
	FILE *f = fopen(PORTMAP_ROUTE_FILE, "r");
	int rc = -1;

	if (f == NULL)
		return -1;
	/* "Iface Destination Gateway Flags ...", hex of the raw addresses */
	while (rc < 0 && fgets(line, sizeof(line), f) != NULL) {
		char iface[64];
		unsigned long dest, gate, flags, mask;
		if (sscanf(line, "%63s %lx %lx %lx %*s %*s %*s %lx", iface, &dest, &gate,
		    &flags, &mask) != 5)
			continue;
		/* RTF_UP | RTF_GATEWAY, destination and mask 0 */
		if (dest == 0 && mask == 0 && (flags & 0x3) == 0x3 && gate != 0) {
			gw->s_addr = (in_addr_t)gate;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

/* Opens the UDP socket to the gateway's NAT-PMP/PCP port and learns the
 * address requests come from. Returns 0, or -1 (logged at debug). */
static int
portmap_open(struct portmap *pm)
{
	struct sockaddr_in to, me;
	socklen_t ml = sizeof(me);
	struct in_addr gw;

	if (portmap_gateway(&gw) < 0) {
		log_debug("port mapping: no default gateway");
		return -1;
	}
	inet_ntop(AF_INET, &gw, pm->gateway, sizeof(pm->gateway));
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr = gw;
	to.sin_port = htons(NATPMP_SERVER_PORT);
	pm->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* connected: the kernel passes on datagrams from there alone */
	if (pm->fd < 0 || connect(pm->fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    getsockname(pm->fd, (struct sockaddr *)&me, &ml) < 0) {
		log_debug("port mapping: cannot open a socket to %s: %s", pm->gateway,
		    strerror(errno));
		if (pm->fd >= 0)
			close(pm->fd);
		pm->fd = -1;
		return -1;
	}
	memcpy(pm->client_ip, &me.sin_addr, 4);
	return 0;
}

/* What kind of answer an exchange waits for. */
enum portmap_ask { ASK_NATPMP_ADDR, ASK_NATPMP_MAP, ASK_PCP_MAP };

static enum natpmp_verdict
portmap_parse(struct portmap *pm, enum portmap_ask ask, const unsigned char *buf,
    size_t len, struct natpmp_answer *a)
{
	switch (ask) {
	case ASK_NATPMP_ADDR:
		return natpmp_parse_addr_answer(buf, len, a);
	case ASK_NATPMP_MAP:
		return natpmp_parse_map_answer(buf, len, pm->internal_port, a);
	case ASK_PCP_MAP:
		break;
	}
	return pcp_parse_map_answer(buf, len, pm->nonce, pm->internal_port, a);
}

/* Sends req and waits for its answer, resending after 250 ms, doubling,
 * `tries` times; datagrams that are not an answer to it are ignored.
 * Returns the verdict on the first answer, or -1 when none came (or the
 * peer is stopping and `tries` is not the delete's). */
static int
portmap_exchange(struct portmap *pm, const unsigned char *req, size_t reqlen,
    enum portmap_ask ask, int tries, int at_stop, struct natpmp_answer *a)
{
	unsigned char buf[PORTMAP_MAX_DATAGRAM];
	int wait_ms = PORTMAP_FIRST_WAIT_MS;

	for (int t = 0; t < tries; t++, wait_ms *= 2) {
		if (send(pm->fd, req, reqlen, 0) < 0 && errno != ECONNREFUSED)
			return -1;
		long long until = clock_now_ms() + wait_ms;
		for (long long now = clock_now_ms(); now < until; now = clock_now_ms()) {
			if (!at_stop && atomic_load(&pm->stopping))
				return -1;
			long long left = until - now;
			struct pollfd p = { pm->fd, POLLIN, 0 };
			int r = poll(&p, 1, (int)(left < PORTMAP_POLL_SLICE_MS ? left :
			    PORTMAP_POLL_SLICE_MS));
			if (r <= 0)
				continue;
			ssize_t n = recv(pm->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0)
				continue;	/* ECONNREFUSED: an ICMP port unreachable */
			enum natpmp_verdict v = portmap_parse(pm, ask, buf, (size_t)n, a);
			if (v != NATPMP_ANSWER_BAD)
				return (int)v;
			log_debug("port mapping: ignored a malformed datagram from %s "
			    "(%zd bytes)", pm->gateway, n);
		}
	}
	return -1;
}

/* Checks the router's epoch in an answer against the last one; 1 when
 * the router lost its state meanwhile (logged). */
static int
portmap_epoch(struct portmap *pm, uint32_t epoch)
{
	long long now_s = clock_now_ms() / 1000;
	int lost = pm->have_epoch && natpmp_epoch_lost(pm->epoch, pm->epoch_at_s,
	    epoch, now_s);

	if (lost)
		log_info("port mapping: router %s lost its mappings (restarted: its "
		    "epoch went from %lu to %lu s)", pm->gateway, (unsigned long)pm->epoch,
		    (unsigned long)epoch);
	pm->have_epoch = 1;
	pm->epoch = epoch;
	pm->epoch_at_s = now_s;
	return lost;
}

/* One mapping request (a first one, or a renewal suggesting what the
 * router gave before), PCP or NAT-PMP. Returns 0 with ext_port, ext_ip
 * and lifetime set; -1 with why written when the router refused, did
 * not answer or gave something unusable. */
static int
portmap_request(struct portmap *pm, uint32_t lifetime, int tries, int at_stop,
    char *why, size_t whylen)
{
	unsigned char req[PCP_MAP_LEN];
	struct natpmp_answer a;
	int v;

	if (!pm->use_natpmp) {
		size_t len = pcp_map_request(req, pm->client_ip, pm->nonce,
		    pm->internal_port, lifetime > 0 ? pm->ext_port : 0, pm->ext_ip,
		    lifetime);
		v = portmap_exchange(pm, req, len, ASK_PCP_MAP, tries, at_stop, &a);
		if (v == NATPMP_ANSWER_VERSION && pm->proto == PORTMAP_AUTO) {
			log_debug("port mapping: router %s speaks NAT-PMP, not PCP",
			    pm->gateway);
			pm->use_natpmp = 1;
		} else if (v < 0) {
			snprintf(why, whylen, "no answer from router %s", pm->gateway);
			return -1;
		} else if (v != NATPMP_ANSWER_OK) {
			snprintf(why, whylen, "router %s refused: %s (PCP result %d)",
			    pm->gateway, natpmp_result_text(1, a.result), a.result);
			return -1;
		}
	}
	if (pm->use_natpmp) {
		unsigned char ext_ip[4];
		if (lifetime > 0) {
			size_t len = natpmp_addr_request(req);
			v = portmap_exchange(pm, req, len, ASK_NATPMP_ADDR, tries, at_stop, &a);
			if (v != NATPMP_ANSWER_OK) {
				snprintf(why, whylen, v < 0 ? "no answer from router %s" :
				    "router %s will not say its external address", pm->gateway);
				return -1;
			}
			memcpy(ext_ip, a.external_ip, 4);
		}
		size_t len = natpmp_map_request(req, pm->internal_port,
		    lifetime > 0 ? pm->ext_port : 0, lifetime);
		v = portmap_exchange(pm, req, len, ASK_NATPMP_MAP, tries, at_stop, &a);
		if (v < 0) {
			snprintf(why, whylen, "no answer from router %s", pm->gateway);
			return -1;
		}
		if (v != NATPMP_ANSWER_OK) {
			snprintf(why, whylen, "router %s refused: %s (NAT-PMP result %d)",
			    pm->gateway, natpmp_result_text(0, a.result), a.result);
			return -1;
		}
		if (lifetime > 0)
			memcpy(a.external_ip, ext_ip, 4);
	}
	if (lifetime == 0)
		return 0;
	if (a.lifetime == 0 || a.external_port == 0 ||
	    memcmp(a.external_ip, "\0\0\0\0", 4) == 0) {
		snprintf(why, whylen, "router %s granted no usable mapping", pm->gateway);
		return -1;
	}
	portmap_epoch(pm, a.epoch);
	pm->ext_port = a.external_port;
	memcpy(pm->ext_ip, a.external_ip, 4);
	pm->lifetime = a.lifetime;
	return 0;
}

/* Publishes the mapping (or its absence) and tells the announcers when
 * that changed. */
static void
portmap_publish(struct portmap *pm, int mapped)
{
	char ip[INET_ADDRSTRLEN], ext[NET_ADDR_MAX] = "";
	int changed;

	if (mapped && (inet_ntop(AF_INET, pm->ext_ip, ip, sizeof(ip)) == NULL ||
	    net_format_hostport(ip, pm->ext_port, ext, sizeof(ext)) < 0))
		mapped = 0;
	pthread_mutex_lock(&pm->lock);
	changed = pm->mapped != mapped || strcmp(pm->external, mapped ? ext : "") != 0;
	pm->mapped = mapped;
	snprintf(pm->external, sizeof(pm->external), "%s", mapped ? ext : "");
	snprintf(pm->router, sizeof(pm->router), "%s", mapped ? pm->gateway : "");
	pm->settled = 1;
	pthread_cond_broadcast(&pm->wake);
	pthread_mutex_unlock(&pm->lock);
	if (changed && pm->changed != NULL)
		pm->changed(pm->ctx);
}

/* Sleeps s seconds, or until the peer stops. */
static void
portmap_sleep(struct portmap *pm, long s)
{
	struct timespec deadline;

	clock_deadline_after(&deadline, s * 1000);
	pthread_mutex_lock(&pm->lock);
	while (!atomic_load(&pm->stopping))
		if (pthread_cond_timedwait(&pm->wake, &pm->lock, &deadline) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&pm->lock);
}

static void *
portmap_main(void *arg)
{
	struct portmap *pm = arg;
	char why[160], last_why[160] = "";
	int mapped = 0;

	while (!atomic_load(&pm->stopping)) {
		long next_s = PORTMAP_RETRY_S;
		if (pm->fd < 0 && portmap_open(pm) < 0) {
			snprintf(why, sizeof(why), "no default gateway to ask");
		} else if (portmap_request(pm, PORTMAP_LIFETIME_S, PORTMAP_TRIES, 0, why,
		    sizeof(why)) == 0) {
			char ext[NET_ADDR_MAX], ip[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, pm->ext_ip, ip, sizeof(ip));
			net_format_hostport(ip, pm->ext_port, ext, sizeof(ext));
			pthread_mutex_lock(&pm->lock);
			int same = pm->mapped && strcmp(pm->external, ext) == 0;
			pthread_mutex_unlock(&pm->lock);
			if (!same)
				log_info("mapped TCP port %u to %s on router %s (%s), for %lu s",
				    pm->internal_port, ext, pm->gateway,
				    pm->use_natpmp ? "NAT-PMP" : "PCP", (unsigned long)pm->lifetime);
			else
				log_debug("port mapping renewed: %s for %lu s", ext,
				    (unsigned long)pm->lifetime);
			mapped = 1;
			last_why[0] = '\0';
			portmap_publish(pm, 1);
			next_s = (long)pm->lifetime / 2;
			if (next_s < PORTMAP_MIN_RENEW_S)
				next_s = PORTMAP_MIN_RENEW_S;
			portmap_sleep(pm, next_s);
			continue;
		}
		if (atomic_load(&pm->stopping))
			break;
		if (mapped)
			log_warn("port mapping lost: %s; mapping again", why);
		else if (strcmp(why, last_why) != 0)
			log_info("no port mapping: %s", why);
		snprintf(last_why, sizeof(last_why), "%s", why);
		mapped = 0;
		portmap_publish(pm, 0);
		/* a router that granted short lifetimes is asked again as soon */
		if (pm->lifetime > 0 && (long)pm->lifetime / 2 < next_s)
			next_s = (long)pm->lifetime / 2 < PORTMAP_MIN_RENEW_S ?
			    PORTMAP_MIN_RENEW_S : (long)pm->lifetime / 2;
		portmap_sleep(pm, next_s);
	}
	if (mapped) {
		if (portmap_request(pm, 0, PORTMAP_DELETE_TRIES, 1, why, sizeof(why)) == 0)
			log_info("deleted the port mapping on router %s", pm->gateway);
		else
			log_warn("cannot delete the port mapping: %s", why);
	}
	return NULL;
}

int
portmap_start(struct portmap *pm, void (*changed)(void *), void *ctx)
{
	pthread_attr_t attr;
	int rc;

	pm->changed = changed;
	pm->ctx = ctx;
	/* the mapping's nonce (PCP): random, kept for its renewals */
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, pm->nonce, sizeof(pm->nonce)) != (ssize_t)sizeof(pm->nonce)) {
		log_error("port mapping: cannot read /dev/urandom");
		if (fd >= 0)
			close(fd);
		portmap_publish(pm, 0);
		return -1;
	}
	close(fd);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PORTMAP_THREAD_STACK);
	rc = pthread_create(&pm->thread, &attr, portmap_main, pm);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_error("cannot start the port mapping thread: %s", strerror(rc));
		portmap_publish(pm, 0);
		return -1;
	}
	pm->started = 1;
	return 0;
}

/* Copies field of pm (one of its address texts, read under its lock) into
 * out (outlen bytes) and returns 1 while a mapping holds; else 0, out
 * untouched. */
static int
portmap_mapped_text(struct portmap *pm, const char *field, char *out,
    size_t outlen)
{
	int mapped;

	pthread_mutex_lock(&pm->lock);
	mapped = pm->mapped;
	if (mapped)
		snprintf(out, outlen, "%s", field);
	pthread_mutex_unlock(&pm->lock);
	return mapped;
}

int
portmap_external(struct portmap *pm, char *out, size_t outlen)
{
	return pm != NULL ? portmap_mapped_text(pm, pm->external, out, outlen) : 0;
}

int
portmap_router(struct portmap *pm, char *out, size_t outlen)
{
	return pm != NULL ? portmap_mapped_text(pm, pm->router, out, outlen) : 0;
}

void
portmap_wait_settled(struct portmap *pm, int max_ms)
{
	struct timespec deadline;

	if (pm == NULL)
		return;
	clock_deadline_after(&deadline, max_ms);
	pthread_mutex_lock(&pm->lock);
	while (!pm->settled && !atomic_load(&pm->stopping))
		if (pthread_cond_timedwait(&pm->wake, &pm->lock, &deadline) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&pm->lock);
}

void
portmap_stop(struct portmap *pm)
{
	if (pm == NULL || !pm->started)
		return;
	pthread_mutex_lock(&pm->lock);
	atomic_store(&pm->stopping, 1);
	pthread_cond_broadcast(&pm->wake);
	pthread_mutex_unlock(&pm->lock);
	pthread_join(pm->thread, NULL);
	pm->started = 0;
}

void
portmap_free(struct portmap *pm)
{
	if (pm == NULL)
		return;
	if (pm->fd >= 0)
		close(pm->fd);
	pthread_mutex_destroy(&pm->lock);
	pthread_cond_destroy(&pm->wake);
	free(pm);
}

/* announce.c - the announcer threads, one per tracker: REGISTER,
 * renewals, backoff and UNREGISTER, each tracker on its own. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/net.h"
#include "p2pm/proto.h"
#include "p2pm/rpc.h"
#include "announce.h"
#include "portmap.h"
#include "reach.h"

/* One tracker's announcer. The announcers of one peer form a chain
 * through next; each has its own thread, connection and backoff, so that a
 * tracker that is down or slow holds up no other. */
struct announcer {
	struct announcer *next;	/* the next tracker's, or NULL */
	char tracker[NET_ADDR_MAX];
	char advertise[NET_ADDR_MAX];
	int given;		/* advertise came from -a: registered as it is */
	int renew_s;
	struct index *idx;
	struct portmap *pm;	/* the router's port mapping, or NULL */
	void (*on_nat)(void *);	/* called when measured behind a NAT, or NULL */
	void *on_nat_arg;
	pthread_t thread;

	/* reachability as this tracker measured it (this thread's own) */
	enum reach_state reach;
	long long reach_checked_ms;	/* 0: never */
	char reach_for[NET_ADDR_MAX];	/* the address it was measured for */
	char registered_as[NET_ADDR_MAX];	/* what the last REGISTER said */
	int via_mapping;	/* the address to register is the router's mapping */
	int mapped_ok;		/* and the tracker connected back to it there */
	int no_mapped_word;	/* the tracker refused reach=mapped: an older one */

	pthread_mutex_t lock;	/* guards the fields below */
	pthread_cond_t wake;
	int poked;
	int stopping;
	int leaving;		/* the UNREGISTER is under way: not to be cut */
	struct rpc_conn *conn;	/* the connection in use, or NULL */
	int nat;		/* reach=nat whatever is measured */
	/* the relay reserved, "" for none: registered as relay= only
	 * while the peer registers as behind a NAT */
	char relay[NET_ADDR_MAX];
};

/* Connects to the tracker and publishes the connection so that
 * announce_stop can cut it short. */
static struct rpc_conn *
announce_connect(struct announcer *a, int connect_ms, int io_ms, char *err,
    size_t errlen)
{
	char why[RPC_ERR_LEN];
	struct rpc_conn *c = rpc_open(a->tracker, connect_ms, io_ms, why,
	    sizeof(why));

	if (c == NULL) {
		snprintf(err, errlen, "cannot connect: %s", why);
		return NULL;
	}
	pthread_mutex_lock(&a->lock);
	a->conn = c;
	/* announce_stop came while connecting: no REGISTER on it now */
	if (a->stopping && !a->leaving)
		rpc_shutdown(c);
	pthread_mutex_unlock(&a->lock);
	return c;
}

/* Unpublishes the connection, then closes it. */
static void
announce_disconnect(struct announcer *a)
{
	struct rpc_conn *c;

	pthread_mutex_lock(&a->lock);
	c = a->conn;
	a->conn = NULL;
	pthread_mutex_unlock(&a->lock);
	rpc_close(c);
}

/* Reads the tracker's one-line answer: RPC_OK, or what else came with a
 * reason in err. */
static enum rpc_result
announce_expect_ok(struct rpc_conn *c, char *err, size_t errlen)
{
	enum rpc_result res = rpc_expect_ok(c);

	if (res == RPC_REFUSED)
		snprintf(err, errlen, "tracker said: ERR %d %.200s", rpc_err_code(c),
		    rpc_err_text(c));
	else if (res != RPC_OK)
		snprintf(err, errlen, "%s", rpc_error(c));
	return res;
}

/* The address to register now: the router's mapping while there is one
 * (via_mapping set), else the advertised address. */
static void
announce_address(struct announcer *a, char out[NET_ADDR_MAX])
{
	a->via_mapping = portmap_external(a->pm, out, NET_ADDR_MAX) > 0;
	if (!a->via_mapping)
		snprintf(out, NET_ADDR_MAX, "%s", a->advertise);
}

/* Measures reachability on c when it is due: never measured, the address
 * changed, or REACH_RECHECK_S passed. Logs what changed. */
static void
announce_reach(struct announcer *a, struct rpc_conn *c, const char *addr)
{
	char host[NET_HOST_MAX];
	struct reach_result r;
	unsigned port;
	long long now = clock_now_ms();

	if (a->reach_checked_ms != 0 && strcmp(a->reach_for, addr) == 0 &&
	    now - a->reach_checked_ms < (long long)REACH_RECHECK_S * 1000)
		return;
	if (net_parse_hostport(addr, host, sizeof(host), &port, 0) < 0)
		return;
	if (reach_check(c, port, &r) < 0) {
		log_debug("tracker %s cannot tell whether %s is reachable now: %s",
		    a->tracker, addr, r.why);
		return;
	}
	int changed = r.state != a->reach || strcmp(a->reach_for, addr) != 0 ||
	    a->reach_checked_ms == 0;
	a->reach = r.state;
	a->reach_checked_ms = now;
	snprintf(a->reach_for, sizeof(a->reach_for), "%s", addr);
	if (!changed)
		return;
	char router[NET_HOST_MAX];
	if (r.state == REACH_DIRECT && a->via_mapping &&
	    portmap_router(a->pm, router, sizeof(router)) > 0)
		log_info("reachable at %s (mapped by the router %s, tracker %s "
		    "connected back)", r.dialed, router, a->tracker);
	else if (r.state == REACH_DIRECT)
		log_info("reachable at %s (tracker %s connected back)", r.dialed,
		    a->tracker);
	else if (r.state == REACH_NAT && a->given)
		log_warn("%s (given with -a) is not reachable from tracker %s: %s; "
		    "registered as given", addr, a->tracker, r.why);
	else if (r.state == REACH_NAT)
		log_info("not reachable from outside (behind NAT): tracker %s sees "
		    "this peer at %s and %s", a->tracker, r.observed, r.why);
	else if (r.state == REACH_UNKNOWN)
		log_debug("tracker %s does not measure reachability", a->tracker);
	if (r.state == REACH_NAT && !a->given && a->on_nat != NULL)
		a->on_nat(a->on_nat_arg);
}

/* Whether the peer registers as behind a NAT (measured so, or set so by
 * announce_set_behind_nat): then it is recorded at the address it comes from.
 * Call with a->lock held. */
static int
announce_is_nat(const struct announcer *a)
{
	return (a->reach == REACH_NAT && !a->given) || a->nat;
}

/* The REGISTER's reach= word: reach=nat behind a NAT; reach=mapped when
 * the tracker connected back to the router's mapping (unless it refused
 * the word once: an older tracker, told nothing more); else none, which
 * is direct. Call with a->lock held. */
static const char *
announce_reach_word(const struct announcer *a)
{
	if (announce_is_nat(a))
		return " reach=nat";
	if (a->mapped_ok && !a->no_mapped_word)
		return " reach=mapped";
	return "";
}

/* Sends one REGISTER of the n songs, "<name> <content-id>" a line, on a
 * connection of its own. Returns 0, or -1 with a reason in err; sets
 * *mapped_refused when the tracker refused the REGISTER as malformed and
 * it said reach=mapped (a tracker older than that word). */
static int
announce_register_once(struct announcer *a, const struct index_ready_song *songs,
    size_t n, int *mapped_refused, char *err, size_t errlen)
{
	char addr[NET_ADDR_MAX], enc[PROTO_MAX_ENCODED_NAME + 1];
	char words[NET_ADDR_MAX + 32];
	struct rpc_conn *c;
	int rc = -1;

	*mapped_refused = 0;
	c = announce_connect(a, ANNOUNCE_CONNECT_TIMEOUT_MS, ANNOUNCE_IO_TIMEOUT_MS,
	    err, errlen);
	if (c == NULL)
		return -1;
	announce_address(a, addr);
	announce_reach(a, c, addr);
	/* measured for this very address: a failed check says nothing */
	a->mapped_ok = a->via_mapping && a->reach == REACH_DIRECT &&
	    strcmp(a->reach_for, addr) == 0;
	pthread_mutex_lock(&a->lock);
	const char *rw = announce_reach_word(a);
	int nat = announce_is_nat(a);
	/* the relay only for a peer that cannot be reached otherwise */
	const char *relay = nat ? a->relay : "";
	snprintf(words, sizeof(words), "%s%s%s", rw,
	    relay[0] != '\0' ? " relay=" : "", relay);
	pthread_mutex_unlock(&a->lock);
	/* a failed write fails the rest too, and is reported below */
	rpc_request(c, "REGISTER %s%s", addr, words);
	for (size_t i = 0; i < n; i++)
		if (proto_encode_name(songs[i].name, strlen(songs[i].name), enc,
		    sizeof(enc)) > 0)
			rpc_send_line(c, "%s %s%s%s", enc, songs[i].content_id,
			    songs[i].tags != NULL ? " " : "",
			    songs[i].tags != NULL ? songs[i].tags : "");
	rpc_send_line(c, "%s", "");
	enum rpc_result res = announce_expect_ok(c, err, errlen);
	if (res == RPC_OK) {
		rc = 0;
		/* the address it is known by, for the UNREGISTER: a peer
		 * behind a NAT is recorded where it comes from */
		if (nat)
			snprintf(a->registered_as, sizeof(a->registered_as),
			    "0.0.0.0%s", strrchr(addr, ':'));
		else
			snprintf(a->registered_as, sizeof(a->registered_as), "%s", addr);
	} else if (res == RPC_REFUSED) {
		*mapped_refused = rpc_err_code(c) == PROTO_BAD_REQUEST &&
		    strcmp(rw, " reach=mapped") == 0;
	}
	announce_disconnect(a);
	return rc;
}

/* Registers every ready song (announce_register_once); a tracker that
 * does not know reach=mapped is asked again at once without it, and never
 * told it again. Returns the number of songs registered, or -1 with a
 * reason in err. */
static long
announce_register(struct announcer *a, char *err, size_t errlen)
{
	struct index_ready_song *songs;
	size_t n;
	int rc, refused;

	songs = index_ready_songs(a->idx, PROTO_MAX_SONGS, &n);
	if (songs == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = announce_register_once(a, songs, n, &refused, err, errlen);
	if (rc < 0 && refused) {
		log_info("tracker %s does not know reach=mapped (%s): registering "
		    "without it", a->tracker, err);
		a->no_mapped_word = 1;
		rc = announce_register_once(a, songs, n, &refused, err, errlen);
	}
	index_ready_free(songs, n);
	return rc < 0 ? -1 : (long)n;
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

/* Sends UNREGISTER once the thread has stopped registering: at most
 * ANNOUNCE_BYE_TIMEOUT_MS to connect and as much for the answer. */
static void
announce_bye(struct announcer *a)
{
	char err[RPC_ERR_LEN + 64];
	struct rpc_conn *c;
	int ok = 0;

	pthread_mutex_lock(&a->lock);
	a->leaving = 1;
	pthread_mutex_unlock(&a->lock);
	c = announce_connect(a, ANNOUNCE_BYE_TIMEOUT_MS, ANNOUNCE_BYE_TIMEOUT_MS,
	    err, sizeof(err));
	if (c != NULL) {
		rpc_request(c, "UNREGISTER %s", a->registered_as[0] != '\0' ?
		    a->registered_as : a->advertise);
		if (announce_expect_ok(c, err, sizeof(err)) == RPC_OK)
			ok = 1;
		announce_disconnect(a);
	}
	if (ok)
		log_info("unregistered %s from tracker %s", a->advertise, a->tracker);
	else
		log_warn("cannot unregister from tracker %s: %s", a->tracker, err);
}

/* One tracker's thread: registers, renews and backs off until stopped,
 * then unregisters, so that the UNREGISTERs of all trackers go out at
 * the same time. */
static void *
announce_main(void *arg)
{
	struct announcer *a = arg;
	char err[RPC_ERR_LEN + 64];
	char last_as[NET_ADDR_MAX] = "";
	int backoff = ANNOUNCE_BACKOFF_MIN_S, down = 0;
	long registered = -1;

	/* the first REGISTER says the mapped address, if a mapping comes */
	portmap_wait_settled(a->pm, PORTMAP_SETTLE_MS);
	pthread_mutex_lock(&a->lock);
	while (!a->stopping) {
		a->poked = 0;
		pthread_mutex_unlock(&a->lock);
		long n = announce_register(a, err, sizeof(err));
		pthread_mutex_lock(&a->lock);
		if (a->stopping)
			break;
		if (n >= 0) {
			if (!(down || n != registered || strcmp(a->registered_as, last_as) != 0))
				log_debug("renewed %ld song(s) with tracker %s", n, a->tracker);
			else if (announce_is_nat(a))
				log_info("registered %ld song(s) with tracker %s as behind NAT, "
				    "at port %s of the address it connects from", n, a->tracker,
				    strrchr(a->registered_as, ':') + 1);
			else if (a->mapped_ok)
				log_info("registered %ld song(s) with tracker %s as %s, "
				    "mapped by the router", n, a->tracker, a->registered_as);
			else
				log_info("registered %ld song(s) with tracker %s as %s", n,
				    a->tracker, a->registered_as);
			snprintf(last_as, sizeof(last_as), "%s", a->registered_as);
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
	announce_bye(a);
	return NULL;
}

/* Frees one announcer whose thread is not running (or has been joined). */
static void
announce_free_one(struct announcer *a)
{
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->wake);
	free(a);
}

/* Makes one tracker's announcer and starts its thread; NULL (logged) if
 * either cannot be done. */
static struct announcer *
announce_start_one(const char *tracker, const char *advertise, int given,
    int renew_s, struct index *idx, struct portmap *pm, void (*on_nat)(void *),
    void *on_nat_arg)
{
	struct announcer *a = calloc(1, sizeof(*a));
	pthread_attr_t attr;
	int rc;

	if (a == NULL) {
		log_error("cannot start the announcer for tracker %s: out of memory",
		    tracker);
		return NULL;
	}
	snprintf(a->tracker, sizeof(a->tracker), "%s", tracker);
	snprintf(a->advertise, sizeof(a->advertise), "%s", advertise);
	a->given = given;
	a->renew_s = renew_s;
	a->idx = idx;
	a->pm = pm;
	a->on_nat = on_nat;
	a->on_nat_arg = on_nat_arg;
	pthread_mutex_init(&a->lock, NULL);
	clock_cond_init(&a->wake);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, ANNOUNCE_THREAD_STACK);
	rc = pthread_create(&a->thread, &attr, announce_main, a);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_error("cannot start the announcer for tracker %s: %s", tracker,
		    strerror(rc));
		announce_free_one(a);
		return NULL;
	}
	return a;
}

struct announcer *
announce_start(const struct cli_trackers *trackers, const char *advertise,
    int given, int renew_s, struct index *idx, struct portmap *pm,
    void (*on_nat)(void *), void *on_nat_arg)
{
	struct announcer *first = NULL, **tail = &first;

	for (size_t i = 0; i < trackers->count; i++) {
		struct announcer *a = announce_start_one(trackers->addr[i],
		    advertise, given, renew_s, idx, pm, on_nat, on_nat_arg);
		if (a == NULL) {
			announce_stop(first);
			return NULL;
		}
		*tail = a;
		tail = &a->next;
	}
	return first;
}

/* Has a's thread send a REGISTER soon; a->lock held. */
static void
announce_wake(struct announcer *a)
{
	a->poked = 1;
	pthread_cond_signal(&a->wake);
}

void
announce_poke(struct announcer *a)
{
	for (; a != NULL; a = a->next) {
		pthread_mutex_lock(&a->lock);
		announce_wake(a);
		pthread_mutex_unlock(&a->lock);
	}
}

void
announce_set_behind_nat(struct announcer *a)
{
	for (; a != NULL; a = a->next) {
		pthread_mutex_lock(&a->lock);
		if (!a->nat) {
			a->nat = 1;
			announce_wake(a);
		}
		pthread_mutex_unlock(&a->lock);
	}
}

void
announce_set_relay(struct announcer *a, const char *relay)
{
	if (relay == NULL)
		relay = "";
	for (; a != NULL; a = a->next) {
		pthread_mutex_lock(&a->lock);
		if (strcmp(a->relay, relay) != 0) {
			snprintf(a->relay, sizeof(a->relay), "%s", relay);
			announce_wake(a);
		}
		pthread_mutex_unlock(&a->lock);
	}
}

void
announce_stop(struct announcer *a)
{
	/* tell every thread first, so that they unregister side by side */
	for (struct announcer *s = a; s != NULL; s = s->next) {
		pthread_mutex_lock(&s->lock);
		s->stopping = 1;
		if (s->conn != NULL)
			rpc_shutdown(s->conn);	/* cut a REGISTER in progress short */
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
	}
	while (a != NULL) {
		struct announcer *next = a->next;
		pthread_join(a->thread, NULL);
		announce_free_one(a);
		a = next;
	}
}

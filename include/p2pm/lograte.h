/* lograte.h - repeated refusals logged at most once a second per reason
 * and source, so that a flood writes a few lines a person can read: what
 * is not logged is counted, and the next line of that reason and source
 * (or, once the second has passed, the next line of any kind) says how
 * many were folded into it. One lock guards a set; any thread. */
#ifndef P2PM_LOGRATE_H
#define P2PM_LOGRATE_H

#include <pthread.h>

#include "p2pm/log.h"

/* a line per reason and source at most this often, in ms */
#define LOGRATE_INTERVAL_MS 1000
/* reasons and sources told apart at once; past it the one logged longest
 * ago gives its place up (after its count is logged) */
#define LOGRATE_SLOTS 64
/* bytes of a reason and of a source kept (longer ones are cut) */
#define LOGRATE_REASON_MAX 47
#define LOGRATE_SOURCE_MAX 63
/* bytes of a line, with its NUL (longer ones are cut) */
#define LOGRATE_LINE_MAX 320
/* counts of quiet reasons logged by one call, at most */
#define LOGRATE_FLUSH_MAX 4

/* One reason from one source: when its last line was logged, that line,
 * and how many refusals were not logged since. */
struct lograte_slot {
	char reason[LOGRATE_REASON_MAX + 1];
	char source[LOGRATE_SOURCE_MAX + 1];
	char line[LOGRATE_LINE_MAX];
	enum log_level level;
	long long logged_ms;		/* 0: the slot is free */
	unsigned long folded;
};

/* A set of reasons and sources; init before use. */
struct lograte {
	pthread_mutex_t lock;
	struct lograte_slot slot[LOGRATE_SLOTS];
};

/* Makes lr an empty set. */
void lograte_init(struct lograte *lr);

/* Logs what is still folded (one "repeated" line per reason and source),
 * then frees what lr holds. */
void lograte_destroy(struct lograte *lr);

/* Logs the line fmt makes at level, unless a line of this reason (a fixed
 * text: "registry full") from this source (an IP address, or "" for
 * none) was logged less than LOGRATE_INTERVAL_MS ago: then it is only
 * counted. A line logged after some were counted ends "(and N more like
 * it since the last such line)". The last line of a reason that went
 * quiet with a count is logged again, ending "(repeated N more time(s)
 * since it was logged)", by the next call of any reason once the
 * interval has passed, when its slot is taken by another, or by
 * lograte_destroy. */
void lograte_log(struct lograte *lr, enum log_level level, const char *reason,
    const char *source, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif

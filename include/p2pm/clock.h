/* clock.h - the monotonic clock: milliseconds for deadlines, and timed
 * waits on condition variables against it, so that a change of the wall
 * clock never stretches or cuts them. */
#ifndef P2PM_CLOCK_H
#define P2PM_CLOCK_H

#include <pthread.h>
#include <time.h>

/* Milliseconds on the monotonic clock. */
long long clock_now_ms(void);

/* Initializes a condition variable whose timed waits use CLOCK_MONOTONIC. */
int clock_cond_init(pthread_cond_t *cond);

/* Sets *ts to the CLOCK_MONOTONIC time ms milliseconds from now: the
 * deadline pthread_cond_timedwait wants for a clock_cond_init variable. */
void clock_deadline_after(struct timespec *ts, long long ms);

#endif

/* queue_time.h - the times --start takes. */
#ifndef P2PM_CLIENT_QUEUE_TIME_H
#define P2PM_CLIENT_QUEUE_TIME_H

#include <stddef.h>

#include "p2pm/playlist.h"

/* longest time --start takes, in seconds (a week) */
#define QUEUE_MAX_START_S (7L * 24 * 3600)

/* Reads "90", "1:30", "1:02:03" or any of them with a fraction ("90.5")
 * into milliseconds. Returns 0, or -1 if text is no such time or is over
 * QUEUE_MAX_START_S. */
int queue_time_parse(const char *text, long *ms);

/* The index of the segment of pl holding time ms (the last one for a time
 * past the end) and, in *into_ms, how far into it ms lies. */
size_t queue_segment_at(const struct playlist *pl, long ms, long *into_ms);

#endif

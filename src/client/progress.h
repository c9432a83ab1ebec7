/* progress.h - one line on a terminal, redrawn in place. */
#ifndef P2PM_CLIENT_PROGRESS_H
#define P2PM_CLIENT_PROGRESS_H

#include <stddef.h>

struct progress {
	int enabled;
	int drawn;		/* a line is on screen */
	long long start_ms, last_draw_ms;
};

/* Enabled only if wanted and stderr is a terminal. */
void progress_init(struct progress *p, int wanted);
/* Draws "DONE/TOTAL segments  BYTES  RATE/s  N sources" (at most every
 * PROGRESS_REDRAW_MS unless forced). */
void progress_update(struct progress *p, size_t done, size_t total,
    long long bytes, size_t sources, int force);
/* Erases the line, so that other output starts on a clean line. */
void progress_clear(struct progress *p);

#endif

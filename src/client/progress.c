/* progress.c - the progress line: redrawn in place on a terminal, absent
 * otherwise. */
#include <stdio.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/units.h"
#include "progress.h"

/* the line is redrawn at most this often, unless forced */
#define PROGRESS_REDRAW_MS 100
#define PROGRESS_LINE_MAX 256

void
progress_init(struct progress *p, int wanted)
{
	p->enabled = wanted && isatty(STDERR_FILENO);
	p->drawn = 0;
	p->start_ms = clock_now_ms();
	p->last_draw_ms = 0;
}

void
progress_update(struct progress *p, size_t done, size_t total, long long bytes,
    size_t sources, int force)
{
	char line[PROGRESS_LINE_MAX], size[32], rate[32];
	long long now = clock_now_ms();
	double secs;
	int n;

	if (!p->enabled)
		return;
	if (!force && now - p->last_draw_ms < PROGRESS_REDRAW_MS)
		return;
	p->last_draw_ms = now;
	secs = (double)(now - p->start_ms) / 1000.0;
	units_format_bytes((unsigned long long)bytes, size, sizeof(size));
	units_format_bytes(secs > 0 ? (unsigned long long)((double)bytes / secs) : 0,
	    rate, sizeof(rate));
	/* \r back to column 0, then \033[K clears the rest of the line */
	n = snprintf(line, sizeof(line), "\r%zu/%zu segments  %s  %s/s  %zu source%s\033[K",
	    done, total, size, rate, sources, sources == 1 ? "" : "s");
	if (n > 0) {
		ssize_t w = write(STDERR_FILENO, line,
		    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
		(void)w;
		p->drawn = 1;
	}
}

void
progress_clear(struct progress *p)
{
	if (!p->enabled || !p->drawn)
		return;
	ssize_t w = write(STDERR_FILENO, "\r\033[K", 4);
	(void)w;
	p->drawn = 0;
}

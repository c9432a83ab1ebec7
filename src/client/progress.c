/* progress.c - the progress line: redrawn in place on a terminal, absent
 * otherwise. */
#include <stdio.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "client.h"

/* the line is redrawn at most this often, unless forced */
#define PROGRESS_REDRAW_MS 100
#define PROGRESS_LINE_MAX 256
#define PROGRESS_KIB 1024.0
#define PROGRESS_MIB (1024.0 * 1024.0)

void
progress_init(struct progress *p, int wanted)
{
	p->enabled = wanted && isatty(STDERR_FILENO);
	p->drawn = 0;
	p->start_ms = clock_now_ms();
	p->last_draw_ms = 0;
}

/* Writes a byte count as "812 B", "40.2 KiB" or "3.1 MiB". */
static void
progress_size(char *out, size_t outlen, double bytes)
{
	if (bytes < PROGRESS_KIB)
		snprintf(out, outlen, "%.0f B", bytes);
	else if (bytes < PROGRESS_MIB)
		snprintf(out, outlen, "%.1f KiB", bytes / PROGRESS_KIB);
	else
		snprintf(out, outlen, "%.1f MiB", bytes / PROGRESS_MIB);
}

void
progress_update(struct progress *p, size_t done, size_t total, long long bytes,
    const char *peer, int force)
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
	progress_size(size, sizeof(size), (double)bytes);
	progress_size(rate, sizeof(rate), secs > 0 ? (double)bytes / secs : 0);
	/* \r back to column 0, then \033[K clears the rest of the line */
	n = snprintf(line, sizeof(line), "\r%zu/%zu segments  %s  %s/s  from %s\033[K",
	    done, total, size, rate, peer);
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

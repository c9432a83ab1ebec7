/* test_lograte.c - a flood of refusals writes a line a second per reason
 * and source, and every refusal is counted in some line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "p2pm/clock.h"
#include "p2pm/log.h"
#include "p2pm/lograte.h"
#include "tap.h"

/* what the logger wrote since the last capture_start */
static FILE *captured;
static int saved_stderr = -1;

static void
capture_start(void)
{
	fflush(stderr);
	captured = tmpfile();
	saved_stderr = dup(2);
	dup2(fileno(captured), 2);
}

/* Ends the capture; returns what was written (free it). */
static char *
capture_end(void)
{
	long len;
	char *text;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	len = ftell(captured);
	text = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
	rewind(captured);
	if (text != NULL && len > 0 && fread(text, 1, (size_t)len, captured) != (size_t)len)
		text[0] = '\0';
	fclose(captured);
	return text;
}

/* refusals the lines count_lines counted tell of: one for each line that
 * is not a "repeated" one, and every N */
static unsigned long told;

/* Lines of text that contain needle, and the sum of the N of each
 * "(and N more like it" and "(repeated N more" among them (sets told). */
static int
count_lines(const char *text, const char *needle, unsigned long *folded)
{
	int lines = 0;

	*folded = 0;
	told = 0;
	for (const char *l = text; *l != '\0';) {
		const char *end = strchr(l, '\n');
		size_t len = end != NULL ? (size_t)(end - l) : strlen(l);
		char line[1024];
		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		if (strstr(line, needle) != NULL) {
			const char *m = strstr(line, "(and "), *r;
			lines++;
			if (m != NULL)
				*folded += strtoul(m + 5, NULL, 10);
			if ((r = strstr(line, "(repeated ")) != NULL)
				*folded += strtoul(r + 10, NULL, 10);
			else
				told++;
		}
		l += len + (end != NULL);
	}
	told += *folded;
	return lines;
}

static void
wait_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int
main(void)
{
	struct lograte lr;
	unsigned long folded;
	unsigned long told_flood;
	long long t0, t1;
	char *text, src[32];
	int lines;

	log_init("test", LOG_LEVEL_INFO);
	lograte_init(&lr);

	/* a flood from one source */
	capture_start();
	t0 = clock_now_ms();
	for (int i = 0; i < 1000; i++)
		lograte_log(&lr, LOG_LEVEL_WARN, "registry full", "192.0.2.1",
		    "REGISTER 192.0.2.1:%d: registry full, refused", 7000 + i);
	t1 = clock_now_ms();
	text = capture_end();
	lines = count_lines(text, "registry full, refused", &folded);
	told_flood = told;
	ok(lines >= 1, "the first refusal of a flood is logged at once");
	ok(strstr(text, "REGISTER 192.0.2.1:7000: registry full, refused\n") != NULL,
	    "  as the caller wrote it");
	ok(lines <= 1 + (t1 - t0) / LOGRATE_INTERVAL_MS + 1,
	    "1000 refusals in %lld ms write %d line(s): one a second at most",
	    t1 - t0, lines);
	free(text);

	/* once the second has passed, the next line says what was folded */
	wait_ms(LOGRATE_INTERVAL_MS + 100);
	capture_start();
	lograte_log(&lr, LOG_LEVEL_WARN, "registry full", "192.0.2.1",
	    "REGISTER 192.0.2.1:8000: registry full, refused");
	text = capture_end();
	{
		unsigned long more, flood_told = told_flood;
		int l2 = count_lines(text, "registry full, refused", &more);
		ok(l2 == 1, "a refusal after the second is logged");
		ok(strstr(text, "REGISTER 192.0.2.1:8000: registry full, refused (and ") != NULL,
		    "  with the count of those folded since the last line");
		ok(flood_told + told == 1001,
		    "  every refusal is counted in a line (%lu + %lu told of 1001)",
		    flood_told, told);
	}
	free(text);

	/* other sources and other reasons have lines of their own */
	capture_start();
	lograte_log(&lr, LOG_LEVEL_WARN, "registry full", "192.0.2.2",
	    "REGISTER 192.0.2.2:1: registry full, refused");
	lograte_log(&lr, LOG_LEVEL_WARN, "not its address", "192.0.2.1",
	    "192.0.2.1: REGISTER 198.51.100.1:1 refused: not its address");
	lograte_log(&lr, LOG_LEVEL_WARN, "registry full", "192.0.2.1",
	    "REGISTER 192.0.2.1:8001: registry full, refused");
	text = capture_end();
	ok(strstr(text, "192.0.2.2:1: registry full") != NULL,
	    "another source is logged at once");
	ok(strstr(text, "not its address") != NULL, "so is another reason");
	ok(strstr(text, "8001") == NULL, "while the first source stays folded");
	free(text);

	/* a reason gone quiet has its count logged by the next call of any
	 * reason once its second has passed */
	wait_ms(LOGRATE_INTERVAL_MS + 100);
	capture_start();
	lograte_log(&lr, LOG_LEVEL_WARN, "body too large", "192.0.2.3",
	    "192.0.2.3:5: REGISTER body over 1 bytes, refused");
	text = capture_end();
	ok(strstr(text, "REGISTER 192.0.2.1:8000: registry full, refused (repeated 1 more time(s) since it was logged)") != NULL,
	    "a quiet reason's folded count is logged by a later line of another");
	free(text);

	/* more sources than slots: each still gets its first line, memory stays bounded */
	capture_start();
	for (int i = 0; i < LOGRATE_SLOTS * 2; i++) {
		snprintf(src, sizeof(src), "10.0.%d.%d", i / 250, i % 250);
		for (int k = 0; k < 3; k++)
			lograte_log(&lr, LOG_LEVEL_WARN, "peers per source", src,
			    "REGISTER %s:1: too many peers from %s, refused", src, src);
	}
	text = capture_end();
	lines = count_lines(text, "too many peers from", &folded);
	ok(lines >= LOGRATE_SLOTS * 2, "each of %d sources has a line (%d lines)",
	    LOGRATE_SLOTS * 2, lines);
	ok(lines <= LOGRATE_SLOTS * 4, "  and the sources evicted for newer ones "
	    "have their counts logged: two lines each at most");
	free(text);

	/* below the logging level nothing is written */
	capture_start();
	lograte_log(&lr, LOG_LEVEL_DEBUG, "quiet", "", "a debug refusal");
	text = capture_end();
	ok(strstr(text, "a debug refusal") == NULL, "a level not logged writes nothing");
	free(text);

	/* what is still folded at the end is logged */
	capture_start();
	lograte_log(&lr, LOG_LEVEL_WARN, "at exit", "", "the last refusal");
	lograte_log(&lr, LOG_LEVEL_WARN, "at exit", "", "the last refusal");
	lograte_destroy(&lr);
	text = capture_end();
	ok(strstr(text, "the last refusal (repeated 1 more time(s) since it was logged)") != NULL,
	    "lograte_destroy logs the counts still folded");
	free(text);
	return done_testing();
}

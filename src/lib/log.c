/* log.c - levelled, timestamped logging to stderr. Every message goes
 * through the text sanitizer (textsafe.h), since messages quote names,
 * tags and replies from the network. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "p2pm/log.h"
#include "p2pm/textsafe.h"

#define LOG_LINE_MAX 2048

static const char *log_progname = "p2pm";
static enum log_level log_current = LOG_LEVEL_INFO;
static int log_brief;

static const char *const log_level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(const char *progname, enum log_level level)
{
	if (progname != NULL)
		log_progname = progname;
	log_current = level;
}

enum log_level
log_get_level(void)
{
	return log_current;
}

void
log_set_brief(int on)
{
	log_brief = on;
}

/* Formats the whole line first and writes it with one write(2), so lines
 * from concurrent threads stay whole. */
static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	size_t off, msg;
	int n;

	if (level > log_current)
		return;
	if (log_brief) {
		off = 0;
		n = snprintf(line, sizeof(line), "%s: %s: ", log_progname,
		    log_level_names[level]);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		off = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line + off, sizeof(line) - off, ".%03ldZ %s[%ld]: %s: ",
		    ts.tv_nsec / 1000000L, log_progname, (long)getpid(),
		    log_level_names[level]);
	}
	if (n > 0)
		off += (size_t)n < sizeof(line) - off ? (size_t)n : sizeof(line) - off - 1;
	msg = off;
	n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	if (n > 0)
		off += (size_t)n < sizeof(line) - off ? (size_t)n : sizeof(line) - off - 1;
	/* keep the record on one line whatever the message held, and let no
	 * text from elsewhere it quotes steer the terminal */
	for (size_t i = msg; i < off; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	off = msg + textsafe_copy(line + msg, off - msg + 1, line + msg, off - msg);
	if (off >= sizeof(line) - 1)
		off = sizeof(line) - 2;
	line[off++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, off);
	(void)w;
}

#define LOG_DEFINE(fn, level)                   \
	void fn(const char *fmt, ...)           \
	{                                       \
		va_list ap;                     \
		va_start(ap, fmt);              \
		log_vwrite(level, fmt, ap);     \
		va_end(ap);                     \
	}

LOG_DEFINE(log_error, LOG_LEVEL_ERROR)
LOG_DEFINE(log_warn, LOG_LEVEL_WARN)
LOG_DEFINE(log_info, LOG_LEVEL_INFO)
LOG_DEFINE(log_debug, LOG_LEVEL_DEBUG)

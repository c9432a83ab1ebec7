/* log.h - the one logger: levelled, timestamped lines on stderr. */
#ifndef P2PM_LOG_H
#define P2PM_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3
};

/* Sets the most verbose level that is printed (default LOG_LEVEL_INFO)
 * and the program name written on every line. */
void log_init(const char *progname, enum log_level level);
enum log_level log_get_level(void);

/* With brief on, lines read "<prog>: <level>: msg", without time and pid:
 * for a command-line tool whose stderr is read by a person. */
void log_set_brief(int on);

/* Each call writes one whole line to stderr: "<ISO time> <prog>[pid]: <level>: msg".
 * Lines from several threads never interleave. A CR or LF in msg becomes
 * a space; invalid UTF-8, other control codes and bidi controls become
 * '?' (textsafe_copy), so a quoted name or reply cannot steer a terminal. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/* cli.h - what every program's main does: numbers and addresses from
 * flags, verbosity, signals, the ready line, --version, usage errors.
 *
 * The cli_parse_* functions only check and fill an error buffer. The
 * others are for start-up in main: they may print, and cli_x* and
 * cli_usage_error end the program with CLI_EXIT_USAGE. */
#ifndef P2PM_CLI_H
#define P2PM_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "p2pm/log.h"
#include "p2pm/net.h"

/* the exit status of every usage error */
#define CLI_EXIT_USAGE 2
/* room for a cli_parse_* message */
#define CLI_ERR_LEN 512
/* what getopt_long returns for --version; a program's own long-only
 * options count up from 256 and stay below it */
#define CLI_OPT_VERSION 1024

/* The options every program takes (-v, -q, -h and --version), ending its
 * struct option table. */
#define CLI_COMMON_OPTIONS \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, CLI_OPT_VERSION }, \
	{ NULL, 0, NULL, 0 }

/* Names the program in messages ("PROG: ...", "PROG (p2p-music) VERSION")
 * and says how a usage error ends: with usage(stderr) if usage is not
 * NULL, else with "try 'PROG --help'". prog must outlive the program. */
void cli_init(const char *prog, void (*usage)(FILE *f));

/* Parses all of text as a decimal number in [min, max] into *out. Returns
 * 0, or -1 with "FLAG wants a number from MIN to MAX, not 'TEXT'" in err. */
int cli_parse_number(const char *flag, const char *text, long min, long max,
    long *out, char *err, size_t errlen);

/* Checks that text is HOST:PORT (port 0 allowed with allow_port0, for
 * listening). Returns 0, or -1 with "FLAG wants HOST:PORT, not 'TEXT'". */
int cli_parse_address(const char *flag, const char *text, int allow_port0,
    char *err, size_t errlen);

/* most trackers one program is given, -t flags or the environment */
#define CLI_MAX_TRACKERS 16
/* the separator of the addresses in one -t or $P2P_MUSIC_TRACKER */
#define CLI_TRACKER_SEP ','

/* The trackers a program talks to, in the order given, none twice. */
struct cli_trackers {
	size_t count;
	char addr[CLI_MAX_TRACKERS][NET_ADDR_MAX];
};

/* Adds to list each HOST:PORT of text, one address or several separated
 * by CLI_TRACKER_SEP, in order; an address already listed is skipped.
 * Returns 0, or -1 with "FLAG wants HOST:PORT[,HOST:PORT...], not 'TEXT'"
 * (for an empty or bad address) or "at most CLI_MAX_TRACKERS trackers" in
 * err; list then holds the addresses before the bad one. */
int cli_parse_trackers(const char *flag, const char *text,
    struct cli_trackers *list, char *err, size_t errlen);

/* Writes the addresses of list separated by ", " into out (cut short to
 * fit outlen, always terminated): for log lines. Returns out. */
char *cli_format_trackers(const struct cli_trackers *list, char *out,
    size_t outlen);

/* cli_parse_number and cli_parse_address that end the program with a
 * usage error instead of returning -1. */
long cli_xnumber(const char *flag, const char *text, long min, long max);
void cli_xaddress(const char *flag, const char *text, int allow_port0);
/* cli_parse_trackers that ends the program with a usage error. */
void cli_xtrackers(const char *flag, const char *text,
    struct cli_trackers *list);

/* Prints "PROG: MESSAGE", then the usage or the hint given to cli_init, on
 * stderr, and exits with CLI_EXIT_USAGE. */
void cli_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* most entries of an option table that an unknown long option is
 * compared with for a suggestion */
#define CLI_MAX_LONG_OPTIONS 64

/* For getopt_long called with opterr = 0, an option string starting with
 * ':' and the table opts: turns its ':' (missing value) or '?' (unknown
 * option, or a value given to an option that takes none) into a usage
 * error naming the option as typed; an unknown long option near one of
 * the table's (search_nearest) gets "; did you mean '--NAME'?". */
void cli_bad_option(int ch, char **argv, const struct option *opts)
    __attribute__((noreturn));

/* The one verbosity rule: each -v raises the log level one step from the
 * program's default, up to debug; -q means errors only and wins over any
 * -v. verbose counts the -v flags, quiet is non-zero if -q was given. */
enum log_level cli_log_level(enum log_level dflt, int verbose, int quiet);

/* Prints "PROG (p2p-music) VERSION" on stdout. */
void cli_print_version(void);

/* Prints the ready line "listening on ADDR" on stdout and flushes it, and
 * tells a service manager that waits for it (notify_send, READY=1). */
void cli_print_ready(const char *addr);

/* Installs handlers that only set flags: SIGINT and SIGTERM set *stop;
 * SIGHUP sets *hup if hup is not NULL (else keeps its default action);
 * each also sets *wake if wake is not NULL. SIGPIPE is ignored, so that a
 * closed socket or pipe shows up as EPIPE. The flags must be static. */
void cli_signals(volatile sig_atomic_t *stop, volatile sig_atomic_t *hup,
    volatile sig_atomic_t *wake);

#endif

/* cli.c - what every program's main does: flags, verbosity, signals, the
 * ready line, --version, usage errors. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pm/cli.h"
#include "p2pm/notify.h"
#include "p2pm/search.h"
#include "p2pm/net.h"
#include "p2pm/strnum.h"
#include "p2pm/version.h"

static const char *cli_prog = "p2p-music";
static void (*cli_usage)(FILE *f);

/* set before the handlers are installed, read only by them */
static volatile sig_atomic_t *cli_stop_flag, *cli_hup_flag, *cli_wake_flag;

void
cli_init(const char *prog, void (*usage)(FILE *f))
{
	cli_prog = prog;
	cli_usage = usage;
}

int
cli_parse_number(const char *flag, const char *text, long min, long max,
    long *out, char *err, size_t errlen)
{
	if (strnum_parse(text, min, max, out) == 0)
		return 0;
	snprintf(err, errlen, "%s wants a number from %ld to %ld, not '%s'", flag,
	    min, max, text);
	return -1;
}

int
cli_parse_address(const char *flag, const char *text, int allow_port0,
    char *err, size_t errlen)
{
	char host[NET_HOST_MAX];
	unsigned port;

	if (net_parse_hostport(text, host, sizeof(host), &port, allow_port0) == 0)
		return 0;
	snprintf(err, errlen, "%s wants HOST:PORT, not '%s'", flag, text);
	return -1;
}

int
cli_parse_trackers(const char *flag, const char *text,
    struct cli_trackers *list, char *err, size_t errlen)
{
	static const char sep[] = { CLI_TRACKER_SEP, '\0' };
	const char *p = text;

	for (;;) {
		size_t len = strcspn(p, sep);
		char addr[NET_ADDR_MAX], host[NET_HOST_MAX];
		unsigned port;
		size_t i;

		if (len == 0 || len >= sizeof(addr))
			goto bad;
		memcpy(addr, p, len);
		addr[len] = '\0';
		if (net_parse_hostport(addr, host, sizeof(host), &port, 0) < 0)
			goto bad;
		for (i = 0; i < list->count; i++)
			if (strcmp(list->addr[i], addr) == 0)
				break;
		if (i == list->count) {
			if (list->count == CLI_MAX_TRACKERS) {
				snprintf(err, errlen, "%s: at most %d trackers", flag,
				    CLI_MAX_TRACKERS);
				return -1;
			}
			memcpy(list->addr[list->count++], addr, len + 1);
		}
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
bad:
	snprintf(err, errlen, "%s wants HOST:PORT[%cHOST:PORT...], not '%s'", flag,
	    CLI_TRACKER_SEP, text);
	return -1;
}

char *
cli_format_trackers(const struct cli_trackers *list, char *out, size_t outlen)
{
	size_t used = 0;

	if (outlen == 0)
		return out;
	out[0] = '\0';
	for (size_t i = 0; i < list->count && used < outlen; i++) {
		int n = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "",
		    list->addr[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return out;
}

long
cli_xnumber(const char *flag, const char *text, long min, long max)
{
	char err[CLI_ERR_LEN];
	long v;

	if (cli_parse_number(flag, text, min, max, &v, err, sizeof(err)) < 0)
		cli_usage_error("%s", err);
	return v;
}

void
cli_xaddress(const char *flag, const char *text, int allow_port0)
{
	char err[CLI_ERR_LEN];

	if (cli_parse_address(flag, text, allow_port0, err, sizeof(err)) < 0)
		cli_usage_error("%s", err);
}

void
cli_xtrackers(const char *flag, const char *text, struct cli_trackers *list)
{
	char err[CLI_ERR_LEN];

	if (cli_parse_trackers(flag, text, list, err, sizeof(err)) < 0)
		cli_usage_error("%s", err);
}

void
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cli_usage != NULL)
		cli_usage(stderr);
	else
		fprintf(stderr, "try '%s --help'\n", cli_prog);
	exit(CLI_EXIT_USAGE);
}

/* Whether the failed option was the long option typed as arg: getopt_long
 * steps over a long option, but not always over a bundle of short ones
 * ("-xq"), and sets optopt to the option's value, or 0 if it is unknown. */
static int
cli_failed_long(const char *arg, const struct option *opts)
{
	size_t len;

	if (strncmp(arg, "--", 2) != 0)
		return 0;
	if (optopt == 0 || optopt > UCHAR_MAX)
		return 1;
	len = strcspn(arg + 2, "=");
	for (; opts->name != NULL; opts++)
		if (opts->val == optopt && strncmp(opts->name, arg + 2, len) == 0)
			return 1;
	return 0;
}

void
cli_bad_option(int ch, char **argv, const struct option *opts)
{
	const char *typed = optind > 1 ? argv[optind - 1] : "";
	char shortopt[3] = { '-', (char)optopt, '\0' };

	if (!cli_failed_long(typed, opts))
		typed = shortopt;
	if (ch == ':')
		cli_usage_error("%s wants a value", typed);
	if (typed != shortopt && optopt == 0) {
		/* an unknown long option: the nearest of the table's */
		const char *names[CLI_MAX_LONG_OPTIONS];
		char word[SEARCH_MAX_TEXT];
		size_t n = 0;
		long best;

		snprintf(word, sizeof(word), "%.*s", (int)strcspn(typed + 2, "="),
		    typed + 2);
		for (; opts[n].name != NULL && n < CLI_MAX_LONG_OPTIONS; n++)
			names[n] = opts[n].name;
		best = search_nearest(word, names, n);
		if (best >= 0)
			cli_usage_error("unknown option '%s'; did you mean '--%s'?",
			    typed, names[best]);
	}
	cli_usage_error("unknown option '%s'", typed);
}

enum log_level
cli_log_level(enum log_level dflt, int verbose, int quiet)
{
	if (quiet)
		return LOG_LEVEL_ERROR;
	if (verbose >= LOG_LEVEL_DEBUG - (int)dflt)
		return LOG_LEVEL_DEBUG;
	return (enum log_level)((int)dflt + (verbose > 0 ? verbose : 0));
}

void
cli_print_version(void)
{
	printf("%s (p2p-music) %s\n", cli_prog, P2PM_VERSION);
}

void
cli_print_ready(const char *addr)
{
	char state[NOTIFY_MAX_STATE], err[CLI_ERR_LEN];

	printf("listening on %s\n", addr);
	fflush(stdout);
	/* under systemd (Type=notify), the same news for the manager */
	snprintf(state, sizeof(state), "READY=1\nSTATUS=listening on %s", addr);
	if (notify_send(state, err, sizeof(err)) < 0)
		log_warn("%s", err);
}

static void
cli_on_signal(int sig)
{
	if (sig == SIGHUP)
		*cli_hup_flag = 1;
	else
		*cli_stop_flag = 1;
	if (cli_wake_flag != NULL)
		*cli_wake_flag = 1;
}

void
cli_signals(volatile sig_atomic_t *stop, volatile sig_atomic_t *hup,
    volatile sig_atomic_t *wake)
{
	struct sigaction sa;

	cli_stop_flag = stop;
	cli_hup_flag = hup;
	cli_wake_flag = wake;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cli_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hup != NULL)
		sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

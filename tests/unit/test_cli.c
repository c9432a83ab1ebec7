/* test_cli.c - numbers and addresses from flags, and the verbosity rule. */
#include <limits.h>

#include "p2pm/cli.h"
#include "tap.h"

static void
test_number(void)
{
	char err[CLI_ERR_LEN];
	long v = -7;

	ok(cli_parse_number("-j", "4", 1, 64, &v, err, sizeof(err)) == 0 && v == 4,
	    "a number in range is taken");
	ok(cli_parse_number("-j", "1", 1, 64, &v, err, sizeof(err)) == 0 && v == 1,
	    "the lowest value is in range");
	ok(cli_parse_number("-j", "64", 1, 64, &v, err, sizeof(err)) == 0 && v == 64,
	    "the highest value is in range");
	v = -7;
	ok(cli_parse_number("-j", "0", 1, 64, &v, err, sizeof(err)) < 0 && v == -7,
	    "below the range is refused and *out left alone");
	ok(strcmp(err, "-j wants a number from 1 to 64, not '0'") == 0,
	    "the message names the flag, the range and the text: %s", err);
	ok(cli_parse_number("-j", "65", 1, 64, &v, err, sizeof(err)) < 0,
	    "above the range is refused");
	ok(cli_parse_number("--ttl", "5x", 1, 60, &v, err, sizeof(err)) < 0,
	    "trailing junk is refused");
	ok(cli_parse_number("--ttl", "", 1, 60, &v, err, sizeof(err)) < 0,
	    "empty text is refused");
	ok(cli_parse_number("--ttl", " 5", 1, 60, &v, err, sizeof(err)) < 0,
	    "leading space is refused");
	ok(cli_parse_number("--ttl", "-1", 1, 60, &v, err, sizeof(err)) < 0,
	    "a negative number below the range is refused");
	ok(cli_parse_number("--ttl", "99999999999999999999999", 1, LONG_MAX, &v,
	    err, sizeof(err)) < 0, "a number past LONG_MAX is refused");
	ok(cli_parse_number("-d", "0", 0, 10, &v, err, sizeof(err)) == 0 && v == 0,
	    "zero is taken when the range starts at zero");
}

static void
test_address(void)
{
	char err[CLI_ERR_LEN];

	ok(cli_parse_address("-t", "127.0.0.1:7700", 0, err, sizeof(err)) == 0,
	    "HOST:PORT is taken");
	ok(cli_parse_address("-t", "127.0.0.1:0", 0, err, sizeof(err)) < 0,
	    "port 0 is refused for an address to connect to");
	ok(strcmp(err, "-t wants HOST:PORT, not '127.0.0.1:0'") == 0,
	    "the message names the flag and the text: %s", err);
	ok(cli_parse_address("-l", "127.0.0.1:0", 1, err, sizeof(err)) == 0,
	    "port 0 is taken for an address to listen on");
	ok(cli_parse_address("-t", "nonsense", 0, err, sizeof(err)) < 0,
	    "text without a port is refused");
	ok(cli_parse_address("-t", "h:70000", 0, err, sizeof(err)) < 0,
	    "a port above 65535 is refused");
}

static void
test_trackers(void)
{
	char err[CLI_ERR_LEN], text[CLI_MAX_TRACKERS * 16 + 32], out[64];
	struct cli_trackers t = { 0 };

	ok(cli_parse_trackers("-t", "127.0.0.1:7700", &t, err, sizeof(err)) == 0 &&
	    t.count == 1 && strcmp(t.addr[0], "127.0.0.1:7700") == 0,
	    "one address is one tracker");
	ok(cli_parse_trackers("-t", "a.lan:1,[fd00::1]:2", &t, err, sizeof(err)) == 0 &&
	    t.count == 3 && strcmp(t.addr[1], "a.lan:1") == 0 &&
	    strcmp(t.addr[2], "[fd00::1]:2") == 0,
	    "a comma-separated list adds each address, in order, after the others");
	ok(cli_parse_trackers("-t", "a.lan:1,127.0.0.1:7700", &t, err, sizeof(err)) == 0 &&
	    t.count == 3, "an address already listed is not listed twice");
	ok(strcmp(cli_format_trackers(&t, out, sizeof(out)),
	    "127.0.0.1:7700, a.lan:1, [fd00::1]:2") == 0,
	    "the list is written for a log line: %s", out);
	ok(strlen(cli_format_trackers(&t, out, 10)) == 9,
	    "  cut short to fit its buffer");
	ok(cli_parse_trackers("P2P_MUSIC_TRACKER", "b.lan:3,,c.lan:4", &t, err,
	    sizeof(err)) < 0 && t.count == 4 && strcmp(t.addr[3], "b.lan:3") == 0,
	    "an empty item is refused; what came before it is kept");
	ok(strcmp(err, "P2P_MUSIC_TRACKER wants HOST:PORT[,HOST:PORT...], "
	    "not 'b.lan:3,,c.lan:4'") == 0, "  the message names the flag and the text: %s",
	    err);
	memset(&t, 0, sizeof(t));
	ok(cli_parse_trackers("-t", "a.lan:1,", &t, err, sizeof(err)) < 0,
	    "a trailing comma is refused");
	ok(cli_parse_trackers("-t", "", &t, err, sizeof(err)) < 0,
	    "empty text is refused");
	ok(cli_parse_trackers("-t", "a.lan:1,nonsense", &t, err, sizeof(err)) < 0,
	    "an item without a port is refused");
	ok(cli_parse_trackers("-t", "a.lan:0", &t, err, sizeof(err)) < 0,
	    "port 0 is refused");
	memset(&t, 0, sizeof(t));
	text[0] = '\0';
	for (int i = 0; i < CLI_MAX_TRACKERS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%sh:%d",
		    i ? "," : "", i + 1);
	ok(cli_parse_trackers("-t", text, &t, err, sizeof(err)) == 0 &&
	    t.count == CLI_MAX_TRACKERS, "%d trackers are taken", CLI_MAX_TRACKERS);
	ok(cli_parse_trackers("-t", "h:999", &t, err, sizeof(err)) < 0 &&
	    t.count == CLI_MAX_TRACKERS && strstr(err, "at most 16 trackers") != NULL,
	    "one more is refused: %s", err);
	ok(cli_parse_trackers("-t", "h:1", &t, err, sizeof(err)) == 0,
	    "  but one already listed is not one more");
}

static void
test_verbosity(void)
{
	ok(cli_log_level(LOG_LEVEL_INFO, 0, 0) == LOG_LEVEL_INFO,
	    "no flag: the program's default");
	ok(cli_log_level(LOG_LEVEL_INFO, 1, 0) == LOG_LEVEL_DEBUG,
	    "-v raises a daemon from info to debug");
	ok(cli_log_level(LOG_LEVEL_INFO, 5, 0) == LOG_LEVEL_DEBUG,
	    "more -v stay at debug");
	ok(cli_log_level(LOG_LEVEL_WARN, 1, 0) == LOG_LEVEL_INFO,
	    "-v raises the client from warn to info");
	ok(cli_log_level(LOG_LEVEL_WARN, 2, 0) == LOG_LEVEL_DEBUG,
	    "-v -v raises the client to debug");
	ok(cli_log_level(LOG_LEVEL_WARN, 0, 1) == LOG_LEVEL_ERROR,
	    "-q means errors only");
	ok(cli_log_level(LOG_LEVEL_INFO, 3, 1) == LOG_LEVEL_ERROR,
	    "-q wins over -v");
}

int
main(void)
{
	test_number();
	test_address();
	test_trackers();
	test_verbosity();
	return done_testing();
}

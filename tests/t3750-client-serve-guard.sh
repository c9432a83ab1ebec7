#!/usr/bin/env bash
# `client serve` against hostile callers: search text no song name could
# hold is the caller's error (400, not a failure of the network).
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
. "$TEST_DIR/lib-gateway.sh"
need_ffmpeg
command -v curl >/dev/null || skip_all "curl is missing (scripts/install-deps installs it)"

# the longest search text, SERVE_MAX_QUERY of src/client/gateway/serve.c
MAX_QUERY=255

mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/Alpha.mp3" 3 440 || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" ||
	exit 1
wait_for_registered "$T_ADDR" Alpha 1 || exit 1
start_gateway || exit 1
G=$G_ADDR

# code_of URL [CURL-ARGS...] : the status curl gets for URL
code_of() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' "$@" "$url"
}

# bad search text
is "$(code_of "http://$G/api/songs?q=alp")" 200 "a search is 200"
is "$(code_of "http://$G/api/songs?q=%0a")" 400 "a search for a line feed is 400"
is "$(code_of "http://$G/api/songs?q=a%1bb")" 400 "  one with an escape byte too"
is "$(code_of "http://$G/api/songs?q=%c2%9b")" 400 "  and one with a C1 control"
is "$(code_of "http://$G/api/songs?q=%ff%fe")" 400 "  a search that is not UTF-8 is 400"
is "$(code_of "http://$G/api/songs?q=%e2%80%ae")" 400 "  and one with a bidi override"
long=$(head -c "$MAX_QUERY" /dev/zero | tr '\0' a)
is "$(code_of "http://$G/api/songs?q=$long")" 200 "a search of $MAX_QUERY bytes is fine"
like "$(curl -s "http://$G/api/songs?q=${long}a")" '^400 Bad Request: search text too long' \
	"  one byte more is 400, saying why"
is "$(code_of "http://$G/api/songs?q=alp")" 200 "the gateway still answers"

ok "the gateway stops on SIGTERM with status 0" stop_daemon G
ok "no sanitizer reports" check_sanitizers
done_testing

#!/usr/bin/env bash
# `client serve` against hostile callers: search text no song name could
# hold is the caller's error (400, not a failure of the network); a
# request naming another host (DNS rebinding) is 421; another site's page
# may embed songs and navigate to the page but not read the song list
# (403); idle connections, however many, do not lock a newcomer out, and
# one source holds at most its share of the connections.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
. "$TEST_DIR/lib-gateway.sh"
need_ffmpeg
command -v curl >/dev/null || skip_all "curl is missing (scripts/install-deps installs it)"

# limits of src/client/gateway/serve.c: the longest search text
# (SERVE_MAX_QUERY), the most connections (SERVE_MAX_CONNS), and from one
# source (SERVE_MAX_CONNS_PER_SOURCE; all of loopback is one source)
MAX_QUERY=255
MAX_CONNS=64
PER_SOURCE=32

mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/Alpha.mp3" 3 440 || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" ||
	exit 1
wait_for_registered "$T_ADDR" Alpha 1 || exit 1
start_daemon G client -t "$T_ADDR" -v -v serve -l 127.0.0.1:0 \
	--allow-host music.home.arpa || exit 1
G=$G_ADDR
PORT=${G##*:}

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

# DNS rebinding: only the gateway's own names
pl=/songs/Alpha/index.m3u8
curl -s -o "$SCRATCH/index.m3u8" "http://$G$pl"
seg=/songs/Alpha/$(grep -v '^#' "$SCRATCH/index.m3u8" | head -n 1)
is "$(code_of "http://$G$seg")" 200 "a segment is 200"
for path in /api/songs / "$pl" "$seg"; do
	is "$(code_of "http://$G$path" -H 'Host: evil.example.com')" 421 \
		"Host: evil.example.com on $path is 421"
done
is "$(code_of "http://$G/api/songs" -H "Host: evil.example.com:$PORT")" 421 \
	"  with the gateway's port too"
for host in "127.0.0.1:$PORT" "localhost:$PORT" "LocalHost:$PORT" "[::1]:$PORT" \
	"music.home.arpa:$PORT"; do
	is "$(code_of "http://$G/api/songs" -H "Host: $host")" 200 "Host: $host is 200"
done
for host in "localhost:1" localhost "music.home.arpa.evil.example:$PORT" \
	"127.0.0.2:$PORT" "[::1]" ":$PORT" "localhost:$PORT:$PORT"; do
	is "$(code_of "http://$G/api/songs" -H "Host: $host")" 421 "Host: $host is 421"
done
is "$(printf 'GET /api/songs HTTP/1.1\r\nConnection: close\r\n\r\n' | http_raw "$G" |
	status_of)" 400 "HTTP/1.1 without Host is 400"
is "$(printf 'GET /api/songs HTTP/1.0\r\n\r\n' | http_raw "$G" | status_of)" 200 \
	"HTTP/1.0 needs none"
out=$("$P2PM_BIN/client" serve --allow-host 'evil/x' 2>&1)
is "$? $(grep -c -- --allow-host <<<"$out")" "2 1" "--allow-host with a bad name is a usage error"
out=$("$P2PM_BIN/client" list --allow-host x 2>&1)
is "$? $(grep -c -- 'for serve only' <<<"$out")" "2 1" "  and it is for serve only"

# other sites' pages
for h in "Origin: http://evil.example" "Origin: null" "Origin: http://127.0.0.1:$PORT.evil" \
	"Sec-Fetch-Site: cross-site" "Sec-Fetch-Site: same-site"; do
	is "$(code_of "http://$G/api/songs" -H "$h")" 403 "$h: /api/songs is 403"
	is "$(code_of "http://$G$seg" -H "$h")" 200 "  a segment is 200"
	is "$(code_of "http://$G$pl" -H "$h")" 200 "  the playlist is 200"
	is "$(code_of "http://$G/art/$(printf '%064d' 0).jpg?song=Alpha" -H "$h")" 404 \
		"  cover art is looked for (404 here)"
	is "$(code_of "http://$G/" -H "$h" -H 'Sec-Fetch-Mode: no-cors')" 403 \
		"  the page fetched by a script is 403"
	is "$(code_of "http://$G/" -H "$h" -H 'Sec-Fetch-Mode: navigate')" 200 \
		"  navigating to the page is 200"
done
is "$(code_of "http://$G/api/songs" -H "Origin: http://127.0.0.1:$PORT")" 200 \
	"the gateway's own Origin is 200"
is "$(code_of "http://$G/api/songs" -H "Sec-Fetch-Site: same-origin")" 200 \
	"Sec-Fetch-Site: same-origin is 200"
is "$(code_of "http://$G/api/songs" -H "Sec-Fetch-Site: none")" 200 \
	"Sec-Fetch-Site: none (the address typed) is 200"
is "$(code_of "http://$G/api/songs" -H "Origin: http://evil.example" -X POST)" 403 \
	"a POST from another site is 403"
is "$(code_of "http://$G$seg" -H "Origin: http://evil.example" -X POST)" 403 \
	"  one to a segment too"
is "$(code_of "http://$G/api/songs?q=alp")" 200 "the gateway still answers"

# idle connections: the oldest is closed for a newcomer
fds=()
for _ in $(seq 1 "$MAX_CONNS"); do
	exec {fd}<>"/dev/tcp/${G%:*}/${G##*:}" || break
	printf 'GET /nope HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" >&"$fd"
	read -r -t 5 line <&"$fd" || line=
	[ "${line%%$'\r'}" = "HTTP/1.1 404 Not Found" ] || break
	fds+=("$fd")
done
is "${#fds[@]}" "$MAX_CONNS" "$MAX_CONNS connections from loopback, each answered once and kept alive"
is "$(code_of "http://$G/api/songs")" 200 "  a newcomer still gets 200"
timeout 2 cat <&"${fds[0]}" >/dev/null
is "$?" 0 "  the connection idle longest was closed"
timeout 0.5 cat <&"${fds[$((MAX_CONNS - 1))]}" >/dev/null
is "$?" 124 "  the newest is still open"
ok "  the gateway says why" wait_for_log G "closing the idle connection of 127\.0\.0\.1:[0-9]+ for a newcomer" 5
for fd in "${fds[@]}"; do
	exec {fd}>&-
done
sleep 0.5

# connections in the middle of a request are not closed: one source
# holding its share of them gets 503 for more
fds=()
for _ in $(seq 1 "$PER_SOURCE"); do
	exec {fd}<>"/dev/tcp/${G%:*}/${G##*:}" || break
	printf 'GET / HTTP/1.1\r\n' >&"$fd"
	fds+=("$fd")
done
sleep 0.5
out=$(curl -s -w ' %{http_code}' "http://$G/api/songs" | tr -d '\n')
like "$out" '^503 Service Unavailable: too many connections from your address 503$' \
	"$PER_SOURCE connections from loopback amid a request: a newcomer from there gets 503"
fd=${fds[0]}
exec {fd}>&-
sleep 0.5
is "$(code_of "http://$G/api/songs")" 200 "  one of them closed, a newcomer is served"
for fd in "${fds[@]:1}"; do
	exec {fd}>&-
done

ok "the gateway stops on SIGTERM with status 0" stop_daemon G
ok "no sanitizer reports" check_sanitizers
done_testing

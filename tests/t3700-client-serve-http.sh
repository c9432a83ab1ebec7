#!/usr/bin/env bash
# `client serve` speaking HTTP: the page, the JSON song list, playlists and
# segments as the peers hold them (ETag, caching, HEAD, Range, 304),
# persistent connections, and bad or hostile requests answered with the
# right status without disturbing anyone else.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
. "$TEST_DIR/lib-gateway.sh"
need_ffmpeg

# limits of src/lib/http.h and src/client/gateway/serve.c
HEAD_DEADLINE_S=10
MAX_HEAD_BYTES=16384
MAX_REQUEST_LINE=8192
MAX_HEADERS=64
IDLE_TIMEOUT_S=15

mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/Alpha.mp3" 6 440 -ac 2 -b:a 128k || exit 1
make_mp3 "$SCRATCH/acdc.mp3" 5 550 -ac 2 -b:a 128k || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" \
	-L "$SCRATCH/lib" "AC/DC Über=$SCRATCH/acdc.mp3" || exit 1
wait_for_registered "$T_ADDR" Alpha 1 && wait_for_registered "$T_ADDR" "AC/DC Über" 1 ||
	exit 1
start_gateway || exit 1
G=$G_ADDR
like "$G" '^127\.0\.0\.1:[0-9]+$' "serve -l 127.0.0.1:0 prints its real address"

# a client that sends half a head and then nothing: cut off after the
# head deadline, while everything below goes on
exec {slow_fd}<>"/dev/tcp/${G%:*}/${G##*:}"
printf 'GET / HTTP/1.1\r\nHost: %s\r\n' "$G" >&"$slow_fd"
t_slow=$(date +%s)
# and a persistent connection that goes idle after one request
exec {idle_fd}<>"/dev/tcp/${G%:*}/${G##*:}"
printf 'GET /nope HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" >&"$idle_fd"
t_idle=$(date +%s)

# the page and the song list
http_get "$G" / >"$SCRATCH/page"
is "$(status_of <"$SCRATCH/page")" 200 "GET / is 200"
is "$(header_of Content-Type <"$SCRATCH/page")" "text/html; charset=utf-8" "  an HTML page"
ok "  with an audio element and its own script, nothing from elsewhere" \
	bash -c 'grep -q "<audio" "$0" && grep -q "<script>" "$0" &&
		! grep -Eq "(src|href)=\"(https?:)?//" "$0"' "$SCRATCH/page"
is "$(body_of <"$SCRATCH/page" | wc -c)" "$(header_of Content-Length <"$SCRATCH/page")" \
	"  Content-Length is the body's length"
printf 'HEAD / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$G" | http_raw "$G" >"$SCRATCH/head"
is "$(status_of <"$SCRATCH/head") $(header_of Content-Length <"$SCRATCH/head")" \
	"200 $(header_of Content-Length <"$SCRATCH/page")" "HEAD / has the same status and length"
is "$(body_of <"$SCRATCH/head" | wc -c)" 0 "  and no body"

json=$(http_get "$G" /api/songs | body_of)
like "$json" '^\{"songs":\[\{"name":"AC/DC Über","artist":null,"album":null,"title":null,"track":null,"duration":[0-9]+\.[0-9]{3},"art":null,"sources":1\},\{"name":"Alpha",[^}]*"sources":1\}\],"count":2,"truncated":false,"suggestion":null\}$' \
	"GET /api/songs lists every song with its tags, duration, art and number of sources, as JSON"
like "$(http_get "$G" '/api/songs?q=alp' | body_of)" \
	'^\{"songs":\[\{"name":"Alpha",[^}]*"sources":1\}\],"count":1,"truncated":false,"suggestion":null\}$' \
	"  ?q= searches, ignoring case"
is "$(http_get "$G" '/api/songs?q=%C3%9Cber' | body_of | grep -c 'AC/DC')" 1 \
	"  a percent-encoded search text is decoded"
is "$(http_get "$G" '/api/songs?q=%zz' | status_of)" 400 "  a badly encoded one is 400"

# the playlist, then every segment, as the peer holds them
pl=/songs/Alpha/index.m3u8
http_get "$G" "$pl" >"$SCRATCH/pl"
is "$(status_of <"$SCRATCH/pl")" 200 "GET $pl is 200"
is "$(header_of Content-Type <"$SCRATCH/pl")" application/vnd.apple.mpegurl "  an HLS playlist"
body_of <"$SCRATCH/pl" >"$SCRATCH/index.m3u8"
is "$(header_of ETag <"$SCRATCH/pl")" "\"$(sha256sum <"$SCRATCH/index.m3u8" | cut -c1-64)\"" \
	"  its ETag is the SHA-256 of its bytes (the content id)"
ok "  and the gateway fetches the whole song through the swarm, before any segment is asked for" \
	wait_for_log G "'Alpha': swarm done: [0-9]+ segments" 10
mkdir -p "$SCRATCH/got"
cp "$SCRATCH/index.m3u8" "$SCRATCH/got/"
ok "  the peer's own playlist" same_as_served "$SCRATCH/got" "$P_ADDR" Alpha
nseg=0
for seg in $(segments_of "$SCRATCH/got"); do
	http_get "$G" "/songs/Alpha/$seg" >"$SCRATCH/seg.resp"
	body_of <"$SCRATCH/seg.resp" >"$SCRATCH/got/$seg"
	nseg=$((nseg + 1))
done
ok "its $nseg segments come through byte-identical to the peer's cache" \
	segments_match_cache "$SCRATCH/got" "$SCRATCH/cache"
seg=$(segments_of "$SCRATCH/got" | head -n 1)
segpath=/songs/Alpha/$seg
http_get "$G" "$segpath" >"$SCRATCH/seg"
size=$(wc -c <"$SCRATCH/got/$seg")
is "$(status_of <"$SCRATCH/seg") $(header_of Content-Type <"$SCRATCH/seg")" "200 video/mp2t" \
	"a segment is 200 video/mp2t"
is "$(header_of Cache-Control <"$SCRATCH/seg")" "public, max-age=31536000, immutable" \
	"  cached as immutable"
etag=$(header_of ETag <"$SCRATCH/seg")
is "$etag" "\"$(sha256sum <"$SCRATCH/got/$seg" | cut -c1-64)\"" "  its ETag is its SHA-256"
is "$(header_of Accept-Ranges <"$SCRATCH/seg")" bytes "  and it takes ranges"
http_get "$G" "$segpath" "If-None-Match: $etag" >"$SCRATCH/304"
is "$(status_of <"$SCRATCH/304") $(body_of <"$SCRATCH/304" | wc -c)" "304 0" \
	"If-None-Match with its ETag: 304, no body"
printf 'HEAD %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$segpath" "$G" |
	http_raw "$G" >"$SCRATCH/seghead"
is "$(header_of Content-Length <"$SCRATCH/seghead") $(body_of <"$SCRATCH/seghead" | wc -c)" \
	"$size 0" "HEAD of a segment: its length, no body"

# ranges, with curl as a player would send them
if command -v curl >/dev/null; then
	curl -s -D "$SCRATCH/r.h" -r 10-19 -o "$SCRATCH/r.b" "http://$G$segpath"
	is "$(status_of <"$SCRATCH/r.h") $(header_of Content-Range <"$SCRATCH/r.h")" \
		"206 bytes 10-19/$size" "Range bytes=10-19: 206 with its Content-Range"
	ok "  and those ten bytes" cmp -s "$SCRATCH/r.b" \
		<(dd if="$SCRATCH/got/$seg" bs=1 skip=10 count=10 status=none)
	curl -s -r -100 -o "$SCRATCH/r.b" "http://$G$segpath"
	ok "Range bytes=-100: the last 100 bytes" cmp -s "$SCRATCH/r.b" \
		<(tail -c 100 "$SCRATCH/got/$seg")
	curl -s -r 100- -o "$SCRATCH/r.b" "http://$G$segpath"
	ok "Range bytes=100-: from 100 to the end" cmp -s "$SCRATCH/r.b" \
		<(tail -c +101 "$SCRATCH/got/$seg")
	curl -s -D "$SCRATCH/r.h" -o /dev/null -r "$size-" "http://$G$segpath"
	is "$(status_of <"$SCRATCH/r.h") $(header_of Content-Range <"$SCRATCH/r.h")" \
		"416 bytes */$size" "a range past the end: 416"
	out=$(curl -s -v -o /dev/null -o /dev/null "http://$G/" "http://$G$pl" 2>&1)
	like "$out" "(Re-using|Reusing) existing connection" "curl reuses one connection for two requests"
else
	skip_test "Range requests with curl" "curl is missing (scripts/install-deps installs it)"
fi

# persistent connections and their rules
out=$(printf 'GET / HTTP/1.1\r\nHost: %s\r\n\r\nHEAD %s HTTP/1.1\r\nHost: %s\r\n\r\nGET /nope HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' \
	"$G" "$pl" "$G" "$G" | http_raw "$G" | statuses_of | tr '\n' ' ')
is "$out" "200 200 404 " "three pipelined requests on one connection, the last with Connection: close"
out=$(printf 'GET /nope HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n' | http_raw "$G" | statuses_of | tr '\n' ' ')
is "$out" "404 " "HTTP/1.0 closes after one response"
out=$(printf 'GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\nConnection: close\r\n\r\n' |
	http_raw "$G" | statuses_of | tr '\n' ' ')
is "$out" "404 200 " "  unless it asks for keep-alive"
out=$(printf 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' | http_raw "$G" 3)
is "$(header_of Connection <<<"$out")" keep-alive "  which the answer says"
is "$(http_get "$G" / | header_of Connection)" close \
	"a request with Connection: close is answered with it"

# bad requests
is "$(http_get "$G" /nowhere | status_of)" 404 "an unknown path: 404"
is "$(http_get "$G" /songs/Nobody%20Has%20This/index.m3u8 | status_of)" 404 \
	"a song the network does not have: 404"
is "$(http_get "$G" /songs/Alpha/0000000000000000000000000000000000000000000000000000000000000000.ts |
	status_of)" 404 "a segment not in the song's playlist: 404"
is "$(http_get "$G" /songs/Alpha/..%2F..%2Fetc%2Fpasswd | status_of)" 404 \
	"a segment name that is a path: 404"
is "$(http_get "$G" /songs/AC%2FDC%20%C3%9Cber/index.m3u8 | status_of)" 200 \
	"a name with an encoded / is one name"
is "$(http_get "$G" /songs/Al%zzpha/index.m3u8 | status_of)" 400 "bad percent-encoding: 400"
is "$(http_get "$G" /songs/Al%00pha/index.m3u8 | status_of)" 400 "an encoded NUL: 400"
is "$(http_get "$G" /songs/Al%01pha/index.m3u8 | status_of)" 400 "an encoded control byte: 400"
is "$(http_get "$G" /songs/%FF%FE/index.m3u8 | status_of)" 400 "a name that is not UTF-8: 400"
out=$(printf 'POST / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$G" | http_raw "$G")
is "$(status_of <<<"$out") $(header_of Allow <<<"$out")" "405 GET, HEAD" "POST: 405 with Allow"
is "$(printf 'GET / HTTP/1.1\r\n\r\n' | http_raw "$G" | status_of)" 400 "HTTP/1.1 without Host: 400"
is "$(printf 'GET / HTTP/2.0\r\nHost: %s\r\n\r\n' "$G" | http_raw "$G" | status_of)" 505 "HTTP/2.0: 505"
is "$(printf 'hello\r\n\r\n' | http_raw "$G" | status_of)" 400 "not HTTP at all: 400"
is "$(printf 'GET / HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\n\r\nhello' "$G" | http_raw "$G" | status_of)" \
	413 "a request with a body: 413"
long=$(head -c "$MAX_REQUEST_LINE" /dev/zero | tr '\0' a)
is "$(printf 'GET /%s HTTP/1.1\r\nHost: %s\r\n\r\n' "$long" "$G" | http_raw "$G" | status_of)" 414 \
	"a request line over $MAX_REQUEST_LINE bytes: 414"
big=$(head -c "$MAX_HEAD_BYTES" /dev/zero | tr '\0' b)
is "$(printf 'GET / HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n' "$G" "$big" | http_raw "$G" | status_of)" \
	431 "a head over $MAX_HEAD_BYTES bytes: 431"
many=$(for i in $(seq 1 "$MAX_HEADERS"); do printf 'X-%d: y\r\n' "$i"; done)
is "$(printf 'GET / HTTP/1.1\r\nHost: %s\r\n%s\n\r\n' "$G" "$many" | http_raw "$G" | status_of)" \
	431 "$((MAX_HEADERS + 1)) header lines: 431"
many=$(for i in $(seq 3 "$MAX_HEADERS"); do printf 'X-%d: y\r\n' "$i"; done)
is "$(printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s\n\r\n' "$G" "$many" |
	http_raw "$G" | status_of)" 200 "$MAX_HEADERS header lines are fine"
head -c 20000 /dev/urandom | http_raw "$G" >/dev/null 2>&1
is "$(http_get "$G" / | status_of)" 200 "after random bytes, the gateway still answers"

# the slow client, cut off without disturbing the rest
left=$((t_slow + HEAD_DEADLINE_S - 2 - $(date +%s)))
if [ "$left" -ge 0 ]; then
	sleep "$left"
	timeout 0.5 cat <&"$slow_fd" >"$SCRATCH/slow-early.out"
	is "$? $(wc -c <"$SCRATCH/slow-early.out")" "124 0" \
		"a client sending half a head has no answer $((HEAD_DEADLINE_S - 2)) s on"
else
	skip_test "no answer to half a head before the deadline" \
		"the checks above took more than $((HEAD_DEADLINE_S - 2)) s"
fi
left=$((t_slow + HEAD_DEADLINE_S + 2 - $(date +%s)))
[ "$left" -gt 0 ] && sleep "$left"
timeout 3 cat <&"$slow_fd" >"$SCRATCH/slow.out"
is "$? $(status_of <"$SCRATCH/slow.out")" "0 408" \
	"  and gets 408 and a close $((HEAD_DEADLINE_S + 2)) s on"
exec {slow_fd}<&-

# the idle connection: closed by the gateway once idle long enough
left=$((t_idle + IDLE_TIMEOUT_S + 1 - $(date +%s)))
[ "$left" -gt 0 ] && sleep "$left"
timeout 3 cat <&"$idle_fd" >"$SCRATCH/idle.out"
is "$? $(statuses_of <"$SCRATCH/idle.out")" "0 404" \
	"a persistent connection idle for $IDLE_TIMEOUT_S s after its response is closed"
exec {idle_fd}<&-

ok "the gateway stops on SIGTERM with status 0" stop_daemon G
ok "no sanitizer reports" check_sanitizers
done_testing

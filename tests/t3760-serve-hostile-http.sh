#!/usr/bin/env bash
# `client serve` against hostile requests and hostile song text: every
# spelling of a path in a name is one name or a 400, never a file; request
# smuggling (two Content-Lengths, Content-Length with Transfer-Encoding,
# obsolete line folding, a body followed by a request) ends the
# connection after one answer; heads exactly at their limits pass and one
# byte over is refused and closed; Range edges; and a song whose name and
# tags hold markup, quotes and line separators comes out of /api/songs as
# JSON with the same text, and shows on the player page as text, no
# script of it running.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
. "$TEST_DIR/lib-gateway.sh"
. "$TEST_DIR/lib-browser.sh"
need_ffmpeg

# limits of src/lib/http.h
MAX_HEAD_BYTES=16384
MAX_REQUEST_LINE=8192

# the hostile song: its name, and its artist, album and title tags
LS=$'\u2028'
PS=$'\u2029'
H_NAME="<script>alert(1)</script> \"q\" 'a' & \\ ) ;${LS}end"
H_ARTIST='<img src=x onerror="window.pwned=1">'
H_ALBUM="\"><svg onload=window.pwned=2>'"
H_TITLE="</script><script>window.pwned=3</script>${PS}\"); window.pwned=4; (\""

mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/Alpha.mp3" 6 440 -ac 2 -b:a 128k || exit 1
ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc=size=64x64" -frames:v 1 \
	"$SCRATCH/cover.png" || exit 1
ffmpeg -nostdin -hide_banner -loglevel error -y \
	-f lavfi -i "sine=frequency=550:duration=3" -i "$SCRATCH/cover.png" \
	-map 0 -map 1 -c:a libmp3lame -b:a 96k -c:v png -disposition:v attached_pic \
	-id3v2_version 3 -metadata "artist=$H_ARTIST" -metadata "album=$H_ALBUM" \
	-metadata "title=$H_TITLE" "$SCRATCH/hostile.mp3" || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" \
	-L "$SCRATCH/lib" "$H_NAME=$SCRATCH/hostile.mp3" || exit 1
wait_for_registered "$T_ADDR" Alpha 1 || exit 1
ok "the song with markup in its name registers" wait_for_registered "$T_ADDR" "$H_NAME" 1
start_gateway || exit 1
G=$G_ADDR

# req PATH : the status of GET PATH
req() {
	http_get "$G" "$1" | status_of
}
# one_answer STATUS : stdin is sent as it is; true if the only answer is
# STATUS and the gateway closes the connection after it (well before
# http_raw's timeout)
one_answer() {
	local out rc
	out=$(http_raw "$G" 8)
	rc=$?
	[ "$rc" -eq 0 ] && [ "$(statuses_of <<<"$out" | tr '\n' ' ')" = "$1 " ] && return 0
	diag "exit $rc, answers: $(statuses_of <<<"$out" | tr '\n' ' ')"
	return 1
}

# the playlist and a segment to ask for
pl=/songs/Alpha/index.m3u8
http_get "$G" "$pl" | body_of >"$SCRATCH/index.m3u8"
seg=$(grep -v '^#' "$SCRATCH/index.m3u8" | head -n 1)
ok "Alpha's playlist comes through ($seg first)" test -n "$seg"
segpath=/songs/Alpha/$seg
http_get "$G" "$segpath" | body_of >"$SCRATCH/seg"
size=$(wc -c <"$SCRATCH/seg")
ok "  and its first segment, $size bytes" test "$size" -gt 1000

# path traversal: a name is one path piece, never a path
for p in /songs/%2e%2e/index.m3u8 /songs/%2E%2E%2F%2E%2E%2Fetc/index.m3u8 \
	/songs/..%5C..%5Cetc/index.m3u8 '/songs/..\..\etc/index.m3u8' \
	/songs/%252e%252e%252fetc/index.m3u8 /songs/../index.m3u8 /songs/./index.m3u8 \
	/songs/Alpha%2F..%2F..%2Fetc/index.m3u8 /songs/%2Fetc%2Fpasswd/index.m3u8 \
	/songs/Alpha/%2e%2e%2findex.m3u8 /songs/Alpha/..%5Cindex.m3u8 '/songs/Alpha/..\index.m3u8' \
	/songs/Alpha/%252e%252e%252fetc%252fpasswd "/songs/Alpha/..%2F$seg" \
	"/songs/Alpha/%252F$seg" "/songs/Alpha/.%2F$seg" "/songs/Alpha/$seg%2F" \
	/songs/Alpha/%c0%ae%c0%ae%c0%afetc%c0%afpasswd /songs/Alpha/../../etc/passwd \
	/songs/Alpha//etc/passwd //etc/passwd /songs//index.m3u8 /songs/Alpha/ \
	/art/..%2F..%2Fetc%2Fpasswd?song=Alpha /art/../../etc/passwd?song=Alpha \
	/art/%2e%2e?song=Alpha '/art/..\..\etc\passwd?song=Alpha' \
	"/art/%252e%252e%252f$(printf '%064d' 0).jpg?song=Alpha" \
	"/art/$seg?song=Alpha" /api/songs/.. /api/songs%2F..; do
	is "$(req "$p")" 404 "GET $p: 404"
done
for p in /songs/%c0%ae%c0%ae/index.m3u8 /songs/%c0%ae%c0%ae%c0%afetc/index.m3u8 \
	/songs/%e0%80%ae%e0%80%ae/index.m3u8 /songs/..%00/index.m3u8 \
	"/songs/Alpha/$seg%00.m3u8" /songs/%2e%2e%0a/index.m3u8 \
	/songs/%e2%80%ae%2e%2e/index.m3u8 "/art/$(printf '%064d' 0).jpg?song=%00" \
	"/art/$(printf '%064d' 0).jpg?song=%c0%ae%c0%ae" '/api/songs?q=%00' '/api/songs?q=%c0%ae'; do
	is "$(req "$p")" 400 "GET $p: 400"
done
is "$(printf 'GET http://%s/etc/passwd HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$G" | http_raw "$G" |
	status_of)" 400 "an absolute-form target: 400"
is "$(printf 'GET * HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" | http_raw "$G" | status_of)" 400 \
	"the asterisk form: 400"
is "$(printf 'GET /songs/Alpha/index.m3u8#x HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" | http_raw "$G" |
	status_of)" 400 "a fragment in the target: 400"

# smuggling: whatever the framing, one answer, then the connection ends
is "$(printf 'GET / HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' \
	"$G" | http_raw "$G" | status_of)" 200 "two Content-Length: 0 agree: 200"
ok "two Content-Lengths that differ: 400, and the connection ends" one_answer 400 \
	< <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$G")
ok "  in the other order too" one_answer 400 \
	< <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nhelloGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$G")
ok "Content-Length: 0, 5 as a list: 400" one_answer 400 \
	< <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nContent-Length: 0, 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$G")
for cl in -1 +5 0x5 1e3 ' 5 5' 5.0; do
	ok "Content-Length: '$cl': 400, and the connection ends" one_answer 400 \
		< <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nContent-Length: %s\r\n\r\nGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$cl" "$G")
done
ok "Content-Length and Transfer-Encoding: the Transfer-Encoding wins, 501, and the connection ends" \
	one_answer 501 < <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$G")
ok "  in the other order too" \
	one_answer 501 < <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$G")
ok "Transfer-Encoding: chunked alone: 501, its body never read as a request" \
	one_answer 501 < <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n1d\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n0\r\n\r\n' "$G")
ok "a header name with a space before its colon: 400" one_answer 400 \
	< <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding : chunked\r\n\r\nGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$G")
ok "obsolete line folding: 400, and the connection ends" one_answer 400 \
	< <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nX-A: b\r\n c\r\n\r\nGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$G")
ok "  with a tab too, folding a Content-Length" one_answer 400 \
	< <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nX-A: b\r\n\tContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$G")
ok "  and a first header line starting with a space" one_answer 400 \
	< <(printf 'GET / HTTP/1.1\r\n Host: %s\r\n\r\nGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$G")
ok "a request with a body, then a pipelined request: 413 only" one_answer 413 \
	< <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nContent-Length: 29\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G" "$G")
out=$(printf 'GET /nope HTTP/1.1\nHost: %s\n\nGET / HTTP/1.1\nHost: %s\nConnection: close\n\n' "$G" "$G" |
	http_raw "$G" | statuses_of | tr '\n' ' ')
is "$out" "404 200 " "bare LF line ends are taken as line ends (RFC 9112 2.2): two pipelined answers"
ok "a bare CR inside a line: 400" one_answer 400 \
	< <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nX-A: b\rContent-Length: 5\r\n\r\nhello' "$G")
ok "a bare CR ending the request line: 400" one_answer 400 \
	< <(printf 'GET / HTTP/1.1\rHost: %s\r\n\r\n' "$G")
ok "a NUL byte in a header: 400" one_answer 400 \
	< <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nX-A: b\0c\r\n\r\n' "$G")
ok "two Host headers: 400" one_answer 400 \
	< <(printf 'GET / HTTP/1.1\r\nHost: %s\r\nHost: evil.example\r\n\r\n' "$G")
ok "two spaces in the request line: 400" one_answer 400 \
	< <(printf 'GET  / HTTP/1.1\r\nHost: %s\r\n\r\n' "$G")
ok "a lower-case version: 400" one_answer 400 \
	< <(printf 'GET / http/1.1\r\nHost: %s\r\n\r\n' "$G")

# heads at their limits: exactly at them pass, one byte over is refused
# and the connection closed, the next request unanswered
prefix='GET /'
suffix=' HTTP/1.1'
path=$(head -c $((MAX_REQUEST_LINE - ${#prefix} - ${#suffix} - 2)) /dev/zero | tr '\0' a)
line="$prefix$path$suffix"
is "$((${#line} + 2))" "$MAX_REQUEST_LINE" "(a request line of $MAX_REQUEST_LINE bytes with its CR LF)"
is "$(printf '%s\r\nHost: %s\r\nConnection: close\r\n\r\n' "$line" "$G" | http_raw "$G" | status_of)" \
	404 "a request line of exactly $MAX_REQUEST_LINE bytes is read: 404 for its unknown path"
ok "one byte more: 414, and the connection ends" one_answer 414 \
	< <(printf 'GET /a%s HTTP/1.1\r\nHost: %s\r\n\r\nGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$path" "$G" "$G")
head1=$(printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nX-Pad: ' "$G")
pad=$(head -c $((MAX_HEAD_BYTES - ${#head1} - 4)) /dev/zero | tr '\0' p)
is "$(printf '%s%s\r\n\r\n' "$head1" "$pad" | wc -c)" "$MAX_HEAD_BYTES" \
	"(a head of $MAX_HEAD_BYTES bytes, most of it one header)"
is "$(printf '%s%s\r\n\r\n' "$head1" "$pad" | http_raw "$G" | status_of)" 200 \
	"a head of exactly $MAX_HEAD_BYTES bytes, one header line of $((${#pad} + 7)) bytes: 200"
ok "one byte more: 431, and the connection ends" one_answer 431 \
	< <(printf '%sq%s\r\n\r\nGET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$head1" "$pad" "$G")
long_host=$(head -c 300 /dev/zero | tr '\0' h)
is "$(printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$long_host" | http_raw "$G" |
	status_of)" 421 "a Host too long to keep names no server: 421"
is "$(http_get "$G" / | status_of)" 200 "after all that the gateway still answers"

# Range edges, on a segment of $size bytes
range() {
	http_get "$G" "$segpath" "Range: $1" >"$SCRATCH/range.http"
	printf '%s %s' "$(status_of <"$SCRATCH/range.http")" \
		"$(header_of Content-Range <"$SCRATCH/range.http")"
}
# range_body_is SKIP COUNT : the last range answer's body is those bytes
range_body_is() {
	cmp -s <(body_of <"$SCRATCH/range.http") \
		<(tail -c +$(($1 + 1)) "$SCRATCH/seg" | head -c "$2")
}
last=$((size - 1))
is "$(range bytes=0-0)" "206 bytes 0-0/$size" "Range bytes=0-0: 206, the first byte"
ok "  that byte" range_body_is 0 1
is "$(range "bytes=$last-$last")" "206 bytes $last-$last/$size" "bytes=$last-$last: the last byte"
ok "  that byte" range_body_is "$last" 1
is "$(range bytes=-1)" "206 bytes $last-$last/$size" "bytes=-1: the last byte too"
is "$(range "bytes=$last-")" "206 bytes $last-$last/$size" "bytes=$last-: the last byte too"
is "$(range "bytes=0-$((size + 1000))")" "206 bytes 0-$last/$size" "an end past the end is cut to it"
ok "  the whole segment" range_body_is 0 "$size"
is "$(range "bytes=-$((size * 4))")" "206 bytes 0-$last/$size" "a suffix longer than the segment: all of it"
is "$(range "bytes=$size-$((size + 5))")" "416 bytes */$size" "a start at the end: 416"
is "$(range bytes=-0)" "416 bytes */$size" "bytes=-0: 416"
is "$(range bytes=18446744073709551615-)" "416 bytes */$size" \
	"a start of 2^64-1: 416, no overflow"
is "$(range bytes=18446744073709551615-18446744073709551615)" "416 bytes */$size" \
	"  and as start and end"
for r in bytes=0-1,5-6 'bytes=0-0, -1' bytes=99999999999999999999999- bytes=0-99999999999999999999999 \
	bytes=-99999999999999999999999 bytes=5-2 bytes=abc bytes= bytes=- bytes=--1 bytes=-5-3 \
	bytes=1-2-3 bytes=0x10-0x20 'bytes=1 - 2' items=0-1 'bytes 0-1' 'bytes=-1e3'; do
	is "$(range "$r")" "200 " "Range: $r is ignored: 200, the whole segment"
	ok "  all $size bytes" range_body_is 0 "$size"
done
is "$(http_get "$G" "$pl" 'Range: bytes=0-0' | status_of)" 200 "a Range on a playlist is ignored: 200"
printf 'HEAD %s HTTP/1.1\r\nHost: %s\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n' "$segpath" "$G" |
	http_raw "$G" >"$SCRATCH/headrange"
is "$(status_of <"$SCRATCH/headrange") $(header_of Content-Length <"$SCRATCH/headrange") $(body_of <"$SCRATCH/headrange" | wc -c)" \
	"206 10 0" "HEAD with a Range: 206, its length, no body"
etag=$(http_get "$G" "$segpath" | header_of ETag)
is "$(http_get "$G" "$segpath" "If-None-Match: $etag" 'Range: bytes=0-0' | status_of)" 304 \
	"a Range with a matching If-None-Match: 304"

# the hostile song through /api/songs: JSON with the very same text
http_get "$G" /api/songs | body_of >"$SCRATCH/songs.json"
ok "the song list has no raw '<' or '>'" bash -c '! grep -q "[<>]" "$0"' "$SCRATCH/songs.json"
ok "  nor a raw U+2028 or U+2029 (they are \\u2028, \\u2029)" \
	bash -c '! grep -qF -e "$1" -e "$2" "$0" && grep -qF "\\u2028" "$0" && grep -qF "\\u2029" "$0"' \
	"$SCRATCH/songs.json" "$LS" "$PS"
if command -v node >/dev/null; then
	got=$(H_NAME=$H_NAME H_ARTIST=$H_ARTIST H_ALBUM=$H_ALBUM H_TITLE=$H_TITLE node -e '
		const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const s = j.songs.find(function (x) { return x.name !== "Alpha"; });
		const e = process.env;
		console.log([j.count, s.name === e.H_NAME, s.artist === e.H_ARTIST,
			s.album === e.H_ALBUM, s.title === e.H_TITLE, /^[0-9a-f]{64}\.png$/.test(s.art)].join(" "));
	' "$SCRATCH/songs.json")
	is "$got" "2 true true true true true" \
		"node parses it: the name, artist, album and title are the song's, byte for byte"
else
	skip_test "parsing /api/songs with node" "node is missing (scripts/install-deps installs nodejs)"
fi
# pct TEXT : TEXT with every byte percent-encoded
pct() {
	printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n' | sed 's/../%&/g'
}
like "$(http_get "$G" "/api/songs?q=$(pct '<script>')" | body_of)" '"count":1,' \
	"/api/songs?q=<script> finds it"
cover=$(sha256sum <"$SCRATCH/cover.png" | cut -c1-64).png
is "$(http_get "$G" "/art/$cover?song=$(pct "$H_NAME")" | status_of)" 200 \
	"its cover art comes through /art/ with the name percent-encoded as song="

# the player page in headless Chromium: the text shows as text, nothing of
# it runs
if ! command -v chromium >/dev/null || ! command -v node >/dev/null; then
	skip_test "the page shows hostile text as text" "chromium or node is missing (scripts/install-deps)"
else
	browser_start "http://$G/#songs" "--window-size=1280,800"
	ok "Chromium starts with a DevTools port ($BROWSER_PORT)" test -n "$BROWSER_PORT"
	cdp_start
	# the expected texts, as JSON strings the page's script can compare
	js() {
		H=$1 node -e 'process.stdout.write(JSON.stringify(process.env.H))'
	}
	jn=$(js "$H_NAME") ja=$(js "$H_ARTIST") jb=$(js "$H_ALBUM") jt=$(js "$H_TITLE")
	row='Array.from(document.querySelectorAll("li.song")).find(function (l) { return l.dataset.name !== "Alpha"; })'
	ok "the page lists both songs" page_is 30 'document.querySelectorAll("li.song").length === 2'
	is "$(cdp eval "var r = $row; [r.dataset.name === $jn, r.querySelector(\".name\").textContent === $jt, r.querySelector(\".line2\").textContent === $ja + \" \\u2014 \" + $jb].join(\" \")")" \
		'"true true true"' "  the hostile song's title, artist and album show as text, as they are"
	is "$(cdp eval 'typeof window.pwned + " " + document.scripts.length + " " + document.querySelectorAll("img[src=x], svg[onload], li script").length')" \
		'"undefined 1 0"' "  no script of them ran, no element of them was made"
	url=$(cdp eval "/^url\\(\"(.*)\"\\)\$/.exec($row.querySelector(\".thumb\").style.backgroundImage)[1]")
	like "$url" "^\"/art/$cover\\?song=%3Cscript%3E" "  its cover's url(\"...\") holds the name encoded"
	is "$(cdp eval "fetch($url).then(function (r) { return r.status + \" \" + r.headers.get(\"Content-Type\"); })")" \
		'"200 image/png"' "  and that address is the cover"
	cdp eval "$row.querySelector(\"button.play\").click(), true" >/dev/null
	ok "playing it names it as text under Now playing" \
		page_is 30 "el(\"now\").textContent === \"Now playing: \" + $jt"
	is "$(cdp eval "document.title.indexOf(\"] Now playing: \" + $jn + \" - p2p-music\") > 0")" true \
		"  and by its name in the document's title"
	cdp eval "location.hash = \"#artist/\" + encodeURIComponent($ja), true" >/dev/null
	ok "its artist's page shows the album by its name" \
		page_is 10 "document.querySelector(\".card .title\") !== null && document.querySelector(\".card .title\").textContent === $jb"
	cdp eval 'document.querySelector(".card").click(), true' >/dev/null
	ok "  and the album's page the song" page_is 10 \
		"Array.from(document.querySelectorAll(\"li.song .name\")).some(function (e) { return e.textContent === $jt; })"
	is "$(cdp eval 'typeof window.pwned + " " + document.scripts.length')" '"undefined 1"' \
		"  still with no script of the song's text run"
	browser_stop
fi

ok "the gateway stops on SIGTERM with status 0" stop_daemon G
ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer reports" check_sanitizers
done_testing

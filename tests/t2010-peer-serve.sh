#!/usr/bin/env bash
# The peer segments each kind of MP3 into a valid HLS VOD playlist and
# serves it and its segments, byte for byte, over one connection; files it
# cannot use are skipped with a log line naming them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"
# a tracker address that refuses connections
DEAD=$(refused_addr)

lib=$SCRATCH/library
mkdir -p "$lib" "$SCRATCH/other"
cache=$SCRATCH/cache
name_utf8="Café del Mar ñandú"

make_mp3 "$lib/plain.mp3" 9 440 -b:a 128k || exit 1
make_tone_with_cover "$lib/with cover.mp3" 7 || exit 1
make_mp3 "$lib/vbr.mp3" 10 440 -q:a 5 || exit 1
make_mp3 "$lib/mono8k.mp3" 6 440 -ar 8000 -ac 1 -b:a 32k || exit 1
make_mp3 "$lib/short.mp3" 2 440 || exit 1
make_mp3 "$lib/$name_utf8.mp3" 5 440 || exit 1
make_mp3 "$SCRATCH/other/elsewhere.mp3" 5 440 || exit 1
printf 'this is not audio at all\n' >"$lib/not audio.mp3"
: >"$lib/empty.mp3"
ln -s "$SCRATCH/nowhere.mp3" "$lib/ghost.mp3"
good="plain|with cover|vbr|mono8k|short|$name_utf8|Given Name"

start_daemon P peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$lib" \
	"Given Name=$SCRATCH/other/elsewhere.mp3" || exit 1
ok "the ready line is one 'listening on' line with a real port" \
	test "$(grep -c '^listening on 127\.0\.0\.1:[1-9][0-9]*$' "$SCRATCH/P.out")" = 1

IFS='|' read -r -a songs <<<"$good"
for s in "${songs[@]}"; do
	ok "'$s' becomes ready" wait_for_served "$P_ADDR" "$s" 60
done
ok "the non-audio file is refused with a log line naming it" \
	wait_for_log P "refusing .*not audio\.mp3: not audio: .+" 30
ok "the zero-byte file is refused with a log line naming it" \
	wait_for_log P "refusing .*empty\.mp3: not audio: .+" 30
is "$(grep -c 'not audio\.mp3' "$SCRATCH/P.err")" 1 "one log line for the non-audio file"
is "$(request "$P_ADDR" "REQUEST_SONG not%20audio")" "ERR 404 no such song" \
	"a skipped file is not served"
is "$(request "$P_ADDR" "REQUEST_SONG empty")" "ERR 404 no such song" \
	"a zero-byte file is not served"
is "$(grep -c 'ghost\.mp3' "$SCRATCH/P.err")" 1 "a dangling link in the library gets one log line"
ok "which names it and says why" \
	grep -q "skipping $lib/ghost\.mp3: No such file or directory$" "$SCRATCH/P.err"
is "$(request "$P_ADDR" "REQUEST_SONG ghost")" "ERR 404 no such song" \
	"the dangling link is not served, the other songs are"

src_of() {
	case "$1" in
	"Given Name") echo "$SCRATCH/other/elsewhere.mp3" ;;
	*) echo "$lib/$1.mp3" ;;
	esac
}

i=0
for s in "${songs[@]}"; do
	i=$((i + 1))
	d=$SCRATCH/fetched/$i
	ok "'$s': playlist and all segments fetched over one connection" \
		fetch_song "$P_ADDR" "$s" "$d"
	is "$(head -n 1 "$d/headers" | cut -d' ' -f1,2)" "PLAYLIST $(encode_name "$s").m3u8" \
		"'$s': the reply names the song, encoded"
	is "$(head -n 1 "$d/headers" | cut -d' ' -f3)" "$(wc -c <"$d/index.m3u8" | tr -d ' ')" \
		"'$s': the announced playlist length is its length"
	ok "'$s': the playlist is an HLS VOD playlist" playlist_is_vod "$d/index.m3u8"
	ok "'$s': each segment is named by the SHA-256 of its bytes" \
		segments_named_by_hash "$d"
	ok "'$s': the playlist is in the canonical form" playlist_is_canonical "$d/index.m3u8"
	ok "'$s': segments are byte-identical to the cache" segments_match_cache "$d" "$cache"
	want=$(duration_of "$(src_of "$s")")
	got=$(duration_of "$d/index.m3u8")
	ok "'$s': ffprobe reads ${got}s from the served playlist, source ${want}s" \
		close_to "$got" "$want" 0.5
	streams=$(ffprobe -v error -show_entries stream=index,codec_type -of csv=p=0 \
		"$d/$(grep -v '^#' "$d/index.m3u8" | head -n 1)" | grep . | sort -u | tr '\n' ' ')
	is "$streams" "0,audio " "'$s': a segment holds one audio stream only"
done

is "$(grep -vc '^#' "$SCRATCH/fetched/5/index.m3u8")" 1 "a song shorter than one segment has one segment"
ok "the song with cover art is not shorter than its audio" \
	test "$(grep -vc '^#' "$SCRATCH/fetched/2/index.m3u8")" -ge 2
# the same cover file, copied: both names share one set of segments
first_seg=$(grep -v '^#' "$SCRATCH/fetched/1/index.m3u8" | head -n 1)
last_seg=$(grep -v '^#' "$SCRATCH/fetched/1/index.m3u8" | tail -n 1)
other_seg=$(grep -v '^#' "$SCRATCH/fetched/3/index.m3u8" | head -n 1)
ok "different songs have different segment names" test "$first_seg" != "$other_seg"

plain_key=$(key_of "$lib/plain.mp3")
# requests that must not reach a file
for t in "../../etc/passwd" "/etc/passwd" "%2e%2e%2f%2e%2e%2fetc%2fpasswd" \
	"..%2F..%2Findex.m3u8" "index.m3u8" "songs/$plain_key/$first_seg" \
	"$plain_key/$first_seg" "./$first_seg" "$first_seg/" "${first_seg%.ts}" \
	"$(printf '%s' "${first_seg%.ts}" | tr a-f A-F).ts" \
	"../$first_seg" "..%2F$first_seg" "%2F$first_seg" ; do
	is "$(request "$P_ADDR" "REQUEST_SEGMENT $t")" "ERR 404 no such segment" \
		"REQUEST_SEGMENT $t is 404"
	is "$(request "$P_ADDR" "REQUEST_SONG $t")" "ERR 404 no such song" \
		"REQUEST_SONG $t is 404"
done
is "$(request "$P_ADDR" "REQUEST_SONG Nobody%20Has%20This")" "ERR 404 no such song" \
	"an unknown song is 404"
is "$(request "$P_ADDR" "REQUEST_SONG plain.mp3")" "ERR 404 no such song" \
	"the file name is not a song name"
is "$(request "$P_ADDR" "REQUEST_SEGMENT x$last_seg")" "ERR 404 no such segment" \
	"an unknown segment is 404"

is "$(request "$P_ADDR" PING)" "PONG" "PING answers PONG"
for cmd in "QUERY plain" "LIST" "STATS" "UNREGISTER 127.0.0.1:9"; do
	is "$(request "$P_ADDR" "$cmd")" "ERR 400 unknown command" "$cmd is not a peer command"
done
is "$(request "$P_ADDR" "REGISTER 127.0.0.1:9" "plain /x" "PING" "" "PING")" \
	"$(printf 'ERR 400 unknown command\nPONG')" \
	"REGISTER is not a peer command, and its body is not taken for requests"
is "$(request "$P_ADDR" "REQUEST_SONG" "PING")" "$(printf 'ERR 400 missing name\nPONG')" \
	"a malformed request is 400 and the connection goes on"

# one connection, two requests: the reply lengths frame the bodies exactly
out=$(printf 'REQUEST_SEGMENT %s\nPING\nQUIT\n' "$last_seg" | talk "$P_ADDR" | tail -c 5)
is "$out" "PONG" "after a segment body the next reply follows at once"

# a segment file that went missing from the cache is an internal error
seg_file=$(find "$cache/songs" -name "$last_seg")
mv "$seg_file" "$SCRATCH/moved.ts"
is "$(request "$P_ADDR" "REQUEST_SEGMENT $last_seg" PING)" "$(printf 'ERR 500 cannot read segment\nPONG')" \
	"a segment file that cannot be opened is ERR 500, and the connection goes on"
ok "and is logged" grep -q "cannot open segment $last_seg" "$SCRATCH/P.err"
# something that is not a regular file in its place must not hang the peer
mkfifo "$seg_file"
is "$(request "$P_ADDR" "REQUEST_SEGMENT $last_seg" PING)" "$(printf 'ERR 500 cannot read segment\nPONG')" \
	"a FIFO in place of a segment file is ERR 500 at once"
is "$(request "$P_ADDR" "REQUEST_SONG plain" | head -n 1 | cut -d' ' -f1)" PLAYLIST \
	"and other requests are still answered"
rm -f "$seg_file"
mv "$SCRATCH/moved.ts" "$seg_file"

ok "the peer exits 0 on SIGTERM" stop_daemon P
ok "no sanitizer reports" check_sanitizers
done_testing

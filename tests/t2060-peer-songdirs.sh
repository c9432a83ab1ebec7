#!/usr/bin/env bash
# Song directories (index.m3u8, its <sha256>.ts segments, song.name) in an
# -L directory are shared in place: checked whole before they are served
# and registered with their content id, served byte for byte as they are,
# refused with one log line naming them when a segment is missing or
# altered or the playlist is wrong, and picked up, dropped or refused while
# the peer runs, within one renewal period, with no restart or signal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"

music=$SCRATCH/music
mkdir -p "$music"
make_mp3 "$SCRATCH/blue.mp3" 9 440 || exit 1
make_mp3 "$SCRATCH/red.mp3" 6 550 || exit 1
make_mp3 "$SCRATCH/green.mp3" 5 660 || exit 1

# make_songdir ADDR SONG DIR : DIR becomes a song directory of SONG as the
# peer at ADDR serves it (in a temporary beside it, renamed into place)
make_songdir() {
	local tmp=$SCRATCH/.part
	rm -rf "$tmp"
	fetch_song "$1" "$2" "$tmp" || return 1
	rm -f "$tmp/headers"
	printf '%s\n' "$2" >"$tmp/song.name"
	mv "$tmp" "$3"
}
# query_has ADDR NAME PEER : the tracker names PEER for NAME
query_has() {
	request "$1" "QUERY $(encode_name "$2")" | tr ' ' '\n' | grep -qx "$3"
}
not() { ! "$@"; }
# served ADDR NAME : the peer at ADDR serves NAME now
served() {
	case "$(request "$1" "REQUEST_SONG $(encode_name "$2")" | head -n 1)" in
	PLAYLIST*) return 0 ;;
	esac
	return 1
}
# flip_byte FILE OFFSET : inverts every bit of one byte of FILE, in place
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	# shellcheck disable=SC2059 # the format is the octal escape of one byte
	printf "\\$(printf '%03o' $((255 - b)))" |
		dd of="$1" bs=1 seek="$2" count=1 conv=notrunc status=none
}

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon S peer -l 127.0.0.1:0 -t "$T_ADDR" --renew 1 -c "$SCRATCH/cache-s" \
	"Blue Monday=$SCRATCH/blue.mp3" "Red=$SCRATCH/red.mp3" "Green=$SCRATCH/green.mp3" || exit 1
for s in "Blue Monday" Red Green; do
	ok "the source peer serves '$s'" wait_for_served "$S_ADDR" "$s" 60
done
make_songdir "$S_ADDR" "Blue Monday" "$music/Blue Monday" || exit 1
make_songdir "$S_ADDR" Red "$music/red-dir" || exit 1
make_songdir "$S_ADDR" Green "$music/green-dir" || exit 1
fetch_song "$S_ADDR" "Blue Monday" "$SCRATCH/blue-src" || exit 1
cid=$(content_id_of "$music/Blue Monday/index.m3u8")
: >"$music/Blue Monday/cover.jpg"

# altered copies: a byte flipped in a segment, a segment missing, a
# playlist that is not canonical
for bad in flipped missing playlist; do
	cp -r "$music/red-dir" "$music/$bad"
	printf 'Red %s\n' "$bad" >"$music/$bad/song.name"
done
seg=$(segments_of "$music/flipped" | head -n 1)
flip_byte "$music/flipped/$seg" 100
rm -f "$music/missing/$(segments_of "$music/missing" | tail -n 1)"
sed -i 's/^#EXT-X-TARGETDURATION:.*/#EXT-X-TARGETDURATION:9/' "$music/playlist/index.m3u8"

start_daemon L peer -l 127.0.0.1:0 -t "$T_ADDR" --renew 1 -c "$SCRATCH/cache-l" \
	-L "$music" || exit 1
ok "the song directory is served under the name song.name gives" \
	wait_for_served "$L_ADDR" "Blue Monday" 30
fetch_song "$L_ADDR" "Blue Monday" "$SCRATCH/blue-l" || exit 1
ok "its playlist is served byte for byte as it is on disk" \
	cmp -s "$music/Blue Monday/index.m3u8" "$SCRATCH/blue-l/index.m3u8"
ok "and is the source peer's" cmp -s "$SCRATCH/blue-src/index.m3u8" "$SCRATCH/blue-l/index.m3u8"
ok "its segments are the files of the directory, byte for byte" \
	segments_match_cache "$SCRATCH/blue-l" "$music/Blue Monday"
ok "the tracker lists the listener's peer for it" \
	wait_until 10 query_has "$T_ADDR" "Blue Monday" "$L_ADDR"
ok "it is logged ready with its content id" \
	grep -q "ready: 'Blue Monday' (content id $cid, song directory $music/Blue Monday)" "$SCRATCH/L.err"
ok "nothing was segmented or copied into the cache" \
	test -z "$(find "$SCRATCH/cache-l/songs" -mindepth 1)"
first=$(request "$T_ADDR" "LOCATE Blue%20Monday" | head -n 1)
if [ "$first" = "ERR 400 unknown command" ]; then
	skip_test "the tracker has it under its content id" "tracker of version 1"
else
	ok "the tracker has it under its content id" \
		wait_until 10 eval "request '$T_ADDR' 'LOCATE Blue%20Monday' | grep -qx '$cid $L_ADDR'"
fi
ok "the other song directory is served too" wait_for_served "$L_ADDR" Red 30

for bad in flipped missing playlist; do
	ok "the song directory '$bad' is refused with a log line naming it" \
		wait_for_log L "refusing song directory $music/$bad: " 30
	is "$(request "$L_ADDR" "REQUEST_SONG Red%20$bad")" "ERR 404 no such song" \
		"'$bad' is not served"
done
ok "the flipped segment is named" grep -q "refusing song directory $music/flipped: .*$seg" "$SCRATCH/L.err"
sleep 2.5
for bad in flipped missing playlist; do
	is "$(grep -c "refusing song directory $music/$bad:" "$SCRATCH/L.err")" 1 \
		"'$bad' gets one log line, not one per rescan"
done
ok "rescans of an unchanged song directory do not announce it again" \
	test "$(grep -c "ready: 'Blue Monday'" "$SCRATCH/L.err")" = 1

# while the peer runs: a new song directory, one removed, one altered
t0=$(date +%s%N)
mv "$music/green-dir" "$music/Green"
ok "a song directory that appears is served with no restart or signal" \
	wait_for_served "$L_ADDR" Green 5
ok "and registered within one renewal period" \
	wait_until 3 query_has "$T_ADDR" Green "$L_ADDR"
diag "registered after $(( ($(date +%s%N) - t0) / 1000000 )) ms (--renew 1)"
rm -rf "$music/Blue Monday"
ok "a song directory removed is no longer served" \
	wait_until 5 not served "$L_ADDR" "Blue Monday"
ok "nor registered" wait_until 5 not query_has "$T_ADDR" "Blue Monday" "$L_ADDR"
seg=$(segments_of "$music/red-dir" | tail -n 1)
flip_byte "$music/red-dir/$seg" 50
ok "a song directory altered while served is dropped" \
	wait_until 5 not served "$L_ADDR" Red
ok "with a log line naming it" grep -q "refusing song directory $music/red-dir: .*$seg" "$SCRATCH/L.err"
ok "and from the tracker" wait_until 5 not query_has "$T_ADDR" Red "$L_ADDR"
is "$(request "$L_ADDR" "REQUEST_SEGMENT $seg")" "ERR 404 no such segment" \
	"its segments are no longer served"
cp "$SCRATCH/cache-s/songs/$(key_of "$SCRATCH/red.mp3")/$seg" "$music/red-dir/$seg"
ok "once mended it is served again" wait_for_served "$L_ADDR" Red 5

ok "the listener's peer exits 0 on SIGTERM" stop_daemon L
ok "the source peer exits 0 on SIGTERM" stop_daemon S
ok "the tracker exits 0 on SIGTERM" stop_daemon T
ok "no sanitizer reports" check_sanitizers
done_testing

#!/usr/bin/env bash
# Content addressing: segments are named by the SHA-256 of their bytes, the
# playlist is the canonical one and its SHA-256 is the song's content id,
# the same on two peers with separate caches and across restarts; a very
# short song still has #EXT-X-TARGETDURATION 1; a cache of the old layout
# (<key>-<n>.ts) is converted at start without ffmpeg and nothing is served
# under the old names.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"

make_mp3 "$SCRATCH/song.mp3" 9 440 || exit 1
make_mp3 "$SCRATCH/tiny.mp3" 0.3 440 || exit 1
make_mp3 "$SCRATCH/other.mp3" 5 550 || exit 1
key=$(key_of "$SCRATCH/song.mp3")
okey=$(key_of "$SCRATCH/other.mp3")
# logged_id NAME SONG : the content id the peer NAME logged SONG ready with
logged_id() {
	sed -n "s/.*ready: '$2' (content id \([0-9a-f]*\))$/\1/p" "$SCRATCH/$1.err" | tail -n 1
}

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon A peer -l 127.0.0.1:0 -t "$T_ADDR" --renew 1 -c "$SCRATCH/cache-a" \
	"Song=$SCRATCH/song.mp3" "Tiny=$SCRATCH/tiny.mp3" || exit 1
start_daemon B peer -l 127.0.0.1:0 -t "$T_ADDR" --renew 1 -c "$SCRATCH/cache-b" \
	"Song=$SCRATCH/song.mp3" || exit 1
ok "peer A serves the song" wait_for_served "$A_ADDR" Song 60
ok "peer B serves the song" wait_for_served "$B_ADDR" Song 60
ok "peer A serves the very short song" wait_for_served "$A_ADDR" Tiny 60
fetch_song "$A_ADDR" Song "$SCRATCH/a" || exit 1
fetch_song "$B_ADDR" Song "$SCRATCH/b" || exit 1
fetch_song "$A_ADDR" Tiny "$SCRATCH/tiny" || exit 1
ok "the playlist is canonical" playlist_is_canonical "$SCRATCH/a/index.m3u8"
ok "every segment is named by the SHA-256 of its bytes" segments_named_by_hash "$SCRATCH/a"
cid=$(content_id_of "$SCRATCH/a/index.m3u8")
ok "two peers with separate caches serve the same playlist, byte for byte" \
	cmp -s "$SCRATCH/a/index.m3u8" "$SCRATCH/b/index.m3u8"
is "$(logged_id A Song)" "$cid" "peer A's content id is the SHA-256 of the playlist it serves"
is "$(logged_id B Song)" "$cid" "peer B has the same content id"
ok "the segments of the two peers are the same bytes" \
	segments_match_cache "$SCRATCH/a" "$SCRATCH/cache-b"
is "$(grep '^#EXT-X-TARGETDURATION:' "$SCRATCH/tiny/index.m3u8")" "#EXT-X-TARGETDURATION:1" \
	"a song under half a second has #EXT-X-TARGETDURATION:1"
ok "and a canonical playlist" playlist_is_canonical "$SCRATCH/tiny/index.m3u8"
ok "which ffprobe reads" test -n "$(duration_of "$SCRATCH/tiny/index.m3u8")"

# what the tracker was told: LOCATE where the tracker speaks version 2
first=$(request "$T_ADDR" "LOCATE Song" | head -n 1)
if [ "$first" = "ERR 400 unknown command" ]; then
	skip_test "the tracker lists both peers under the content id" "tracker of version 1"
else
	for _ in $(seq 1 50); do
		[ "$(request "$T_ADDR" "LOCATE Song" | head -n 1)" = "SOURCES 2" ] && break
		sleep 0.1
	done
	is "$(request "$T_ADDR" "LOCATE Song" | sed 1d | sort)" \
		"$(printf '%s %s\n' "$cid" "$A_ADDR" "$cid" "$B_ADDR" | sort)" \
		"the tracker lists both peers under the content id"
fi
ok "peer A exits 0 on SIGTERM" stop_daemon A
ok "peer B exits 0 on SIGTERM" stop_daemon B

start_daemon A peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache-a" \
	"Song=$SCRATCH/song.mp3" || exit 1
ok "after a restart peer A serves the song" wait_for_served "$A_ADDR" Song 30
fetch_song "$A_ADDR" Song "$SCRATCH/a2" || exit 1
ok "the same playlist after a restart" cmp -s "$SCRATCH/a/index.m3u8" "$SCRATCH/a2/index.m3u8"
ok "from the cache" grep -q "'Song': reused from cache" "$SCRATCH/A.err"
ok "peer A exits 0 on SIGTERM" stop_daemon A
ok "the cache records its layout" grep -qx 'p2pm-cache-layout 2' "$SCRATCH/cache-a/layout"

# a cache of the old layout, made as the peer made it: ffmpeg's playlist
# and <key>-<n>.ts segments in songs/<key>; other's has a segment missing
old=$SCRATCH/cache-old
for k in "$key:song" "$okey:other"; do
	mkdir -p "$old/songs/${k%%:*}"
	ffmpeg -nostdin -hide_banner -loglevel error -y -i "file:$SCRATCH/${k#*:}.mp3" \
		-map 0:a:0 -c:a copy -f hls -hls_time 4 -hls_list_size 0 \
		-hls_playlist_type vod -hls_segment_filename "$old/songs/${k%%:*}/${k%%:*}-%d.ts" \
		"$old/songs/${k%%:*}/index.m3u8" || exit 1
done
mkdir -p "$old/files"
rm -f "$old/songs/$okey/$okey-1.ts"
ok "the old cache names segments <key>-<n>.ts" test -f "$old/songs/$key/$key-0.ts"
start_daemon O peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$old" "Song=$SCRATCH/song.mp3" \
	"Other=$SCRATCH/other.mp3" || exit 1
ok "the old cache's song is served" wait_for_served "$O_ADDR" Song 30
ok "the old cache's broken song is served" wait_for_served "$O_ADDR" Other 60
ok "the conversion is logged" \
	grep -q 'cache: layout 1 -> 2: 1 song(s) renamed to content addresses, 1 dropped' "$SCRATCH/O.err"
ok "the converted song is reused, not segmented again" \
	grep -q "'Song': reused from cache" "$SCRATCH/O.err"
ok "the broken one is segmented again" grep -q "segmenting 'Other'" "$SCRATCH/O.err"
is "$(grep -c "segmenting 'Song'" "$SCRATCH/O.err")" 0 "ffmpeg does not run for the converted song"
fetch_song "$O_ADDR" Song "$SCRATCH/o" || exit 1
ok "the converted song's playlist is the one the other peers serve" \
	cmp -s "$SCRATCH/a/index.m3u8" "$SCRATCH/o/index.m3u8"
ok "and its segments the same bytes" segments_match_cache "$SCRATCH/o" "$SCRATCH/cache-a"
is "$(request "$O_ADDR" "REQUEST_SEGMENT $key-0.ts")" "ERR 404 no such segment" \
	"nothing is served under an old name"
is "$(find "$old/songs" -name '*-[0-9]*.ts' | wc -l | tr -d ' ')" 0 "no file keeps an old name"
ok "the cache now records layout 2" grep -qx 'p2pm-cache-layout 2' "$old/layout"
ok "the peer exits 0 on SIGTERM" stop_daemon O

# a cache of a layout this peer does not know is not touched
printf 'p2pm-cache-layout 99\n' >"$SCRATCH/cache-b/layout"
"$P2PM_BIN/peer" -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache-b" \
	"Song=$SCRATCH/song.mp3" >"$SCRATCH/new.out" 2>"$SCRATCH/new.err"
is "$?" 1 "a cache of a newer layout: the peer exits 1"
ok "naming it" grep -q "cache-b: it has layout 99, made by a newer peer" "$SCRATCH/new.err"

ok "the tracker exits 0 on SIGTERM" stop_daemon T
ok "no sanitizer reports" check_sanitizers
done_testing

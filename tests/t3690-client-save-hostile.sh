#!/usr/bin/env bash
# client save (and cat, play, fetch) of a song whose segments are not
# MPEG-TS: the bytes hash to their names, so a peer can share them, but an
# HLS playlist, a concat list or a raw MP3 in a segment would let a
# guessing ffprobe, ffmpeg or player open what it names. The song is
# refused (exit 1, one error naming it and why) before any program sees
# it, nothing is written under the target name,
# and a normal save still runs both with the format and protocol forced.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg

lib=$SCRATCH/lib work=$SCRATCH/work
mkdir -p "$lib" "$work" "$SCRATCH/bytes"

# spies on ffprobe and ffmpeg: each call's arguments, one line, then the
# real program
for prog in ffprobe ffmpeg; do
	real=$(command -v "$prog") || exit 1
	scratch_program "$prog" <<EOF || exit 1
#!/bin/sh
printf '%s\n' "\$*" >>"$SCRATCH/$prog.calls"
exec "$real" "\$@"
EOF
done
# calls PROG : how many times PROG ran since forget_calls
calls() {
	if [ -f "$SCRATCH/$1.calls" ]; then wc -l <"$SCRATCH/$1.calls"; else echo 0; fi
}
forget_calls() {
	rm -f "$SCRATCH/ffprobe.calls" "$SCRATCH/ffmpeg.calls"
}

# pad_to_packets FILE : FILE grows with LFs to a whole number of 188-byte
# packets, which is all a peer checks of a segment's size
pad_to_packets() {
	local size
	size=$(stat -c %s "$1")
	while [ $((size % 188)) -ne 0 ]; do
		printf '\n' >>"$1"
		size=$((size + 1))
	done
}

# hostile_songdir OUT NAME INDEX FILE : a song directory of NAME (a 3 s
# tone cut into MPEG-TS segments of about 1 s by ffmpeg) whose segment
# INDEX (from 0) is FILE's bytes instead, named by their SHA-256 like the
# others, with the canonical playlist
hostile_songdir() {
	local out=$1 name=$2 index=$3 file=$4 hls
	hls=$(mktemp -d "$SCRATCH/hls.XXXXXX") || return 1
	make_mp3 "$hls/src.mp3" 3 330 -ac 2 -b:a 128k &&
	ffmpeg -nostdin -hide_banner -loglevel error -y -i "$hls/src.mp3" -c copy \
		-f hls -hls_time 1 -hls_playlist_type vod \
		-hls_segment_filename "$hls/seg%d.ts" "$hls/index.m3u8" &&
	cp "$file" "$hls/seg$index.ts" &&
	"$P2PM_TOOLS/mksongdir" "$hls" "$name" "$out" && rm -rf "$hls"
}

# what a guessing demuxer would follow: an HLS playlist and a concat list
# naming a local file, and a raw MP3
printf 'secret\n' >"$SCRATCH/secret.txt"
printf '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nfile:%s\n#EXT-X-ENDLIST\n' \
	"$SCRATCH/secret.txt" >"$SCRATCH/bytes/hls"
printf "ffconcat version 1.0\nfile '%s'\n" "$SCRATCH/secret.txt" >"$SCRATCH/bytes/concat"
make_mp3 "$SCRATCH/bytes/raw.mp3" 1 440 || exit 1
head -c $(( $(stat -c %s "$SCRATCH/bytes/raw.mp3") / 188 * 188 )) \
	"$SCRATCH/bytes/raw.mp3" >"$SCRATCH/bytes/mp3"
# one real packet, then the playlist: the sync byte at offset 0 only
make_songdir "$SCRATCH/real" Real 2 550 || exit 1
first=$(segments_of "$SCRATCH/real" | head -n 1)
{ head -c 188 "$SCRATCH/real/$first"; cat "$SCRATCH/bytes/hls"; } >"$SCRATCH/bytes/late"
for kind in hls concat late; do
	pad_to_packets "$SCRATCH/bytes/$kind"
done

make_songdir "$lib/good" "Good Tune" 3 440 || exit 1
for kind in hls concat mp3 late; do
	hostile_songdir "$lib/$kind" "Bad $kind" 0 "$SCRATCH/bytes/$kind" || exit 1
done
# a song whose second segment is the playlist: ffmpeg has started by then
hostile_songdir "$lib/second" "Bad second" 1 "$SCRATCH/bytes/hls" || exit 1

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" || exit 1
export P2P_MUSIC_TRACKER=$T_ADDR
for s in "Good Tune" "Bad hls" "Bad concat" "Bad mp3" "Bad late" "Bad second"; do
	wait_for_registered "$T_ADDR" "$s" 1 || exit 1
done

# a normal save still works, both programs told what they read
forget_calls
(cd "$work" && client -q save "Good Tune")
is "$?" 0 "save of a song of MPEG-TS segments exits 0"
ok "  and writes the file" test -f "$work/Good Tune.mp3"
like "$(head -n 1 "$SCRATCH/ffprobe.calls")" \
	"-protocol_whitelist pipe -f mpegts -i pipe:0$" \
	"  ffprobe reads the first segment as MPEG-TS, from the pipe alone"
like "$(cat "$SCRATCH/ffmpeg.calls")" \
	"-protocol_whitelist pipe -f mpegts -i pipe:0 .*-protocol_whitelist file -f mp3 -y file:" \
	"  ffmpeg reads MPEG-TS from the pipe alone and writes a file alone"
like "$(tail -n 1 "$SCRATCH/ffprobe.calls")" \
	"-protocol_whitelist file -f mp3 -i file:" \
	"  the file is read back as MP3, from a file alone"

# a song whose first segment is not MPEG-TS
for kind in hls concat mp3 late; do
	forget_calls
	(cd "$work" && client save "Bad $kind") >"$SCRATCH/out" 2>"$SCRATCH/err"
	is "$?" 1 "save of a song whose first segment is $kind exits 1"
	n=$(segments_of "$lib/$kind" | wc -l)
	like "$(cat "$SCRATCH/err")" \
		"^client: error: 'Bad $kind' is not an MPEG-TS stream \(segment 1/$n: .*\); refused$" \
		"  with one error naming the song and why"
	is "$(wc -l <"$SCRATCH/err")" 1 "  and nothing else on stderr"
	is "$(calls ffprobe) $(calls ffmpeg)" "0 0" "  before ffprobe or ffmpeg runs"
	is "$(find "$work" -name "Bad $kind*" -o -name ".Bad $kind*" | wc -l)" 0 \
		"  writing nothing"
	is "$(cat "$SCRATCH/out")" "" "  and printing nothing on stdout"
done
like "$(cat "$SCRATCH/err")" "byte 0x[0-9a-f]{2} at offset 188 where a packet's sync byte 0x47 belongs" \
	"the reason names the first packet without its sync byte"

# cat, play and fetch refuse such a song the same way, before any byte
# of it reaches their output
for kind in hls late; do
	client cat "Bad $kind" >"$SCRATCH/out" 2>"$SCRATCH/err"
	is "$?" 1 "cat of a song whose first segment is $kind exits 1"
	like "$(cat "$SCRATCH/err")" \
		"^client: error: 'Bad $kind' is not an MPEG-TS stream \(segment 1/" \
		"  with the same one error"
	is "$(wc -c <"$SCRATCH/out")" 0 "  writing not one byte to stdout"
	(cd "$work" && client fetch "Bad $kind") >/dev/null 2>"$SCRATCH/err"
	is "$?" 1 "fetch of it exits 1"
	is "$(find "$work" -name "*Bad*" | wc -l)" 0 "  leaving no directory"
done
client play --player "cat" "Bad hls" >"$SCRATCH/out" 2>"$SCRATCH/err"
is "$?" 1 "play of it exits 1"
is "$(wc -c <"$SCRATCH/out")" 0 "  the player got not one byte"

# a file already under the target name is left as it was
printf 'kept\n' >"$work/keep.mp3"
(cd "$work" && client -q save -o keep.mp3 "Bad hls" 2>/dev/null)
is "$?" 1 "save -o FILE of such a song exits 1"
is "$(cat "$work/keep.mp3")" kept "  leaving the file already named FILE as it was"

# a later segment that is not MPEG-TS: ffmpeg stops, nothing is left
forget_calls
(cd "$work" && client save "Bad second") 2>"$SCRATCH/err"
is "$?" 1 "save of a song whose second segment is not MPEG-TS exits 1"
like "$(cat "$SCRATCH/err")" \
	"'Bad second' is not an MPEG-TS stream \(segment 2/$(segments_of "$lib/second" | wc -l): " \
	"  naming the song and the segment"
is "$(calls ffprobe)" 1 "  with only the first segment probed"
is "$(find "$work" -name '*second*' | wc -l)" 0 "  leaving no file, temporary or final"

ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer report" check_sanitizers
done_testing

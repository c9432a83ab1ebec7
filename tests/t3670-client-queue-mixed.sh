#!/usr/bin/env bash
# A queue whose codec changes: an album of two MP3 songs and a FLAC one
# (which the peer serves as AAC). The stream keeps the first song's codec
# from start to end, the other song re-encoded into it, so that ffprobe
# decodes it whole and ffplay and mpv play every song to its end; the other
# way round (AAC first) too, and a song that cannot be re-encoded (no
# ffmpeg) dropped with a message while the rest plays.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg

mkdir -p "$SCRATCH/lib"
album=(-metadata "album=Mixed Album" -metadata "artist=Tester")
make_mp3 "$SCRATCH/lib/One.mp3" 3 440 -ac 2 -b:a 128k "${album[@]}" -metadata track=1/3 || exit 1
make_mp3 "$SCRATCH/lib/Two.mp3" 2 660 -ac 2 -b:a 128k "${album[@]}" -metadata track=2/3 || exit 1
ffmpeg -nostdin -hide_banner -loglevel error -y \
	-f lavfi -i "sine=frequency=550:sample_rate=44100:duration=4" -ac 2 \
	"${album[@]}" -metadata track=3/3 "$SCRATCH/lib/Three.flac" || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
for s in One Two Three; do
	wait_for_registered "$T_ADDR" "$s" 1 || exit 1
done

# audio_secs FILE : the seconds of audio in FILE, the sum of its packets'
audio_secs() {
	ffprobe -v error -select_streams a -show_entries packet=duration_time \
		-of csv=p=0 "$1" | awk '{ s += $1 } END { printf "%.3f", s }'
}
# codecs FILE : the codec of each stream ffprobe finds in FILE
codecs() {
	ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$1" | grep -v "^$" | sort -u | tr '\n' ' '
}
# timeline_breaks FILE : audio packets that do not begin (within 2 ms)
# where the one before ended
timeline_breaks() {
	ffprobe -v error -select_streams a -show_entries packet=pts_time,duration_time \
		-of compact=p=0:nk=1 "$1" | grep -v '^$' |
		awk -F'|' 'NR > 1 && ($1 < end - 0.002 || $1 > end + 0.002) { n++ }
			{ end = $1 + $2 } END { print n + 0 }'
}

for s in One Two Three; do
	client -q -t "$T_ADDR" cat "$s" >"$SCRATCH/$s.ts" || exit 1
done
is "$(codecs "$SCRATCH/One.ts")$(codecs "$SCRATCH/Three.ts")" "mp3 aac " \
	"the peer serves the MP3 songs as MP3 and the FLAC one as AAC"
sum=$(awk -v a="$(audio_secs "$SCRATCH/One.ts")" -v b="$(audio_secs "$SCRATCH/Two.ts")" \
	-v c="$(audio_secs "$SCRATCH/Three.ts")" 'BEGIN { printf "%.3f", a + b + c }')

# 1. cat --album: one MP3 stream holding all three songs
client -v -t "$T_ADDR" cat --album "Mixed Album" >"$SCRATCH/album.ts" 2>"$SCRATCH/album.err"
is "$?" 0 "cat --album of MP3, MP3 and AAC songs exits 0"
like "$(cat "$SCRATCH/album.err")" "'Three' is AAC, the stream MP3: re-encoding it into MP3, 44100 Hz, 2 channel" \
	"  -v says the AAC song is re-encoded into the stream's MP3"
is "$(codecs "$SCRATCH/album.ts")" "mp3 " "  ffprobe reads one MP3 stream"
got=$(audio_secs "$SCRATCH/album.ts")
ok "  holding the audio of the three songs ($got s for $sum s)" close_to "$got" "$sum" 0.15
is "$(ffmpeg -nostdin -v warning -i "$SCRATCH/album.ts" -f null - 2>&1)" "" \
	"  which ffmpeg decodes to the end without a warning"
is "$(timeline_breaks "$SCRATCH/album.ts")" 0 "  its packets one timeline, no gap nor overlap"
decoded=$(ffmpeg -nostdin -i "$SCRATCH/album.ts" -f null - 2>&1 | tr '\r' '\n' |
	sed -n 's/.*time=\([0-9:.]*\).*/\1/p' | tail -n 1 | awk -F: '{ printf "%.2f", $1 * 3600 + $2 * 60 + $3 }')
ok "  ffmpeg decodes all of it (${decoded:-no} s of $sum s)" close_to "$decoded" "$sum" 0.2
n1=$(wc -c <"$SCRATCH/One.ts")
ok "  the MP3 songs copied as they are served (the first one byte for byte)" \
	cmp -s -n "$n1" "$SCRATCH/One.ts" "$SCRATCH/album.ts"

# 2. the other way round: an AAC stream, the MP3 songs re-encoded into it
client -q -t "$T_ADDR" cat Three One Two >"$SCRATCH/rev.ts"
is "$?" 0 "cat of an AAC song then two MP3 songs exits 0"
is "$(codecs "$SCRATCH/rev.ts")" "aac " "  ffprobe reads one AAC stream"
got=$(audio_secs "$SCRATCH/rev.ts")
ok "  holding the three songs ($got s for $sum s)" close_to "$got" "$sum" 0.2
is "$(ffmpeg -nostdin -v warning -i "$SCRATCH/rev.ts" -f null - 2>&1)" "" \
	"  which ffmpeg decodes without a warning"

# 3. the real players play every song to its end
if command -v ffplay >/dev/null; then
	t0=$(date +%s%N)
	SDL_AUDIODRIVER=dummy timeout 60 "$P2PM_BIN/client" -q -t "$T_ADDR" play --album "Mixed Album" \
		>"$SCRATCH/ffplay.out" 2>"$SCRATCH/ffplay.err"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	is "$rc" 0 "ffplay plays the mixed album and exits 0"
	ok "  for as long as its three songs: $ms ms for $sum s" \
		awk -v ms="$ms" -v s="$sum" 'BEGIN { exit !(ms >= (s - 0.5) * 1000) }'
	is "$(cat "$SCRATCH/ffplay.err")" "" "  with nothing on stderr"
else
	skip_test "ffplay is needed (apt-get install ffmpeg)"
	skip_test "ffplay is needed (apt-get install ffmpeg)"
	skip_test "ffplay is needed (apt-get install ffmpeg)"
fi
if command -v mpv >/dev/null; then
	t0=$(date +%s%N)
	timeout 60 "$P2PM_BIN/client" -q -t "$T_ADDR" play --album "Mixed Album" \
		--player "mpv --no-video --ao=null" >"$SCRATCH/mpv.out" 2>"$SCRATCH/mpv.err"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	is "$rc" 0 "mpv plays the mixed album and exits 0"
	ok "  for as long as its three songs: $ms ms for $sum s" \
		awk -v ms="$ms" -v s="$sum" 'BEGIN { exit !(ms >= (s - 0.5) * 1000) }'
	last=$(cat "$SCRATCH/mpv.out" "$SCRATCH/mpv.err" | tr '\r' '\n' | grep ' / ' | tail -n 1)
	like "$last" "00:00:0[89] / 00:00:0[89]" "  to the end of one stream as long as all three ($last)"
else
	skip_test "mpv is needed (apt-get install mpv)"
	skip_test "mpv is needed (apt-get install mpv)"
	skip_test "mpv is needed (apt-get install mpv)"
fi

# 4. without ffmpeg the song that needs it is dropped, said, and the rest
# goes on
mkdir -p "$SCRATCH/noffmpeg"
PATH=$SCRATCH/noffmpeg "$P2PM_BIN/client" -q -t "$T_ADDR" cat One Three Two \
	>"$SCRATCH/drop.ts" 2>"$SCRATCH/drop.err"
is "$?" 1 "with no ffmpeg in PATH, cat of MP3, AAC, MP3 exits 1"
like "$(cat "$SCRATCH/drop.err")" "cannot put 'Three' \\(AAC\\) into a stream of MP3: re-encoding needs ffmpeg" \
	"  saying which song could not go into the stream and why"
like "$(cat "$SCRATCH/drop.err")" "1 of 3 songs failed" "  and how many failed"
client -q -t "$T_ADDR" cat One Two >"$SCRATCH/onetwo.ts"
ok "  having written the other two as cat of them gives them" \
	cmp -s "$SCRATCH/drop.ts" "$SCRATCH/onetwo.ts"

ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer report" check_sanitizers
done_testing

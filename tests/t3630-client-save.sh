#!/usr/bin/env bash
# client save: a song as one ordinary audio file remuxed without
# re-encoding (.mp3 for MP3, .m4a for AAC), tagged with its title, of the
# source's duration, written under a temporary name and renamed when whole.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg

mkdir -p "$SCRATCH/lib" "$SCRATCH/work"
make_mp3 "$SCRATCH/lib/Tune One.mp3" 5 440 -ac 2 -b:a 128k || exit 1
# an AAC stream: the peer copies whatever audio it finds into the segments
ffmpeg -v error -f lavfi -i sine=frequency=550:duration=5 -ac 2 -c:a aac -b:a 128k \
	-f mp4 "$SCRATCH/lib/Tune Two.mp3" || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
export P2P_MUSIC_TRACKER=$T_ADDR
wait_for_registered "$T_ADDR" "Tune One" 1 && wait_for_registered "$T_ADDR" "Tune Two" 1 || exit 1

# probe FILE ENTRY : one ffprobe value (stream=codec_name, format=duration,
# format_tags=title, ...)
probe() {
	ffprobe -v error -show_entries "$2" -of default=nw=1:nk=1 "$1" | head -n 1
}

out=$(cd "$SCRATCH/work" && client save "Tune One")
is "$?" 0 "save of an MP3 song exits 0"
f="$SCRATCH/work/Tune One.mp3"
ok "  writes NAME.mp3 in the current directory" test -f "$f"
like "$out" "saved 'Tune One' as 'Tune One.mp3'" "  and says where"
is "$(probe "$f" format=format_name)" mp3 "  an MP3 file"
is "$(probe "$f" stream=codec_name)" mp3 "  holding the MP3 stream"
ok "  of the source's duration" close_to "$(probe "$f" format=duration)" \
	"$(duration_of "$SCRATCH/lib/Tune One.mp3")" 0.5
is "$(probe "$f" format_tags=title)" "Tune One" "  tagged with the song's title"
is "$(probe "$f" stream=bit_rate)" "$(probe "$SCRATCH/lib/Tune One.mp3" stream=bit_rate)" \
	"  at the source's bit rate (not re-encoded)"
is "$(find "$SCRATCH/work" -name '*~' | wc -l)" 0 "  with no temporary file left"

client -q save -o "$SCRATCH/work/two.m4a" "Tune Two"
is "$?" 0 "save -o FILE of an AAC song exits 0"
f="$SCRATCH/work/two.m4a"
is "$(probe "$f" stream=codec_name)" aac "  an AAC stream"
like "$(probe "$f" format=format_name)" "mp4" "  in an MP4 (.m4a) container"
ok "  of the source's duration" close_to "$(probe "$f" format=duration)" \
	"$(duration_of "$SCRATCH/lib/Tune Two.mp3")" 0.5
client -q save -o "$SCRATCH/new/dirs/three.mp3" "Tune One"
is "$?" 0 "save -o FILE creates the missing directories above FILE"
is "$(probe "$SCRATCH/new/dirs/three.mp3" stream=codec_name)" mp3 "  and writes the file"
client -q save -o "$SCRATCH/work" "Tune Two"
is "$?" 0 "save -o DIR exits 0"
ok "  and writes DIR/NAME.m4a" test -f "$SCRATCH/work/Tune Two.m4a"

# the bytes come as cat gives them: the saved file's audio packets are
# those of cat's stream, byte for byte
client cat "Tune One" | ffmpeg -v error -f mpegts -i pipe:0 -map 0:a -c copy -f md5 - \
	>"$SCRATCH/cat.md5"
ffmpeg -v error -i "$SCRATCH/work/Tune One.mp3" -map 0:a -c copy -f md5 - >"$SCRATCH/save.md5"
ok "the saved audio is the audio cat streams, byte for byte" \
	cmp -s "$SCRATCH/cat.md5" "$SCRATCH/save.md5"

(cd "$SCRATCH/work" && client save "No Such Song" 2>/dev/null)
is "$?" 1 "save of an unknown song exits 1"
ok "  leaving nothing behind" test ! -e "$SCRATCH/work/No Such Song.mp3"

# an ffmpeg that fails: nothing is left behind
mkdir -p "$SCRATCH/bin2"
printf '#!/bin/sh\nexit 1\n' >"$SCRATCH/bin2/ffmpeg"
chmod +x "$SCRATCH/bin2/ffmpeg"
ln -s "$(command -v ffprobe)" "$SCRATCH/bin2/ffprobe"
(cd "$SCRATCH/work" && PATH="$SCRATCH/bin2:$PATH" client -q save -o broken.mp3 "Tune One") 2>"$SCRATCH/broken.err"
is "$?" 4 "an ffmpeg that fails makes save exit 4"
like "$(cat "$SCRATCH/broken.err")" "ffmpeg" "  naming ffmpeg"
ok "  leaving no file, temporary or final" \
	test -z "$(find "$SCRATCH/work" -name '*broken*')"
client save -o x query 2>/dev/null
is "$?" 1 "save of a song named 'query' is a song like any other (exit 1, unknown)"

ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer report" check_sanitizers
done_testing

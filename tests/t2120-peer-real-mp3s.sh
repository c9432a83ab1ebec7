#!/usr/bin/env bash
# MP3s as they are found in the wild: the peer serves every file ffmpeg
# reads as audio, whatever its first bytes, and refuses the others with
# one log line naming the file and why. ffmpeg tells the format itself,
# among the audio demuxers only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"

lib=$SCRATCH/music
mkdir -p "$lib"
# a 3 s tone, and what was made of it
make_mp3 "$SCRATCH/tone.mp3" 3 440 -b:a 128k -metadata title=Tone || exit 1
size=$(stat -c %s "$SCRATCH/tone.mp3")

# 3 KB of random bytes before the first frame (a damaged tag, a file cut
# out of a stream)
{ head -c 3072 /dev/urandom; cat "$SCRATCH/tone.mp3"; } >"$lib/junk prefix.mp3"
# an ID3v2 tag whose size field says 16 bytes: the rest of the tag is
# junk before the first frame
cp "$SCRATCH/tone.mp3" "$lib/bad id3 size.mp3"
printf '\000\000\000\020' | dd of="$lib/bad id3 size.mp3" bs=1 seek=6 conv=notrunc status=none
# an APEv2 tag at the end (one item, Title, and its footer)
{
	cat "$SCRATCH/tone.mp3"
	printf '\011\000\000\000\000\000\000\000Title\000Ape Title'
	printf 'APETAGEX\320\007\000\000\067\000\000\000\001\000\000\000'
	printf '\000\000\000\000\000\000\000\000\000\000\000\000'
} >"$lib/ape tag.mp3"
# cut in the middle of a frame
head -c $((size - 200)) "$SCRATCH/tone.mp3" >"$lib/cut short.mp3"
# MPEG 2.5: 8 kHz
make_mp3 "$lib/mpeg 2.5.mp3" 3 300 -ar 8000 -b:a 16k || exit 1
# free format: lame in ffmpeg cannot write one, so every frame header of
# a plain CBR file gets bitrate index 0 (the frames stay as long as they
# are); ffmpeg itself does not read such a file
make_mp3 "$SCRATCH/cbr.mp3" 3 500 -b:a 128k -write_xing 0 -id3v2_version 0 || exit 1
perl -e '
	local $/;
	my $d = <STDIN>;
	my @kbps = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320);
	for (my $i = 0; $i + 4 <= length $d;) {
		my ($a, $b, $c) = unpack "CCC", substr($d, $i, 3);
		if ($a == 0xff && ($b & 0xe0) == 0xe0 && ($c >> 4) > 0 && ($c >> 4) < 15) {
			my $len = int(144000 * $kbps[$c >> 4] / 44100) + (($c >> 1) & 1);
			substr($d, $i + 2, 1) = chr($c & 0x0f);
			$i += $len;
		} else {
			$i++;
		}
	}
	print $d;' <"$SCRATCH/cbr.mp3" >"$lib/free format.mp3" || exit 1
# nothing at all
: >"$lib/empty.mp3"
# not audio: a concat list ffmpeg would follow to another file
printf 'ffconcat version 1.0\nfile %s\n' "$SCRATCH/tone.mp3" >"$lib/concat list.mp3"

# the peer's ffmpeg counts its runs, and those that only read out cover art
real_ffmpeg=$(command -v ffmpeg)
scratch_program ffmpeg <<EOF || exit 1
#!/bin/sh
echo run >>"$SCRATCH/ffmpeg.runs"
case " \$* " in
*" -f image2pipe "*) echo art >>"$SCRATCH/ffmpeg.art" ;;
esac
exec "$real_ffmpeg" "\$@"
EOF
: >"$SCRATCH/ffmpeg.art"

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" || exit 1

n=0
for song in "junk prefix|3" "bad id3 size|3" "ape tag|3" "cut short|3" "mpeg 2.5|3"; do
	name=${song%|*}
	want=${song#*|}
	n=$((n + 1))
	ok "'$name' is served" wait_for_served "$P_ADDR" "$name" 60 || continue
	d=$SCRATCH/got$n
	fetch_song "$P_ADDR" "$name" "$d" || { ok "'$name' can be fetched" false; continue; }
	got=$(duration_of "$d/index.m3u8")
	ok "  and plays for its length (${got}s of ${want}s)" close_to "$got" "$want" 0.5
	ok "  as MP3, copied" grep -q "segmented '$name' into .*: mp3 from $lib/$name.mp3, copied" "$SCRATCH/P.err"
done
ok "ffmpeg reads what is before the first frame as junk, not as another format" \
	test "$(grep -c "refusing $lib/junk prefix" "$SCRATCH/P.err")" = 0

# refused: one line each, naming the file and why
refused() {
	local file=$1 why=$2
	ok "$file is refused with a log line saying why" \
		wait_for_log P "$(printf '%s' "$lib/$file" | sed 's/[.[\*^$]/\\&/g'): $why" 30
	is "$(grep -cF "$lib/$file" "$SCRATCH/P.err")" 1 "  the only line naming it"
	is "$(request "$P_ADDR" "REQUEST_SONG $(encode_name "${file%.mp3}")")" "ERR 404 no such song" \
		"  and it is not served"
}
refused "empty.mp3" "not audio: an empty file"
refused "concat list.mp3" "not audio: ffmpeg reads it as concat, not as one of the audio formats"
refused "free format.mp3" "not audio: ffmpeg finds no audio format in it"
ok "the progress line counts the three refused" \
	wait_for_log P "prepared 8/8 songs, 3 refused, 0 left in the queue" 30
is "$(wc -l <"$SCRATCH/ffmpeg.runs" | tr -d ' ')" 7 \
	"ffmpeg ran once per file, probing, segmenting and looking for cover art in one run (none for the empty one)"
is "$(wc -l <"$SCRATCH/ffmpeg.art" | tr -d ' ')" 0 \
	"  and never once more to read out cover art"

ok "the peer stops cleanly" stop_daemon P
ok "no sanitizer reports" check_sanitizers
done_testing

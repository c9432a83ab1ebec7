#!/usr/bin/env bash
# What a song file holds is read with ffprobe, not guessed from its name:
# MP3 and AAC are copied, FLAC, Ogg Vorbis, Opus, WAV and AIFF (a WAV named
# .mp3 too) are encoded to AAC, and a file that is not audio (an HLS
# playlist, text, a picture named .mp3) is refused with one log line. What
# ffprobe read is kept with the file's record: a restart probes nothing.
# A song is named "Artist - Title" when its tags have both, else by its
# path; two files that would get the same name are told apart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"
# a tracker address that refuses connections
DEAD=$(refused_addr)


lib=$SCRATCH/music
mkdir -p "$lib/Artist/Album" "$lib/Misc"
# tone FILE SECONDS FREQUENCY [ARGS...] : a sine tone in the format FILE's
# ending names (for ffmpeg; the peer only sees the file)
tone() {
	local out=$1 secs=$2 freq=$3
	shift 3
	ffmpeg -nostdin -hide_banner -loglevel error -y \
		-f lavfi -i "sine=frequency=$freq:sample_rate=44100:duration=$secs" "$@" "$out"
}
tone "$lib/Artist/Album/one.MP3" 2 440 -c:a libmp3lame -f mp3 \
	-metadata artist=Björk -metadata title="Song One" -metadata album=Debut \
	-metadata track=1/2 -metadata date=1993 || exit 1
tone "$lib/Artist/Album/two.flac" 1.5 550 -metadata title="Only A Title" || exit 1
tone "$lib/Artist/three.ogg" 1.5 660 -c:a libvorbis -metadata ARTIST="The Band" \
	-metadata TITLE="Third %Song" || exit 1
# the same tags as one.MP3, later in path order
tone "$lib/Misc/again.mp3" 1 500 -c:a libmp3lame -metadata artist=Björk \
	-metadata title="Song One" || exit 1
tone "$lib/Misc/four.opus" 1 770 -c:a libopus || exit 1
tone "$lib/Misc/five.m4a" 1.5 880 -c:a aac || exit 1
tone "$lib/Misc/six.wav" 1 990 || exit 1
tone "$lib/Misc/seven.aiff" 1 330 || exit 1
tone "$lib/Misc/wav named.mp3" 2 220 -f wav || exit 1
printf '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nhttp://%s/x.ts\n#EXT-X-ENDLIST\n' "$DEAD" \
	>"$lib/Misc/playlist.mp3"
printf 'just some text\n' >"$lib/Misc/text.mp3"
ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi \
	-i "testsrc=size=32x32:duration=1" -frames:v 1 -f image2 -c:v png "$lib/Misc/picture.mp3" || exit 1

# song NAME -> source file, codec the segments must hold
songs="Björk - Song One|$lib/Artist/Album/one.MP3|mp3
Björk - Song One (2)|$lib/Misc/again.mp3|mp3
Artist/Album/two|$lib/Artist/Album/two.flac|aac
The Band - Third %Song|$lib/Artist/three.ogg|aac
Misc/four|$lib/Misc/four.opus|aac
Misc/five|$lib/Misc/five.m4a|aac
Misc/six|$lib/Misc/six.wav|aac
Misc/seven|$lib/Misc/seven.aiff|aac
Misc/wav named|$lib/Misc/wav named.mp3|aac"

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" --aac-bitrate 128 \
	-L "$lib" || exit 1
n=0
while IFS='|' read -r name src codec; do
	n=$((n + 1))
	ok "'$name' is served" wait_for_served "$P_ADDR" "$name" 60 || continue
	d=$SCRATCH/got$n
	fetch_song "$P_ADDR" "$name" "$d" || { ok "'$name' can be fetched" false; continue; }
	seg=$d/$(segments_of "$d" | head -n 1)
	got=$(ffprobe -v error -select_streams a:0 -show_entries stream=codec_name \
		-of csv=p=0 "$seg" | grep -v "^$" | sort -u)
	is "$got" "$codec" "'$name': its segments hold $codec audio"
	want=$(duration_of "$src")
	got=$(duration_of "$d/index.m3u8")
	ok "'$name': ffprobe reads ${got}s from the served playlist, source ${want}s" \
		close_to "$got" "$want" 0.5
done <<<"$songs"
ok "a copied file says so in the log" \
	grep -q "segmented 'Artist/Album/one' into 1 segments ([0-9a-f]*): mp3 from $lib/Artist/Album/one.MP3, copied$" "$SCRATCH/P.err"
is "$(grep -c "would both be 'Björk - Song One'" "$SCRATCH/P.err")" 1 \
	"one log line tells of the two files named alike"
ok "which names both and the new name" grep -q \
	"$lib/Artist/Album/one.MP3 and $lib/Misc/again.mp3 would both be 'Björk - Song One': the second is shared as 'Björk - Song One (2)'" \
	"$SCRATCH/P.err"
is "$(request "$P_ADDR" "REQUEST_SONG Artist/Album/one")" "ERR 404 no such song" \
	"a tagged file is not served under its path"
ok "an encoded file says so, with the bitrate" \
	grep -q "segmenting 'Artist/Album/two' from $lib/Artist/Album/two.flac (flac, encoded to AAC at 128 kb/s)$" "$SCRATCH/P.err"
ok "a progress line counts the songs done and refused" \
	wait_for_log P "prepared [0-9]+/[0-9]+ songs, 3 refused, 0 left in the queue" 30
# REGISTERs while songs become ready: at most one a second, besides the
# one at start (no song ready yet) and the one once the queue drains
regs=$(grep -c "REGISTER $P_ADDR:" "$SCRATCH/T.err")
span=$(grep "REGISTER $P_ADDR:" "$SCRATCH/T.err" | sed -n '1p;$p' | cut -c12-23 |
	awk -F: '{ t = ($1 * 3600 + $2 * 60 + $3) * 1000 } NR == 1 { a = t } END { printf "%d", t - a }')
ok "REGISTERs are coalesced: $regs in $span ms for 9 songs" test "$regs" -le $((span / 1000 + 3))
# the tags travel to the tracker
# the file's own name goes with them, as its alias
one_tags='artist=Bj%C3%B6rk album=Debut title=Song%20One track=1 year=1993 duration=2 alias=Artist/Album/one'
has_tags() {
	request "$T_ADDR" "LOCATE Bj%C3%B6rk%20-%20Song%20One tags" | grep -qxF -- "$1"
}
ok "LOCATE <name> tags returns the song's tags as the peer read them" \
	wait_until 10 has_tags "$(request "$T_ADDR" "LOCATE Bj%C3%B6rk%20-%20Song%20One" |
		sed -n 2p) $one_tags"
ok "LISTPAGE tags=1 carries them too" eval "request '$T_ADDR' 'LISTPAGE limit=50 tags=1' |
	grep -qxF 'Bj%C3%B6rk%20-%20Song%20One 1 $one_tags'"
ok "an untagged song carries its duration only" eval "request '$T_ADDR' 'LISTPAGE limit=50 tags=1' |
	grep -qxF 'Misc/six 1 duration=1'"
ok "Ogg's own tags are read" eval "request '$T_ADDR' 'LISTPAGE limit=50 tags=1' |
	grep -qF 'The%20Band%20-%20Third%20%25Song 1 artist=The%20Band title=Third%20%25Song duration=2'"
for bad in playlist text picture; do
	ok "the $bad named .mp3 is refused with a log line naming it" \
		wait_for_log P "refusing $lib/Misc/$bad\\.mp3: not audio" 30
	is "$(grep -c "$lib/Misc/$bad\\.mp3" "$SCRATCH/P.err")" 1 "one line for the $bad"
	is "$(request "$P_ADDR" "REQUEST_SONG Misc/$bad")" "ERR 404 no such song" \
		"the $bad is not served"
done

stop_daemon P || exit 1
start_daemon Q peer -v -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" --aac-bitrate 128 \
	-L "$lib" || exit 1
ok "after a restart the songs are served again" wait_for_served "$Q_ADDR" "Misc/six" 30
ok "under their tag names" wait_for_served "$Q_ADDR" "Björk - Song One (2)" 30
ok "known from the cache at once: no song is dropped for another name" \
	grep -q "library: 12 song(s), 12 to check, 0 dropped" "$SCRATCH/Q.err"
ok "and only then" test "$(grep -c "library: " "$SCRATCH/Q.err")" = 1
wait_for_log Q "cache: removed" 30 >/dev/null
not_probed() { ! grep -q ": codec=" "$SCRATCH/Q.err"; }
ok "from the cache, without probing a file again" not_probed
# (only what was refused is looked at again: nothing of it was kept)
ok "nor segmenting one" test "$(grep "segmenting '" "$SCRATCH/Q.err" |
	grep -vc "'Misc/\(playlist\|text\|picture\)'")" = 0
stop_daemon Q || exit 1
start_daemon R peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" --aac-bitrate 96 \
	-L "$lib" || exit 1
ok "another --aac-bitrate encodes the songs again" \
	wait_for_log R "segmenting 'Misc/six' from .*encoded to AAC at 96 kb/s" 30
not_copied() { ! grep -q "segmenting 'Björk - Song One'" "$SCRATCH/R.err"; }
ok "but copies none again" not_copied
ok "the peer stops cleanly" stop_daemon R
ok "no sanitizer reports" check_sanitizers
done_testing

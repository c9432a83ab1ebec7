#!/usr/bin/env bash
# Cover art: a cover.jpg beside the songs of an album, or else the picture
# embedded in a song file (read out by the very ffmpeg run that segments
# it), is kept in the cache named by its SHA-256, registered with the song
# as art=<sha256>.jpg|.png and served by REQUEST_SEGMENT <name> like a
# segment; a song without art registers no art word, and a picture over
# the size bound is left out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"
. "$TEST_DIR/lib-client.sh"

lib=$SCRATCH/music
mkdir -p "$lib/Artist/Album" "$lib/Embedded" "$lib/Plain" "$lib/Big"
make_mp3 "$lib/Artist/Album/01.mp3" 1 440 -metadata artist=Artist \
	-metadata title=One -metadata album=Album || exit 1
ffmpeg -nostdin -loglevel error -f lavfi -i "color=c=red:s=48x48" -frames:v 1 \
	"$lib/Artist/Album/cover.jpg" || exit 1
make_tone_with_cover "$lib/Embedded/e.mp3" 1 || exit 1
# a JPEG in an M4A (copied: AAC) and in a FLAC (encoded to AAC: a second run)
ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc=size=40x40" -frames:v 1 \
	"$SCRATCH/embed.jpg" || exit 1
ffmpeg -nostdin -loglevel error -f lavfi -i "sine=frequency=770:duration=1" \
	-i "$SCRATCH/embed.jpg" -map 0 -map 1 -c:a aac -c:v copy \
	-disposition:v attached_pic "$lib/Embedded/m.m4a" || exit 1
ffmpeg -nostdin -loglevel error -f lavfi -i "sine=frequency=880:duration=1" \
	-i "$SCRATCH/embed.jpg" -map 0 -map 1 -c:a flac -c:v copy \
	-disposition:v attached_pic "$lib/Embedded/f.flac" || exit 1
make_mp3 "$lib/Plain/p.mp3" 1 550 || exit 1
make_mp3 "$lib/Big/b.mp3" 1 660 || exit 1
# a "JPEG" one byte over the bound (PICTURE_MAX_BYTES, 4 MiB)
{ printf '\377\330\377\340'; head -c $((4 * 1024 * 1024 - 3)) /dev/zero; } >"$lib/Big/folder.jpg"

# the picture each file embeds, as ffmpeg reads it out on its own
for f in e.mp3 m.m4a f.flac; do
	ffmpeg -nostdin -loglevel error -i "$lib/Embedded/$f" -map 0:v:0 -c copy \
		-frames:v 1 -f image2pipe pipe:1 >"$SCRATCH/want-$f" || exit 1
done

# the peer's ffmpeg logs the words of each run
ffmpeg_spy || exit 1

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" -v -v || exit 1
for s in "Artist - One" Embedded/e Embedded/m Embedded/f Plain/p Big/b; do
	wait_for_registered "$T_ADDR" "$s" 1 || exit 1
done
ok "the peer prepares the 6 songs" \
	wait_for_log P "prepared 6/6 songs, 0 refused, 0 left in the queue" 30
is "$(runs)" 7 "  running ffmpeg 7 times: once a song, the FLAC twice (probed, then encoded)"
is "$(art_runs)" 0 "  none of them only to read out a picture"
is "$(grep -c -e ' -f tee ' "$SCRATCH/ffmpeg.runs")" 5 \
	"  the 5 songs without a picture beside them read it out in their first run"

# art_of NAME : the art= word LOCATE ... tags gives NAME, without "art="
art_of() {
	request "$T_ADDR" "LOCATE $(encode_name "$1") tags" | tr ' ' '\n' |
		sed -n 's/^art=//p' | head -n 1
}

# picture NAME OUT : REQUEST_SEGMENT NAME from the peer; the reply line is
# printed, the body written to OUT
picture() {
	local hdr word got bytes
	exec 6<>"/dev/tcp/${P_ADDR%:*}/${P_ADDR##*:}" || return 1
	printf 'REQUEST_SEGMENT %s\n' "$1" >&6
	IFS= read -r -t 10 hdr <&6
	printf '%s\n' "$hdr"
	read -r word got bytes <<<"$hdr"
	[ "$word" = SEGMENT ] && read_body 6 "$bytes" "$2"
	printf 'QUIT\n' >&6
	exec 6>&-
}

cover=$(sha256sum <"$lib/Artist/Album/cover.jpg" | cut -d' ' -f1)
is "$(art_of "Artist - One")" "$cover.jpg" \
	"a song beside cover.jpg registers art=<sha256 of cover.jpg>.jpg"
is "$(picture "$cover.jpg" "$SCRATCH/got.jpg" | cut -d' ' -f1-2)" "SEGMENT $cover.jpg" \
	"  REQUEST_SEGMENT of that name answers SEGMENT"
ok "  with the bytes of cover.jpg" cmp -s "$SCRATCH/got.jpg" "$lib/Artist/Album/cover.jpg"
ok "  kept in the cache as art/<name>" test -f "$SCRATCH/cache/art/$cover.jpg"

emb=$(art_of Embedded/e)
like "$emb" '^[0-9a-f]{64}\.png$' "a song with an embedded PNG registers art=<sha256>.png ($emb)"
picture "$emb" "$SCRATCH/got.png" >/dev/null
is "$(sha256sum <"$SCRATCH/got.png" | cut -d' ' -f1).png" "$emb" \
	"  the picture served hashes to its name"
is "$(head -c 8 "$SCRATCH/got.png" | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a \
	"  and is a PNG, read out of the file by ffmpeg"
ok "  byte for byte what ffmpeg reads out of it on its own" \
	cmp -s "$SCRATCH/got.png" "$SCRATCH/want-e.mp3"
jpg=$(sha256sum <"$SCRATCH/embed.jpg" | cut -d' ' -f1).jpg
for s in m f; do
	is "$(art_of "Embedded/$s")" "$jpg" \
		"the JPEG embedded in $(basename "$lib"/Embedded/$s.*) registers as art=<sha256 of it>.jpg"
	picture "$jpg" "$SCRATCH/got-$s.jpg" >/dev/null
	ok "  served byte for byte as ffmpeg reads it out on its own" \
		cmp -s "$SCRATCH/got-$s.jpg" "$SCRATCH/want-$(basename "$lib"/Embedded/$s.*)"
done
is "$(art_of Plain/p)" "" "a song without art registers no art word"
is "$(art_of Big/b)" "" "a picture over 4 MiB (PICTURE_MAX_BYTES) is left out"
like "$(request "$T_ADDR" "LOCATE Plain%2Fp tags")" "duration=1" "  its other tags are there as before"

is "$(request "$P_ADDR" "REQUEST_SEGMENT $(printf '%064d' 0).jpg")" "ERR 404 no such segment" \
	"a picture name the peer does not serve is ERR 404"
is "$(request "$P_ADDR" "REQUEST_SEGMENT ../cover.jpg")" "ERR 404 no such segment" \
	"  and so is a path"

# a restart: the embedded picture comes from the cache's memo, not ffmpeg
ok "the peer stops with status 0" stop_daemon P
memo=$(grep -lx "$emb" "$SCRATCH"/cache/art/* 2>/dev/null | head -n 1)
ok "what the file embeds is remembered under its key in art/ ($(basename "${memo:-none}"))" \
	test -n "$memo"
is "$(grep -lx none "$SCRATCH"/cache/art/* 2>/dev/null | wc -l | tr -d ' ')" 2 \
	"  and so is that the 2 songs without art beside them embed none"
forget_runs
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" -v -v || exit 1
wait_for_served "$P_ADDR" Embedded/e || exit 1
ok "after a restart the song still has its art" wait_for_log P "e.mp3: cover art $emb" 30
is "$(picture "$emb" "$SCRATCH/again.png" | cut -d' ' -f1-2)" "SEGMENT $emb" "  and the peer serves it"
ok "  the restart prepares the 6 songs" \
	wait_for_log P "prepared 6/6 songs, 0 refused, 0 left in the queue" 30
is "$(runs)" 0 "  without running ffmpeg"

# the memo gone (and the file's segments and record kept): the picture is
# read out by an ffmpeg run of its own, as the only way left
ok "the peer stops with status 0" stop_daemon P
rm -f "$memo"
forget_runs
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" -v -v || exit 1
wait_for_served "$P_ADDR" Embedded/e || exit 1
ok "without its memo the song still has its art" \
	wait_for_log P "e.mp3: cover art $emb" 30
is "$(runs) $(art_runs)" "1 1" "  read out by one ffmpeg run of its own"
ok "  which is remembered again" test "$(cat "$memo" 2>/dev/null)" = "$emb"

# a cache whose path holds what ffmpeg's tee output list quotes with, and
# what its hls muxer would take for a segment number (%d, %%)
odd="$SCRATCH/cache |'\\ [x]:y %d%%"
ok "the peer stops with status 0" stop_daemon P
forget_runs
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$odd" -L "$lib/Embedded" -v -v || exit 1
ok "a cache at a path with | ' \\ [ ] : %d %% in it reads the picture out too" \
	wait_for_log P "e.mp3: cover art $emb" 30
ok "  the 3 songs there are prepared" wait_for_log P "prepared 3/3 songs, 0 refused" 30
is "$(art_runs)" 0 "  and in no run of its own"
ok "  and keeps it in its art/" test -f "$odd/art/$emb"

ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer reports" check_sanitizers
done_testing

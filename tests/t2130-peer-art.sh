#!/usr/bin/env bash
# Cover art: a cover.jpg beside the songs of an album, or else the picture
# embedded in a song file, is kept in the cache named by its SHA-256,
# registered with the song as art=<sha256>.jpg|.png and served by
# REQUEST_SEGMENT <name> like a segment; a song without art registers no
# art word, and a picture over the size bound is left out.
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
make_mp3 "$lib/Plain/p.mp3" 1 550 || exit 1
make_mp3 "$lib/Big/b.mp3" 1 660 || exit 1
# a "JPEG" one byte over the bound (PICTURE_MAX_BYTES, 4 MiB)
{ printf '\377\330\377\340'; head -c $((4 * 1024 * 1024 - 3)) /dev/zero; } >"$lib/Big/folder.jpg"

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" -v -v || exit 1
for s in "Artist - One" Embedded/e Plain/p Big/b; do
	wait_for_registered "$T_ADDR" "$s" 1 || exit 1
done

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
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" -v -v || exit 1
wait_for_served "$P_ADDR" Embedded/e || exit 1
ok "after a restart the song still has its art" wait_for_log P "e.mp3: cover art $emb" 30
is "$(picture "$emb" "$SCRATCH/again.png" | cut -d' ' -f1-2)" "SEGMENT $emb" "  and the peer serves it"

ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer reports" check_sanitizers
done_testing

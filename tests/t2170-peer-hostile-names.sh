#!/usr/bin/env bash
# Names a peer is asked for never become paths: every spelling of a path
# (backslashes, double percent-encoding, an encoded NUL, overlong UTF-8
# dots and slashes, names holding '/') gets ERR 404 or, for text that is
# no valid name, ERR 400, and the connection goes on. A segment or a
# playlist replaced by a symbolic link, in the peer's cache or in a song
# directory shared in place, is refused, never followed: the bytes behind
# the link are not served, and nothing is written through it; in a shared
# directory such a link, like a segment gone, is a change that has the
# directory checked again at once.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
. "$TEST_DIR/lib-peer.sh"
: "${P2PM_TOOLS:=$TOP_DIR/build/san/tools}"

# planted_copy FILE OUT : a file of FILE's size made of 'P's
planted_copy() {
	head -c "$(stat -c %s "$1")" /dev/zero | tr '\0' 'P' >"$2"
}

lib=$SCRATCH/lib
cache=$SCRATCH/cache
mkdir -p "$lib"
make_mp3 "$lib/plain.mp3" 4 440 -b:a 128k || exit 1
make_mp3 "$lib/second.mp3" 3 500 -b:a 128k || exit 1
make_songdir "$lib/shared" "Shared" 3 550 || exit 1
make_songdir "$lib/listed" "Listed" 3 660 || exit 1
make_songdir "$lib/removed" "Removed" 3 770 || exit 1
# long renewals: no periodic rescan during the test, only the ones asked for
start_daemon P peer -l 127.0.0.1:0 -t "$(refused_addr)" --renew 120 \
	-c "$cache" -L "$lib" || exit 1
for s in plain second Shared Listed Removed; do
	wait_for_served "$P_ADDR" "$s" 60 || bail_out "the peer does not serve '$s'"
done
key=$(key_of "$lib/plain.mp3")
seg=$(segments_of "$cache/songs/$key" | head -n 1)
ok "the cache's song directory lists a segment ($seg)" test -f "$cache/songs/$key/$seg"
size=$(stat -c %s "$cache/songs/$key/$seg")
is "$(get_segment "$P_ADDR" "$seg" "$SCRATCH/seg")" "SEGMENT $seg $size" "it is served"

# spellings of a path that are valid names: no such segment, no such song
base=${seg%.ts}
for t in '..\..\etc\passwd' '..%5C..%5Cetc%5Cpasswd' '%5Cetc%5Cpasswd' "%5C$seg" \
	"..%5C$seg" "%252e%252e%252f$seg" '%252e%252e%252fetc%252fpasswd' "%252F$seg" \
	"%2e%2e/$seg" "....//$seg" ".%2e/$seg" '..' '.' '%2e%2e' '~' '~root' \
	"$key/$seg" "songs%2F$key%2F$seg" "$cache/songs/$key/$seg" "file:$cache/songs/$key/$seg" \
	"C:%5C$seg" "$base.ts%20" "%20$seg" "$base.TS" "$base.ts/." "$base.ts;" \
	'shared/index.m3u8' 'plain/index.m3u8' 'AC/DC' 'a%2Fb' "Shared%2F$seg"; do
	is "$(request "$P_ADDR" "REQUEST_SEGMENT $t")" "ERR 404 no such segment" \
		"REQUEST_SEGMENT $t is 404"
	is "$(request "$P_ADDR" "REQUEST_SONG $t")" "ERR 404 no such song" \
		"REQUEST_SONG $t is 404"
done
is "$(request "$P_ADDR" "REQUEST_SONG Shared%2Findex.m3u8")" "ERR 404 no such song" \
	"a song name with '/' and the playlist's file name is no song"
is "$(request "$P_ADDR" "REQUEST_SONG lib%2Fshared")" "ERR 404 no such song" \
	"  nor is the path of the song directory"

# what decodes to no valid name: ERR 400, and the connection goes on
for t in '%00' "$base%00.ts" "%00$seg" "..%00/$seg" '%c0%ae%c0%ae%c0%af' \
	"%c0%ae%c0%ae%c0%af$seg" '%e0%80%ae%e0%80%ae' '%f0%80%80%ae' '%c0%2e' '%ff%fe' \
	'%ed%a0%80' '%c2%85' '%7f' '%0a' "$base.ts%0d%0a" '%e2%80%ae' '%'; do
	is "$(request "$P_ADDR" "REQUEST_SEGMENT $t" PING)" \
		"$(printf 'ERR 400 invalid name encoding\nPONG')" \
		"REQUEST_SEGMENT $t is ERR 400, and the connection goes on"
	is "$(request "$P_ADDR" "REQUEST_SONG $t")" "ERR 400 invalid name encoding" \
		"REQUEST_SONG $t is ERR 400"
done
long=$(head -c 256 /dev/zero | tr '\0' a)
is "$(request "$P_ADDR" "REQUEST_SEGMENT $long")" "ERR 400 invalid name encoding" \
	"a name of 256 bytes is ERR 400"
is "$(printf 'REQUEST_SEGMENT %s\0/../x\nPING\nQUIT\n' "$seg" | talk "$P_ADDR")" \
	"$(printf 'ERR 400 NUL byte in request\nPONG')" \
	"a raw NUL byte after a segment's name is ERR 400, and the connection goes on"
is "$(get_segment "$P_ADDR" "$seg" "$SCRATCH/seg2")" "SEGMENT $seg $size" \
	"after all that the segment is still served"
ok "  with its own bytes" cmp -s "$SCRATCH/seg" "$SCRATCH/seg2"

# a segment of the cache replaced by a link to other bytes of its size
planted_copy "$cache/songs/$key/$seg" "$SCRATCH/planted.ts"
mv "$cache/songs/$key/$seg" "$SCRATCH/real.ts"
ln -s "$SCRATCH/planted.ts" "$cache/songs/$key/$seg"
is "$(get_segment "$P_ADDR" "$seg" "$SCRATCH/linked")" "ERR 500 cannot read segment" \
	"a segment of the cache that is now a symbolic link is refused, not followed"
ok "  nothing of the planted bytes is sent" test ! -s "$SCRATCH/linked"
ok "  and the peer logs it" wait_for_log P "cannot open segment $seg: " 5
rm "$cache/songs/$key/$seg"
mv "$SCRATCH/real.ts" "$cache/songs/$key/$seg"

# a segment of a shared song directory replaced by a link to a copy of
# its own bytes: still not the checked file
sseg=$(segments_of "$lib/shared" | head -n 1)
ssize=$(stat -c %s "$lib/shared/$sseg")
is "$(get_segment "$P_ADDR" "$sseg" "$SCRATCH/sseg")" "SEGMENT $sseg $ssize" \
	"a segment of the shared song directory is served"
cp "$lib/shared/$sseg" "$SCRATCH/copy.ts"
mv "$lib/shared/$sseg" "$SCRATCH/shared-real.ts"
ln -s "$SCRATCH/copy.ts" "$lib/shared/$sseg"
is "$(get_segment "$P_ADDR" "$sseg" "$SCRATCH/slinked")" "ERR 404 segment changed since it was checked" \
	"once it is a symbolic link, even to the same bytes, it is refused, not followed"
ok "  with nothing sent" test ! -s "$SCRATCH/slinked"
ok "  the peer logs it" wait_for_log P "$sseg changed since its song directory was checked" 5
ok "  and checks the directory again at once, refusing it" \
	wait_for_log P "refusing song directory $lib/shared: .*Too many levels of symbolic links" 10
ok "  so the song is no longer served" wait_until 10 song_gone "$P_ADDR" Shared

# the playlist of a shared song directory replaced by a link
lseg=$(segments_of "$lib/listed" | head -n 1)
cp "$lib/listed/index.m3u8" "$SCRATCH/listed.m3u8"
mv "$lib/listed/index.m3u8" "$SCRATCH/listed-real.m3u8"
ln -s "$SCRATCH/listed.m3u8" "$lib/listed/index.m3u8"
kill -HUP "$P_PID"
ok "after a rescan the song directory whose playlist is a link is no longer served" \
	wait_until 30 song_gone "$P_ADDR" Listed
ok "  the peer drops it from the library" \
	wait_for_log P 'library: 4 song\(s\), 4 to check, 1 dropped' 10
is "$(request "$P_ADDR" "REQUEST_SEGMENT $lseg")" "ERR 404 no such segment" \
	"  nor are its segments"

# a segment of a shared song directory removed
rseg=$(segments_of "$lib/removed" | head -n 1)
rm "$lib/removed/$rseg"
is "$(request "$P_ADDR" "REQUEST_SEGMENT $rseg")" "ERR 404 segment changed since it was checked" \
	"a segment removed from a shared song directory is refused as changed"
ok "  and the directory is checked again at once, refusing it" \
	wait_for_log P "refusing song directory $lib/removed: " 10
ok "  so the song is no longer served" wait_until 10 song_gone "$P_ADDR" Removed
is "$(request "$P_ADDR" PING)" PONG "the peer still answers"
# the cache's playlist replaced by a link to another playlist while the
# peer is down: the peer starting again neither serves it nor writes
# through it
key2=$(key_of "$lib/second.mp3")
get_playlist "$P_ADDR" second "$SCRATCH/second.m3u8" >/dev/null
ok "the cache holds the second song's playlist" \
	cmp -s "$SCRATCH/second.m3u8" "$cache/songs/$key2/index.m3u8"
ok "the peer stops with status 0" stop_daemon P
cp "$cache/songs/$key/index.m3u8" "$SCRATCH/planted.m3u8"
cp "$SCRATCH/planted.m3u8" "$SCRATCH/planted.m3u8.orig"
rm "$cache/songs/$key2/index.m3u8"
ln -s "$SCRATCH/planted.m3u8" "$cache/songs/$key2/index.m3u8"
start_daemon P peer -l 127.0.0.1:0 -t "$(refused_addr)" --renew 120 \
	-c "$cache" -L "$lib" || exit 1
ok "started again, the peer serves the second song" wait_for_served "$P_ADDR" second 60
ok "  segmenting it again rather than reusing the directory with the link" \
	grep -q "segmenting 'second' from " "$SCRATCH/P.err"
get_playlist "$P_ADDR" second "$SCRATCH/second.after" >/dev/null
is "$(content_id_of "$SCRATCH/second.after")" "$(content_id_of "$SCRATCH/second.m3u8")" \
	"  with its own playlist, not the one behind the link"
ok "  and the file behind the link is untouched" \
	cmp -s "$SCRATCH/planted.m3u8" "$SCRATCH/planted.m3u8.orig"
ok "  the link in the cache is gone" test ! -L "$cache/songs/$key2/index.m3u8"
ok "the peer stops with status 0" stop_daemon P
ok "no sanitizer report" check_sanitizers
done_testing

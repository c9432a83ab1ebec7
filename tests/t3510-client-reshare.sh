#!/usr/bin/env bash
# Listeners re-share: a song fetched into a directory the listener's own
# peer shares is registered by that peer within a renewal period, with no
# restart; with the original peer gone, a third listener fetches it from
# the listener, byte for byte. What fetch writes is exactly the song
# directory the peer serves.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg

SONG="Blue Monday"
mkdir -p "$SCRATCH/lib" "$SCRATCH/music"
make_mp3 "$SCRATCH/lib/$SONG.mp3" 8 440 -ac 2 -b:a 128k || exit 1

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon O peer -l 127.0.0.1:0 -t "$T_ADDR" --renew 1 -c "$SCRATCH/cacheO" \
	-L "$SCRATCH/lib" || exit 1
start_daemon L peer -l 127.0.0.1:0 -t "$T_ADDR" --renew 1 -c "$SCRATCH/cacheL" \
	-L "$SCRATCH/music" || exit 1
export P2P_MUSIC_TRACKER=$T_ADDR
wait_for_registered "$T_ADDR" "$SONG" 1 || exit 1

# the everyday loop: fetch into the directory the listener's peer shares
client -q fetch -o "$SCRATCH/music/$SONG" "$SONG"
is "$?" 0 "a listener fetches into the directory its own peer shares"
ok "  the song directory is whole" test -s "$SCRATCH/music/$SONG/song.name"
ok "its peer registers the song within a renewal period, no restart" \
	wait_for_registered "$T_ADDR" "$SONG" 2
enc=$(encode_name "$SONG")
id=$(sha256sum <"$SCRATCH/music/$SONG/index.m3u8" | cut -c1-64)
locate=$(request "$T_ADDR" "LOCATE $enc")
is "$(printf '%s\n' "$locate" | grep -c "^$id ")" 2 \
	"  under the same content id as the original"
ok "the listener's peer serves index.m3u8 exactly as fetched" \
	same_as_served "$SCRATCH/music/$SONG" "$L_ADDR" "$SONG"

stop_daemon O
client -v fetch -o "$SCRATCH/third" "$SONG" >/dev/null 2>"$SCRATCH/third.err"
is "$?" 0 "with the original peer gone, a third listener fetches the song"
ok "  byte-identical, file for file" diff -r "$SCRATCH/third" "$SCRATCH/music/$SONG"
like "$(cat "$SCRATCH/third.err")" "peer $L_ADDR: [1-9][0-9]* segments" \
	"  from the listener's peer"

ok "no sanitizer report" check_sanitizers
stop_daemon L
is "$?" 0 "the listener's peer stops cleanly"
stop_daemon T
done_testing

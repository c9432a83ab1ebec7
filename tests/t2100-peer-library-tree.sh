#!/usr/bin/env bash
# An -L directory is shared as the whole tree below it (Artist/Album/...):
# audio file endings in any case, song directories at any depth; hidden
# names, other files, symbolic link loops and directories too deep are
# left out, counted in the summary line and named at -v.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"

lib=$SCRATCH/music
mkdir -p "$lib/Artist/Album" "$lib/.hidden" "$lib/Other"
make_mp3 "$lib/Artist/Album/01 First.MP3" 1 440 || exit 1
cp "$lib/Artist/Album/01 First.MP3" "$lib/top.mp3"
cp "$lib/top.mp3" "$lib/.hidden/secret.mp3"
cp "$lib/top.mp3" "$lib/Other/.dot.mp3"
echo "not a song" >"$lib/Artist/Album/notes.txt"
ln -s ../.. "$lib/Artist/Album/loop"
# 17 directories below the library: one too many
deep=$lib
for i in $(seq 1 17); do deep=$deep/d$i; done
mkdir -p "$deep"
cp "$lib/top.mp3" "$deep/deep.mp3"
cp "$lib/top.mp3" "$(dirname "$deep")/shallow.mp3"

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -v -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib/" || exit 1
ok "a file two folders down is served as its path without the ending" \
	wait_for_served "$P_ADDR" "Artist/Album/01 First" 30
ok "a file at the top is served as its name" wait_for_served "$P_ADDR" top 30
ok "a file 16 levels down is served" \
	wait_for_served "$P_ADDR" "$(printf 'd%s/' $(seq 1 16))shallow" 30
is "$(request "$P_ADDR" "REQUEST_SONG $(printf 'd%s/' $(seq 1 17))deep")" \
	"ERR 404 no such song" "a file 17 levels down is not"
is "$(request "$P_ADDR" "REQUEST_SONG .hidden/secret")" "ERR 404 no such song" \
	"a file in a hidden directory is not served"
ok "the summary counts what is left out" \
	grep -q "library: 3 song(s), 3 to check, 0 dropped; not shared: 1 not audio, 2 hidden, 0 unreadable, 1 loop(s), 1 too deep, 0 past the limit" "$SCRATCH/P.err"
ok "-v names the file not shared" grep -q "not shared: $lib/Artist/Album/notes.txt: not named as an audio file" "$SCRATCH/P.err"
ok "-v names the loop" grep -q "not shared: $lib/Artist/Album/loop: a symbolic link loop" "$SCRATCH/P.err"
ok "-v names the hidden file" grep -q "not shared: $lib/Other/.dot.mp3: hidden" "$SCRATCH/P.err"
ok "-v names the directory too deep" grep -q "not shared: $deep: too deep" "$SCRATCH/P.err"

# a song directory three levels down is found
fetch_song "$P_ADDR" top "$SCRATCH/sd" || exit 1
rm -f "$SCRATCH/sd/headers"
echo "Deep Song" >"$SCRATCH/sd/song.name"
mkdir -p "$lib/Artist/Album/Live"
mv "$SCRATCH/sd" "$lib/Artist/Album/Live/dir"
stop_daemon P || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" || exit 1
ok "a song directory three levels down is served" wait_for_served "$P_ADDR" "Deep Song" 30
ok "without -v, the summary says -v names what is left out" \
	grep -q "library: 4 song(s).* (-v names them)" "$SCRATCH/P.err"
not_named() { ! grep -q "not shared: /" "$SCRATCH/P.err"; }
ok "without -v nothing left out is named" not_named
ok "the peer stops cleanly" stop_daemon P
ok "no sanitizer reports" check_sanitizers
done_testing

#!/usr/bin/env bash
# The client against a real tracker and two peers: list, query, fetch (the
# files are the peer's, and play for the right duration), cat and play.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg

SECONDS_LONG=8
mkdir -p "$SCRATCH/lib1" "$SCRATCH/lib2" "$SCRATCH/work"
make_mp3 "$SCRATCH/lib1/Alpha.mp3" "$SECONDS_LONG" 440 -ac 2 -b:a 128k || exit 1
make_mp3 "$SCRATCH/lib1/My Song.mp3" "$SECONDS_LONG" 550 -ac 2 -b:a 128k || exit 1
make_mp3 "$SCRATCH/lib2/Beta.mp3" "$SECONDS_LONG" 660 -ac 2 -b:a 128k || exit 1
cp "$SCRATCH/lib1/My Song.mp3" "$SCRATCH/lib2/"

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon A peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cacheA" -L "$SCRATCH/lib1" || exit 1
start_daemon B peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cacheB" -L "$SCRATCH/lib2" || exit 1
export P2P_MUSIC_TRACKER=$T_ADDR
wait_for_registered "$T_ADDR" Alpha 1 && wait_for_registered "$T_ADDR" Beta 1 &&
	wait_for_registered "$T_ADDR" "My Song" 2 || exit 1

# list and query
out=$(client list 2>"$SCRATCH/list.err")
is "$?" 0 "list exits 0"
is "$out" "$(printf 'Alpha\t1\nBeta\t1\nMy Song\t2')" \
	"list prints NAME<TAB>PEERS lines, names decoded, sorted"
is "$(client list SONG)" "$(printf 'My Song\t2')" "list TEXT filters, ignoring case"
out=$(client list nothing-like-this 2>"$SCRATCH/none.err")
is "$?" 1 "list with no match exits 1"
is "$out" "" "  prints nothing on stdout"
like "$(cat "$SCRATCH/none.err")" "no songs matching 'nothing-like-this'" "  and says so on stderr"
out=$(client -t "$T_ADDR" query "My Song")
is "$?" 0 "query exits 0"
is "$(printf '%s\n' "$out" | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$A_ADDR" "$B_ADDR" | sort | tr '\n' ' ')" \
	"query prints each peer holding the song, one a line"
is "$(client query Alpha)" "$A_ADDR" "query of a song one peer holds names that peer"
err=$(client query "No Such Song" 2>&1 >"$SCRATCH/q.out")
is "$?" 1 "query of an unknown song exits 1"
like "$err" "no peer holds 'No Such Song'" "  with a message on stderr"
ok "  and nothing on stdout" test ! -s "$SCRATCH/q.out"

# fetch into the default directory, named after the song
out=$(cd "$SCRATCH/work" && client fetch "My Song" 2>"$SCRATCH/fetch.err")
is "$?" 0 "fetch exits 0"
dir="$SCRATCH/work/My Song"
ok "fetch writes into a directory named after the song" test -f "$dir/index.m3u8"
like "$out" "into 'My Song'" "fetch says where the song is"
like "$out" "ffplay 'My Song/index.m3u8'" "fetch says how to play it"
is "$(cat "$SCRATCH/fetch.err")" "" "fetch prints nothing on stderr when it is not a terminal"
nseg=$(segments_of "$dir" | wc -l)
ok "the playlist lists segments ($nseg)" test "$nseg" -ge 2
is "$(find "$dir" -type f | wc -l)" "$((nseg + 2))" \
	"the directory holds index.m3u8, the segments and song.name, nothing else"
is "$(cat "$dir/song.name")" "My Song" "song.name holds the song's name"
ok "every segment is byte-identical to the peer's cache" \
	segments_match_cache "$dir" "$SCRATCH/cacheA"
ok "  (both peers hold the same segments)" segments_match_cache "$dir" "$SCRATCH/cacheB"
ok "index.m3u8 is the playlist the peer serves" same_as_served "$dir" "$A_ADDR" "My Song"
src=$(duration_of "$SCRATCH/lib1/My Song.mp3")
got=$(duration_of "$dir/index.m3u8")
ok "ffprobe plays index.m3u8 for the song's duration ($got s, source $src s)" \
	close_to "$got" "$src" 0.5

# fetch -o, -q, a song only one peer holds, and a name with a space via -p
out=$(client -q fetch -o "$SCRATCH/beta" Beta 2>&1)
is "$?" 0 "fetch -o -q exits 0"
is "$out" "" "fetch -q prints nothing"
ok "fetch -o writes where it is told" segments_match_cache "$SCRATCH/beta" "$SCRATCH/cacheB"
ok "no temporary file is left" no_temp_files "$SCRATCH/beta"
out=$(client fetch -p "$B_ADDR" -o "$SCRATCH/direct" "My Song")
is "$?" 0 "fetch -p asks a peer directly"
ok "  and gets the same files" segments_match_cache "$SCRATCH/direct" "$SCRATCH/cacheB"
out=$(client fetch -o "$SCRATCH/direct" "My Song")
is "$?" 0 "fetching again into the same directory works"
like "$out" "already in .*whole and verified" "  it only verifies what is there"
is "$(find "$SCRATCH/direct" -type f | wc -l)" "$((nseg + 2))" "  and leaves the same files"
err=$(client fetch -o "$SCRATCH/none" "No Such Song" 2>&1)
is "$?" 1 "fetch of an unknown song exits 1"
ok "  and creates nothing" test ! -e "$SCRATCH/none"
err=$(client fetch -p "$A_ADDR" -o "$SCRATCH/none" Beta 2>&1)
is "$?" 1 "fetch from a peer without the song exits 1"
like "$err" "peer $A_ADDR: answered ERR 404" "  naming the peer and its answer"
ok "  and creates nothing" test ! -e "$SCRATCH/none"

# cat
client cat "My Song" >"$SCRATCH/song.ts" 2>"$SCRATCH/cat.err"
is "$?" 0 "cat exits 0"
concat_segments "$dir" >"$SCRATCH/expected.ts"
ok "cat writes the segments in playlist order" cmp -s "$SCRATCH/song.ts" "$SCRATCH/expected.ts"
got=$(duration_of "$SCRATCH/song.ts")
ok "ffprobe reads cat's output as one stream of the song's duration ($got s)" \
	close_to "$got" "$src" 0.5
is "$(ffprobe -v error -show_entries format=nb_streams -of csv=p=0 "$SCRATCH/song.ts")" \
	1 "  holding one elementary stream"
client cat Alpha | head -c 1000 >/dev/null
is "${PIPESTATUS[0]}" 0 "cat exits 0 when its reader stops early"

# play, with a stand-in player that records what it gets
cat >"$SCRATCH/recorder" <<'SH'
#!/bin/sh
cat >"$1"
SH
chmod +x "$SCRATCH/recorder"
client play --player "$SCRATCH/recorder $SCRATCH/played.ts" "My Song" 2>"$SCRATCH/play.err"
is "$?" 0 "play exits 0 once the player has read everything"
ok "the player receives exactly what cat writes" cmp -s "$SCRATCH/played.ts" "$SCRATCH/song.ts"
(cd "$SCRATCH" && PATH="$SCRATCH:$PATH" client play --player "recorder  p2.ts" Beta)
is "$?" 0 "--player finds its program in PATH; runs of spaces split words"
ok "  and the player gets the stream" test -s "$SCRATCH/p2.ts"
client play --player "head -c 100" "My Song" >/dev/null 2>"$SCRATCH/early.err"
is "$?" 0 "a player that stops reading early ends play cleanly, exit 0"
ok "  with no crash report" test ! -s "$SCRATCH/early.err"
client play --player "$SCRATCH/recorder $SCRATCH/never.ts" "No Such Song" 2>/dev/null
is "$?" 1 "play of an unknown song exits 1"
ok "  without starting the player" test ! -e "$SCRATCH/never.ts"
client play --player "false" "My Song" 2>"$SCRATCH/false.err"
is "$?" 4 "a player that fails exits 4"
like "$(cat "$SCRATCH/false.err")" "player 'false' exited with status 1" "  saying so"

# a peer that accepts connections but never answers: a stopped process
kill -STOP "$A_PID"
err=$(client --timeout 1 fetch -o "$SCRATCH/slow" -p "$A_ADDR" -p "$B_ADDR" "My Song" 2>&1 >/dev/null)
rc=$?
kill -CONT "$A_PID"
is "$rc" 0 "a peer that does not answer is given up after --timeout"
like "$err" "peer $A_ADDR: timed out; not used any more" "  saying it timed out"
ok "  and the next peer serves the song" segments_match_cache "$SCRATCH/slow" "$SCRATCH/cacheB"

# a long LIST reply, and names that need encoding, from a registered stand-in
{ printf 'REGISTER 127.0.0.1:9\n'; seq -f 'fake%04g' 1 600; printf 'Caf%%C3%%A9%%20%%25\n\nQUIT\n'; } |
	talk "$T_ADDR" >/dev/null
is "$(client list fake | wc -l)" 600 "list reads a long reply whole"
is "$(client list fake | tail -n 1)" "$(printf 'fake0600\t1')" "  up to its last line"
is "$(client list caf)" "$(printf 'Café %%\t1')" "list decodes names"
is "$(client query 'Café %')" "127.0.0.1:9" "query encodes names"

# an interrupted fetch cleans up after itself
P2PM_CLIENT_SEGMENT_DELAY_MS=2000 "$P2PM_BIN/client" -v fetch -o "$SCRATCH/int" \
	-p "$B_ADDR" "My Song" >/dev/null 2>"$SCRATCH/int.err" &
cpid=$!
wait_for_line "$SCRATCH/int.err" "segment 1/"
kill -INT "$cpid"
rc=0
wait "$cpid" || rc=$?
is "$rc" 130 "fetch interrupted by SIGINT exits 130"
ok "  and removes what it wrote" test ! -e "$SCRATCH/int"

ok "no sanitizer report from the daemons or the client" check_sanitizers
stop_daemon A
is "$?" 0 "peer A stops cleanly on TERM"
stop_daemon B
stop_daemon T
done_testing

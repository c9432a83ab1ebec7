#!/usr/bin/env bash
# Failover in the swarm: a peer killed in the middle of a song is dropped
# and the others bring what it did not; a peer with another playlist is
# never used (the first playlist fixes the song); when no source is left
# for a missing segment the client exits 1 naming what each peer did.
#
# P2PM_CLIENT_SEGMENT_DELAY_MS makes the client pause before each segment
# after the first, so the serving peer can be killed between two segments.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg

SONG="Long Song"
DELAY_MS=1000
mkdir -p "$SCRATCH/lib" "$SCRATCH/other" "$SCRATCH/work"
make_mp3 "$SCRATCH/lib/$SONG.mp3" 12 330 -ac 2 -b:a 128k || exit 1
make_mp3 "$SCRATCH/other/$SONG.mp3" 12 880 -ac 2 -b:a 128k || exit 1

start_daemon T tracker -l 127.0.0.1:0 || exit 1
for p in A B C E; do
	start_daemon "$p" peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache$p" \
		-L "$SCRATCH/lib" || exit 1
done
# D holds another song under the same name: other segment names
start_daemon D peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cacheD" -L "$SCRATCH/other" || exit 1
export P2P_MUSIC_TRACKER=$T_ADDR
wait_for_registered "$T_ADDR" "$SONG" 5 || exit 1

# start_slow NAME ARGS... : runs the client with -v and the test delay in
# the background, stdout and stderr in $SCRATCH/NAME.{out,err}
start_slow() {
	local name=$1
	shift
	P2PM_CLIENT_SEGMENT_DELAY_MS=$DELAY_MS "$P2PM_BIN/client" -v "$@" \
		>"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" &
	SLOW_PID=$!
}

# kill_after_first NAME PEER : once the client has the first segment from
# PEER, kills PEER with SIGKILL; then waits for the client, setting SLOW_RC
kill_after_first() {
	local addr
	addr=$(eval "echo \$${2}_ADDR")
	wait_for_line "$SCRATCH/$1.err" "segment [0-9]+/[0-9]+ .*from $addr\$"
	stop_daemon "$2" KILL
	SLOW_RC=0
	wait "$SLOW_PID" || SLOW_RC=$?
}

# 1. fetch: A dies after its first segment, B brings the rest
start_slow fetch1 fetch -o "$SCRATCH/f1" -p "$A_ADDR" -p "$B_ADDR" "$SONG"
kill_after_first fetch1 A
err=$(cat "$SCRATCH/fetch1.err")
is "$SLOW_RC" 0 "fetch succeeds when a serving peer is killed mid-song"
nseg=$(segments_of "$SCRATCH/f1" | wc -l)
ok "the song has several segments ($nseg)" test "$nseg" -ge 3
like "$err" "peer $A_ADDR: [a-z ]+ \\(at segment [0-9]+/$nseg\\); not used any more" \
	"  the killed peer is named, with the segment it was asked for"
like "$err" "peer $B_ADDR: [1-9][0-9]* segments" "  the other peer brings the rest"
is "$(grep -cE "^client: info: segment [0-9]+/$nseg .*from" "$SCRATCH/fetch1.err")" "$nseg" \
	"  each segment arrives once"
ok "  the result is byte-identical to the peers' files" segments_match_cache "$SCRATCH/f1" "$SCRATCH/cacheB"
ok "  no temporary file is left" no_temp_files "$SCRATCH/f1"
got=$(duration_of "$SCRATCH/f1/index.m3u8")
ok "  and plays for the whole song ($got s)" close_to "$got" "$(duration_of "$SCRATCH/lib/$SONG.mp3")" 0.5

# 2. cat: B dies after its first segment, C streams the rest
concat_segments "$SCRATCH/f1" >"$SCRATCH/expected.ts"
start_slow cat2 cat -p "$B_ADDR" -p "$C_ADDR" "$SONG"
kill_after_first cat2 B
is "$SLOW_RC" 0 "cat succeeds when a serving peer is killed mid-song"
ok "  the stream is whole: each segment once, in order" \
	cmp -s "$SCRATCH/cat2.out" "$SCRATCH/expected.ts"
like "$(cat "$SCRATCH/cat2.err")" "peer $B_ADDR: .*not used any more" "  B is named"

# 3. fetch: C's playlist fixes the song; D's differs and is never used; C
# dies mid-song, so no source is left
start_slow fetch3 fetch -o "$SCRATCH/f3" -p "$C_ADDR" -p "$D_ADDR" "$SONG"
kill_after_first fetch3 C
is "$SLOW_RC" 1 "fetch never mixes two songs: with C dead and D's song other, exit 1"
like "$(cat "$SCRATCH/fetch3.err")" "peer $D_ADDR: its playlist differs" \
	"  naming the peer whose playlist differs"
ok "  nothing is under the final name" test ! -e "$SCRATCH/f3"
ok "  nor half-written beside it" test -z "$(find "$SCRATCH" -maxdepth 1 -name '*.part~')"

# 4. cat: E dies mid-song, D's playlist differs: D cannot go on
start_slow cat4 cat -p "$E_ADDR" -p "$D_ADDR" "$SONG"
kill_after_first cat4 E
is "$SLOW_RC" 1 "cat does not mix two different songs: exit 1"
like "$(cat "$SCRATCH/cat4.err")" "peer $D_ADDR: its playlist differs from the one being fetched" \
	"  naming the peer whose playlist differs"
ok "  what was written is the first segment, whole" \
	cmp -s "$SCRATCH/cat4.out" "$SCRATCH/f1/$(segments_of "$SCRATCH/f1" | head -n 1)"

# 5. through the tracker: the four peers of the song most hold are dead,
# so the song D holds is fetched
client fetch -o "$SCRATCH/f5" "$SONG" >/dev/null 2>"$SCRATCH/fetch5.err"
is "$?" 0 "fetch through the tracker goes on to another content id when no source of the first can serve"
ok "  and gets the live peer's song" segments_match_cache "$SCRATCH/f5" "$SCRATCH/cacheD"
like "$(cat "$SCRATCH/fetch5.err")" "trying the other song shared as '$SONG'" "  saying so"

# 6. the only peer dies mid-song: nothing that looks complete is left
start_slow fetch6 fetch -o "$SCRATCH/f6" -p "$D_ADDR" "$SONG"
kill_after_first fetch6 D
is "$SLOW_RC" 1 "fetch fails when its only peer dies mid-song"
like "$(cat "$SCRATCH/fetch6.err")" "peer $D_ADDR: .*at segment [0-9]+/" "  naming the peer and where it stopped"
ok "  and leaves nothing, temporary files and all" test ! -e "$SCRATCH/f6"
ok "  nor beside it" test -z "$(find "$SCRATCH" -maxdepth 1 -name '*.part~')"
mkdir "$SCRATCH/f7"
touch "$SCRATCH/f7/mine"
err=$(client fetch -o "$SCRATCH/f7" -p "$D_ADDR" "$SONG" 2>&1)
is "$?" 4 "fetch into a directory holding another file refuses (exit 4)"
like "$err" "'$SCRATCH/f7' holds files" "  naming it"
is "$(ls -A "$SCRATCH/f7")" "mine" "  and leaves that directory as it was"

# 7. every registered peer is dead
err=$(client fetch -o "$SCRATCH/f8" "$SONG" 2>&1)
is "$?" 1 "fetch exits 1 when every peer has failed"
for p in A B C D E; do
	addr=$(eval "echo \$${p}_ADDR")
	like "$err" "peer $addr: connection refused" "  naming peer $p and what it did"
done
err=$(client cat "$SONG" "$SONG" 2>&1 >"$SCRATCH/cat9.out")
is "$?" 1 "cat of two songs exits 1 when both fail"
like "$err" "2 of 2 songs failed" "  saying how many"
err=$(client cat "$SONG" 2>&1 >"$SCRATCH/cat9.out")
is "$?" 1 "cat exits 1 when every peer has failed"
like "$err" "no peer could serve '$SONG'" "  saying so"

ok "no sanitizer report" check_sanitizers
done_testing

#!/usr/bin/env bash
# Several trackers, on 127.0.0.1. The client asks them in the order given
# (-t repeated, a comma-separated list, or $P2P_MUSIC_TRACKER) and goes on
# to the next when one is down, silent past --timeout, refuses with ERR,
# breaks the protocol or knows nothing of the song; it exits 3 only when
# every tracker failed, and -v names the tracker that answered. A peer
# given two trackers registers with both and unregisters from both.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
[ -x "$P2PM_TOOLS/drip" ] || skip_all "build/san/tools/drip is missing (make check-build)"

SONG="Two Trackers"
mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/$SONG.mp3" 2 440 -ac 1 -b:a 64k || exit 1

# an address that refuses connections
DEAD=$(refused_addr)
start_daemon T1 tracker -l 127.0.0.1:0 || exit 1
start_daemon T2 tracker -l 127.0.0.1:0 || exit 1
# answers anything with a segment header: not a tracker's reply
P2PM_BIN=$P2PM_TOOLS start_daemon BAD drip 100 1000 || exit 1
# a tracker whose only connection is taken answers "ERR 503 busy"
start_daemon FULL tracker -l 127.0.0.1:0 --max-conns 1 || exit 1
exec 4<>"/dev/tcp/${FULL_ADDR%:*}/${FULL_ADDR##*:}"
# a stopped tracker: the kernel takes the connection, nothing answers
start_daemon MUTE tracker -l 127.0.0.1:0 || exit 1
kill -STOP "$MUTE_PID"

# register_as TRACKER PEER SONG... : registers PEER (an address on this
# host) as holding the SONGs
register_as() {
	local tracker=$1 peer=$2 lines=() s
	shift 2
	for s in "$@"; do
		lines+=("$(encode_name "$s")")
	done
	[ "$(request "$tracker" "REGISTER $peer" "${lines[@]}" "")" = OK ]
}
register_as "$T1_ADDR" 127.0.0.1:9001 "$SONG" || exit 1
register_as "$T2_ADDR" 127.0.0.1:9002 "$SONG" "Only On Two" || exit 1

# ask NAME ARGS... : runs the client, stdout in $SCRATCH/NAME.out, stderr
# in NAME.err; sets RC. "VAR=value ask ..." gives the client VAR.
ask() {
	local name=$1
	shift
	RC=0
	client "$@" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" || RC=$?
}

# the order given
ask q12 -v -t "$T1_ADDR" -t "$T2_ADDR" query "$SONG"
is "$RC:$(cat "$SCRATCH/q12.out")" "0:127.0.0.1:9001" "-t T1 -t T2: T1 answers"
like "$(cat "$SCRATCH/q12.err")" "tracker $T1_ADDR answered QUERY" "  and -v says so"
ask q21 -v -t "$T2_ADDR,$T1_ADDR" query "$SONG"
is "$RC:$(cat "$SCRATCH/q21.out")" "0:127.0.0.1:9002" "-t T2,T1: T2 answers"
P2P_MUSIC_TRACKER="$T2_ADDR,$T1_ADDR" ask qenv query "$SONG"
is "$RC:$(cat "$SCRATCH/qenv.out")" "0:127.0.0.1:9002" \
	"a comma-separated P2P_MUSIC_TRACKER is asked in its order"
P2P_MUSIC_TRACKER="$T2_ADDR" ask qover -t "$T1_ADDR" query "$SONG"
is "$RC:$(cat "$SCRATCH/qover.out")" "0:127.0.0.1:9001" "-t replaces P2P_MUSIC_TRACKER"

# going on to the next
ask dead -v -t "$DEAD" -t "$T2_ADDR" query "$SONG"
is "$RC:$(cat "$SCRATCH/dead.out")" "0:127.0.0.1:9002" "a tracker that is down hands over to the next"
like "$(cat "$SCRATCH/dead.err")" "tracker unreachable: $DEAD: connection refused; asking the next" \
	"  with a warning naming it"
like "$(cat "$SCRATCH/dead.err")" "tracker $T2_ADDR answered" "  and -v names the one that answered"
t0=$(date +%s%N)
ask mute -v --timeout 1 -t "$MUTE_ADDR" -t "$T1_ADDR" query "$SONG"
t1=$(date +%s%N)
is "$RC:$(cat "$SCRATCH/mute.out")" "0:127.0.0.1:9001" "a tracker that never answers hands over after --timeout"
like "$(cat "$SCRATCH/mute.err")" "tracker $MUTE_ADDR: no reply" "  saying it did not answer"
diag "silent tracker, then an answer: $(((t1 - t0) / 1000000)) ms with --timeout 1"
ask busy -t "$FULL_ADDR" -t "$T1_ADDR" list
is "$RC:$(cat "$SCRATCH/busy.out")" "0:$(printf '%s\t1' "$SONG")" "ERR 503 hands over to the next"
like "$(cat "$SCRATCH/busy.err")" "tracker $FULL_ADDR answered ERR 503 busy" "  naming the refusal"
ask bad -t "$BAD_ADDR" -t "$T2_ADDR" query "$SONG"
is "$RC:$(cat "$SCRATCH/bad.out")" "0:127.0.0.1:9002" "a reply that breaks the protocol hands over to the next"
ask empty -v -t "$T1_ADDR" -t "$T2_ADDR" query "Only On Two"
is "$RC:$(cat "$SCRATCH/empty.out")" "0:127.0.0.1:9002" \
	"a tracker that knows no peer for the song hands over to the next"
ask none -t "$T1_ADDR" -t "$DEAD" query "Nobody Has It"
is "$RC" 1 "no tracker names a peer, one answered: exit 1, not 3"
like "$(cat "$SCRATCH/none.err")" "no peer holds 'Nobody Has It'" "  the song is unknown"

# every tracker failed
ask all -t "$DEAD" -t "$FULL_ADDR" -t "$BAD_ADDR" --timeout 1 query "$SONG"
is "$RC" 3 "query exits 3 when every tracker failed"
err=$(cat "$SCRATCH/all.err")
like "$err" "error: no tracker answered: .*$DEAD.*; .*$FULL_ADDR.*; .*$BAD_ADDR" \
	"  and the error names each tracker"
ask alllist -t "$DEAD,$FULL_ADDR" list
is "$RC" 3 "list exits 3 when every tracker failed"
ask allfetch -t "$DEAD" -t "$FULL_ADDR" fetch -o "$SCRATCH/nothing" "$SONG"
is "$RC" 3 "fetch exits 3 when every tracker failed"
ok "  and creates no output directory" test ! -e "$SCRATCH/nothing"

# usage errors
ask u1 -t "$T1_ADDR,,$T2_ADDR" list
is "$RC" 2 "an empty item in the list is a usage error"
like "$(cat "$SCRATCH/u1.err")" "-t wants HOST:PORT\[,HOST:PORT...\], not" "  saying what -t wants"
many=$(seq -f '127.0.0.1:%.0f' 1 17 | paste -sd, -)
ask u2 -t "$many" list
is "$RC" 2 "more than 16 trackers is a usage error"
P2P_MUSIC_TRACKER="$T1_ADDR," ask u3 list
is "$RC" 2 "a trailing comma in P2P_MUSIC_TRACKER is a usage error"

kill -CONT "$MUTE_PID"
exec 4>&-

# a peer with two trackers, one of them down
start_daemon P peer -l 127.0.0.1:0 -t "$T1_ADDR" -t "$DEAD" -t "$T2_ADDR" --renew 1 \
	-c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
ok "a peer given three trackers registers with the first" \
	wait_for_line "$SCRATCH/P.err" "registered 1 song\(s\) with tracker $T1_ADDR" 30
ok "  and with the third, past the one that is down" \
	wait_for_line "$SCRATCH/P.err" "registered 1 song\(s\) with tracker $T2_ADDR" 5
like "$(client -t "$T1_ADDR" query "$SONG" | sort | tr '\n' ' ')" "$P_ADDR" "  T1 lists it"
like "$(client -t "$T2_ADDR" query "$SONG" | sort | tr '\n' ' ')" "$P_ADDR" "  T2 lists it"
t0=$(date +%s%N)
ok "the peer stops with status 0" stop_daemon P
t1=$(date +%s%N)
diag "peer stopped in $(((t1 - t0) / 1000000)) ms"
ok "  unregistered from the first tracker" grep -q "unregistered $P_ADDR from tracker $T1_ADDR" "$SCRATCH/P.err"
ok "  and from the third" grep -q "unregistered $P_ADDR from tracker $T2_ADDR" "$SCRATCH/P.err"
is "$(request "$T1_ADDR" "QUERY $(encode_name "$SONG")")" "PEERS 127.0.0.1:9001" "  T1 no longer lists it"
is "$(request "$T2_ADDR" "QUERY $(encode_name "$SONG")")" "PEERS 127.0.0.1:9002" "  nor does T2"
ok "no sanitizer reports" check_sanitizers
done_testing

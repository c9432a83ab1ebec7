#!/usr/bin/env bash
# Concurrency under ThreadSanitizer: many clients against one tracker,
# REGISTER storms while QUERY and LIST run, fetches while their sources
# die, SIGHUP rescans of a peer while it serves, and shutdown under load.
# Run by `make tsan-test` with P2PM_BIN pointing at build/tsan/bin; every
# daemon and client must finish without a ThreadSanitizer report.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-peer.sh"
. "$(dirname "$0")/../lib-client.sh"

# a report stops the program at once with exit status 66
: "${TSAN_OPTIONS:=halt_on_error=1:exitcode=66:second_deadlock_stack=1}"
# races known to be benign, each with a comment saying why
if [ -f "$TEST_DIR/suppressions" ]; then
	TSAN_OPTIONS="$TSAN_OPTIONS:suppressions=$TEST_DIR/suppressions"
fi
export TSAN_OPTIONS
# clients several at a time
: "${TSAN_CLIENTS:=16}"

music=$SCRATCH/music
mkdir -p "$music"
make_mp3 "$music/Blue.mp3" 8 440 || exit 1
make_mp3 "$music/Red.mp3" 6 550 || exit 1
make_mp3 "$SCRATCH/green.mp3" 5 660 || exit 1

# no_tsan_report : no log of this script shows a ThreadSanitizer report
no_tsan_report() {
	! grep -l 'WARNING: ThreadSanitizer\|ThreadSanitizer: ' "$SCRATCH"/*.err "$SCRATCH"/c/*.err 2>/dev/null
}
# all_zero FILE... : every FILE holds the exit status 0
all_zero() {
	local f
	for f in "$@"; do
		[ "$(cat "$f" 2>/dev/null)" = 0 ] || { diag "$f: status '$(cat "$f" 2>/dev/null)'"; return 1; }
	done
}
# run_client TAG ARGS... : the client in the background; its stdout,
# stderr and exit status go to $SCRATCH/c/TAG.{out,err,rc}
mkdir -p "$SCRATCH/c"
CLIENT_JOBS=""
run_client() {
	local tag=$1
	shift
	( rc=0; client "$@" >"$SCRATCH/c/$tag.out" 2>"$SCRATCH/c/$tag.err" || rc=$?
	  echo "$rc" >"$SCRATCH/c/$tag.rc" ) &
	CLIENT_JOBS="$CLIENT_JOBS $!"
}
wait_clients() {
	local pid
	for pid in $CLIENT_JOBS; do
		wait "$pid"
	done
	CLIENT_JOBS=""
}

start_daemon T tracker -l 127.0.0.1:0 --ttl 30 || exit 1
start_daemon A peer -l 127.0.0.1:0 -t "$T_ADDR" --renew 1 -c "$SCRATCH/cache-a" \
	-L "$music" "Green=$SCRATCH/green.mp3" || exit 1
start_daemon B peer -l 127.0.0.1:0 -t "$T_ADDR" --renew 1 -c "$SCRATCH/cache-b" \
	-L "$music" "Green=$SCRATCH/green.mp3" || exit 1
start_daemon C peer -l 127.0.0.1:0 -t "$T_ADDR" --renew 1 -c "$SCRATCH/cache-c" \
	-L "$music" "Green=$SCRATCH/green.mp3" || exit 1
for s in Blue Red Green; do
	ok "three peers register '$s'" wait_for_registered "$T_ADDR" "$s" 3
done
fetch_song "$A_ADDR" Blue "$SCRATCH/blue-src" || exit 1
fetch_song "$A_ADDR" Red "$SCRATCH/red-src" || exit 1

# 1. REGISTER storms from many fake peers while clients QUERY and LIST
storm() {
	local i p=$1
	for i in $(seq 1 25); do
		{ printf 'REGISTER 127.0.0.1:%d\n' $((30000 + p))
		  seq -f "storm$p-%.0f" 1 $((i * 40)); printf 'Blue\n\n'
		  if [ $((i % 5)) = 0 ]; then printf 'UNREGISTER 127.0.0.1:%d\n' $((30000 + p)); fi
		  printf 'QUIT\n'; } | talk "$T_ADDR" 20 >>"$SCRATCH/storm$p.out"
	done
}
storm_pids=""
for p in $(seq 1 8); do
	storm "$p" &
	storm_pids="$storm_pids $!"
done
for i in $(seq 1 "$TSAN_CLIENTS"); do
	run_client "q$i" -t "$T_ADDR" query Blue
	run_client "l$i" -t "$T_ADDR" list storm
done
wait_clients
for i in $(seq 1 "$TSAN_CLIENTS"); do
	run_client "q2-$i" -t "$T_ADDR" query Red
	run_client "l2-$i" -t "$T_ADDR" list
done
wait_clients
for p in $storm_pids; do
	wait "$p"
done
is "$(cat "$SCRATCH"/storm*.out | sort -u)" OK "every REGISTER and UNREGISTER of the storm answers OK"
ok "every QUERY and LIST during the storm exits 0" all_zero "$SCRATCH"/c/[ql]*.rc
ok "every QUERY names the peers of Blue" \
	bash -c 'for f in "$@"; do grep -qx "$0" "$f" || exit 1; done' "$A_ADDR" "$SCRATCH"/c/q[0-9]*.out
like "$(request "$T_ADDR" STATS)" "^STATS peers=[0-9]+ " "the tracker answers STATS after the storm"

# 2. many fetches through the tracker, several in a row by each client,
# while two of the three sources die (one killed, still registered)
: "${TSAN_ROUNDS:=5}"
fetch_rounds() {
	local i=$1 r
	for r in $(seq 1 "$TSAN_ROUNDS"); do
		client -t "$T_ADDR" --timeout 10 fetch -o "$SCRATCH/got/f$i-$r" Blue || return
	done
}
mkdir -p "$SCRATCH/got"
for i in $(seq 1 "$TSAN_CLIENTS"); do
	( rc=0; fetch_rounds "$i" >"$SCRATCH/c/f$i.out" 2>"$SCRATCH/c/f$i.err" || rc=$?
	  echo "$rc" >"$SCRATCH/c/f$i.rc" ) &
	CLIENT_JOBS="$CLIENT_JOBS $!"
done
sleep 0.5
kill -KILL "$C_PID"
wait "$C_PID" 2>/dev/null
DAEMONS=$(echo "$DAEMONS" | tr ' ' '\n' | grep -vx "$C_PID" | tr '\n' ' ')
sleep 0.5
ok "a peer stops on SIGTERM while serving fetches" stop_daemon B
wait_clients
ok "every fetch exits 0 although its sources died" all_zero "$SCRATCH"/c/f*.rc
same() {
	local d n=0
	for d in "$SCRATCH"/got/f*; do
		concat_segments "$d" | cmp -s - <(concat_segments "$SCRATCH/blue-src") || return 1
		cmp -s "$d/index.m3u8" "$SCRATCH/blue-src/index.m3u8" || return 1
		n=$((n + 1))
	done
	[ "$n" -eq $((TSAN_CLIENTS * TSAN_ROUNDS)) ]
}
ok "every fetch is byte-identical to what the peers serve" same

# 3. SIGHUP rescans of a peer while it serves cat to many clients, from
# its cache and from a song directory it shares in place
mkdir "$SCRATCH/bluedir"
for f in index.m3u8 $(segments_of "$SCRATCH/blue-src"); do
	cp "$SCRATCH/blue-src/$f" "$SCRATCH/bluedir/"
done
printf 'Blue Dir\n' >"$SCRATCH/bluedir/song.name"
mv "$SCRATCH/bluedir" "$music/bluedir"
kill -HUP "$A_PID"
ok "the peer shares a song directory added to its library" wait_for_served "$A_ADDR" "Blue Dir" 30
for i in $(seq 1 "$TSAN_CLIENTS"); do
	run_client "h$i" --timeout 10 -p "$A_ADDR" cat Red
	run_client "hd$i" --timeout 10 -p "$A_ADDR" cat "Blue Dir"
done
for _ in $(seq 1 10); do
	kill -HUP "$A_PID"
	sleep 0.3
done
wait_clients
ok "every cat during the rescans exits 0" all_zero "$SCRATCH"/c/h*.rc
cat_same() {
	local i
	for i in $(seq 1 "$TSAN_CLIENTS"); do
		cmp -s "$SCRATCH/c/h$i.out" <(concat_segments "$SCRATCH/red-src") || return 1
		cmp -s "$SCRATCH/c/hd$i.out" <(concat_segments "$SCRATCH/blue-src") || return 1
	done
}
ok "every cat during the rescans writes the exact stream" cat_same
ok "the peer logged its rescans" wait_for_log A 'SIGHUP: reading the library again' 10 10
ok "the peer still serves Red after the rescans" wait_for_served "$A_ADDR" Red 30

# 4. shutdown under load: the tracker and the last peer are stopped while
# clients are in the middle of their requests
start_daemon D peer -l 127.0.0.1:0 -t "$T_ADDR" --renew 1 -c "$SCRATCH/cache-a" \
	-L "$music" || exit 1
ok "a restarted peer serves from the cache" wait_for_served "$D_ADDR" Blue 30
for i in $(seq 1 "$TSAN_CLIENTS"); do
	run_client "s$i" --timeout 5 -p "$D_ADDR" cat Blue
	run_client "t$i" -t "$T_ADDR" list
done
( for _ in $(seq 1 30); do printf 'LIST\nQUERY Blue\n'; done; sleep 5 ) |
	talk "$T_ADDR" 10 >/dev/null 2>&1 &
load=$!
sleep 0.3
ok "the tracker exits 0 on SIGTERM under load" stop_daemon T
ok "the peer exits 0 on SIGTERM while serving" stop_daemon D
ok "the first peer exits 0 on SIGTERM" stop_daemon A
wait_clients
wait "$load" 2>/dev/null
ok "no client was stopped by a ThreadSanitizer report (status 66)" \
	bash -c '! grep -qx 66 "$@"' _ "$SCRATCH"/c/*.rc
ok "no daemon or client logged a ThreadSanitizer report" no_tsan_report
done_testing

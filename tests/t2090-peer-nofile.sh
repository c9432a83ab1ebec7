#!/usr/bin/env bash
# The peer under a low open-file limit: --max-conns is lowered to fit it
# with one log line, connections past that get ERR 503 busy, and the peer
# keeps renewing its registration and serving.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"

SLOW=$P2PM_TOOLS/slowloris
[ -x "$SLOW" ] || bail_out "no $SLOW (make check-build builds it)"

make_mp3 "$SCRATCH/tone.mp3" 3 440 || exit 1
# the peer run under ulimit -n 96 (soft and hard): (96 - 32 kept) / 2 a
# connection (its socket and a segment file) = 32 connections
mkdir "$SCRATCH/lowfd"
cat >"$SCRATCH/lowfd/peer" <<EOS || exit 1
#!/bin/sh
ulimit -n 96 || exit 1
exec "$P2PM_BIN/peer" "\$@"
EOS
chmod +x "$SCRATCH/lowfd/peer"

start_daemon T tracker -l 127.0.0.1:0 || exit 1
P2PM_BIN=$SCRATCH/lowfd start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" \
	-c "$SCRATCH/cache" --renew 1 --max-conns 1000 --line-timeout 2 \
	"Tone=$SCRATCH/tone.mp3" || exit 1
like "$(cat "$SCRATCH/P.err")" \
	"--max-conns 1000 is more than the open-file limit \(96\) allows: at most 32 connections" \
	"--max-conns is lowered to the open-file limit, with one log line"
ok "the song is registered" wait_for_log T "REGISTER $P_ADDR: 1 song"

# 100 connections at once (loopback: no per-source limit), more than the
# open-file limit would allow, held 2 s
: >"$SCRATCH/slow.out"
"$SLOW" "$P_ADDR" 100 300 4 >"$SCRATCH/slow.out" &
SLOW_PID=$!
wait_for_line "$SCRATCH/slow.out" '^holding 100$' 5 || bail_out "the flood did not start"
is "$(request "$P_ADDR" PING)" "ERR 503 busy" "a connection past the lowered cap gets ERR 503 busy"
before=$(grep -c "REGISTER $P_ADDR" "$SCRATCH/T.err")
ok "the peer keeps renewing during the flood" \
	wait_for_log T "REGISTER $P_ADDR" 3 $((before + 1))
wait "$SLOW_PID"
read -r _ made _ refused _ cut _ open _ < <(tail -n 1 "$SCRATCH/slow.out")
is "$made $refused $cut $open" "100 68 32 0" "32 connections were let in, 68 refused"
is "$(grep -c 'Too many open files' "$SCRATCH/P.err")" 0 "accept never ran out of descriptors"
is "$(request "$P_ADDR" PING)" PONG "the peer serves once the flood is over"

ok "peer exits 0 on SIGTERM" stop_daemon P
ok "tracker exits 0 on SIGTERM" stop_daemon T
ok "no sanitizer report" check_sanitizers
done_testing

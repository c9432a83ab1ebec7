#!/usr/bin/env bash
# The peer under sockets dripping a byte at a time: one source gets no more
# than its share of the connection slots, what it holds is cut at the line
# deadline, and an honest client fetches a song meanwhile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"
. "$(dirname "$0")/lib-client.sh"

SLOW=$P2PM_TOOLS/slowloris
[ -x "$SLOW" ] || bail_out "no $SLOW (make check-build builds it)"

make_mp3 "$SCRATCH/tone.mp3" 6 440 || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" --renew 1 \
	--max-conns 8 --limit-loopback --max-conns-per-source 4 --line-timeout 2 \
	"Tone=$SCRATCH/tone.mp3" || exit 1
ok "the song is registered" wait_for_registered "$T_ADDR" Tone 1

: >"$SCRATCH/slow.out"
"$SLOW" -s 127.0.0.2 "$P_ADDR" 40 300 5 >"$SCRATCH/slow.out" &
SLOW_PID=$!
wait_for_line "$SCRATCH/slow.out" '^holding 40$' 5 || bail_out "the attack did not start"

out=$(client -t "$T_ADDR" --timeout 5 fetch -o "$SCRATCH/got" Tone 2>&1)
is "$?" 0 "an honest fetch during the attack succeeds"
ok "and writes the song" test -s "$SCRATCH/got/index.m3u8"
[ -s "$SCRATCH/got/index.m3u8" ] || diag "$out"

wait "$SLOW_PID"
read -r _ made _ refused _ cut _ open _ first _ last < <(tail -n 1 "$SCRATCH/slow.out")
is "$made $refused $cut $open" "40 36 4 0" \
	"of 40 sockets from one source, 36 were refused and the 4 let in were cut"
ok "at the line deadline, 2 s after their first byte (${first}-${last} ms)" \
	[ "$first" -ge 2200 -a "$last" -le 4500 ]
like "$(cat "$SCRATCH/P.err")" "request line not complete 2 s after its first byte" \
	"the cut is logged"
is "$(request "$P_ADDR" PING)" PONG "the peer serves again once they are gone"

ok "peer exits 0 on SIGTERM" stop_daemon P
ok "tracker exits 0 on SIGTERM" stop_daemon T
ok "no sanitizer report" check_sanitizers
done_testing

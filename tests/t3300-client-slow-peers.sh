#!/usr/bin/env bash
# A peer that drips its body byte by byte is given up, and an interrupt
# ends the client at once even while it waits on such a peer.
. "$(dirname "$0")/lib.sh"

[ -x "$P2PM_TOOLS/drip" ] || skip_all "build/san/tools/drip is missing (make check-build)"

# 20000 bytes, one every 200 ms: over an hour for the whole body
P2PM_BIN=$P2PM_TOOLS start_daemon D drip 20000 200 || exit 1

t0=$(date +%s)
"$P2PM_BIN/client" -q --timeout 1 -p "$D_ADDR" cat Slow >"$SCRATCH/out" 2>"$SCRATCH/slow.err"
rc=$?
elapsed=$(( $(date +%s) - t0 ))
is "$rc" "1" "a peer dripping its playlist makes the client fail (exit 1)"
like "$(cat "$SCRATCH/slow.err")" "peer $D_ADDR: too slow: " "naming the peer and why"
ok "after about --timeout plus the body at 16 KiB/s, not an hour (${elapsed}s)" \
	test "$elapsed" -lt 30
is "$(wc -c <"$SCRATCH/out")" "0" "nothing was written to stdout"

"$P2PM_BIN/client" -q --timeout 60 -p "$D_ADDR" cat Slow >/dev/null 2>"$SCRATCH/int.err" &
client_pid=$!
sleep 1
t0=$(date +%s)
kill -INT "$client_pid"
rc=0
wait "$client_pid" || rc=$?
elapsed=$(( $(date +%s) - t0 ))
is "$rc" "130" "SIGINT while waiting on a slow peer exits 130"
ok "at once, not after the 60 s timeout (${elapsed}s)" test "$elapsed" -lt 10

ok "the client logged no sanitizer report" check_sanitizers
done_testing

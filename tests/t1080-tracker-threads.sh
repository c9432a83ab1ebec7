#!/usr/bin/env bash
# Connection threads are reused: one connection after another runs on the
# same few threads, and no more than SERVER_THREAD_CACHE (64) threads stay
# waiting once a crowd of connections has gone.
. "$(dirname "$0")/lib.sh"

LOAD=$P2PM_TOOLS/loadgen
SLOW=$P2PM_TOOLS/slowloris
for tool in "$LOAD" "$SLOW"; do
	[ -x "$tool" ] || bail_out "no $tool (make check-build builds it)"
done

start_daemon T tracker -l 127.0.0.1:0 --line-timeout 1 || exit 1
port=${T_ADDR##*:}
threads() { awk '/^Threads:/ { print $2 }' "/proc/$T_PID/status"; }
# the threads that are not connection threads: all but the one that
# waits in accept from the start
base=$(( $(threads) - 1 ))

out=$("$LOAD" "$port" conn 1 30 300 PING)
like "$out" "^requests 300 .* errors 0 " "300 connections one after another are served"
ok "on at most 8 connection threads ($(( $(threads) - base )))" \
	[ $(( $(threads) - base )) -le 8 ]

# 100 at once, cut at the line deadline
"$SLOW" "$T_ADDR" 100 300 4 >"$SCRATCH/slow.out" || exit 1
is "$(tail -n 1 "$SCRATCH/slow.out" | awk '{ print $2, $6 }')" "100 100" \
	"100 connections at once were served and cut"
sleep 0.3
is "$(( $(threads) - base ))" 64 "then 64 threads stay waiting, and the others end"
out=$("$LOAD" "$port" persist 8 30 2000 PING)
like "$out" "^requests 2000 .* errors 0 " "the waiting threads serve new connections"
is "$(( $(threads) - base ))" 64 "without new threads"
# a request and QUIT in one write: the reply, then the server's close
out=$("$LOAD" "$port" once 8 30 400 PING)
like "$out" "^requests 400 .* errors 0 " \
	"a request with QUIT after it in one write is answered, then the server closes"
is "$(( $(threads) - base ))" 64 "still without new threads"

ok "tracker exits 0 on SIGTERM" stop_daemon T
ok "tracker logged no sanitizer report" check_sanitizers
done_testing

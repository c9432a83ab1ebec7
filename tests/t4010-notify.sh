#!/usr/bin/env bash
# Type=notify: run with $NOTIFY_SOCKET, the tracker, the peer and client
# serve each tell the service manager READY=1, with their address as
# STATUS, once they listen; without it they run as before.
. "$(dirname "$0")/lib.sh"

recv=$P2PM_TOOLS/notifyrecv
[ -x "$recv" ] || bail_out "no $recv (make check-build builds it)"

# notified NAME PROGRAM ARGS... : starts PROGRAM as daemon NAME with
# NOTIFY_SOCKET pointing at a notifyrecv of its own; the datagram it gets
# lands in $SCRATCH/NAME.notify.
notified() {
	local name=$1 sock=$SCRATCH/$1.sock _ pid
	shift
	"$recv" "$sock" 20 1 >"$SCRATCH/$name.notify" &
	pid=$!
	DAEMONS="$DAEMONS $pid"
	for _ in $(seq 1 100); do
		grep -q bound "$SCRATCH/$name.notify" 2>/dev/null && break
		sleep 0.05
	done
	NOTIFY_SOCKET=$sock start_daemon "$name" "$@" || return 1
	# notifyrecv ends after its one datagram (or its 20 s)
	wait "$pid"
	DAEMONS=$(echo "$DAEMONS" | tr ' ' '\n' | grep -vx "$pid" | tr '\n' ' ')
	grep -q 'READY=1' "$SCRATCH/$name.notify"
}

ok "the tracker notifies READY=1 when it listens" notified T tracker -l 127.0.0.1:0
like "$(cat "$SCRATCH/T.notify")" "STATUS=listening on $T_ADDR" "  with its address as STATUS"
ok "the peer notifies READY=1" notified P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache"
like "$(cat "$SCRATCH/P.notify")" "STATUS=listening on $P_ADDR" "  with its address"
ok "client serve notifies READY=1" notified G client -t "$T_ADDR" serve -l 127.0.0.1:0
like "$(cat "$SCRATCH/G.notify")" "STATUS=listening on $G_ADDR" "  with its address"

NOTIFY_SOCKET=relative start_daemon R tracker -l 127.0.0.1:0
is "$?" 0 "a bad NOTIFY_SOCKET does not stop a daemon"
like "$(cat "$SCRATCH/R.err")" "NOTIFY_SOCKET is neither" "  which says what is wrong with it"

for d in T P G R; do
	ok "daemon $d stops on SIGTERM with status 0" stop_daemon "$d"
done
ok "no sanitizer reports" check_sanitizers
done_testing

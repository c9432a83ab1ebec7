#!/usr/bin/env bash
# Deadlines a trickle cannot stretch, and the per-source connection limit:
# sockets dripping a byte at a time are cut at the line deadline or below
# the body rate, and one source cannot take the connection slots of others.
. "$(dirname "$0")/lib.sh"

SLOW=$P2PM_TOOLS/slowloris
[ -x "$SLOW" ] || bail_out "no $SLOW (make check-build builds it)"

# between LOW HIGH MIN MAX : MIN <= LOW and HIGH <= MAX (integers)
between() {
	[ "$1" -ge "$3" ] && [ "$2" -le "$4" ]
}

# A: loopback exempt (the default), 8 slots, lines due 2 s after their
# first byte, 1 s of silence ends a connection
start_daemon A tracker -l 127.0.0.1:0 --max-conns 8 --line-timeout 2 \
	--idle-timeout 1 || exit 1
# B: loopback counted per address, 4 connections per source of 16 slots
start_daemon B tracker -l 127.0.0.1:0 --max-conns 16 --limit-loopback \
	--max-conns-per-source 4 --line-timeout 2 || exit 1
printf 'REGISTER 127.0.0.1:6000\nKeep\n\nQUIT\n' | talk "$B_ADDR" >/dev/null

# the attacks, at once: a byte every 300 ms on each socket, for 5 s
: >"$SCRATCH/slow-a.out" && : >"$SCRATCH/slow-b.out" && : >"$SCRATCH/slow-body.out"
"$SLOW" -s 127.0.0.2 "$A_ADDR" 8 300 5 >"$SCRATCH/slow-a.out" &
SLOW_A=$!
"$SLOW" -s 127.0.0.2 "$B_ADDR" 40 300 5 >"$SCRATCH/slow-b.out" &
SLOW_B=$!
# a REGISTER whose body lines come whole, at 5 bytes a second
"$SLOW" -s 127.0.0.3 -p 'REGISTER 127.0.0.1:6001\n' -e 3 "$B_ADDR" 1 200 6 \
	>"$SCRATCH/slow-body.out" &
SLOW_BODY=$!
for f in slow-a:8 slow-b:40 slow-body:1; do
	wait_for_line "$SCRATCH/${f%:*}.out" "^holding ${f#*:}\$" 5 ||
		bail_out "the attack did not start"
done

# --- during the attack
is "$(request "$A_ADDR" PING)" "ERR 503 busy" \
	"eight dripping sockets hold all eight slots of a tracker for now"
is "$("$P2PM_BIN/client" -t "$B_ADDR" --timeout 3 query Keep 2>&1)" "127.0.0.1:6000" \
	"with the per-source limit, an honest client query is served during the attack"
out=$(printf 'REGISTER 127.0.0.1:6002\nOther\n\nQUIT\n' | talk "$B_ADDR")
is "$out" "OK" "and an honest REGISTER too"

# --- once the line deadline passed (first byte at 0.3 s, due by 2.3 s)
sleep 2.5
is "$(request "$A_ADDR" PING)" "PONG" \
	"the dripping sockets are cut at the line deadline, and the slots are free"
wait "$SLOW_A" "$SLOW_B" "$SLOW_BODY"
read -r _ made _ refused _ cut _ open _ first _ last < <(tail -n 1 "$SCRATCH/slow-a.out")
is "$made $refused $cut $open" "8 0 8 0" "all eight drippers were cut, none refused"
ok "they were cut 2 s after their first byte (${first}-${last} ms after connecting), \
not kept by each byte" between "$first" "$last" 2200 4500
like "$(cat "$SCRATCH/A.err")" "request line not complete 2 s after its first byte" \
	"the cut is logged"

read -r _ made _ refused _ cut _ open _ first _ last < <(tail -n 1 "$SCRATCH/slow-b.out")
is "$made $refused $cut $open" "40 36 4 0" \
	"of 40 sockets from one source, 36 were refused and the 4 let in were cut"
like "$(cat "$SCRATCH/B.err")" "127\.0\.0\.2: per-source connection limit \(4\) reached" \
	"the refusal is logged"
ok "once, not once per refused connection (and once more with the count)" \
	test "$(grep -c 'per-source connection limit' "$SCRATCH/B.err")" -le 2

read -r _ made _ refused _ cut _ open _ first _ last < <(tail -n 1 "$SCRATCH/slow-body.out")
is "$made $refused $cut $open" "1 0 1 0" "a REGISTER body dripped below the rate floor is cut"
ok "after the grace of 3 s (${first} ms), though each of its lines came in time" \
	between "$first" "$first" 3000 5500
like "$(cat "$SCRATCH/B.err")" "request body not finished: below 16384 bytes/s" \
	"the cut is logged"
is "$(request "$B_ADDR" "QUERY bcd")" "PEERS" "and nothing of that body was registered"
is "$(request "$B_ADDR" "QUERY Keep")" "PEERS 127.0.0.1:6000" "the registry is as it was"

# --- the idle timeout between requests
exec 5<>"/dev/tcp/${A_ADDR%:*}/${A_ADDR##*:}"
printf 'PING\n' >&5
read -r -t 3 r <&5
is "$r" PONG "a connection is served"
t0=$(date +%s%N)
read -r -t 5 r <&5
rc=$?
t1=$(date +%s%N)
exec 5>&-
ok "and closed after --idle-timeout 1 of silence ($(( (t1 - t0) / 1000000 )) ms)" \
	between "$rc" $(( (t1 - t0) / 1000000 )) 1 3000

ok "tracker A exits 0 on SIGTERM" stop_daemon A
ok "tracker B exits 0 on SIGTERM" stop_daemon B
is "$(log_told "$SCRATCH/B.err" "per-source connection limit")" 36 \
	"  its lines count every refused connection (36)"
ok "tracker logged no sanitizer report" check_sanitizers
done_testing

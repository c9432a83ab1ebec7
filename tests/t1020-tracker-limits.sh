#!/usr/bin/env bash
# Leases, the connection cap and the REGISTER song limit.
. "$(dirname "$0")/lib.sh"

start_daemon T tracker -l 127.0.0.1:0 --ttl 2 --max-conns 3 || exit 1
host=${T_ADDR%:*}
port=${T_ADDR##*:}

# --- leases
printf 'REGISTER 127.0.0.1:6100\nShort\n\nQUIT\n' | talk "$T_ADDR" >/dev/null
is "$(request "$T_ADDR" "QUERY Short")" "PEERS 127.0.0.1:6100" "a fresh registration is visible"
sleep 1.2
printf 'REGISTER 127.0.0.1:6100\nShort\n\nQUIT\n' | talk "$T_ADDR" >/dev/null
sleep 1.2
is "$(request "$T_ADDR" "QUERY Short")" "PEERS 127.0.0.1:6100" "a renewed lease outlives the first ttl"
sleep 1.2
is "$(request "$T_ADDR" "QUERY Short")" "PEERS" "an expired peer is gone from QUERY"
is "$(request "$T_ADDR" "LIST")" "SONGS 0" "and from LIST"
like "$(request "$T_ADDR" "STATS")" "peers=0 songs=0 pairs=0" "and from STATS"

# --- connection cap: three held open, the fourth is refused
for fd in 5 6 7; do
	eval "exec $fd<>/dev/tcp/$host/$port"
	printf 'PING\n' >&"$fd"
	read -r -t 5 r <&"$fd"
	is "$r" "PONG" "connection on fd $fd within the cap is served"
done
is "$(request "$T_ADDR" PING)" "ERR 503 busy" "a connection past --max-conns gets ERR 503 busy"
printf 'PING\n' >&5
read -r -t 5 r <&5
is "$r" "PONG" "the connections already open keep being served"
exec 5>&- 6>&- 7>&-
sleep 0.3
is "$(request "$T_ADDR" PING)" "PONG" "once they close, new connections are served again"
like "$(cat "$SCRATCH/T.err")" "connection limit \(3\) reached" "the refusal is logged"

ok "tracker exits 0 on SIGTERM" stop_daemon T

# --- PROTO_MAX_SONGS (100000) per REGISTER, on a tracker with the default ttl
start_daemon T tracker -l 127.0.0.1:0 || exit 1
max=100000
{ echo "REGISTER 127.0.0.1:6200"; seq -f 'song%.0f' 1 "$max"; echo; echo QUIT; } |
	talk "$T_ADDR" 30 >"$SCRATCH/reg-max.out"
is "$(cat "$SCRATCH/reg-max.out")" "OK" "a REGISTER of exactly 100000 songs answers OK"
is "$(request "$T_ADDR" "QUERY song100000")" "PEERS 127.0.0.1:6200" "and its last song is found"
{ echo "REGISTER 127.0.0.1:6200"; seq -f 'other%.0f' 1 $((max + 1)); echo; echo QUIT; } |
	talk "$T_ADDR" 30 >"$SCRATCH/reg-over.out"
is "$(cat "$SCRATCH/reg-over.out")" "ERR 413 too many songs" "100001 songs get ERR 413"
is "$(request "$T_ADDR" "QUERY song1")" "PEERS 127.0.0.1:6200" "and the peer keeps its previous songs"
is "$(request "$T_ADDR" "QUERY other1")" "PEERS" "none of the refused songs were added"

ok "tracker exits 0 on SIGTERM" stop_daemon T

# --- --max-peers and --max-pairs
start_daemon T tracker -l 127.0.0.1:0 --max-peers 2 --max-pairs 3 || exit 1
printf 'REGISTER 127.0.0.1:7001\nA\nB\n\nREGISTER 127.0.0.1:7002\nA\n\nQUIT\n' | talk "$T_ADDR" >/dev/null
out=$(printf 'REGISTER 127.0.0.1:7003\nC\n\nPING\nQUIT\n' | talk "$T_ADDR")
is "$out" "$(printf 'ERR 503 registry full\nPONG')" \
	"a peer past --max-peers gets ERR 503 registry full, and the connection goes on"
out=$(printf 'REGISTER 127.0.0.1:7002\nA\nB\n\nQUIT\n' | talk "$T_ADDR")
is "$out" "ERR 503 registry full" "a REGISTER past --max-pairs is refused too"
is "$(request "$T_ADDR" "LIST")" "$(printf 'SONGS 2\nA 2\nB 1')" "and the registry is as it was"
like "$(cat "$SCRATCH/T.err")" "registry full, refused" "the refusal is logged"

# --- a REGISTER flood is logged a line a second, with the count folded
flood=2000
t0=$(date +%s%3N)
{
	for i in $(seq 1 "$flood"); do printf 'REGISTER 127.0.0.1:%d\nC\n\n' $((8000 + i % 1000)); done
	echo QUIT
} | talk "$T_ADDR" 60 >"$SCRATCH/flood.out"
t1=$(date +%s%3N)
is "$(grep -c '^ERR 503 registry full$' "$SCRATCH/flood.out")" "$flood" \
	"each of $flood REGISTERs past --max-peers gets ERR 503 registry full"
lines=$(grep -c "registry full, refused" "$SCRATCH/T.err")
ok "the tracker logs them a line a second at most ($lines lines in $((t1 - t0)) ms)" \
	test "$lines" -le $(((t1 - t0) / 1000 + 3))
ok "tracker exits 0 on SIGTERM" stop_daemon T
is "$(log_told "$SCRATCH/T.err" "registry full, refused")" $((flood + 2)) \
	"every refusal is counted in some line, the last ones when the tracker stops"
like "$(cat "$SCRATCH/T.err")" "registry full, refused \(and [0-9]+ more like it since the last such line\)|repeated [0-9]+ more time" \
	"a line says how many were folded into it"

# --max-memory: the registry's bytes are counted; a REGISTER past them is refused
start_daemon T tracker -l 127.0.0.1:0 --max-memory 1 || exit 1
for p in $(seq 1 40); do
	{ echo "REGISTER 127.0.0.1:$((7100 + p))"; seq -f "p${p}song%.0f" 1 1000; echo; echo QUIT; } |
		talk "$T_ADDR" >>"$SCRATCH/mem.out"
done
fits=$(grep -c '^OK$' "$SCRATCH/mem.out" || true)
ok "a 1 MiB budget takes some peers of 1000 songs ($fits of 40)" test "$fits" -ge 2 -a "$fits" -lt 40
like "$(sort -u "$SCRATCH/mem.out" | tr '\n' ' ')" "ERR 503 registry full" "and refuses the rest with ERR 503 registry full"
stats=$(request "$T_ADDR" STATS)
like "$stats" "peers=$fits songs=$((fits * 1000)) pairs=$((fits * 1000)) " "the refused ones changed nothing"
mem=${stats#* memory=}
mem=${mem%% *}
ok "what STATS counts stays within the budget ($mem bytes)" test "$mem" -le 1048576
is "$(request "$T_ADDR" "UNREGISTER 127.0.0.1:7101")" "OK" "a peer leaves"
out=$(printf 'REGISTER 127.0.0.1:7199\n%s\n\nQUIT\n' "$(seq -f 'new%.0f' 1 1000)" | talk "$T_ADDR")
is "$out" "OK" "and its room takes another peer of 1000 songs"
ok "tracker exits 0 on SIGTERM" stop_daemon T

ok "tracker logged no sanitizer report" check_sanitizers
done_testing

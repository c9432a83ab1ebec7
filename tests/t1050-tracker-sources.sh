#!/usr/bin/env bash
# Registrations are bound to where they come from: host spellings are
# canonical (aliases are one peer), host names and the unspecified address
# become the source address, and one source address cannot fill the
# registry (--max-peers-per-source, --max-pairs-per-source). On one machine
# every 127.0.0.0/8 address is a source of its own; loopback sources are
# exempt from the limits unless --limit-loopback, and from ERR 403 always
# (the rule itself is unit-tested in test_source).
. "$(dirname "$0")/lib.sh"

talkfrom() { timeout 60 "$P2PM_TOOLS/talkfrom" "$@"; }

start_daemon T tracker -l 127.0.0.1:0 || exit 1

# --- finding: one stalling port under many spellings looked like many peers
printf 'REGISTER 127.0.0.1:6001\nHonest\n\nQUIT\n' | talk "$T_ADDR" >/dev/null
{
	for h in localhost LOCALHOST 127.1 2130706433 0x7f.1 127.0.0.01 0x7f000001 \
		'[::ffff:127.0.0.1]' '[0:0:0:0:0:ffff:7f00:1]' 0.0.0.0 '[::]'; do
		printf 'REGISTER %s:6002\nHonest\n\n' "$h"
	done
	echo QUIT
} | talk "$T_ADDR" >"$SCRATCH/alias.out"
is "$(sort -u "$SCRATCH/alias.out")" "OK" "eleven spellings of 127.0.0.1:6002 are accepted"
is "$(request "$T_ADDR" "QUERY Honest" | tr ' ' '\n' | sed 1d | sort | tr '\n' ' ')" \
	"127.0.0.1:6001 127.0.0.1:6002 " "and are one peer, recorded as 127.0.0.1:6002"
like "$(request "$T_ADDR" STATS)" "peers=2 songs=1 pairs=2 " "STATS counts two peers"
printf 'REGISTER [::1]:6003\nV6\n\nQUIT\n' | talk "$T_ADDR" >/dev/null
is "$(request "$T_ADDR" "LOCATE V6")" "$(printf 'SOURCES 1\n- [::1]:6003')" \
	"an IP literal other than the source is accepted from loopback (exempt)"
is "$(request "$T_ADDR" "UNREGISTER LOCALHOST:6002")" "OK" "UNREGISTER by an alias answers OK"
is "$(request "$T_ADDR" "QUERY Honest")" "PEERS 127.0.0.1:6001" "and removes the one peer behind it"

# a host name from another loopback address is recorded as that address
out=$(printf 'REGISTER peer.example:6004\nNamed\n\nQUIT\n' | talkfrom 127.0.0.5 "$T_ADDR")
is "$out" "OK" "a REGISTER of a host name answers OK"
is "$(request "$T_ADDR" "QUERY Named")" "PEERS 127.0.0.5:6004" \
	"and is recorded as the connection's source address"
ok "tracker exits 0 on SIGTERM" stop_daemon T

# --- finding: 10,000 pipelined REGISTERs from one source filled the registry
start_daemon T tracker -l 127.0.0.1:0 --limit-loopback --max-peers-per-source 5 \
	--max-pairs-per-source 100 || exit 1
awk 'BEGIN { for (i = 1; i <= 10000; i++) printf "REGISTER 127.0.0.2:%d\nFlood%d\n\n", 10000 + i, i; print "QUIT" }' \
	>"$SCRATCH/flood.in"
talkfrom 127.0.0.2 "$T_ADDR" <"$SCRATCH/flood.in" >"$SCRATCH/flood.out" &
flood=$!
# honest peers (other sources) register and are found while the flood runs
honest_ok=0
for i in 1 2 3 4 5; do
	printf 'REGISTER 127.0.0.3:%d\nSong%d\n\nQUIT\n' $((7000 + i)) "$i" | talkfrom 127.0.0.3 "$T_ADDR" >"$SCRATCH/h$i.out"
	[ "$(cat "$SCRATCH/h$i.out")" = OK ] && [ "$(request "$T_ADDR" "QUERY Song$i")" = "PEERS 127.0.0.3:$((7000 + i))" ] &&
		honest_ok=$((honest_ok + 1))
done
wait "$flood"
is "$honest_ok" "5" "honest peers register and are found during the flood"
is "$(grep -c '^OK$' "$SCRATCH/flood.out")" "5" "the flooding source registers its first 5 peers"
is "$(grep -c '^ERR 503 too many peers registered from this address$' "$SCRATCH/flood.out")" "9995" \
	"and every other of its 10,000 REGISTERs gets ERR 503"
like "$(request "$T_ADDR" STATS)" "peers=10 songs=10 pairs=10 " \
	"the registry holds the 5 honest peers and 5 of the flood, nothing more"
like "$(cat "$SCRATCH/T.err")" "too many peers from 127\.0\.0\.2, refused" "the refusal is logged"
out=$(printf 'REGISTER 127.0.0.4:8000\nA\n\nPING\nQUIT\n' | talkfrom 127.0.0.4 "$T_ADDR")
is "$out" "$(printf 'OK\nPONG')" "a newcomer from another address is still served"

# pairs: 100 from one source; the 101st is refused and nothing changes
{ echo "REGISTER 127.0.0.6:9000"; seq -f 'Many%.0f' 1 100; echo; echo QUIT; } |
	talkfrom 127.0.0.6 "$T_ADDR" >"$SCRATCH/pairs.out"
is "$(cat "$SCRATCH/pairs.out")" "OK" "a source may register 100 pairs (--max-pairs-per-source)"
{ echo "REGISTER 127.0.0.6:9001"; echo Extra; echo; echo QUIT; } |
	talkfrom 127.0.0.6 "$T_ADDR" >"$SCRATCH/pairs2.out"
is "$(cat "$SCRATCH/pairs2.out")" "ERR 503 too many songs registered from this address" \
	"a 101st pair from that source (on another peer) gets ERR 503"
is "$(request "$T_ADDR" "QUERY Extra")" "PEERS" "and is not registered"
{ echo "REGISTER 127.0.0.6:9000"; seq -f 'Other%.0f' 1 100; echo; echo QUIT; } |
	talkfrom 127.0.0.6 "$T_ADDR" >"$SCRATCH/pairs3.out"
is "$(cat "$SCRATCH/pairs3.out")" "OK" "a peer may replace its 100 songs by 100 others"
ok "tracker exits 0 on SIGTERM" stop_daemon T

# --- loopback is exempt by default: the same flood is all accepted
start_daemon T tracker -l 127.0.0.1:0 --max-peers-per-source 5 || exit 1
head -n 300 "$SCRATCH/flood.in" | { cat; echo QUIT; } | talkfrom 127.0.0.2 "$T_ADDR" >"$SCRATCH/lo.out"
is "$(grep -c '^OK$' "$SCRATCH/lo.out")" "100" "without --limit-loopback a loopback source is not limited"
ok "tracker exits 0 on SIGTERM" stop_daemon T

"$P2PM_BIN/tracker" --max-peers-per-source 0 >/dev/null 2>&1
is "$?" "2" "--max-peers-per-source 0 is a usage error"
like "$("$P2PM_BIN/tracker" --help)" "--trust-advertised" "--help describes --trust-advertised"
ok "tracker logged no sanitizer report" check_sanitizers
done_testing

#!/usr/bin/env bash
# The registry holds 1,000,000 (song, peer) pairs with the default limits,
# 10 peers x 100,000 songs or 1,000 peers x 1,000, and answers correctly;
# QUERY names at most TRACKER_QUERY_MAX_PEERS (64) peers.
# (Speed at this size is measured by scripts/bench-tracker, not here.)
. "$(dirname "$0")/lib.sh"

start_daemon T tracker -l 127.0.0.1:0 --ttl 600 || exit 1

for p in $(seq 1 10); do
	{ echo "REGISTER 127.0.0.1:$((9000 + p))"; seq -f 'song%.0f' 1 100000; echo; echo QUIT; } |
		talk "$T_ADDR" 60 >>"$SCRATCH/reg.out"
done
is "$(sort -u "$SCRATCH/reg.out")" "OK" "ten REGISTERs of 100000 songs each answer OK"
like "$(request "$T_ADDR" STATS)" "peers=10 songs=100000 pairs=1000000 " "STATS counts 1,000,000 pairs"
is "$(request "$T_ADDR" "QUERY song77777" | wc -w)" "11" "QUERY of one song names its 10 peers"
is "$(request "$T_ADDR" "QUERY song100001")" "PEERS" "QUERY of a song nobody has answers PEERS"
is "$(request "$T_ADDR" LIST | head -n 1)" "SONGS 100000" "LIST counts 100000 songs"
is "$(request "$T_ADDR" "LIST song9999" | sed -n 2p)" "song9999 10" "LIST sorts by name and counts peers"

is "$(request "$T_ADDR" "UNREGISTER 127.0.0.1:9001")" "OK" "a peer with 100000 songs unregisters"
like "$(request "$T_ADDR" STATS)" "peers=9 songs=100000 pairs=900000 " "its 100000 pairs are gone"

# 70 peers hold one song: a QUERY names 64 of them
for p in $(seq 1 70); do
	printf 'REGISTER 127.0.0.1:%d\nPopular\n\n' $((20000 + p))
done | { cat; echo QUIT; } | talk "$T_ADDR" >/dev/null
is "$(request "$T_ADDR" "QUERY Popular" | wc -w)" "65" "QUERY names at most 64 peers"
is "$(request "$T_ADDR" "LIST Popular")" "$(printf 'SONGS 1\nPopular 70')" "LIST still counts all 70"

ok "tracker exits 0 on SIGTERM" stop_daemon T

# the default limits also hold 1,000 peers of the same 1,000 songs
start_daemon T tracker -l 127.0.0.1:0 --ttl 600 || exit 1
awk 'BEGIN { for (p = 0; p < 1000; p++) { printf "REGISTER 127.0.0.1:%d\n", 10000 + p
	for (i = 0; i < 1000; i++) printf "song%d %064x\n", i, i; print "" } print "QUIT" }' |
	talk "$T_ADDR" 60 >"$SCRATCH/k.out"
is "$(sort "$SCRATCH/k.out" | uniq -c | tr -s ' ')" " 1000 OK" "1000 REGISTERs of the same 1000 songs answer OK"
like "$(request "$T_ADDR" STATS)" "peers=1000 songs=1000 pairs=1000000 " "STATS counts 1,000,000 pairs"
is "$(request "$T_ADDR" "QUERY song999" | wc -w)" "65" "QUERY of one of them names 64 of its 1000 peers"
is "$(request "$T_ADDR" "LOCATE song7" | head -n 1)" "SOURCES 64" "LOCATE names 64 of one content id"
ok "tracker exits 0 on SIGTERM" stop_daemon T
ok "tracker logged no sanitizer report" check_sanitizers
done_testing

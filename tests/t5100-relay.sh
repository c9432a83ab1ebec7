#!/usr/bin/env bash
# Relays: a peer that cannot be reached keeps a reservation at a peer
# started with --relay and registers relay=HOST:PORT; LOCATE ... reach says
# so, and a listener gets its song through the relay, byte for byte, with
# -v saying the source was relayed. A relay never carries more than its
# byte limit on one circuit, ends a circuit at its time limit (idle, or
# with a listener that reads nothing) while the reservation stays, refuses
# reservations past its cap; a peer whose reservation ends reserves again;
# and a relayed liar is dropped like any liar. On loopback: no NAT needed.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg

mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/Hidden.mp3" 8 440 -ac 2 -b:a 128k || exit 1

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon R peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cacheR" --relay \
	--relay-max-reservations 3 || exit 1
# each peer that uses a relay advertises an address where nothing listens,
# as a peer behind a NAT is not reached where it says it is; an address
# given with -a is not measured, so using a relay registers the peer as
# behind a NAT. X_ADV is that address, X_ADDR where it really listens.
N_ADV=$(refused_addr) L_ADV=$(refused_addr) M_ADV=$(refused_addr)
start_daemon N peer -l 127.0.0.1:0 -a "$N_ADV" -t "$T_ADDR" -c "$SCRATCH/cacheN" \
	-L "$SCRATCH/lib" --use-relay "$R_ADDR" || exit 1
start_daemon L peer -l 127.0.0.1:0 -a "$L_ADV" -t "$T_ADDR" -c "$SCRATCH/cacheL" \
	-L "$SCRATCH/lib" --use-relay "$R_ADDR" || exit 1
export P2P_MUSIC_TRACKER=$T_ADDR
ok "the peer behind the relay says it holds a reservation" \
	wait_for_log N "relay $R_ADDR: reserved for [0-9]+ s"
ok "the relay logs the reservation" wait_for_log R "relay: $N_ADV reserved by"
wait_for_log L "relay $R_ADDR: reserved for" || exit 1

# LOCATE with the reach flag word names the relay; without it, and in
# QUERY, a peer reached only through its relay is left out
for _ in $(seq 1 $((P2PM_REGISTER_TIMEOUT * 10))); do
	loc=$(request "$T_ADDR" "LOCATE Hidden reach")
	[ "$(printf '%s\n' "$loc" | grep -c relay=)" -eq 2 ] && break
	sleep 0.1
done
like "$loc" "[0-9a-f]{64} $N_ADV relay=$R_ADDR" "LOCATE <name> reach names the relay"
is "$(request "$T_ADDR" "LOCATE Hidden")" "SOURCES 0" \
	"plain LOCATE leaves relayed peers out"
is "$(request "$T_ADDR" "QUERY Hidden")" "PEERS" "  and so does QUERY"

# the listener: no direct way, no hole punch waiting, so the relay
client -v fetch -o "$SCRATCH/got" Hidden >/dev/null 2>"$SCRATCH/got.err"
is "$?" 0 "a listener fetches the song through the relay"
ok "  byte-identical to what the peer serves" same_as_served "$SCRATCH/got" "$N_ADDR" Hidden
ok "  every segment matches the peer's cache" segments_match_cache "$SCRATCH/got" "$SCRATCH/cacheN"
like "$(cat "$SCRATCH/got.err")" "peer 127.0.0.1:[0-9]+: [1-9][0-9]* segments, [^,]*, [0-9]+ duplicates?, relayed" \
	"  -v says the source was relayed"
like "$(cat "$SCRATCH/got.err")" "hole punch refused: tracker said ERR 404" \
	"  after the tracker said the peer waits for no hole punch"
ok "the relay logs the circuit it carried" \
	wait_for_log R "relay: circuit from .* closed after [0-9]+ bytes"

# raw requests: a circuit to nobody, and one that works by hand
like "$(request "$R_ADDR" "CONNECT 127.0.0.1:9")" "^ERR 404 " \
	"CONNECT to a peer with no reservation is ERR 404"
like "$(request "$R_ADDR" "ACCEPT 00112233445566778899aabbccddeeff")" "^ERR 404 " \
	"ACCEPT of an unknown circuit is ERR 404"
like "$(printf 'CONNECT %s\nPING\nQUIT\n' "$N_ADV" | talk "$R_ADDR")" "^OK
PONG\$" "a circuit carries requests to the peer and its answers back"
like "$(request "$T_ADDR" "RESERVE 127.0.0.1:1")" "^ERR 400 unknown command" \
	"a tracker does not take reservations"
like "$(request "$T_ADDR" "REGISTER 127.0.0.1:1 relay=nowhere:0" "")" "^ERR 400 invalid relay" \
	"a REGISTER with a bad relay= address is ERR 400"

# the reservation cap (3 here): N and L hold two, one more fits
exec 7<>"/dev/tcp/${R_ADDR%:*}/${R_ADDR##*:}"
printf 'RESERVE 127.0.0.1:4\n' >&7
IFS= read -r -t 5 got <&7
like "$got" "^OK [0-9]+ [0-9]+\$" "RESERVE is answered OK <seconds> <bytes>"
like "$(request "$R_ADDR" "RESERVE 127.0.0.1:5")" "^ERR 503 relay full" \
	"a reservation past --relay-max-reservations is ERR 503"

# the byte limit: a second relay carrying 50000 bytes a circuit, between a
# reservation held by hand that sends a megabyte and a listener reading
start_daemon S peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cacheS" --relay \
	--relay-max-bytes 50000 || exit 1
exec 8<>"/dev/tcp/${S_ADDR%:*}/${S_ADDR##*:}"
printf 'RESERVE 127.0.0.1:7\n' >&8
IFS= read -r -t 5 got <&8
{ printf 'CONNECT 127.0.0.1:7\n'; head -c 20000 /dev/zero; sleep 2; } | \
	timeout 8 bash -c 'exec 3<>"/dev/tcp/${0%:*}/${0##*:}" 4<&0; cat <&4 >&3 & cat <&3' \
	"$S_ADDR" >"$SCRATCH/carried" &
listener=$!
IFS=' ' read -r -t 5 word token <&8
is "$word" INCOMING "the reserved end is told of the circuit"
exec 9<>"/dev/tcp/${S_ADDR%:*}/${S_ADDR##*:}"
printf 'ACCEPT %s\n' "$token" >&9
IFS= read -r -t 5 got <&9
is "$got" OK "  and takes it with ACCEPT"
head -c 1000000 /dev/zero >&9 2>/dev/null
timeout 5 cat <&9 >"$SCRATCH/upstream"
wait "$listener"
exec 9>&- 8>&-
down=$(($(wc -c <"$SCRATCH/carried") - 3))
up=$(wc -c <"$SCRATCH/upstream")
ok "a circuit carries at most --relay-max-bytes both ways ($down down, $up up)" \
	test "$((down + up))" -le 50000 -a "$down" -gt 0 -a "$up" -gt 0
ok "  and the relay says why it closed it" \
	wait_for_log S "closed after 50000 bytes: the byte limit was reached"
stop_daemon S

# the time limit: a third relay whose circuits last 3 s, and a peer with
# a song of its own holding a reservation there
mkdir -p "$SCRATCH/libM"
make_mp3 "$SCRATCH/libM/Timed.mp3" 2 660 -ac 1 -b:a 64k || exit 1
start_daemon Q peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cacheQ" --relay \
	--relay-max-seconds 3 || exit 1
start_daemon M peer -l 127.0.0.1:0 -a "$M_ADV" -t "$T_ADDR" -c "$SCRATCH/cacheM" \
	-L "$SCRATCH/libM" --use-relay "$Q_ADDR" || exit 1
wait_for_log M "relay $Q_ADDR: reserved for [0-9]+ s" || exit 1
# a circuit opened, used once, then held open and idle past the limit
exec 6<>"/dev/tcp/${Q_ADDR%:*}/${Q_ADDR##*:}"
printf 'CONNECT %s\nPING\n' "$M_ADV" >&6
IFS= read -r -t 5 ok_line <&6
IFS= read -r -t 5 pong <&6
is "$ok_line $pong" "OK PONG" "a circuit through a relay with --relay-max-seconds 3 carries requests"
timeout 20 cat <&6 >/dev/null
is "$?" 0 "  held open and idle, it is closed by the relay"
exec 6>&-
ok "  which says the time limit ended it" wait_for_log Q \
	"relay: circuit from .* to $M_ADV closed after [0-9]+ bytes: the time limit was reached"
ok "  the reservation outlives the circuit" eval "! grep -q 'reservation lost' \
	'$SCRATCH/M.err' && ! grep -q 'reservation of $M_ADV ended' '$SCRATCH/Q.err'"
like "$(printf 'CONNECT %s\nPING\nQUIT\n' "$M_ADV" | talk "$Q_ADDR")" "^OK
PONG\$" "  a new circuit to the same peer works"

# a circuit whose listener stops reading while the far end sends: the
# relay's writes to it block, and the time limit still ends it
exec 8<>"/dev/tcp/${Q_ADDR%:*}/${Q_ADDR##*:}"
printf 'RESERVE 127.0.0.1:8\n' >&8
IFS= read -r -t 5 got <&8
exec 9<>"/dev/tcp/${Q_ADDR%:*}/${Q_ADDR##*:}"
printf 'CONNECT 127.0.0.1:8\n' >&9
IFS=' ' read -r -t 5 word token <&8
exec 5<>"/dev/tcp/${Q_ADDR%:*}/${Q_ADDR##*:}"
printf 'ACCEPT %s\n' "$token" >&5
IFS= read -r -t 5 got <&5
is "$word $got" "INCOMING OK" "a circuit to a reservation held by hand is taken"
timeout 30 head -c 500000000 /dev/zero >&5 2>/dev/null &
flood=$!
ok "  with its listener reading nothing, the time limit still ends it" wait_for_log Q \
	"relay: circuit from .* to 127.0.0.1:8 closed after [0-9]+ bytes: the time limit was reached" 25
kill "$flood" 2>/dev/null
wait "$flood" 2>/dev/null
exec 5>&- 9>&- 8>&-

# the reservation ends (here: taken over by another RESERVE of the same
# address); the peer notices, reserves again and is reached again
printf 'RESERVE %s\nQUIT\n' "$M_ADV" | talk "$Q_ADDR" >/dev/null
ok "a peer whose reservation was taken over notices" \
	wait_for_log M "relay $Q_ADDR: reservation lost"
ok "  and reserves again" wait_for_log M "relay $Q_ADDR: reserved for [0-9]+ s" 15 2
for _ in $(seq 1 $((P2PM_REGISTER_TIMEOUT * 10))); do
	loc=$(request "$T_ADDR" "LOCATE Timed reach")
	[ "$(printf '%s\n' "$loc" | grep -c " relay=$Q_ADDR\$")" -eq 1 ] && break
	sleep 0.1
done
client -v fetch -o "$SCRATCH/timed" Timed >/dev/null 2>"$SCRATCH/timed.err"
is "$?" 0 "  a listener fetches its song through the relay again"
ok "    byte-identical to the peer's cache" segments_match_cache "$SCRATCH/timed" \
	"$SCRATCH/cacheM"
like "$(cat "$SCRATCH/timed.err")" "peer $M_ADV: [1-9][0-9]* segments, [^,]*, [0-9]+ duplicates?, relayed" \
	"    -v says relayed"
stop_daemon M
stop_daemon Q

# a relayed liar: L's cache corrupted in place (same sizes); N gone
stop_daemon N
while IFS= read -r f; do
	size=$(wc -c <"$f")
	head -c "$size" /dev/zero >"$f"
done < <(find "$SCRATCH/cacheL" -type f -name '*.ts')
client -v fetch -o "$SCRATCH/lie" Hidden >/dev/null 2>"$SCRATCH/lie.err"
rc=$?
ok "a fetch from a relayed liar alone fails ($rc)" test "$rc" -ne 0
like "$(cat "$SCRATCH/lie.err")" "peer $L_ADV: sent segment [0-9]+/[0-9]+ with the wrong bytes" \
	"  the relayed liar is named and dropped"
ok "  nothing unverified is left behind" test ! -e "$SCRATCH/lie/index.m3u8"
exec 7>&-

ok "no sanitizer report" check_sanitizers
stop_daemon L
is "$?" 0 "the reserved peer stops cleanly"
stop_daemon R
is "$?" 0 "the relay stops cleanly"
stop_daemon T
done_testing

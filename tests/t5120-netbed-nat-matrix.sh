#!/usr/bin/env bash
# Every NAT kind of the test bed, each way a peer behind one is reached.
# Behind an eim, an adf and a sym router, a peer that asks its router
# nothing (--no-port-mapping) and holds a reservation at a public relay is
# fetched byte-identical by a public listener and by a listener behind
# another (eim) router: eim and adf through a punched connection, sym,
# whose punch fails and is reported by both sides, through the relay. A
# listener behind a sym router gets even the eim peer's song through the
# relay: no punch gets through a symmetric NAT on either side.
# With the router daemon (miniupnpd) answering PCP and NAT-PMP, a second
# peer behind each router maps its port (asking with NAT-PMP alone behind
# sym, with PCP elsewhere): behind eim and sym the tracker's dial-back
# gets through the mapping, the peer says it is reachable mapped by its
# router and both listeners connect to it straight, -v saying "mapped".
# Behind adf the dial-back comes from an address the peer never sent to
# (the tracker dials from a second address, as in t5070), so the router
# filters it although the mapping holds: that peer is behind NAT after
# all, waits for punches, and is fetched through a punched connection.
# The tracker layout is t5070's; -v gives the way, the caches the bytes.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-netbed.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
netbed_need

KINDS="eim adf sym"
# the peers' ports: behind NAT alone, and mapped by the router daemon
NAT_PORT=7701
MAP_PORT=7702
# the longest a fetch may take before it counts as hung, seconds (a
# failed punch takes 4 s, REACH_PUNCH_DEADLINE_MS, before the relay)
FETCH_LIMIT_S=40
PUB_CLIENT=2
HAVE_UPNPD=1
[ -x "$NETBED_UPNPD" ] || HAVE_UPNPD=0
declare -A R N M PROTO

netbed_up 3 || exit 1
# the tracker dials back from a second address of its host (t5070)
netbed_exec 1 ip addr add 198.18.1.1/15 dev eth0 || exit 1
netbed_start_daemon 1 T tracker -l "$(netbed_addr 1):0" --dialback-from 198.18.1.1 ||
	exit 1
netbed_start_daemon 3 RELAY peer -l "$(netbed_addr 3):7001" -t "$T_ADDR" \
	-c "$SCRATCH/cache-relay" --relay || exit 1
if [ "$HAVE_UPNPD" -eq 1 ]; then
	netbed_start_daemon 3 STUN "$P2PM_TOOLS/stunresp" "$(netbed_addr 3):3478" || exit 1
fi
for kind in $KINDS; do
	netbed_router_add "$kind" || exit 1
	R[$kind]=$NETBED_ROUTER
	netbed_home_host "$NETBED_ROUTER" || exit 1
	N[$kind]=$NETBED_HOST
	if [ "$HAVE_UPNPD" -eq 1 ]; then
		netbed_upnpd_start "$NETBED_ROUTER" "$STUN_ADDR" || exit 1
		netbed_home_host "$NETBED_ROUTER" || exit 1
		M[$kind]=$NETBED_HOST
	fi
done
# the listener at home, behind a port-preserving router of its own, and
# one behind a symmetric router
netbed_router_add eim HOME_ROUTER || exit 1
netbed_home_host "$HOME_ROUTER" HOME_CLIENT || exit 1
netbed_router_add sym SYM_ROUTER || exit 1
netbed_home_host "$SYM_ROUTER" SYM_CLIENT || exit 1

# start_peer NAME HOST PORT SONG FREQ [FLAGS...] : a peer on HOST sharing
# SONG, a tone of its own
start_peer() {
	local name=$1 h=$2 port=$3 song=$4 freq=$5
	shift 5
	mkdir -p "$SCRATCH/lib-$name"
	make_mp3 "$SCRATCH/lib-$name/$song.mp3" 4 "$freq" -ac 1 -b:a 96k || return 1
	netbed_start_daemon "$h" "$name" peer -v -l "0.0.0.0:$port" -t "$T_ADDR" \
		-c "$SCRATCH/cache-$name" -L "$SCRATCH/lib-$name" --renew 2 "$@"
}
freq=300
for kind in $KINDS; do
	start_peer "N$kind" "${N[$kind]}" "$NAT_PORT" "Nat $kind" "$freq" \
		--no-port-mapping --use-relay "$RELAY_ADDR" || exit 1
	# the daemon speaks both: PCP asked for (the default tries it first),
	# and NAT-PMP alone behind the sym router
	proto=pcp PROTO[$kind]=PCP
	[ "$kind" != sym ] || proto=natpmp PROTO[$kind]=NAT-PMP
	if [ "$HAVE_UPNPD" -eq 1 ]; then
		start_peer "M$kind" "${M[$kind]}" "$MAP_PORT" "Mapped $kind" $((freq + 50)) \
			--port-mapping "$proto" || exit 1
	fi
	freq=$((freq + 100))
done

# locate SONG : the tracker's LOCATE SONG reach lines, ids cut off
locate() {
	{ printf 'LOCATE %s reach\nQUIT\n' "$(encode_name "$1")"; } |
		netbed_exec "$PUB_CLIENT" bash -c "$(declare -f talk); talk \"\$1\"" _ "$T_ADDR" |
		awk 'NR > 1 { $1 = ""; sub(/^ /, ""); print }'
}
# wait_located SONG EXPECTED : until LOCATE ... reach says EXPECTED (30 s)
wait_located() {
	local _ got
	for _ in $(seq 1 150); do
		got=$(locate "$1")
		[ "$got" = "$2" ] && return 0
		sleep 0.2
	done
	diag "LOCATE $1 reach: '$got', not '$2'"
	return 1
}
# fetch_by HOST OUT SONG : listener HOST fetches SONG into OUT with -v,
# its stderr in OUT.err; gives up after FETCH_LIMIT_S (then it hung)
fetch_by() {
	netbed_exec "$1" timeout "$FETCH_LIMIT_S" "$P2PM_BIN/client" -v -t "$T_ADDR" \
		fetch -o "$2" "$3" >/dev/null 2>"$2.err"
}
# fetched_way HOST WHO NAME SONG ADDR WAY : HOST (WHO: "a public listener"
# or "a listener behind NAT") fetches SONG byte-identical to peer NAME's
# cache, and -v says source ADDR was reached WAY (3 claims)
fetched_way() {
	local h=$1 who=$2 name=$3 song=$4 addr=$5 way=$6 out
	out="$SCRATCH/got-$name-$h"
	fetch_by "$h" "$out" "$song"
	is "$?" 0 "  $who fetches it"
	ok "    byte-identical to the peer's cache" netbed_same_as_cache "$out" \
		"$SCRATCH/cache-$name"
	like "$(cat "$out.err")" "peer $addr: [1-9][0-9]* segments, [^,]*, [0-9]+ duplicates?, $way" \
		"    -v says the way: $way"
}

# behind NAT, no router daemon asked: punched (eim, adf) or relayed (sym)
for kind in $KINDS; do
	pub="$(netbed_router_public_addr "${R[$kind]}"):$NAT_PORT"
	ok "$kind, --no-port-mapping: the peer is not reachable" \
		wait_for_log "N$kind" "not reachable from outside \\(behind NAT\\)"
	ok "  waits for hole punches and holds a reservation at the relay" eval \
		'wait_for_log "N$kind" "waiting for hole punches" &&
		wait_for_log "N$kind" "relay $RELAY_ADDR: reserved"'
	ok "  located at its router's address with its relay" \
		wait_located "Nat $kind" "$pub relay=$RELAY_ADDR"
	way=punched
	[ "$kind" != sym ] || way=relayed
	fetched_way "$PUB_CLIENT" "a public listener" "N$kind" "Nat $kind" "$pub" "$way"
	if [ "$kind" = sym ]; then
		like "$(cat "$SCRATCH/got-N$kind-$PUB_CLIENT.err")" \
			"hole punch to [0-9.:]+ failed after [0-9]+ dials" \
			"    the listener reports the failed punch before the relay"
		ok "    and so does the peer" \
			wait_for_log "N$kind" "hole punch from [0-9.:]+ failed after [0-9]+ dials" 10
	fi
	fetched_way "$HOME_CLIENT" "a listener behind NAT" "N$kind" "Nat $kind" "$pub" "$way"
	if [ "$kind" = sym ]; then
		like "$(cat "$SCRATCH/got-N$kind-$HOME_CLIENT.err")" \
			"hole punch to [0-9.:]+ failed after [0-9]+ dials" \
			"    it too reports the failed punch"
	else
		ok "    the peer logs the punch from the other router" wait_for_log "N$kind" \
			"hole punched: serving $(netbed_router_public_addr "$HOME_ROUTER"):" 10
	fi
done

# a listener behind a symmetric router cannot punch either: its dials
# leave from another outside port than the one the tracker saw, and the
# peer's router (plain masquerade: a reply must come from the address and
# port it sent to) lets none of them in, nor does the listener's router
# let in the peer's dials to the port the tracker saw, which is mapped to
# the tracker alone. The relay carries it.
fetched_way "$SYM_CLIENT" "eim again: a listener behind a sym router" Neim "Nat eim" \
	"$(netbed_router_public_addr "${R[eim]}"):$NAT_PORT" relayed
like "$(cat "$SCRATCH/got-Neim-$SYM_CLIENT.err")" "hole punch to [0-9.:]+ failed after [0-9]+ dials" \
	"    after a failed punch to the eim peer, reported"

# mapped_claims KIND : the claims on the peer behind the KIND router whose
# daemon maps its port
mapped_claims() {
	local kind=$1 gw pub
	gw=$(netbed_router_lan_addr "${R[$kind]}")
	pub="$(netbed_router_public_addr "${R[$kind]}"):$MAP_PORT"
	ok "$kind, router daemon: the peer maps its port (${PROTO[$kind]})" \
		wait_for_log "M$kind" "mapped TCP port $MAP_PORT to $pub on router $gw \\(${PROTO[$kind]}\\)"
	if [ "$kind" = adf ]; then
		# the mapping holds, but an adf router lets in through it only
		# addresses the peer has sent to, and the tracker dials back from
		# one it never has: measured not reachable, the peer says so and
		# the listeners punch, which adf lets through
		ok "  but the dial-back from an address it never sent to is filtered" \
			wait_for_log "M$kind" "not reachable from outside \\(behind NAT\\)"
		ok "  so it waits for hole punches" \
			wait_for_log "M$kind" "waiting for hole punches"
		ok "  and is located behind NAT" wait_located "Mapped $kind" "$pub nat"
		way=punched
	else
		ok "  is reachable through the mapping, and says so" wait_for_log "M$kind" \
			"reachable at $pub \\(mapped by the router $gw, tracker $T_ADDR connected back\\)"
		ok "  registers as mapped" wait_for_log "M$kind" \
			"registered 1 song\\(s\\) with tracker $T_ADDR as $pub, mapped by the router"
		ok "  and is located mapped" wait_located "Mapped $kind" "$pub mapped"
		way=mapped
	fi
	fetched_way "$PUB_CLIENT" "a public listener" "M$kind" "Mapped $kind" "$pub" "$way"
	fetched_way "$HOME_CLIENT" "a listener behind NAT" "M$kind" "Mapped $kind" "$pub" "$way"
}
for kind in $KINDS; do
	if [ "$HAVE_UPNPD" -eq 1 ]; then
		mapped_claims "$kind"
	else
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			skip_test "$kind, router daemon: mapped" \
				"no router daemon: $NETBED_UPNPD is missing (scripts/install-deps installs miniupnpd-nftables)"
		done
	fi
done

ok "no sanitizer report from any daemon" check_sanitizers
done_testing

#!/usr/bin/env bash
# Peers behind the test bed's home routers. A public peer is told it is
# reachable. Behind a router whose daemon (miniupnpd) maps ports, a peer
# maps its port with PCP, is dialed back at the router's address and
# registers that address as mapped: a public client fetches its song
# byte-identical (eim and sym routers). Behind an adf router the mapping
# does not let in a dial-back from an address the peer never sent to (the
# tracker dials from a second address): it registers as behind NAT, which
# only LOCATE ... reach shows. So does a peer with --no-port-mapping. When the router
# daemon restarts, the peer notices within a renewal, maps again and is
# fetched again; on stop it deletes its mapping.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-netbed.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
netbed_need
netbed_need_upnpd

PORT=7701
NOMAP_PORT=7702
CLIENT=2
declare -A R H
netbed_up 3 || exit 1
# the tracker dials back from a second address of its host
netbed_exec 1 ip addr add 198.18.1.1/15 dev eth0 || exit 1
netbed_start_daemon 1 T tracker -v -l "$(netbed_addr 1):0" --dialback-from 198.18.1.1 ||
	exit 1
netbed_start_daemon 2 STUN "$P2PM_TOOLS/stunresp" "$(netbed_addr 2):3478" || exit 1
for kind in eim adf sym; do
	netbed_router_add "$kind" || exit 1
	R[$kind]=$NETBED_ROUTER
	netbed_upnpd_start "$NETBED_ROUTER" "$STUN_ADDR" min_lifetime=4 max_lifetime=6 ||
		exit 1
	netbed_home_host "$NETBED_ROUTER" || exit 1
	H[$kind]=$NETBED_HOST
done
netbed_home_host "${R[eim]}" || exit 1
H[nomap]=$NETBED_HOST

# start_peer NAME HOST PORT SONG [FLAGS...] : a peer on HOST sharing SONG
start_peer() {
	local name=$1 h=$2 port=$3 song=$4
	shift 4
	mkdir -p "$SCRATCH/lib-$name"
	make_mp3 "$SCRATCH/lib-$name/$song.mp3" 3 440 -ac 1 -b:a 64k || return 1
	netbed_start_daemon "$h" "$name" peer -v -l "0.0.0.0:$port" -t "$T_ADDR" \
		-c "$SCRATCH/cache-$name" -L "$SCRATCH/lib-$name" --renew 2 "$@"
}
start_peer PUB 3 "$PORT" "Song pub" || exit 1
for kind in eim adf sym; do
	start_peer "P$kind" "${H[$kind]}" "$PORT" "Song $kind" || exit 1
done
start_peer Pnomap "${H[nomap]}" "$NOMAP_PORT" "Song nomap" --no-port-mapping || exit 1

# locate SONG [FLAGS] : the tracker's LOCATE lines of SONG, ids cut off
locate() {
	{ printf 'LOCATE %s%s\nQUIT\n' "$(encode_name "$1")" "${2:+ $2}"; } |
		netbed_exec "$CLIENT" bash -c "$(declare -f talk); talk \"\$1\"" _ "$T_ADDR" |
		awk 'NR > 1 { $1 = ""; sub(/^ /, ""); print }'
}
# wait_located SONG EXPECTED [FLAGS] : until LOCATE says EXPECTED (30 s)
wait_located() {
	local _ got
	for _ in $(seq 1 150); do
		got=$(locate "$1" "${3:-}")
		[ "$got" = "$2" ] && return 0
		sleep 0.2
	done
	diag "LOCATE $1 ${3:-}: '$got', not '$2'"
	return 1
}
# fetched NAME SONG FROM : a public client fetches SONG, from FROM alone,
# byte-identical to what peer NAME holds
fetched() {
	local out
	out="$SCRATCH/got-$1-$(date +%s%N)"
	netbed_client "$CLIENT" -v -t "$T_ADDR" fetch -o "$out" "$2" \
		2>"$out.err" >/dev/null || { sed 's/^/#   /' "$out.err"; return 1; }
	grep -q "from $3\$" "$out.err" && netbed_same_as_cache "$out" "$SCRATCH/cache-$1"
}

ok "a public peer is told it is reachable" \
	wait_for_log PUB "reachable at $(netbed_addr 3):$PORT \\("
for kind in eim sym; do
	pub="$(netbed_router_public_addr "${R[$kind]}"):$PORT"
	ok "$kind: the peer maps its port on the router" \
		wait_for_log "P$kind" "mapped TCP port $PORT to $pub on router .* \\(PCP\\)"
	ok "$kind:   is dialed back there, through the mapping" wait_for_log "P$kind" \
		"reachable at $pub \\(mapped by the router $(netbed_router_lan_addr "${R[$kind]}"), "
	ok "$kind:   and is located there, mapped" \
		wait_located "Song $kind" "$pub mapped" reach
	ok "$kind:   a public client fetches its song from there, byte-identical" \
		fetched "P$kind" "Song $kind" "$pub"
done
apub="$(netbed_router_public_addr "${R[adf]}"):$PORT"
ok "adf: the peer maps its port" wait_for_log Padf "mapped TCP port $PORT to $apub "
ok "adf:   but the dial-back from an address it never sent to is filtered" \
	wait_for_log Padf "not reachable from outside \\(behind NAT\\)"
ok "adf:   so it is located as behind NAT" wait_located "Song adf" "$apub nat" reach
is "$(locate "Song adf")" "" "adf:   and left out of a LOCATE without 'reach'"
npub="$(netbed_router_public_addr "${R[eim]}"):$NOMAP_PORT"
ok "--no-port-mapping behind eim: not reachable" \
	wait_for_log Pnomap "not reachable from outside \\(behind NAT\\)"
ok "  located as behind NAT" wait_located "Song nomap" "$npub nat" reach
ok "  and asks the router nothing" eval "! grep -q 'mapped TCP' '$SCRATCH/Pnomap.err'"

# the router daemon restarts: its mappings go, the peer maps again
r=${R[eim]}
epub="$(netbed_router_public_addr "$r"):$PORT"
netbed_upnpd_stop "$r"
ok "eim: with the router daemon gone, the peer notices within a renewal" \
	wait_for_log Peim "port mapping lost" 15
netbed_upnpd_start "$r" "$STUN_ADDR" min_lifetime=4 max_lifetime=6 || exit 1
ok "  with it back, the peer maps its port again" \
	wait_for_log Peim "mapped TCP port $PORT to $epub " 20 2
ok "  is reachable again" wait_for_log Peim "reachable at $epub \\(mapped by the router " 20 2
ok "  located mapped again" wait_located "Song eim" "$epub mapped" reach
ok "  and fetched again" fetched Peim "Song eim" "$epub"

# on stop the mapping is deleted
stop_daemon Peim
ok "a stopped peer deletes its mapping" \
	grep -q "deleted the port mapping" "$SCRATCH/Peim.err"
ok "  and the router forwards the port no more" eval "! netbed_router_exec $r \
	nft list chain inet $NETBED_UPNP_TABLE $NETBED_UPNP_NAT_CHAIN | grep -q 'dport $PORT '"
ok "no sanitizer report from any daemon" check_sanitizers

done_testing

#!/usr/bin/env bash
# A swarm of 12 peers sharing one song, 8 of them behind home routers of
# every kind (eim, adf, sym; with and without a router daemon mapping
# ports), all with a reservation at a public relay peer; those the
# tracker reaches at their router's mapping are located as mapped, those
# it cannot reach with their relay. A public listener fetching with 12
# jobs gets the song byte-identical from at least 4 sources, peers behind
# NATs among them, and -v says how each was reached. A listener behind a NAT fetches
# the song into what its own peer shares; with the 12 original peers
# gone, a third listener behind another NAT gets the song byte-identical
# from that listener's peer alone, through a hole punch.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-netbed.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
netbed_need
netbed_need_upnpd

SONG="Swarm Song"
# seconds of audio: 1-s segments, enough that every source gets some
SONG_S=24
PORT=7701
SECOND_PORT=7702
B_PORT=7703
# how long a peer may take to settle (map, be dialed back, reserve), s
SETTLE_S=30
# every peer's uplink during the first fetch (tc units): about 1 s a
# segment, as from a home uplink
PEER_RATE=128kbit

# hosts 1-6 are public: the tracker, a STUN server and the public
# listener, four peers (the first also a relay)
netbed_up 6 || exit 1
A=2
PUBLIC="3 4 5 6"
RELAY_HOST=3
# the tracker dials back from a second address of its host, so that an
# adf router's filter tells a dial-back from an answer
netbed_exec 1 ip addr add 198.18.1.1/15 dev eth0 || exit 1
netbed_start_daemon 1 T tracker -l "$(netbed_addr 1):0" --dialback-from 198.18.1.1 ||
	exit 1
netbed_start_daemon "$A" STUN "$P2PM_TOOLS/stunresp" "$(netbed_addr "$A"):3478" || exit 1

# the routers: NAME KIND DAEMON(yes/no); NATed peers: NAME ROUTER PORT
declare -A RT RT_KIND
for spec in eimu:eim:yes eim:eim:no adfu:adf:yes adf:adf:no symu:sym:yes sym:sym:no; do
	IFS=: read -r name kind daemon <<<"$spec"
	netbed_router_add "$kind" || exit 1
	RT[$name]=$NETBED_ROUTER
	RT_KIND[$name]=$kind
	if [ "$daemon" = yes ]; then
		RT_KIND[$name]="$kind+miniupnpd"
		netbed_upnpd_start "$NETBED_ROUTER" "$STUN_ADDR" || exit 1
	fi
done
# NAME ROUTER PORT: two peers behind eimu and two behind sym
NATED="eimu1:eimu:$PORT eimu2:eimu:$SECOND_PORT eim1:eim:$PORT adfu1:adfu:$PORT
	adf1:adf:$PORT symu1:symu:$PORT sym1:sym:$PORT sym2:sym:$SECOND_PORT"

# the song, one song directory copied into every library: one content id
make_songdir "$SCRATCH/song" "$SONG" "$SONG_S" 440 || exit 1

# start_peer NAME HOST PORT [FLAGS...] : a peer on HOST sharing the song
start_peer() {
	local name=$1 h=$2 port=$3
	shift 3
	mkdir -p "$SCRATCH/lib-$name" && cp -R "$SCRATCH/song" "$SCRATCH/lib-$name/" ||
		return 1
	netbed_start_daemon "$h" "$name" peer -v -l "$(netbed_addr "$h"):$port" \
		-t "$T_ADDR" -c "$SCRATCH/cache-$name" -L "$SCRATCH/lib-$name" "$@"
}

declare -A HOST ADDR KIND
n=0
for h in $PUBLIC; do
	n=$((n + 1))
	flags=()
	[ "$h" != "$RELAY_HOST" ] || flags=(--relay)
	start_peer "pub$n" "$h" "$PORT" "${flags[@]}" || exit 1
	HOST[pub$n]=$h
	KIND[pub$n]=public
	ADDR[pub$n]=$(netbed_addr "$h"):$PORT
done
RELAY=${ADDR[pub1]}
for spec in $NATED; do
	IFS=: read -r name router port <<<"$spec"
	netbed_home_host "${RT[$router]}" || exit 1
	HOST[$name]=$NETBED_HOST
	KIND[$name]=${RT_KIND[$router]}
	# registered at the router's address, with the inside port (the
	# routers keep it, and the daemon maps it to the same)
	ADDR[$name]=$(netbed_router_public_addr "${RT[$router]}"):$port
	start_peer "$name" "$NETBED_HOST" "$port" --use-relay "$RELAY" || exit 1
done

# the listener behind a NAT, B: a peer sharing an empty library (no
# relay: the relay goes with the original peers), behind the eim router
# without a daemon; the third listener, C, behind the adf router
netbed_home_host "${RT[eim]}" || exit 1
B=$NETBED_HOST
B_REG=$(netbed_router_public_addr "${RT[eim]}"):$B_PORT
mkdir -p "$SCRATCH/lib-B"
netbed_start_daemon "$B" B peer -v -l "$(netbed_addr "$B"):$B_PORT" -t "$T_ADDR" \
	-c "$SCRATCH/cache-B" -L "$SCRATCH/lib-B" --renew 2 || exit 1
netbed_home_host "${RT[adf]}" || exit 1
C=$NETBED_HOST

# settled NAME : the peer has found its way of being reached: dialed back
# (public, or mapped by the router daemon) or waiting for hole punches,
# and (behind a NAT) holds its reservation at the relay
settled() {
	local name=$1
	case "$name" in
	pub*) wait_for_log "$name" "reachable at ${ADDR[$name]} \\(" "$SETTLE_S" ;;
	eimu* | symu*)
		wait_for_log "$name" "reachable at ${ADDR[$name]} \\(" "$SETTLE_S" &&
			wait_for_log "$name" "relay .*: reserved" "$SETTLE_S"
		;;
	*)
		wait_for_log "$name" "waiting for hole punches" "$SETTLE_S" &&
			wait_for_log "$name" "relay .*: reserved" "$SETTLE_S"
		;;
	esac
}
# locate : the tracker's LOCATE ... reach of the song, asked from host A
locate() {
	netbed_exec "$A" bash -c "$(declare -f talk request); request \"\$1\" \"\$2\"" _ \
		"$T_ADDR" "LOCATE $(encode_name "$SONG") reach"
}
# registered COUNT : until the tracker names COUNT sources of the song
registered() {
	local _ n=0
	for _ in $(seq 1 $((SETTLE_S * 5))); do
		n=$(locate | grep -cE '^[0-9a-f]{64} ')
		[ "$n" -eq "$1" ] && return 0
		sleep 0.2
	done
	diag "the tracker names $n sources of '$SONG', not $1:"
	locate | sed 's/^/#   /'
	return 1
}

for name in pub1 pub2 pub3 pub4; do
	ok "$name (public) is dialed back at its address" settled "$name"
done
for spec in $NATED; do
	name=${spec%%:*}
	ok "$name is reached its way and holds its reservation" settled "$name"
done
ok "all 12 peers are registered with the song" registered 12
ok "B (behind eim, no daemon) waits for hole punches" \
	wait_for_log B "waiting for hole punches" "$SETTLE_S"

# located_as NAME WORD : LOCATE ... reach names the peer, at its address,
# with WORD
located_as() {
	locate | tr -d '\r' | awk -v a="${ADDR[$1]}" -v w="$2" '$2 == a && $3 == w { f = 1 }
		END { exit !f }'
}
for spec in $NATED; do
	name=${spec%%:*}
	case "$name" in
	# reached at its router's mapping: no relay needed, none named
	eimu* | symu*) ok "$name is located as mapped, not through its relay" \
		located_as "$name" mapped ;;
	*) ok "$name is located with its relay" located_as "$name" "relay=$RELAY" ;;
	esac
done
diag "LOCATE ... reach:"
locate | sed -n 's/^[0-9a-f]\{64\} /#   /p'

# the public listener, 12 jobs, with every peer's uplink slow: no source
# keeps ahead alone, so the direct ones all serve, and the sources located
# with their relay, which are started only while the others take over
# half a second a second of audio, join them
for name in "${!HOST[@]}"; do
	netbed_rate "${HOST[$name]}" "$PEER_RATE" || exit 1
done
netbed_client "$A" -v -j 12 -t "$T_ADDR" fetch -o "$SCRATCH/gotA" "$SONG" \
	>"$SCRATCH/gotA.out" 2>"$SCRATCH/gotA.err"
is "$?" 0 "a public listener fetches the song from the swarm (-j 12)"
ok "  byte-identical to what the peers hold" \
	segments_match_cache "$SCRATCH/gotA" "$SCRATCH/song"
ok "  file for file" diff -r "$SCRATCH/gotA" "$SCRATCH/song"
srcs=$(sed -n 's/.*from \([0-9]*\) sources)$/\1/p' "$SCRATCH/gotA.out")
ok "  from at least 4 sources (it says $srcs)" test "${srcs:-0}" -ge 4
# the -v lines: peer ADDR: N segments, SIZE, D duplicates, HOW
lines=$(grep -E 'peer [0-9.]+:[0-9]+: [0-9]+ segments, [^,]*, [0-9]+ duplicates?, ' \
	"$SCRATCH/gotA.err")
served=$(printf '%s\n' "$lines" |
	grep -cE ': [1-9][0-9]* segments, [^,]*, [0-9]+ duplicates?, (direct|mapped|punched|relayed)')
ok "  -v names at least 4 sources that sent segments ($served)" test "$served" -ge 4
nated=0
for spec in pub1 pub2 pub3 pub4 $NATED; do
	name=${spec%%:*}
	line=$(printf '%s\n' "$lines" | grep -F "peer ${ADDR[$name]}: ")
	diag "$name (${KIND[$name]}): ${line#*"${ADDR[$name]}: "}"
	case "$name:$line" in
	pub*) ;;
	*": "[1-9]*" segments, "*) nated=$((nated + 1)) ;;
	esac
done
ok "  peers behind NATs are among them ($nated of 8)" test "$nated" -ge 1

for name in "${!HOST[@]}"; do
	netbed_rate "${HOST[$name]}" off
done

# re-share: B fetches into what its own peer shares, which registers it
netbed_client "$B" -v -j 12 -t "$T_ADDR" fetch -o "$SCRATCH/lib-B/song" "$SONG" \
	>"$SCRATCH/gotB.out" 2>"$SCRATCH/gotB.err"
is "$?" 0 "B, behind a NAT, fetches the song into the library its peer shares"
ok "  byte-identical, file for file" diff -r "$SCRATCH/lib-B/song" "$SCRATCH/song"
ok "  its peer registers it" registered 13

# the 12 original peers go, the relay with them
for name in "${!HOST[@]}"; do
	kill -TERM "$(eval "echo \${${name}_PID}")"
done
stopped=0
for name in "${!HOST[@]}"; do
	stop_daemon "$name" && stopped=$((stopped + 1))
done
is "$stopped" 12 "the 12 original peers stop cleanly"
ok "  and the tracker names B alone" registered 1

# C, behind another NAT (adf), gets the song from B
netbed_client "$C" -v -t "$T_ADDR" fetch -o "$SCRATCH/gotC" "$SONG" \
	>"$SCRATCH/gotC.out" 2>"$SCRATCH/gotC.err"
is "$?" 0 "C, behind another NAT, fetches the song"
ok "  byte-identical to the original" segments_match_cache "$SCRATCH/gotC" "$SCRATCH/song"
ok "  file for file" diff -r "$SCRATCH/gotC" "$SCRATCH/song"
like "$(cat "$SCRATCH/gotC.out")" "from 1 source\\)" "  from one source"
like "$(cat "$SCRATCH/gotC.err")" \
	"peer $B_REG: [1-9][0-9]* segments, [^,]*, [0-9]+ duplicates?, punched" \
	"  B's peer, at the address it registered, through a hole punch (-v)"
diag "B: $(grep -F "peer $B_REG: " "$SCRATCH/gotC.err" | grep ' segments, ' |
	sed 's/.*: \([0-9]* segments\)/\1/')"

ok "no sanitizer report" check_sanitizers
done_testing

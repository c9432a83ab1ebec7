# tests/lib-netbed.sh - a test bed of hosts in Linux network namespaces,
# sourced after tests/lib.sh.
#
# netbed_up N makes N hosts (1..N), each a network namespace with one
# interface, eth0, plugged into a bridge that lives in a namespace of its
# own: nothing is added to the machine's own namespace, its links or its
# routes. Host I has 198.18.0.I/15 (the range set aside for benchmarking)
# and an address in a ULA prefix drawn per run; a host has no default route
# and no route but its connected prefixes, so nothing it sends can leave
# the bridge. Names hold the shell's pid and a random suffix, so tests run
# in parallel never share a namespace, and every namespace is removed when
# the script exits, after lib.sh's own cleanup has stopped the daemons.
#
# Shaping a host's link: netbed_rate (tc tbf on its uplink), netbed_loss
# (an nftables numgen random drop rule on both directions), netbed_delay
# (netem on the bridge's port when the kernel has netem, otherwise a
# delaying relay from tests/tools that netbed_via puts in the path) and
# netbed_link (the bridge's port down or up).
#
# Home routers: netbed_router_add KIND makes router R, a namespace with an
# outside interface, wan0, on the bridge (198.18.2.R/15) and an inside
# bridge, lan0, holding 198.19.(128+R).1/24; it forwards between the two,
# masquerading (nftables) what leaves through wan0, and has no route but
# its connected prefixes, so nothing its hosts send leaves the test bed.
# netbed_home_host R adds a host behind router R: a host like the others
# (netbed_exec, netbed_start_daemon, netbed_client... take its index) with
# 198.19.(128+R).H/24 on eth0, no IPv6, and its default route via the
# router. Nothing outside can open a connection to a home host; the kinds
# differ in how they map and filter:
#   eim  endpoint-independent mapping: plain masquerade, which keeps the
#        inside port where it is free (what TCP hole punching needs)
#   adf  eim, and address-dependent filtering: a connection forwarded in
#        (through a port mapping) is let in only from a remote address the
#        inside host has sent to in the last NETBED_ADF_TIMEOUT_S
#   sym  symmetric: every connection gets a random outside port
#        (masquerade random,fully-random)
# A router's nftables table "netbed" also holds the empty chains a router
# daemon (miniupnpd) fills with its port mappings: NETBED_UPNP_*_CHAIN.
# shellcheck shell=bash

# most hosts one test bed holds (one /15 is far larger; this bounds a typo)
NETBED_MAX_HOSTS=200
# how long a host waits for its processes to go on TERM before KILL, 0.1 s
NETBED_KILL_WAIT_TENTHS=30

# most routers (each takes one /24 of 198.19.128.0/17) and hosts behind one
NETBED_MAX_ROUTERS=100
NETBED_MAX_HOME_HOSTS=200
# how long an adf router remembers where an inside host has sent, seconds
NETBED_ADF_TIMEOUT_S=300
# a router's chains for a router daemon's rules (miniupnpd's defaults), in
# its table inet netbed: forward filter, prerouting DNAT, postrouting
NETBED_UPNP_TABLE=netbed
NETBED_UPNP_FORWARD_CHAIN=miniupnpd
NETBED_UPNP_NAT_CHAIN=prerouting_miniupnpd
NETBED_UPNP_POSTROUTING_CHAIN=postrouting_miniupnpd
# the router daemon (Debian's miniupnpd-nftables)
NETBED_UPNPD=${NETBED_UPNPD:-/usr/sbin/miniupnpd}

NETBED_TAG="p2pm-$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
NETBED_SW="$NETBED_TAG-sw"
NETBED_N=0
NETBED_R=0
NETBED_DELAY_MODE=""
NETBED_ULA=""

# netbed_ns I : the name of host I's namespace
netbed_ns() {
	printf '%s-h%s' "$NETBED_TAG" "$1"
}

# netbed_addr I : host I's IPv4 address (198.19.x.y for a home host)
netbed_addr() {
	local home
	home=$(eval "echo \${NETBED_HOME_ADDR_$1:-}")
	if [ -n "$home" ]; then
		printf '%s' "$home"
		return 0
	fi
	printf '198.18.%d.%d' $(($1 / 256)) $(($1 % 256))
}

# netbed_router_ns R : the name of router R's namespace
netbed_router_ns() {
	printf '%s-r%s' "$NETBED_TAG" "$1"
}

# netbed_router_public_addr R : router R's outside address, the one its
# home hosts' connections come from
netbed_router_public_addr() {
	printf '198.18.2.%d' "$1"
}

# netbed_router_lan_addr R : router R's inside address, its home hosts'
# default gateway
netbed_router_lan_addr() {
	printf '198.19.%d.1' $((128 + $1))
}

# netbed_router_exec R COMMAND... : runs COMMAND inside router R
netbed_router_exec() {
	local ns
	ns=$(netbed_router_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

# _netbed_port_ns I : the namespace holding the switch port of host I (the
# bridge's, or its router's)
_netbed_port_ns() {
	local r
	r=$(eval "echo \${NETBED_HOME_ROUTER_$1:-}")
	if [ -n "$r" ]; then
		netbed_router_ns "$r"
	else
		printf '%s' "$NETBED_SW"
	fi
}

# netbed_addr6 I : host I's ULA IPv6 address
netbed_addr6() {
	printf '%s::%x' "$NETBED_ULA" "$1"
}

# netbed_need : skips the whole script (TAP "1..0 # SKIP reason") where
# the test bed cannot be made: not root, or ip, tc or nft missing, or the
# kernel refusing namespaces, veth pairs or bridges.
netbed_need() {
	local c probe
	[ "$(id -u)" -eq 0 ] || skip_all "the network test bed needs root (network namespaces)"
	for c in ip tc nft; do
		command -v "$c" >/dev/null 2>&1 ||
			skip_all "the network test bed needs '$c' (scripts/install-deps installs it)"
	done
	probe="$NETBED_TAG-probe"
	if ! ip netns add "$probe" 2>/dev/null; then
		skip_all "cannot create a network namespace here (ip netns add failed)"
	fi
	if ! ip -n "$probe" link add nbp0 type bridge 2>/dev/null ||
		! ip -n "$probe" link add nbv0 type veth peer name nbv1 2>/dev/null; then
		ip netns delete "$probe" 2>/dev/null
		skip_all "this kernel cannot make a bridge or a veth pair in a namespace"
	fi
	ip netns delete "$probe"
}

# netbed_up N : creates the bridge and hosts 1..N (see the top of the file).
# Returns 1 (after a diag) when something cannot be set up.
netbed_up() {
	local n=$1 i ns
	if [ "$n" -lt 1 ] || [ "$n" -gt "$NETBED_MAX_HOSTS" ]; then
		diag "netbed_up: 1 to $NETBED_MAX_HOSTS hosts, not $n"
		return 1
	fi
	# fdXX:XXXX:XXXX, 40 random bits, in the canonical form ip prints
	NETBED_ULA=$(od -An -N5 -tu1 /dev/urandom |
		awk '{ printf "fd%02x:%x:%x", $1, $2 * 256 + $3, $4 * 256 + $5 }')
	_netbed_sweep_stale
	ip netns add "$NETBED_SW" || return 1
	NETBED_N=0
	if ! { ip -n "$NETBED_SW" link set lo up &&
		ip -n "$NETBED_SW" link add br0 type bridge stp_state 0 forward_delay 0 &&
		ip -n "$NETBED_SW" link set br0 up; }; then
		diag "netbed_up: no bridge"
		return 1
	fi
	for i in $(seq 1 "$n"); do
		ns=$(netbed_ns "$i")
		ip netns add "$ns" || return 1
		NETBED_N=$i
		_netbed_host_up "$i" "$ns" || { diag "netbed_up: cannot set up host $i"; return 1; }
	done
	_netbed_wait_ready
}

# _netbed_host_up I NS : plugs host I (namespace NS) into the bridge and
# gives it its addresses
_netbed_host_up() {
	# both ends are made in the bridge's namespace; eth0 moves at once
	ip -n "$NETBED_SW" link add "h$1" type veth peer name eth0 netns "$2" &&
	ip -n "$NETBED_SW" link set "h$1" master br0 up &&
	# no router advertisements: no route may appear from outside
	ip netns exec "$2" sh -c 'for f in all default; do
		echo 0 >"/proc/sys/net/ipv6/conf/$f/accept_ra" || exit 1
		echo 0 >"/proc/sys/net/ipv6/conf/$f/disable_ipv6" || exit 1
	done' &&
	ip -n "$2" link set lo up &&
	ip -n "$2" addr add "$(netbed_addr "$1")/15" dev eth0 &&
	ip -n "$2" -6 addr add "$(netbed_addr6 "$1")/64" dev eth0 nodad &&
	# one packet on the wire is one packet for tc and nftables: no
	# 64 KiB segmentation-offload super-packets, so 1% loss is 1% of
	# MTU-sized packets
	ip -n "$2" link set dev eth0 gso_max_size 1500 gso_max_segs 1 &&
	ip -n "$2" link set eth0 up
}

# netbed_router_add KIND [VAR] : adds a home router of KIND (eim, adf or
# sym, see the top of the file) and sets VAR (default NETBED_ROUTER) to
# its index. Needs netbed_up first (the bridge). Returns 1 (after a diag)
# when it cannot be set up.
netbed_router_add() {
	local kind=$1 var=${2:-NETBED_ROUTER} r ns
	case "$kind" in
	eim | adf | sym) ;;
	*)
		diag "netbed_router_add: a kind is eim, adf or sym, not '$kind'"
		return 1
		;;
	esac
	if [ "$NETBED_R" -ge "$NETBED_MAX_ROUTERS" ]; then
		diag "netbed_router_add: at most $NETBED_MAX_ROUTERS routers"
		return 1
	fi
	r=$((NETBED_R + 1))
	ns=$(netbed_router_ns "$r")
	ip netns add "$ns" || return 1
	NETBED_R=$r
	eval "NETBED_ROUTER_KIND_$r=$kind NETBED_ROUTER_HOSTS_$r=0"
	if ! _netbed_router_up "$r" "$ns" "$kind"; then
		diag "netbed_router_add: cannot set up router $r ($kind)"
		return 1
	fi
	_netbed_wait_link "$ns" wan0 || return 1
	eval "$var=$r"
}

# _netbed_router_up R NS KIND : plugs router R (namespace NS) into the
# bridge, makes its inside bridge and loads its nftables rules
_netbed_router_up() {
	local r=$1 ns=$2 kind=$3 masq="masquerade" adf_out="" adf_in=""
	ip -n "$NETBED_SW" link add "r$r" type veth peer name wan0 netns "$ns" &&
	ip -n "$NETBED_SW" link set "r$r" master br0 up &&
	# a router of IPv4 alone, answering ARP only for wan0's own address
	ip netns exec "$ns" sh -c 'for f in all default; do
		echo 1 >"/proc/sys/net/ipv6/conf/$f/disable_ipv6" || exit 1
	done
	echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore &&
	echo 1 >/proc/sys/net/ipv4/ip_forward' &&
	ip -n "$ns" link set lo up &&
	ip -n "$ns" addr add "$(netbed_router_public_addr "$r")/15" dev wan0 &&
	ip -n "$ns" link set dev wan0 gso_max_size 1500 gso_max_segs 1 &&
	ip -n "$ns" link set wan0 up &&
	ip -n "$ns" link add lan0 type bridge stp_state 0 forward_delay 0 &&
	ip -n "$ns" addr add "$(netbed_router_lan_addr "$r")/24" dev lan0 &&
	ip -n "$ns" link set lan0 up || return 1
	case "$kind" in
	sym) masq="masquerade random,fully-random" ;;
	adf)
		adf_out="update @sent { ip saddr . ip daddr }"
		adf_in="iifname \"wan0\" ct state new ip daddr . ip saddr != @sent counter drop"
		;;
	esac
	ip netns exec "$ns" nft -f - <<-EOF
		table inet $NETBED_UPNP_TABLE {
			set sent {
				type ipv4_addr . ipv4_addr
				flags dynamic, timeout
				timeout ${NETBED_ADF_TIMEOUT_S}s
				size 65536
			}
			chain $NETBED_UPNP_FORWARD_CHAIN { }
			chain $NETBED_UPNP_NAT_CHAIN { }
			chain $NETBED_UPNP_POSTROUTING_CHAIN { }
			chain forward {
				type filter hook forward priority filter; policy drop;
				ct state established,related accept
				iifname "lan0" oifname "wan0" $adf_out accept
				$adf_in
				iifname "wan0" oifname "lan0" jump $NETBED_UPNP_FORWARD_CHAIN
			}
			chain input {
				type filter hook input priority filter; policy accept;
				iifname "wan0" ct state established,related accept
				iifname "wan0" drop
			}
			chain prerouting {
				type nat hook prerouting priority dstnat; policy accept;
				jump $NETBED_UPNP_NAT_CHAIN
			}
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				jump $NETBED_UPNP_POSTROUTING_CHAIN
				# what the hosts send; the router's own packets keep their ports
				iifname "lan0" oifname "wan0" $masq
			}
		}
	EOF
}

# netbed_home_host R [VAR] : adds a host behind router R (see the top of
# the file) and sets VAR (default NETBED_HOST) to its index. Returns 1
# (after a diag) when it cannot be set up.
netbed_home_host() {
	local r=$1 var=${2:-NETBED_HOST} i k ns rns
	if [ "$r" -lt 1 ] || [ "$r" -gt "$NETBED_R" ]; then
		diag "netbed_home_host: no router $r"
		return 1
	fi
	k=$(eval "echo \$((NETBED_ROUTER_HOSTS_$r + 1))")
	if [ "$k" -gt "$NETBED_MAX_HOME_HOSTS" ] || [ "$NETBED_N" -ge "$NETBED_MAX_HOSTS" ]; then
		diag "netbed_home_host: at most $NETBED_MAX_HOME_HOSTS hosts behind a router, $NETBED_MAX_HOSTS in all"
		return 1
	fi
	i=$((NETBED_N + 1))
	ns=$(netbed_ns "$i")
	rns=$(netbed_router_ns "$r")
	ip netns add "$ns" || return 1
	NETBED_N=$i
	eval "NETBED_ROUTER_HOSTS_$r=$k NETBED_HOME_ROUTER_$i=$r"
	eval "NETBED_HOME_ADDR_$i=198.19.$((128 + r)).$((1 + k))"
	if ! { ip -n "$rns" link add "h$i" type veth peer name eth0 netns "$ns" &&
		ip -n "$rns" link set "h$i" master lan0 up &&
		ip netns exec "$ns" sh -c 'for f in all default; do
			echo 1 >"/proc/sys/net/ipv6/conf/$f/disable_ipv6" || exit 1
		done' &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "$(netbed_addr "$i")/24" dev eth0 &&
		ip -n "$ns" link set dev eth0 gso_max_size 1500 gso_max_segs 1 &&
		ip -n "$ns" link set eth0 up &&
		ip -n "$ns" route add default via "$(netbed_router_lan_addr "$r")"; }; then
		diag "netbed_home_host: cannot set up host $i behind router $r"
		return 1
	fi
	_netbed_wait_link "$ns" eth0 || return 1
	eval "$var=$i"
}

# netbed_need_upnpd : skips the whole script (TAP "1..0 # SKIP") where the
# router daemon, miniupnpd (Debian's miniupnpd-nftables), is missing
netbed_need_upnpd() {
	[ -x "$NETBED_UPNPD" ] ||
		skip_all "no router daemon: $NETBED_UPNPD is missing (scripts/install-deps installs miniupnpd-nftables)"
}

# netbed_upnpd_start R STUN_ADDR [LINE...] : starts the router daemon in
# router R: miniupnpd answering NAT-PMP and PCP (no UPnP) on lan0 for the
# router's hosts alone (secure mode, ports 1024-65535), writing its rules
# into the chains the router keeps for it; extra config LINEs (such as
# max_lifetime=6) are added. miniupnpd maps nothing for an outside address
# in a reserved range, as the test bed's are, unless STUN says that the
# address is seen as it is from outside: STUN_ADDR is a STUN server on a
# public host (tests/tools/stunresp). Its config and log are
# $SCRATCH/upnpd-rR.conf and .err; UPNPD_R_PID is set, and it is stopped
# with the other daemons. Returns 1 (after a diag) when it does not start.
netbed_upnpd_start() {
	local r=$1 stun=$2 conf pid n
	shift 2
	conf="$SCRATCH/upnpd-r$r.conf"
	{
		printf '%s\n' "ext_ifname=wan0" "listening_ip=lan0" "enable_natpmp=yes" \
			"enable_upnp=no" "secure_mode=yes" "ext_perform_stun=yes" \
			"ext_stun_host=${stun%:*}" "ext_stun_port=${stun##*:}" \
			"upnp_table_name=$NETBED_UPNP_TABLE" \
			"upnp_nat_table_name=$NETBED_UPNP_TABLE" \
			"upnp_forward_chain=$NETBED_UPNP_FORWARD_CHAIN" \
			"upnp_nat_chain=$NETBED_UPNP_NAT_CHAIN" \
			"upnp_nat_postrouting_chain=$NETBED_UPNP_POSTROUTING_CHAIN" \
			"lease_file=$SCRATCH/upnpd-r$r.leases" "$@" \
			"allow 1024-65535 198.19.128.0/17 1024-65535" \
			"deny 0-65535 0.0.0.0/0 0-65535"
	} >"$conf" || return 1
	# a restarted daemon's log goes on after the last one's
	touch "$SCRATCH/upnpd-r$r.err" || return 1
	# (grep -c counts 0 with status 1, which must not end a set -e caller)
	n=$(grep -c 'Listening for NAT-PMP/PCP traffic' "$SCRATCH/upnpd-r$r.err" || :)
	# ip netns exec execs in place: $! is the daemon's own pid
	ip netns exec "$(netbed_router_ns "$r")" "$NETBED_UPNPD" -d -f "$conf" \
		-P "$SCRATCH/upnpd-r$r.pid" >/dev/null 2>>"$SCRATCH/upnpd-r$r.err" &
	pid=$!
	DAEMONS="$DAEMONS $pid"
	eval "UPNPD_${r}_PID=$pid"
	if ! wait_for_line "$SCRATCH/upnpd-r$r.err" 'Listening for NAT-PMP/PCP traffic' 20 \
		$((${n:-0} + 1)) ||
		! grep -q 'Port forwarding is now enabled' "$SCRATCH/upnpd-r$r.err"; then
		diag "the router daemon in router $r did not start mapping; its log:"
		tail -n 5 "$SCRATCH/upnpd-r$r.err" | sed 's/^/#   /'
		return 1
	fi
}

# netbed_upnpd_stop R : stops router R's daemon (TERM) and waits for it
netbed_upnpd_stop() {
	stop_daemon "UPNPD_$1" >/dev/null || :
}

# netbed_exec I COMMAND... : runs COMMAND inside host I
netbed_exec() {
	local ns
	ns=$(netbed_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

# netbed_start_daemon I NAME PROGRAM ARGS... : lib.sh's start_daemon with
# the program run inside host I. PROGRAM is a name in $P2PM_BIN or a path
# (tools: "$P2PM_TOOLS/relay"). Sets NAME_PID and NAME_ADDR; the daemon is
# stopped by lib.sh's cleanup like any other.
netbed_start_daemon() {
	local i=$1 name=$2 prog=$3 dir real
	shift 3
	case "$prog" in
	*/*) real=$prog ;;
	*) real=$P2PM_BIN/$prog ;;
	esac
	dir="$SCRATCH/netbed-h$i"
	mkdir -p "$dir" || return 1
	# ip netns exec execs the program in place: the pid start_daemon
	# records is the daemon's own
	printf '#!/bin/sh\nexec ip netns exec %s "%s" "$@"\n' \
		"$(netbed_ns "$i")" "$real" >"$dir/${real##*/}" &&
		chmod +x "$dir/${real##*/}" || return 1
	# made here, so that start_daemon never looks before the shell has
	# opened it for the daemon
	: >"$SCRATCH/$name.out" || return 1
	P2PM_BIN=$dir start_daemon "$name" "${real##*/}" "$@"
}

# netbed_rate I RATE : caps host I's uplink (what it sends) at RATE, in
# tc's units (e.g. 4mbit, 500kbit); "off" removes the cap.
netbed_rate() {
	local ns
	ns=$(netbed_ns "$1")
	if [ "$2" = off ]; then
		tc -n "$ns" qdisc del dev eth0 root 2>/dev/null || :
		return 0
	fi
	tc -n "$ns" qdisc replace dev eth0 root tbf rate "$2" burst 16kb latency 400ms
}

# netbed_loss I PERCENT : drops PERCENT (0 to 100, integer) percent of the
# packets host I sends on eth0 and as many of those it receives, at random
# (nftables numgen). 0 removes the rule.
netbed_loss() {
	local ns
	ns=$(netbed_ns "$1")
	ip netns exec "$ns" nft -f - <<-EOF 2>/dev/null || :
		table inet netbed
		delete table inet netbed
	EOF
	[ "$2" -gt 0 ] || return 0
	if [ "$2" -gt 100 ]; then
		diag "netbed_loss: 0 to 100 percent, not $2"
		return 1
	fi
	ip netns exec "$ns" nft -f - <<-EOF
		table inet netbed {
			chain out {
				type filter hook output priority 0; policy accept;
				oifname "eth0" numgen random mod 100 <= $(($2 - 1)) counter drop
			}
			chain in {
				type filter hook input priority 0; policy accept;
				iifname "eth0" numgen random mod 100 <= $(($2 - 1)) counter drop
			}
		}
	EOF
}

# netbed_dropped I : how many packets netbed_loss has dropped on host I
netbed_dropped() {
	netbed_exec "$1" nft list table inet netbed 2>/dev/null |
		awk '/counter packets/ { for (f = 1; f < NF; f++) if ($f == "packets") n += $(f + 1) }
			END { print n + 0 }'
}

# netbed_has_netem : true when this kernel has the netem qdisc
netbed_has_netem() {
	if [ -z "$NETBED_DELAY_MODE" ]; then
		NETBED_DELAY_MODE=relay
		if tc -n "$NETBED_SW" qdisc add dev lo root netem delay 1ms 2>/dev/null; then
			tc -n "$NETBED_SW" qdisc del dev lo root 2>/dev/null || :
			NETBED_DELAY_MODE=netem
		fi
	fi
	[ "$NETBED_DELAY_MODE" = netem ]
}

# netbed_delay I RTT_MS : adds RTT_MS of round-trip delay to host I's link
# and says (as a TAP diag) how. With netem, the bridge's port towards the
# host holds every packet to the host for RTT_MS, so any round trip through
# the link takes RTT_MS longer. Without netem, the delay is added by a relay
# that netbed_via puts between host I and the address it connects to.
netbed_delay() {
	if netbed_has_netem; then
		tc -n "$(_netbed_port_ns "$1")" qdisc replace dev "h$1" root netem delay "${2}ms" limit 100000 ||
			return 1
		diag "delay: netem, ${2} ms on host $1's link"
	else
		eval "NETBED_RELAY_DELAY_$1=$2"
		diag "delay: no netem in this kernel; tests/tools/relay adds ${2} ms round trip for host $1"
	fi
}

# netbed_via I TARGET VAR : sets VAR to the address host I connects to in
# order to reach TARGET with the delay netbed_delay gave it: TARGET itself
# with netem or no delay, else the address of a relay started inside host I
# (on 127.0.0.1, half the round trip each way) that forwards to TARGET over
# host I's link, so rate caps and loss on the link still apply.
netbed_via() {
	local i=$1 target=$2 var=$3 ms
	ms=$(eval "echo \${NETBED_RELAY_DELAY_$i:-}")
	if [ -z "$ms" ] || netbed_has_netem; then
		eval "$var=\$target"
		return 0
	fi
	netbed_start_daemon "$i" "${var}_relay" "$P2PM_TOOLS/relay" -l 127.0.0.1:0 \
		--delay $((ms / 2)) "$target" || return 1
	eval "$var=\${${var}_relay_ADDR}"
}

# netbed_link I down|up : sets the bridge's port to host I down or up; with
# it down nothing reaches host I and nothing it sends arrives anywhere,
# while its own address and sockets stay as they are (a pulled cable).
netbed_link() {
	ip -n "$(_netbed_port_ns "$1")" link set "h$1" "$2"
}

# netbed_conns I PORT : the remote addresses of host I's established TCP
# connections to its local PORT, one a line
netbed_conns() {
	netbed_exec "$1" ss -Htn state established "( sport = :$2 )" |
		awk '{ print $NF }'
}

# netbed_client I ARGS... : the client under test, run inside host I
netbed_client() {
	local i=$1
	shift
	netbed_exec "$i" "$P2PM_BIN/client" "$@"
}

# netbed_timed_cat I OUT CLIENT-ARGS... : runs "client CLIENT-ARGS..." (a
# cat) on host I with its stdout in OUT; prints the milliseconds from the
# start to the first byte and to the end ("TTFB TOTAL"); returns the
# client's status
netbed_timed_cat() {
	local i=$1 out=$2 t0 t1 t2 rc
	shift 2
	t0=$(date +%s%N)
	netbed_client "$i" "$@" | {
		dd bs=1 count=1 status=none >"$out"
		date +%s%N >"$out.first"
		cat >>"$out"
	}
	rc=${PIPESTATUS[0]}
	t2=$(date +%s%N)
	t1=$(cat "$out.first")
	rm -f "$out.first"
	echo "$(((t1 - t0) / 1000000)) $(((t2 - t0) / 1000000))"
	return "$rc"
}

# netbed_wait_list I TRACKER EXPECTED [SECONDS] : waits (60 s by default)
# until "client list" run on host I prints exactly EXPECTED
netbed_wait_list() {
	local _ got=""
	for _ in $(seq 1 $(( ${4:-60} * 5 ))); do
		got=$(netbed_client "$1" -q -t "$2" list 2>/dev/null)
		[ "$got" = "$3" ] && return 0
		sleep 0.2
	done
	diag "the tracker's list did not become what was expected in time; last:"
	printf '%s\n' "$got" | sed 's/^/#   /'
	return 1
}

# netbed_same_as_cache DIR CACHE : the song fetched into DIR is, file for
# file, what the peer with cache directory CACHE holds: its playlist and
# every segment byte-identical
netbed_same_as_cache() {
	local song
	for song in "$2"/songs/*/; do
		song=${song%/}
		if cmp -s "$1/index.m3u8" "$song/index.m3u8"; then
			segments_match_cache "$1" "$song"
			return
		fi
	done
	return 1
}

# netbed_teardown : stops whatever still runs inside the test bed's hosts
# and routers (only this run's processes can be there) and removes every
# namespace.
netbed_teardown() {
	local ns pids _
	for ns in $(_netbed_all_ns); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086 # a list of pids
		[ -z "$pids" ] || kill -TERM $pids 2>/dev/null
	done
	for _ in $(seq 1 "$NETBED_KILL_WAIT_TENTHS"); do
		pids=""
		for ns in $(_netbed_all_ns); do
			pids="$pids $(ip netns pids "$ns" 2>/dev/null)"
		done
		[ -n "${pids// /}" ] || break
		sleep 0.1
	done
	# shellcheck disable=SC2086 # a list of pids
	[ -z "${pids// /}" ] || kill -KILL $pids 2>/dev/null
	for ns in $(_netbed_all_ns); do
		ip netns delete "$ns" 2>/dev/null
	done
	ip netns delete "$NETBED_SW" 2>/dev/null
	NETBED_N=0
	NETBED_R=0
}

# _netbed_all_ns : the names of the hosts' and routers' namespaces
_netbed_all_ns() {
	local i
	for i in $(seq 1 "$NETBED_N"); do
		netbed_ns "$i"
		echo
	done
	for i in $(seq 1 "$NETBED_R"); do
		netbed_router_ns "$i"
		echo
	done
}

# the namespaces of earlier runs whose shell is gone (killed before its
# trap could run); only names this file makes, only for dead pids
_netbed_sweep_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' |
		grep -E '^p2pm-[0-9]+-[0-9a-f]+-(sw|[hr][0-9]+)$'); do
		pid=${ns#p2pm-}
		pid=${pid%%-*}
		if ! kill -0 "$pid" 2>/dev/null && [ -z "$(ip netns pids "$ns" 2>/dev/null)" ]; then
			ip netns delete "$ns" 2>/dev/null || :
		fi
	done
}

# until every host's eth0 has carrier and IPv6 sees its address as usable.
# The output read here is of the forms (brief, one-line, IPv6 addresses
# alone) in which ip never looks up the name of a link's peer namespace:
# that look-up opens every namespace of the machine, and one another test
# is deleting meanwhile makes it print "Peer netns reference is invalid".
_netbed_wait_ready() {
	local _ i busy
	for _ in $(seq 1 100); do
		busy=0
		for i in $(seq 1 "$NETBED_N"); do
			if [ -n "$(ip -n "$(netbed_ns "$i")" -o -6 addr show dev eth0 tentative)" ] ||
				! _netbed_has_carrier "$(netbed_ns "$i")" eth0; then
				busy=1
				break
			fi
		done
		[ "$busy" -eq 0 ] && return 0
		sleep 0.05
	done
	diag "netbed_up: links did not come up in time"
	return 1
}

# _netbed_has_carrier NS DEV : true when link DEV in namespace NS is up
# with carrier
_netbed_has_carrier() {
	ip -n "$1" -br link show dev "$2" 2>/dev/null | grep -q 'LOWER_UP'
}

# _netbed_wait_link NS DEV : until DEV in namespace NS has carrier (5 s)
_netbed_wait_link() {
	local _
	for _ in $(seq 1 100); do
		_netbed_has_carrier "$1" "$2" && return 0
		sleep 0.05
	done
	diag "netbed: $2 in $1 did not come up in time"
	return 1
}

# chain the teardown after the EXIT trap lib.sh set (its cleanup stops the
# daemons, then the namespaces go); signals exit so the trap runs
_netbed_prev_exit=$(trap -p EXIT)
_netbed_prev_exit=${_netbed_prev_exit#trap -- }
_netbed_prev_exit=${_netbed_prev_exit% EXIT}
eval "_netbed_prev_exit=${_netbed_prev_exit:-''}"
_netbed_on_exit() {
	# scripts with set -e source this too; the cleanup must run whole
	set +e
	eval "$_netbed_prev_exit"
	netbed_teardown
}
trap _netbed_on_exit EXIT
for _netbed_sig in HUP:129 INT:130 TERM:143; do
	# shellcheck disable=SC2064 # the status is fixed now, on purpose
	[ -n "$(trap -p "${_netbed_sig%:*}")" ] ||
		trap "exit ${_netbed_sig#*:}" "${_netbed_sig%:*}"
done
unset _netbed_sig

#!/usr/bin/env bash
# The test bed's home routers. A host behind a router of each kind (eim,
# adf, sym) reaches the public hosts, which see the router's outside
# address; eim and adf keep the inside port, sym picks a new one for
# every connection. Nobody outside opens a connection to a home host,
# unless a port mapping (a DNAT rule in the router daemon's chains) lets
# it in: from anywhere through eim, only from addresses the home host has
# sent to through adf. Routers have no route but their own prefixes, and
# the machine's own namespace gains nothing.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-netbed.sh"
netbed_need

# the namespaces are the test's own, so fixed ports collide with nothing
SEEN_PORT=7701
INSIDE_PORT=40001
MAPPED_PORT=7702

declare -A R H
netbed_up 3 || exit 1
for h in 1 2 3; do
	netbed_start_daemon "$h" "S$h" "$P2PM_TOOLS/seen" "$(netbed_addr "$h"):$SEEN_PORT" ||
		exit 1
done
for kind in eim adf sym; do
	netbed_router_add "$kind" || exit 1
	R[$kind]=$NETBED_ROUTER
	netbed_home_host "$NETBED_ROUTER" || exit 1
	H[$kind]=$NETBED_HOST
done
netbed_home_host "${R[eim]}" || exit 1
H2_eim=$NETBED_HOST

# seen_from I DEST_HOST [SRC_PORT] : the address public host DEST_HOST
# sees a connection from host I come from
seen_from() {
	local src
	src=$(netbed_addr "$1")
	[ -z "${3:-}" ] || src="$src:$3"
	netbed_exec "$1" timeout 10 "$P2PM_TOOLS/talkfrom" "$src" \
		"$(netbed_addr "$2"):$SEEN_PORT" </dev/null | sed -n 's/^SEEN //p'
}

# connects_in FROM_HOST ADDR [SECONDS] : true when a connection from
# public host FROM_HOST to ADDR is answered (the far end writes a line)
# within SECONDS (10; on the test bed's links an answer takes a
# millisecond, so a refusal is checked with less)
connects_in() {
	local got
	got=$(netbed_exec "$1" timeout "${3:-10}" "$P2PM_TOOLS/talkfrom" "$(netbed_addr "$1")" \
		"$2" </dev/null 2>/dev/null)
	[ -n "$got" ]
}
# refused FROM_HOST ADDR : no answer within 1.5 s
refused() {
	! connects_in "$1" "$2" 1.5
}

is "$(netbed_addr "${H[eim]}") $(netbed_addr "$H2_eim")" \
	"198.19.$((128 + R[eim])).2 198.19.$((128 + R[eim])).3" \
	"home hosts get addresses of their router's inside prefix"
for kind in eim adf sym; do
	r=${R[$kind]}
	h=${H[$kind]}
	pub=$(netbed_router_public_addr "$r")
	first=$(seen_from "$h" 1 "$INSIDE_PORT")
	second=$(seen_from "$h" 2 "$INSIDE_PORT")
	like "$first" "^$pub:[0-9]+\$" "$kind: a home host reaches a public host, which sees the router's address"
	like "$second" "^$pub:[0-9]+\$" "$kind:   and so does another public host"
	if [ "$kind" = sym ]; then
		ok "$kind:   each connection gets an outside port of its own" \
			test "$first" != "$second"
	else
		is "$first $second" "$pub:$INSIDE_PORT $pub:$INSIDE_PORT" \
			"$kind:   from the inside port, whatever the destination"
	fi
	# a listener at home, on the port its last connection came from
	netbed_start_daemon "$h" "L$kind" "$P2PM_TOOLS/seen" "0.0.0.0:$MAPPED_PORT" || exit 1
	ok "$kind: a public host cannot connect in to the router's address" \
		refused 3 "$pub:$MAPPED_PORT"
	ok "$kind:   nor to the home host's address" \
		refused 3 "$(netbed_addr "$h"):$MAPPED_PORT"
	ok "$kind:   nor to the inside port the home host used" \
		refused 1 "$pub:$INSIDE_PORT"
done
like "$(seen_from "$H2_eim" 1)" "^$(netbed_router_public_addr "${R[eim]}"):" \
	"a second host behind the same router shares its address"

# a port mapping, made the way a router daemon makes one
for kind in eim adf; do
	r=${R[$kind]}
	h=${H[$kind]}
	netbed_router_exec "$r" nft -f - <<-EOF
		add rule inet $NETBED_UPNP_TABLE $NETBED_UPNP_NAT_CHAIN iifname "wan0" tcp dport $MAPPED_PORT dnat ip to $(netbed_addr "$h"):$MAPPED_PORT
		add rule inet $NETBED_UPNP_TABLE $NETBED_UPNP_FORWARD_CHAIN ip daddr $(netbed_addr "$h") tcp dport $MAPPED_PORT accept
	EOF
	pub=$(netbed_router_public_addr "$r")
	ok "$kind: with a mapping, a public host the home host sent to connects in" \
		connects_in 1 "$pub:$MAPPED_PORT"
done
ok "eim:   and so does one it never sent to" \
	connects_in 3 "$(netbed_router_public_addr "${R[eim]}"):$MAPPED_PORT"
ok "adf:   but one it never sent to does not" \
	refused 3 "$(netbed_router_public_addr "${R[adf]}"):$MAPPED_PORT"

# nothing leaves the test bed, nothing lands in the machine's namespace
for kind in eim adf sym; do
	r=${R[$kind]}
	routes=$(netbed_router_exec "$r" ip -4 route show | awk '{ print $1 }' | sort | tr '\n' ' ')
	is "$routes" "198.18.0.0/15 198.19.$((128 + r)).0/24 " \
		"$kind: the router has no route but its own prefixes"
done
is "$(netbed_exec "${H[eim]}" ip -4 route show | awk '$1 == "default" { print $3 }')" \
	"$(netbed_router_lan_addr "${R[eim]}")" "a home host's default route is its router"
ok "a router has no IPv6" \
	test -z "$(netbed_router_exec "${R[eim]}" ip -6 -o addr show)"
ok "the machine's own namespace has no test bed address" \
	test -z "$(ip -o addr show | grep -F -e '198.18.' -e '198.19.')"
ok "  nor any test bed rule" \
	test -z "$(nft list tables 2>/dev/null | grep -F "$NETBED_UPNP_TABLE")"

done_testing

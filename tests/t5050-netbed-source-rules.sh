#!/usr/bin/env bash
# The tracker's source rules across real addresses on the network test
# bed: a REGISTER or UNREGISTER naming another host's address is refused
# with 403 (IPv4 and IPv6) unless the tracker trusts advertised addresses;
# a host name or the unspecified address is recorded as the sender's own;
# one host's peer limit never locks another host out of the registry.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-netbed.sh"
netbed_need

netbed_up 4 || exit 1
H2=$(netbed_addr 2)
H3=$(netbed_addr 3)
H2v6=$(netbed_addr6 2)
H3v6=$(netbed_addr6 3)
netbed_start_daemon 1 T tracker -l "$(netbed_addr 1):0" --max-peers-per-source 3 || exit 1
netbed_start_daemon 1 T6 tracker -l "[$(netbed_addr6 1)]:0" || exit 1
netbed_start_daemon 1 TT tracker -l "$(netbed_addr 1):0" --trust-advertised || exit 1

# from_host I ADDR LINE... : sends the lines (then QUIT) from host I to
# ADDR and prints the replies
from_host() {
	local i=$1 addr=$2
	shift 2
	{ printf '%s\n' "$@"; printf 'QUIT\n'; } | netbed_exec "$i" bash -c \
		"$(declare -f talk); talk \"\$1\"" _ "$addr"
}

like "$(from_host 2 "$T_ADDR" "REGISTER $H3:7701" "Song" "")" "^ERR 403 " \
	"a REGISTER from host 2 naming host 3 is refused with 403"
is "$(from_host 4 "$T_ADDR" "QUERY Song")" "PEERS" "  and nothing was registered"
is "$(from_host 2 "$T_ADDR" "REGISTER $H2:7701" "Song" "")" "OK" \
	"host 2 registers its own address"
like "$(from_host 3 "$T_ADDR" "UNREGISTER $H2:7701")" "^ERR 403 " \
	"host 3 cannot unregister host 2"
is "$(from_host 4 "$T_ADDR" "QUERY Song")" "PEERS $H2:7701" "  and host 2 stays listed"
is "$(from_host 3 "$T_ADDR" "REGISTER localhost:7702" "Other" "")" "OK" \
	"a host name is accepted"
is "$(from_host 4 "$T_ADDR" "QUERY Other")" "PEERS $H3:7702" \
	"  and recorded as the sender's address"
is "$(from_host 3 "$T_ADDR" "REGISTER 0.0.0.0:7703" "Third" "")" "OK" \
	"the unspecified address is accepted"
is "$(from_host 4 "$T_ADDR" "QUERY Third")" "PEERS $H3:7703" \
	"  and recorded as the sender's address"
is "$(from_host 2 "$T_ADDR" "UNREGISTER $H2:7701")" "OK" "host 2 unregisters itself"
is "$(from_host 4 "$T_ADDR" "QUERY Song")" "PEERS" "  and is gone"

# IPv6
like "$(from_host 2 "$T6_ADDR" "REGISTER [$H3v6]:7701" "Song" "")" "^ERR 403 " \
	"over IPv6, naming another host is refused with 403"
is "$(from_host 2 "$T6_ADDR" "REGISTER [$H2v6]:7701" "Song" "")" "OK" \
	"  and the sender's own address is accepted"
is "$(from_host 4 "$T6_ADDR" "QUERY Song")" "PEERS [$H2v6]:7701" "  and listed"

# --trust-advertised: a tracker behind a proxy takes the address given
is "$(from_host 2 "$TT_ADDR" "REGISTER $H3:7701" "Song" "")" "OK" \
	"with --trust-advertised another host's address is accepted"
is "$(from_host 4 "$TT_ADDR" "QUERY Song")" "PEERS $H3:7701" "  and listed as given"

# per-source peer limit (3 here): host 4 fills its share, host 2 still gets in
for port in 7801 7802 7803; do
	from_host 4 "$T_ADDR" "REGISTER $(netbed_addr 4):$port" "Flood" "" >/dev/null
done
like "$(from_host 4 "$T_ADDR" "REGISTER $(netbed_addr 4):7804" "Flood" "")" "^ERR 503 " \
	"a host past its peer limit gets 503"
is "$(from_host 2 "$T_ADDR" "REGISTER $H2:7701" "Flood" "")" "OK" \
	"  while another host still registers"
is "$(from_host 3 "$T_ADDR" "QUERY Flood" | tr ' ' '\n' | grep -c ':')" 4 \
	"  and the registry holds host 4's three peers and host 2's one"

check_sanitizers
done_testing

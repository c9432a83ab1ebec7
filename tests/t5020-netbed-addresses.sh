#!/usr/bin/env bash
# Addresses on the network test bed. A peer listening on every address
# (0.0.0.0, or :: for IPv6) with -a HOST:PORT registers that address, and
# a client on another host fetches the song from it, over IPv4 and over
# IPv6 (ULA addresses). The daemons run inside their hosts' namespaces,
# bound to the hosts' addresses, and no host has a route anywhere but the
# test bed's own prefixes.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-netbed.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
netbed_need

SONG="Any Address"
# the namespaces are the peers' own, so a fixed port collides with nothing
PORT=7701
CLIENT=4
mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/$SONG.mp3" 5 440 -ac 1 -b:a 64k || exit 1

netbed_up 4 || exit 1
A4=$(netbed_addr 2)
A6=$(netbed_addr6 3)
netbed_start_daemon 1 T4 tracker -l "$(netbed_addr 1):0" || exit 1
netbed_start_daemon 1 T6 tracker -l "[$(netbed_addr6 1)]:0" || exit 1
is "$T6_ADDR" "[$(netbed_addr6 1)]:${T6_ADDR##*:}" "a tracker listens on its host's ULA address"
netbed_start_daemon 2 P4 peer -l "0.0.0.0:$PORT" -a "$A4:$PORT" -t "$T4_ADDR" \
	-c "$SCRATCH/cache4" -L "$SCRATCH/lib" || exit 1
is "$P4_ADDR" "0.0.0.0:$PORT" "a peer listens on 0.0.0.0"
netbed_start_daemon 3 P6 peer -l "[::]:$PORT" -a "[$A6]:$PORT" -t "$T6_ADDR" \
	-c "$SCRATCH/cache6" -L "$SCRATCH/lib" || exit 1
is "$P6_ADDR" "[::]:$PORT" "a peer listens on ::"

# IPv4
ok "the peer on 0.0.0.0 is listed" \
	netbed_wait_list "$CLIENT" "$T4_ADDR" "$(printf '%s\t1' "$SONG")" 60
is "$(netbed_client "$CLIENT" -t "$T4_ADDR" query "$SONG")" "$A4:$PORT" \
	"  under the address given with -a"
rc=0
netbed_client "$CLIENT" -v -t "$T4_ADDR" fetch -o "$SCRATCH/got4" "$SONG" \
	2>"$SCRATCH/fetch4.err" >/dev/null || rc=$?
is "$rc" 0 "a client on another host fetches the song through the tracker"
like "$(cat "$SCRATCH/fetch4.err")" "from $A4:$PORT\$" "  from that address"
ok "  byte-identical" netbed_same_as_cache "$SCRATCH/got4" "$SCRATCH/cache4"

# IPv6
ok "the peer on :: is listed by the tracker on IPv6" \
	netbed_wait_list "$CLIENT" "$T6_ADDR" "$(printf '%s\t1' "$SONG")" 60
is "$(netbed_client "$CLIENT" -t "$T6_ADDR" query "$SONG")" "[$A6]:$PORT" \
	"  under its ULA address given with -a"
rc=0
netbed_client "$CLIENT" -v -t "$T6_ADDR" fetch -o "$SCRATCH/got6" "$SONG" \
	2>"$SCRATCH/fetch6.err" >/dev/null || rc=$?
is "$rc" 0 "a client on another host fetches the song over IPv6"
like "$(cat "$SCRATCH/fetch6.err")" "from \\[$A6\\]:$PORT\$" "  from that address"
ok "  byte-identical" netbed_same_as_cache "$SCRATCH/got6" "$SCRATCH/cache6"
rc=0
netbed_client "$CLIENT" -q -t "$T6_ADDR" cat "$SONG" >"$SCRATCH/cat6.ts" || rc=$?
is "$rc" 0 "cat over IPv6 exits 0"
ok "  and writes the segments in order" cmp -s "$SCRATCH/cat6.ts" \
	<(concat_segments "$SCRATCH/got6")

# the daemons are inside their hosts, on the hosts' addresses
for d in T4:1 T6:1 P4:2 P6:3; do
	name=${d%:*}
	host=${d#*:}
	pid=$(eval "echo \$${name}_PID")
	is "$(ip netns identify "$pid")" "$(netbed_ns "$host")" \
		"$name runs in host $host's namespace"
done
listening=$(netbed_exec 1 ss -Hltn | awk '{ print $4 }' | sort | tr '\n' ' ')
is "$listening" "$(printf '%s\n' "$T6_ADDR" "$T4_ADDR" | sort | tr '\n' ' ')" \
	"host 1 listens on exactly its trackers' addresses"
ok "the machine's own namespace has none of these sockets" \
	test -z "$(ss -Hltn "( sport = :${T4_ADDR##*:} or sport = :${T6_ADDR##*:} )" |
		grep -F -e "${T4_ADDR%:*}" -e "$(netbed_addr6 1)")"
ok "  nor any test bed address" \
	test -z "$(ip -o addr show | grep -F -e '198.18.' -e "$NETBED_ULA:")"

# nothing can leave the test bed
for i in 1 2 3 4; do
	routes=$(netbed_exec "$i" ip -4 route show table all | grep -v '^local \|^broadcast ')
	is "$routes" "198.18.0.0/15 dev eth0 proto kernel scope link src $(netbed_addr "$i") " \
		"host $i: one IPv4 route, to 198.18.0.0/15"
	routes6=$(netbed_exec "$i" ip -6 route show | awk '{ print $1 }' | sort | tr '\n' ' ')
	is "$routes6" "$NETBED_ULA::/64 fe80::/64 " "host $i: IPv6 routes only to its ULA prefix and link-local"
	ok "host $i: no route to the rest of the world" \
		sh -c "! ip netns exec '$(netbed_ns "$i")' ip route get 192.0.2.1 >/dev/null 2>&1 &&
			! ip netns exec '$(netbed_ns "$i")' ip -6 route get 2001:db8::1 >/dev/null 2>&1"
	global=$(netbed_exec "$i" ip -o addr show scope global | awk '{ print $4 }' | tr '\n' ' ')
	is "$global" "$(netbed_addr "$i")/15 $(netbed_addr6 "$i")/64 " \
		"host $i: its only addresses are in 198.18.0.0/15 and the ULA prefix"
done
like "$NETBED_ULA" '^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}$' "the ULA prefix is in fd00::/8"

ok "no sanitizer report from any daemon" check_sanitizers
done_testing

#!/usr/bin/env bash
# Hole punching on the test bed: a peer behind a port-preserving router
# (eim) that waits for punches is fetched byte for byte by a public
# listener through a punched connection; behind a symmetric router (sym)
# the punch fails, is reported, and the listener gets the song through the
# peer's relay. A peer not told it is behind a NAT waits for punches once
# the tracker's dial-back finds it not reachable.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-netbed.sh"
. "$TEST_DIR/lib-client.sh"
netbed_need
need_ffmpeg

mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/Home.mp3" 6 440 -ac 2 -b:a 128k || exit 1
netbed_up 3 || exit 1
T=$(netbed_addr 1):7000
netbed_start_daemon 1 T tracker -l "$T" || exit 1
netbed_start_daemon 3 R peer -l "$(netbed_addr 3):7001" -t "$T" -c "$SCRATCH/cR" --relay || exit 1
# start_home KIND : a router of KIND and, behind it, a peer waiting for
# hole punches that also holds a reservation at R
start_home() {
	netbed_router_add "$1" || return 1
	netbed_home_host "$NETBED_ROUTER" || return 1
	netbed_start_daemon "$NETBED_HOST" "P$1" peer -l "$(netbed_addr "$NETBED_HOST"):7001" \
		-a 0.0.0.0:7001 -t "$T" -c "$SCRATCH/c$1" -L "$SCRATCH/lib" --behind-nat \
		--use-relay "$(netbed_addr 3):7001" || return 1
	wait_for_log "P$1" "waiting for hole punches" && wait_for_log "P$1" "relay .*: reserved"
}
# located N : waits until the tracker names N sources with a relay
located() {
	local _ n=0
	for _ in $(seq 1 300); do
		n=$(netbed_exec 2 bash -c "$(declare -f talk request); request $T 'LOCATE Home reach'" |
			grep -c " relay=")
		[ "$n" -eq "$1" ] && return 0
		sleep 0.1
	done
	diag "$n sources with a relay, not $1"
	return 1
}

ok "a peer behind an eim router waits for punches and holds a reservation" start_home eim
ok "  LOCATE ... reach names it with its relay" located 1
netbed_exec 2 "$P2PM_BIN/client" -v -t "$T" fetch -o "$SCRATCH/eim" Home \
	>/dev/null 2>"$SCRATCH/eim.err"
is "$?" 0 "a public listener fetches its song"
ok "  byte-identical to the peer's cache" segments_match_cache "$SCRATCH/eim" "$SCRATCH/ceim"
like "$(cat "$SCRATCH/eim.err")" "duplicates?, punched" "  through a punched connection (-v)"
ok "  the peer logs the punch" wait_for_log Peim "hole punched: serving"

ok "a peer behind a sym router waits for punches and holds a reservation" start_home sym
stop_daemon Peim
ok "  LOCATE names only it" located 1
netbed_exec 2 "$P2PM_BIN/client" -v -t "$T" fetch -o "$SCRATCH/sym" Home \
	>/dev/null 2>"$SCRATCH/sym.err"
is "$?" 0 "a public listener fetches its song"
ok "  byte-identical to the peer's cache" segments_match_cache "$SCRATCH/sym" "$SCRATCH/csym"
like "$(cat "$SCRATCH/sym.err")" "hole punch to [0-9.:]+ failed after [0-9]+ dials" \
	"  the punch through a symmetric NAT fails and is reported"
like "$(cat "$SCRATCH/sym.err")" "duplicates?, relayed" "  and the relay carries the song (-v)"

# a peer left to find out: no -a, no --behind-nat, behind the eim router
netbed_home_host 1 || exit 1
netbed_start_daemon "$NETBED_HOST" Pauto peer -l "$(netbed_addr "$NETBED_HOST"):7001" \
	-t "$T" -c "$SCRATCH/cauto" -L "$SCRATCH/lib" --no-port-mapping || exit 1
ok "a peer behind an eim router, not told so, finds it is not reachable" \
	wait_for_log Pauto "not reachable from outside"
ok "  and then waits for hole punches" wait_for_log Pauto "waiting for hole punches"
stop_daemon Psym
for _ in $(seq 1 300); do
	loc=$(netbed_exec 2 bash -c "$(declare -f talk request); request $T 'LOCATE Home reach'")
	[ "$(printf '%s\n' "$loc" | grep -c ' nat$')" -eq 1 ] && break
	sleep 0.1
done
like "$loc" "^SOURCES 1
[0-9a-f]{64} [0-9.]+:7001 nat\$" "  LOCATE ... reach names it behind a NAT"
netbed_exec 2 "$P2PM_BIN/client" -v -t "$T" fetch -o "$SCRATCH/auto" Home \
	>/dev/null 2>"$SCRATCH/auto.err"
is "$?" 0 "a public listener fetches its song"
ok "  byte-identical to the peer's cache" segments_match_cache "$SCRATCH/auto" "$SCRATCH/cauto"
like "$(cat "$SCRATCH/auto.err")" "duplicates?, punched" "  through a punched connection (-v)"
ok "no sanitizer report" check_sanitizers
done_testing

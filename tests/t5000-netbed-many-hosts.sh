#!/usr/bin/env bash
# Many hosts on the network test bed: a tracker on one host, 20 peers on 20
# others with overlapping song sets, two clients on two more. Every peer is
# listed under its own host's address with the right peer count per song,
# and a song 8 peers hold arrives byte-identical on both clients at once.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-netbed.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
netbed_need

NPEERS=20
TRACKER_HOST=1
# peer p (0..19) is host p+2; the clients are the two hosts after them
CLIENT1=$((NPEERS + 2))
CLIENT2=$((NPEERS + 3))
SONGS=("Alpha Tone" "Beta" "Gamma Ray" "Delta" "Epsilon" "Zeta Solo")

# holds P K : peer P shares song K (overlapping sets; K=0 and K=3 on 8
# peers, K=5 on one, every peer at least one song)
holds() {
	case $2 in
	0) [ "$1" -lt 8 ] ;;
	1) [ $(($1 % 2)) -eq 0 ] ;;
	2) [ $(($1 % 3)) -eq 0 ] ;;
	3) [ "$1" -ge 12 ] ;;
	4) [ $(($1 % 5)) -eq 1 ] ;;
	5) [ "$1" -eq 13 ] ;;
	esac
}

mkdir -p "$SCRATCH/songs"
for k in "${!SONGS[@]}"; do
	make_mp3 "$SCRATCH/songs/$k.mp3" 2 $((300 + 110 * k)) -ac 1 -b:a 64k || exit 1
done

netbed_up $((NPEERS + 3)) || exit 1
netbed_start_daemon "$TRACKER_HOST" T tracker -l "$(netbed_addr "$TRACKER_HOST"):0" || exit 1
is "${T_ADDR%:*}" "$(netbed_addr "$TRACKER_HOST")" "the tracker listens on its host's address"

for p in $(seq 0 $((NPEERS - 1))); do
	args=()
	for k in "${!SONGS[@]}"; do
		holds "$p" "$k" && args+=("${SONGS[$k]}=$SCRATCH/songs/$k.mp3")
	done
	netbed_start_daemon $((p + 2)) "P$p" peer -l "$(netbed_addr $((p + 2))):0" \
		-t "$T_ADDR" -c "$SCRATCH/cache$p" -j 1 "${args[@]}" || exit 1
done

# what list must print: NAME<TAB>PEERS sorted by name
expected=$(for k in "${!SONGS[@]}"; do
	n=0
	for p in $(seq 0 $((NPEERS - 1))); do
		holds "$p" "$k" && n=$((n + 1))
	done
	printf '%s\t%s\n' "${SONGS[$k]}" "$n"
done | LC_ALL=C sort)
ok "client list on one host sees every song with its peer count" \
	netbed_wait_list "$CLIENT1" "$T_ADDR" "$expected" 90
is "$(netbed_client "$CLIENT2" -t "$T_ADDR" list)" "$expected" \
	"  and so does a client on another host"

# the tracker names each holder by its own host's address
want=$(for p in $(seq 0 $((NPEERS - 1))); do
	holds "$p" 1 && eval "echo \$P${p}_ADDR"
done | sort)
got=$(netbed_client "$CLIENT1" -t "$T_ADDR" query Beta | sort)
is "$got" "$want" "query names the 10 holders of a song, each at its own host's address"
ok "  every one of them in 198.18.0.0/15" \
	test -z "$(printf '%s\n' "$got" | grep -Ev '^198\.1[89]\.[0-9]+\.[0-9]+:[0-9]+$')"

# both clients fetch the song 8 peers hold, at the same time
for c in "$CLIENT1" "$CLIENT2"; do
	netbed_client "$c" -v -t "$T_ADDR" fetch -o "$SCRATCH/got$c" "Alpha Tone" \
		>"$SCRATCH/fetch$c.out" 2>"$SCRATCH/fetch$c.err" &
	eval "FETCH_$c=\$!"
done
for c in "$CLIENT1" "$CLIENT2"; do
	rc=0
	wait "$(eval "echo \$FETCH_$c")" || rc=$?
	is "$rc" 0 "a fetch of the song 8 peers hold succeeds on host $c"
	ok "  the playlist and every segment are byte-identical to a holder's" \
		netbed_same_as_cache "$SCRATCH/got$c" "$SCRATCH/cache0"
	from=$(sed -n 's/.*segment 1\/[0-9]* .*from \([^ ]*\)$/\1/p' "$SCRATCH/fetch$c.err")
	holders=$(for p in $(seq 0 7); do eval "echo \$P${p}_ADDR"; done)
	ok "  it came from one of the 8 holders ($from)" \
		grep -qxF -- "${from:-none}" <<<"$holders"
done

ok "no sanitizer report from any daemon" check_sanitizers
done_testing

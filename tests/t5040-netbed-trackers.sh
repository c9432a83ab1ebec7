#!/usr/bin/env bash
# Two trackers on two hosts of the network test bed. Peers on other hosts
# register with both; when one tracker is killed the peers stay listed on
# the other (they go on renewing with it), and clients given both trackers
# find and fetch songs through it. A first tracker whose host drops every
# packet sent to it (connects hang) keeps neither a peer from registering
# with the second within a couple of seconds nor a client with --timeout 1
# from asking the second.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-netbed.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
netbed_need

# hosts: 1 and 2 trackers, 3 and 4 peers, 5 the client, 6 a late peer
CLIENT=5
LATE=6
# the surviving tracker forgets a peer this long after its last REGISTER
TTL_S=3
mkdir -p "$SCRATCH/lib3" "$SCRATCH/lib4"
make_mp3 "$SCRATCH/lib3/Alpha.mp3" 3 330 -ac 1 -b:a 64k || exit 1
make_mp3 "$SCRATCH/lib3/Both.mp3" 3 440 -ac 1 -b:a 64k || exit 1
cp "$SCRATCH/lib3/Both.mp3" "$SCRATCH/lib4/Both.mp3" || exit 1
make_mp3 "$SCRATCH/lib4/Gamma.mp3" 3 550 -ac 1 -b:a 64k || exit 1

netbed_up "$LATE" || exit 1
netbed_start_daemon 1 TA tracker -l "$(netbed_addr 1):0" --ttl "$TTL_S" || exit 1
netbed_start_daemon 2 TB tracker -l "$(netbed_addr 2):0" --ttl "$TTL_S" || exit 1
for p in 3 4; do
	netbed_start_daemon "$p" "P$p" peer -l "$(netbed_addr "$p"):0" \
		-t "$TA_ADDR" -t "$TB_ADDR" --renew 1 -c "$SCRATCH/cache$p" \
		-L "$SCRATCH/lib$p" || exit 1
done
listing=$(printf 'Alpha\t1\nBoth\t2\nGamma\t1')
ok "the peers register with the first tracker" \
	netbed_wait_list "$CLIENT" "$TA_ADDR" "$listing" 60
ok "  and with the second" netbed_wait_list "$CLIENT" "$TB_ADDR" "$listing" 10
is "$(netbed_client "$CLIENT" -t "$TB_ADDR" query Both | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$P3_ADDR" "$P4_ADDR" | sort | tr '\n' ' ')" \
	"  each under its own host's address"

stop_daemon TA KILL
diag "tracker $TA_ADDR killed"
sleep $((TTL_S + 1))
is "$(netbed_client "$CLIENT" -q -t "$TB_ADDR" list)" "$listing" \
	"past the second tracker's ${TTL_S} s lease the peers are still listed there"
ok "the peers noticed the first tracker is gone" \
	wait_for_log P3 "cannot register with tracker $TA_ADDR" 5
rc=0
netbed_client "$CLIENT" -v -t "$TA_ADDR" -t "$TB_ADDR" list >"$SCRATCH/list.out" \
	2>"$SCRATCH/list.err" || rc=$?
is "$rc:$(cat "$SCRATCH/list.out")" "0:$listing" "a client given both trackers lists the songs"
like "$(cat "$SCRATCH/list.err")" "tracker $TB_ADDR answered LIST" "  -v: the second tracker answered"
rc=0
netbed_client "$CLIENT" -v -t "$TA_ADDR,$TB_ADDR" fetch -o "$SCRATCH/got" Gamma \
	>/dev/null 2>"$SCRATCH/fetch.err" || rc=$?
is "$rc" 0 "  and fetches a song through the second tracker"
like "$(cat "$SCRATCH/fetch.err")" "tracker $TB_ADDR answered LOCATE" "  which answered its LOCATE"
ok "  byte-identical to the holder's" netbed_same_as_cache "$SCRATCH/got" "$SCRATCH/cache4"

# a tracker on host 1 again, but its host drops everything sent to it
netbed_start_daemon 1 TC tracker -l "$(netbed_addr 1):0" || exit 1
netbed_exec 1 nft -f - <<-EOF || exit 1
	table inet blackhole {
		chain in {
			type filter hook input priority 0; policy accept;
			iifname "eth0" counter drop
		}
	}
EOF
diag "host 1 drops every packet it receives: connects to $TC_ADDR hang"
# the late peer's cache is a copy of a full one: no ffmpeg, it is ready at once
cp -a "$SCRATCH/cache3" "$SCRATCH/cache$LATE" || exit 1
netbed_start_daemon "$LATE" PL peer -l "$(netbed_addr "$LATE"):0" \
	-t "$TC_ADDR" -t "$TB_ADDR" --renew 1 -c "$SCRATCH/cache$LATE" \
	-L "$SCRATCH/lib3" || exit 1
t0=$(date +%s%N)
ok "a peer whose first tracker is black-holed registers with the second within 2 s" \
	wait_for_log PL "registered 2 song\\(s\\) with tracker $TB_ADDR" 2
t1=$(date +%s%N)
diag "registered with the second tracker $(((t1 - t0) / 1000000)) ms after the ready line"
is "$(netbed_client "$CLIENT" -q -t "$TB_ADDR" query Alpha | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$P3_ADDR" "$PL_ADDR" | sort | tr '\n' ' ')" \
	"  the second tracker lists it"
ok "  the black-holed tracker is reported as unreachable" \
	wait_for_log PL "cannot register with tracker $TC_ADDR: cannot connect: timed out" 5
first_line() {
	grep -n -- "$2" "$SCRATCH/$1.err" | head -n 1 | cut -d: -f1
}
ok "  only after the second tracker had the REGISTER: it waited for no one" \
	test "$(first_line PL "registered 2 song(s) with tracker $TB_ADDR")" -lt \
	"$(first_line PL "cannot register with tracker $TC_ADDR")"

rc=0
t0=$(date +%s%N)
netbed_client "$CLIENT" -v --timeout 1 -t "$TC_ADDR" -t "$TB_ADDR" query Gamma \
	>"$SCRATCH/query.out" 2>"$SCRATCH/query.err" || rc=$?
t1=$(date +%s%N)
is "$rc:$(cat "$SCRATCH/query.out")" "0:$P4_ADDR" \
	"a client with --timeout 1 goes on from the black-holed tracker to the second"
like "$(cat "$SCRATCH/query.err")" "tracker unreachable: $TC_ADDR: timed out; asking the next" \
	"  after its connect timed out"
diag "query past the black-holed tracker: $(((t1 - t0) / 1000000)) ms"

t0=$(date +%s%N)
ok "the late peer stops with status 0" stop_daemon PL
t1=$(date +%s%N)
diag "late peer stopped in $(((t1 - t0) / 1000000)) ms"
ok "  after unregistering from the second tracker" \
	grep -q "unregistered $PL_ADDR from tracker $TB_ADDR" "$SCRATCH/PL.err"
is "$(netbed_client "$CLIENT" -q -t "$TB_ADDR" query Alpha)" "$P3_ADDR" \
	"  which no longer lists it"
ok "no sanitizer report from any daemon" check_sanitizers
done_testing

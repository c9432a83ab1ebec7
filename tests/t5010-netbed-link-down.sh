#!/usr/bin/env bash
# A link goes down in the middle of a fetch: the serving peer's host drops
# off the bridge after the first segment (the peer itself keeps running and
# never closes the connection), the client times out on it and completes
# the song from another host, byte-identical. With the link up again the
# same peer serves the song.
#
# P2PM_CLIENT_SEGMENT_DELAY_MS makes the client pause before each segment
# after the first, so the link can be cut between two segments.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-netbed.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
netbed_need

SONG="Long Song"
NPEERS=4
CLIENT=$((NPEERS + 2))
DELAY_MS=2500
TIMEOUT_S=2
mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/$SONG.mp3" 9 330 -ac 2 -b:a 128k || exit 1

netbed_up "$CLIENT" || exit 1
netbed_start_daemon 1 T tracker -l "$(netbed_addr 1):0" || exit 1
for p in $(seq 1 "$NPEERS"); do
	netbed_start_daemon $((p + 1)) "P$p" peer -l "$(netbed_addr $((p + 1))):0" \
		-t "$T_ADDR" -c "$SCRATCH/cache$p" -L "$SCRATCH/lib" || exit 1
done
netbed_wait_list "$CLIENT" "$T_ADDR" "$(printf '%s\t%s' "$SONG" "$NPEERS")" 60 || exit 1

P2PM_CLIENT_SEGMENT_DELAY_MS=$DELAY_MS netbed_client "$CLIENT" -v -t "$T_ADDR" \
	--timeout "$TIMEOUT_S" -j 1 fetch -o "$SCRATCH/got" "$SONG" \
	>"$SCRATCH/fetch.out" 2>"$SCRATCH/fetch.err" &
fetch_pid=$!
wait_for_line "$SCRATCH/fetch.err" 'segment 1/[0-9]+ .*from ' 30 || exit 1
first=$(sed -n 's/.*segment 1\/[0-9]* .*from \([^ ]*\)$/\1/p' "$SCRATCH/fetch.err" | head -n 1)
down=""
for p in $(seq 1 "$NPEERS"); do
	[ "$(eval "echo \$P${p}_ADDR")" = "$first" ] && down=$p
done
ok "the first segment came from one of the peers ($first)" test -n "$down"
[ -n "$down" ] || exit 1
ok "  over a connection its host sees from the client's address" \
	grep -qx "$(netbed_addr "$CLIENT"):[0-9]*" \
	<(netbed_conns $((down + 1)) "${first##*:}")
netbed_link $((down + 1)) down
diag "host $((down + 1)) ($first) is off the bridge"

rc=0
wait "$fetch_pid" || rc=$?
is "$rc" 0 "the fetch completes though the serving host's link went down"
nseg=$(segments_of "$SCRATCH/got" | wc -l)
ok "  the song has several segments ($nseg)" test "$nseg" -ge 3
ok "  the playlist and every segment are byte-identical to a holder's" \
	netbed_same_as_cache "$SCRATCH/got" "$SCRATCH/cache1"
err=$(cat "$SCRATCH/fetch.err")
like "$err" "peer $first: [a-z ]+ \\(at segment 2/$nseg\\); not used any more" \
	"  the client reports the peer that went silent, at segment 2"
like "$err" "segment 2/$nseg .*from " "  and goes on from there with another peer"
ok "  (not the silent one)" test -z "$(grep "segment 2/$nseg .*from $first\$" "$SCRATCH/fetch.err")"
is "$(grep -c "segment 1/$nseg .*from" "$SCRATCH/fetch.err")" 1 \
	"  the segment it already had is not fetched again"
ok "  the peer behind the dead link is still running" kill -0 "$(eval "echo \$P${down}_PID")"

netbed_link $((down + 1)) up
rc=0
netbed_client "$CLIENT" -q --timeout 5 -p "$first" fetch -o "$SCRATCH/again" "$SONG" || rc=$?
is "$rc" 0 "with the link up again, the same peer serves the song"
ok "  byte-identical" netbed_same_as_cache "$SCRATCH/again" "$SCRATCH/cache1"

ok "no sanitizer report from any daemon" check_sanitizers
done_testing

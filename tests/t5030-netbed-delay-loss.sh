#!/usr/bin/env bash
# A slow, lossy link: with 50 ms of round-trip delay and 1% packet loss on
# the client's link, "client cat" still writes exactly the song's bytes.
# Its time to the first byte is measured and printed against the round
# trip; only a generous bound is asserted (machines are noisy). The loss
# rule is checked to be on the link: at 100% nothing gets through.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-netbed.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
netbed_need

SONG="Far Away"
RTT_MS=50
LOSS_PERCENT=1
RUNS=3
# the first byte must come within this (about 40 round trips; a lost SYN
# alone costs 1 s)
TTFB_BOUND_MS=3000
CLIENT=3
mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/$SONG.mp3" 12 520 -ac 2 -b:a 128k || exit 1

netbed_up "$CLIENT" || exit 1
netbed_start_daemon 1 T tracker -l "$(netbed_addr 1):0" || exit 1
netbed_start_daemon 2 P peer -l "$(netbed_addr 2):0" -t "$T_ADDR" \
	-c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
netbed_wait_list "$CLIENT" "$T_ADDR" "$(printf '%s\t1' "$SONG")" 60 || exit 1
# the reference: the song as the peer's cache holds it
netbed_client "$CLIENT" -q -p "$P_ADDR" fetch -o "$SCRATCH/ref" "$SONG" || exit 1
ok "the reference copy is the peer's" netbed_same_as_cache "$SCRATCH/ref" "$SCRATCH/cache"
concat_segments "$SCRATCH/ref" >"$SCRATCH/ref.ts"
size=$(wc -c <"$SCRATCH/ref.ts")

times=$(netbed_timed_cat "$CLIENT" "$SCRATCH/plain.ts" -q -p "$P_ADDR" cat "$SONG")
is "$?" 0 "cat over a clean link exits 0"
diag "clean link: first byte after ${times% *} ms, $size bytes in ${times#* } ms"

netbed_delay "$CLIENT" "$RTT_MS" || exit 1
netbed_via "$CLIENT" "$P_ADDR" VIA || exit 1
netbed_loss "$CLIENT" 100 || exit 1
rc=0
netbed_client "$CLIENT" -q --timeout 1 -p "$VIA" cat "$SONG" >"$SCRATCH/none.ts" 2>/dev/null || rc=$?
is "$rc" 1 "with 100% loss on the client's link no peer can serve the song"
ok "  and nothing is written" test ! -s "$SCRATCH/none.ts"

netbed_loss "$CLIENT" "$LOSS_PERCENT" || exit 1
ttfbs=()
for run in $(seq 1 "$RUNS"); do
	rc=0
	times=$(netbed_timed_cat "$CLIENT" "$SCRATCH/slow$run.ts" -q --timeout 10 \
		-p "$VIA" cat "$SONG") || rc=$?
	is "$rc" 0 "run $run: cat over ${RTT_MS} ms RTT and ${LOSS_PERCENT}% loss exits 0"
	ok "  it writes exactly the song's bytes" cmp -s "$SCRATCH/slow$run.ts" "$SCRATCH/ref.ts"
	ttfb=${times% *}
	ok "  its first byte comes within $TTFB_BOUND_MS ms (took $ttfb ms)" \
		test "$ttfb" -le "$TTFB_BOUND_MS"
	diag "run $run: first byte after $ttfb ms ($(awk -v t="$ttfb" -v r="$RTT_MS" \
		'BEGIN { printf "%.1f", t / r }') round trips), $size bytes in ${times#* } ms"
	ttfbs+=("$ttfb")
done
diag "time to first byte at ${RTT_MS} ms RTT, ${LOSS_PERCENT}% loss: median" \
	"$(printf '%s\n' "${ttfbs[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p") ms over $RUNS runs;" \
	"$(netbed_dropped "$CLIENT") packets dropped on the link"

ok "no sanitizer report from any daemon" check_sanitizers
done_testing

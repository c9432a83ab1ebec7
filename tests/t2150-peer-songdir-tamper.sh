#!/usr/bin/env bash
# A song directory shared in place is served as it was checked, not as it
# is later: its segments are opened relative to the directory held open
# since the check, and a segment whose identity (device, inode, size,
# mtime, ctime) is no longer the checked one is refused with ERR, logged,
# and the directory checked again. Bytes overwritten in place (same size)
# are never served; a directory swapped for a symbolic link afterwards is
# not followed.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
. "$TEST_DIR/lib-peer.sh"
: "${P2PM_TOOLS:=$TOP_DIR/build/san/tools}"

hash_of() { sha256sum "$1" | cut -c1-64; }
# segment_refused SEGMENT REPLY : the peer answers REPLY to REQUEST_SEGMENT
segment_refused() {
	[ "$(get_segment "$P_ADDR" "$1" "$SCRATCH/late")" = "$2" ]
}

lib=$SCRATCH/lib
mkdir -p "$lib"
make_songdir "$lib/one" "One" 3 440 || exit 1
make_songdir "$lib/two" "Two" 3 550 || exit 1
# long renewals: no periodic rescan during the test, only the ones asked for
start_daemon P peer -l 127.0.0.1:0 -t "$(refused_addr)" --renew 120 \
	-c "$SCRATCH/cache" -L "$lib" || exit 1
ok "the peer serves both song directories" wait_for_served "$P_ADDR" One
wait_for_served "$P_ADDR" Two || exit 1

# 128 bytes overwritten in place: same size, same inode
seg=$(segments_of "$lib/one" | head -n 1)
size=$(stat -c %s "$lib/one/$seg")
is "$(get_segment "$P_ADDR" "$seg" "$SCRATCH/before")" "SEGMENT $seg $size" \
	"the checked segment is served"
is "$(hash_of "$SCRATCH/before")" "${seg%.ts}" "with the bytes it was checked with"
head -c 128 /dev/zero | tr '\0' 'X' |
	dd of="$lib/one/$seg" bs=1 seek=376 count=128 conv=notrunc status=none
is "$(stat -c %s "$lib/one/$seg")" "$size" "the tampered segment keeps its size"
is "$(get_segment "$P_ADDR" "$seg" "$SCRATCH/after")" \
	"ERR 404 segment changed since it was checked" \
	"REQUEST_SEGMENT of it is refused, not served until the next rescan"
ok "nothing of it was sent" test ! -s "$SCRATCH/after"
ok "the peer logs it" wait_for_log P "$seg changed since its song directory was checked" 5
ok "and checks the directory again at once, refusing it" \
	wait_for_log P "refusing song directory $lib/one: .*does not hash to its name" 10
ok "so the song is no longer served" wait_until 5 song_gone "$P_ADDR" One

# the directory swapped for a link to one with other bytes under the same names
seg2=$(segments_of "$lib/two" | head -n 1)
cp "$lib/two/$seg2" "$SCRATCH/checked.ts"
mv "$lib/two" "$SCRATCH/two-moved"
mkdir "$SCRATCH/planted"
for f in "$SCRATCH/two-moved"/*; do
	head -c "$(stat -c %s "$f")" /dev/zero | tr '\0' 'P' >"$SCRATCH/planted/${f##*/}"
done
ln -s "$SCRATCH/planted" "$lib/two"
size2=$(stat -c %s "$SCRATCH/checked.ts")
is "$(get_segment "$P_ADDR" "$seg2" "$SCRATCH/swapped")" "SEGMENT $seg2 $size2" \
	"after the swap, a segment of the swapped directory is still answered"
ok "with the checked bytes, read through the directory held since the check" \
	cmp -s "$SCRATCH/swapped" "$SCRATCH/checked.ts"
ok "never the planted ones behind the link" bash -c '! grep -q PPPP "$1"' _ "$SCRATCH/swapped"
# a rescan finds a link where the song directory was: refused, not followed
kill -HUP "$P_PID"
ok "a rescan drops the directory behind the link, not serving it" \
	wait_for_log P "(skipping|refusing) song directory $lib/two: " 10
ok "after which the segment is not served at all" \
	wait_until 5 segment_refused "$seg2" "ERR 404 no such segment"
ok "the peer stops with status 0" stop_daemon P
ok "no sanitizer report" check_sanitizers
done_testing

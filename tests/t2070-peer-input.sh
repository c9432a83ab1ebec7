#!/usr/bin/env bash
# The peer's ffmpeg reads only the file it was given: an HLS playlist named
# .mp3 is refused without running ffmpeg, a file swapped in after its key
# was taken is never segmented under that key, and ffmpeg's output is
# capped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"
# a tracker address that refuses connections
DEAD=$(refused_addr)

make_mp3 "$SCRATCH/good.mp3" 3 440 || exit 1
make_mp3 "$SCRATCH/other.mp3" 8 660 || exit 1
# 39 bytes of playlist listing a real local file, many times over
{
	echo '#EXTM3U'
	for _ in $(seq 200); do
		echo '#EXTINF:3,'
		echo "$SCRATCH/good.mp3"
	done
	echo '#EXT-X-ENDLIST'
} >"$SCRATCH/evil.mp3"
cp "$SCRATCH/good.mp3" "$SCRATCH/swapped.mp3"
orig_key=$(key_of "$SCRATCH/swapped.mp3")
real_ffmpeg=$(command -v ffmpeg)

# an ffmpeg that, on its first run for swapped.mp3's key, puts another
# file in that path before it starts (a swap after hashing), and that
# writes a 3 MB file into its output for the key of big.mp3
make_mp3 "$SCRATCH/big.mp3" 1 550 || exit 1
big_key=$(key_of "$SCRATCH/big.mp3")
scratch_program ffmpeg <<EOS || exit 1
#!/bin/sh
case "\$*" in
*" $orig_key-%d.ts "*)
	if [ ! -e "$SCRATCH/swap-done" ]; then
		: >"$SCRATCH/swap-done"
		cp "$SCRATCH/other.mp3" "$SCRATCH/swap.tmp" && mv "$SCRATCH/swap.tmp" "$SCRATCH/swapped.mp3"
	fi ;;
*" $big_key-%d.ts "*)
	for a in "\$@"; do out=\$a; done
	out=\${out#file:}
	head -c 3000000 /dev/zero >"\${out%/*}/$big_key-0.ts"
	sleep 5
	exit 0 ;;
esac
exec "$real_ffmpeg" "\$@"
EOS

start_daemon P peer -l 127.0.0.1:0 -t "$DEAD" -c "$SCRATCH/cache" \
	"Evil=$SCRATCH/evil.mp3" "Swapped=$SCRATCH/swapped.mp3" "Big=$SCRATCH/big.mp3" || exit 1
ok "the swapped song is ready" wait_for_log P "ready: 'Swapped'"
ok "the big one is given up" wait_for_log P "skipping $SCRATCH/big.mp3"

like "$(grep "evil.mp3" "$SCRATCH/P.err")" "refusing .*evil.mp3: not audio" \
	"a playlist named .mp3 is refused, saying why"
is "$(grep -c "evil.mp3" "$SCRATCH/P.err")" 1 "with one log line"
is "$(request "$P_ADDR" "REQUEST_SONG Evil")" "ERR 404 no such song" "and it is not served"

# what was cached under the first key is the first file, not the one put in its place
ok "the file was swapped before ffmpeg started" test -e "$SCRATCH/swap-done"
dir=$SCRATCH/cache/songs/$orig_key
segs=$(segments_of "$dir" 2>/dev/null)
d=$(duration_of "$dir/${segs%%$'\n'*}" 2>/dev/null)
ok "what is cached under the first file's key is that file (${d:-no} s, not 8)" \
	close_to "${d:-0}" 3 1
is "$(printf '%s\n' "$segs" | grep -c .)" 1 "in one segment, as 3 s make"

like "$(grep "big.mp3" "$SCRATCH/P.err")" "wrote over [0-9]+ bytes \(4 times the input and 1048576 more\)" \
	"an ffmpeg writing past the output cap is stopped, with one log line"
is "$(find "$SCRATCH/cache" -name "$big_key*" | wc -l)" 0 "and nothing of it is left in the cache"
is "$(find "$SCRATCH/cache/songs" -mindepth 1 -maxdepth 1 | wc -l)" 1 \
	"the cache holds only the real song"

ok "peer exits 0 on SIGTERM" stop_daemon P
ok "no sanitizer report" check_sanitizers
done_testing

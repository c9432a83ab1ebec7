#!/usr/bin/env bash
# What the peer says while it prepares a library: one "library:" line per
# look that finds a change (not one per song renamed by its tags), one line
# per song renamed by its tags, and progress counts that add up to the
# files there are, on a cold start and on a warm one.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-peer.sh"

lib=$SCRATCH/music
mkdir -p "$lib/Artist/Album"
make_mp3 "$SCRATCH/tone.mp3" 1 440 -b:a 64k || exit 1
for i in 1 2 3 4 5 6 7; do
	ffmpeg -nostdin -v error -y -i "$SCRATCH/tone.mp3" -c copy -metadata artist=Artist \
		-metadata "title=Song $i" -metadata album=Album -metadata "track=$i" \
		"$lib/Artist/Album/$i.mp3" || exit 1
done
# untagged (a comment names no song), each its own content
for i in 8 9 10; do
	ffmpeg -nostdin -v error -y -i "$SCRATCH/tone.mp3" -c copy -metadata "comment=copy $i" \
		"$lib/untagged $i.mp3" || exit 1
done

# the peer's ffmpeg counts its runs, and those that only read out cover art
ffmpeg_spy || exit 1

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" || exit 1
ok "the peer prepares the 10 files (cold cache)" \
	wait_for_log P "prepared [0-9]+/[0-9]+ songs, 0 refused, 0 left in the queue\$" 60
is "$(runs)" 10 \
	"  running ffmpeg once a file: probed, segmented and looked at for cover art in one run"
is "$(art_runs)" 0 "  none of them only for cover art"
sleep 0.5
is "$(grep -c 'info: library: ' "$SCRATCH/P.err")" 1 \
	"  one library line, the start's, though 7 songs are renamed by their tags"
like "$(grep 'info: library: ' "$SCRATCH/P.err")" "library: 10 song\\(s\\), 10 to check, 0 dropped" \
	"  naming the 10 files"
is "$(grep -c "is named 'Artist - Song [1-7]' by its tags" "$SCRATCH/P.err")" 7 \
	"  one line per song renamed by its tags"
is "$(grep "is named 'Artist - Song [1-7]' by its tags" "$SCRATCH/P.err" | sort -u | wc -l)" 7 \
	"  each renamed song said once"
is "$(grep -o 'prepared [0-9]*/[0-9]* songs' "$SCRATCH/P.err" | sed 's|.*/||' | sort -u)" "10 songs" \
	"  every progress line counts 10 songs in all"
is "$(grep -o 'prepared [0-9]*/[0-9]* songs.*' "$SCRATCH/P.err" | tail -n 1)" \
	"prepared 10/10 songs, 0 refused, 0 left in the queue" "  the last one 10 of 10"
ok "peer exits 0" stop_daemon P

# the warm start's ffmpeg runs are counted: a song with no cover art is
# remembered as such, so nothing is read out again
forget_runs
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" || exit 1
ok "a warm start prepares them again" \
	wait_for_log P "prepared [0-9]+/[0-9]+ songs" 60
is "$(runs)" 0 "  without running ffmpeg (cover art included)"
sleep 0.5
is "$(grep -c 'info: library: ' "$SCRATCH/P.err")" 1 "  with one library line"
is "$(grep -o 'prepared [0-9]*/[0-9]* songs.*' "$SCRATCH/P.err")" \
	"prepared 10/10 songs, 0 refused, 0 left in the queue" "  and one progress line, 10 of 10"
is "$(grep -c 'by its tags' "$SCRATCH/P.err")" 0 "  no song renamed again"
ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer report" check_sanitizers
done_testing

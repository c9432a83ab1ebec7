#!/usr/bin/env bash
# The peer's cache: segments are reused across restarts without running
# ffmpeg, changed files are segmented again (also when they change while
# ffmpeg runs), broken, cut or half-made entries are never served, the ready
# line comes before segmenting ends, and no ffmpeg outlives the peer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"
# a tracker address that refuses connections
DEAD=$(refused_addr)

lib=$SCRATCH/library
cache=$SCRATCH/cache
mkdir -p "$lib" "$cache"
real_ffmpeg=$(command -v ffmpeg)
case "$real_ffmpeg" in
/*) ;;
*) bail_out "ffmpeg is '$real_ffmpeg', not a program at an absolute path" ;;
esac

# an ffmpeg that logs each run ("<pid> <input>"); waits first while
# $SCRATCH/slow exists; replaces the input file X.mp3 (one in the scratch
# directory) with $SCRATCH/rewrite-X.mp3 (once) when that exists; and reads
# the input at the pace of playback while $SCRATCH/realtime exists
scratch_program ffmpeg <<WRAPPER || exit 1
#!/usr/bin/env bash
# the input comes as descriptor 3 (file:/proc/self/fd/3): name its file
for a in "\$@"; do case "\$a" in file:/proc/self/fd/3) in=\$(readlink "/proc/\$\$/fd/3") ;; esac; done
if [ -n "\${in:-}" ]; then echo "\$\$ \$in" >>"$SCRATCH/ffmpeg.log"; fi
if [ -e "$SCRATCH/slow" ]; then sleep 2; fi
new="$SCRATCH/rewrite-\$(basename "\${in:-none}")"
case "\${in:-}" in
"$SCRATCH"/*) if [ -e "\$new" ]; then cat "\$new" >"\$in" && rm -f "\$new"; fi ;;
esac
if [ -e "$SCRATCH/realtime" ]; then set -- -re "\$@"; fi
exec "$real_ffmpeg" "\$@"
WRAPPER
: >"$SCRATCH/ffmpeg.log"
runs() { wc -l <"$SCRATCH/ffmpeg.log" | tr -d ' '; }
now_ms() { date +%s%3N; }
# ffmpeg_pids [REGEX] : ffmpeg runs of this test (the wrapper or the real
# one) still alive, or those whose command line matches REGEX
ffmpeg_pids() { pgrep -f -- "${1:-ffmpeg .*-hls_segment_filename file:$SCRATCH/}"; }
# no_ffmpeg_left : waits (briefly) until no ffmpeg run of this test is alive
no_ffmpeg_left() {
	local _
	for _ in $(seq 1 20); do
		ffmpeg_pids >/dev/null || return 0
		sleep 0.1
	done
	diag "still running: $(ffmpeg_pids | tr '\n' ' ')"
	ffmpeg_pids | xargs -r kill -KILL 2>/dev/null
	return 1
}

make_mp3 "$lib/a.mp3" 6 440 || exit 1
make_mp3 "$lib/b.mp3" 5 440 -b:a 64k || exit 1
# temporaries: one of a process that is gone, one of a live process (us)
mkdir -p "$cache/tmp-2147483646-1" "$cache/tmp-$$-1"
: >"$cache/tmp-2147483646-1/x.ts"

touch "$SCRATCH/slow"
start_daemon P1 peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$lib" || exit 1
is "$(grep -c "ready:" "$SCRATCH/P1.err")" 0 "the ready line comes before any song is segmented"
is "$(request "$P1_ADDR" "REQUEST_SONG a")" "ERR 404 no such song" \
	"a song still being segmented is not served yet"
ok "a stale temporary of a dead peer is removed at start" test ! -e "$cache/tmp-2147483646-1"
ok "a temporary of a live process is left alone" test -d "$cache/tmp-$$-1"
rm -f "$SCRATCH/slow"
ok "song a becomes ready" wait_for_served "$P1_ADDR" a 30
ok "song b becomes ready" wait_for_served "$P1_ADDR" b 30
is "$(runs)" 2 "ffmpeg ran once per song"
fetch_song "$P1_ADDR" a "$SCRATCH/a1" || exit 1
ok "the peer exits 0 on SIGTERM" stop_daemon P1

# a restart reuses the cache: no ffmpeg, same segment names
start_daemon P2 peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$lib" || exit 1
ok "after a restart song a is served" wait_for_served "$P2_ADDR" a 30
ok "after a restart song b is served" wait_for_served "$P2_ADDR" b 30
is "$(runs)" 2 "a restart does not run ffmpeg again"
is "$(grep -c "reused from cache" "$SCRATCH/P2.err")" 2 "both songs are logged as reused from cache"
is "$(grep -c "segmenting" "$SCRATCH/P2.err")" 0 "nothing is logged as segmenting"
fetch_song "$P2_ADDR" a "$SCRATCH/a2" || exit 1
ok "segment names are stable across restarts" cmp -s "$SCRATCH/a1/index.m3u8" "$SCRATCH/a2/index.m3u8"

# a changed file is segmented again; a touched one is only re-hashed
# (the new file begins with the same tone: its first segment is the old
# one's, by content; the old last one is not in it)
old_seg=$(segments_of "$SCRATCH/a2" | tail -n 1)
make_mp3 "$SCRATCH/a-new.mp3" 8 440 || exit 1
mv "$SCRATCH/a-new.mp3" "$lib/a.mp3"
touch "$lib/b.mp3"
kill -HUP "$P2_PID"
ok "the changed song is segmented again after SIGHUP" \
	wait_for_log P2 "segmented 'a' into .* \($(key_of "$lib/a.mp3")\)" 30
is "$(runs)" 3 "only the changed file ran ffmpeg"
ok "the changed song is served with new segments" wait_for_log P2 "ready: 'a' " 10 2
fetch_song "$P2_ADDR" a "$SCRATCH/a3" || exit 1
ok "its playlist names segments of the new content" segments_named_by_hash "$SCRATCH/a3"
ok "not the old ones" test -z "$(segments_of "$SCRATCH/a3" | grep -Fx "$old_seg")"
is "$(request "$P2_ADDR" "REQUEST_SEGMENT $old_seg")" "ERR 404 no such segment" \
	"segments of the old content are no longer served"
ok "ffprobe reads the new duration" \
	close_to "$(duration_of "$SCRATCH/a3/index.m3u8")" "$(duration_of "$lib/a.mp3")" 0.5
ok "the peer exits 0 on SIGTERM" stop_daemon P2

# a cache entry with a segment missing is not trusted
bkey=$(key_of "$lib/b.mp3")
rm -f "$(cached_segment "$cache" "$bkey")"
start_daemon P3 peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$lib" || exit 1
ok "a broken cache entry is segmented again" \
	wait_for_log P3 "segmented 'b' into" 30
ok "and the song is served whole" wait_for_served "$P3_ADDR" b 10
fetch_song "$P3_ADDR" b "$SCRATCH/b3" || exit 1
ok "with every segment" segments_match_cache "$SCRATCH/b3" "$cache"
is "$(runs)" 4 "only the broken entry ran ffmpeg"
ok "the peer exits 0 on SIGTERM" stop_daemon P3

# SIGTERM while ffmpeg runs: quick exit 0, nothing half-made left
make_mp3 "$lib/c.mp3" 4 440 || exit 1
ckey=$(key_of "$lib/c.mp3")
touch "$SCRATCH/slow"
start_daemon P4 peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$lib" || exit 1
ok "ffmpeg starts on the new song" wait_for_log P4 "segmenting 'c'" 10
t0=$(now_ms)
ok "the peer exits 0 on SIGTERM while segmenting" stop_daemon P4
ok "within 2 seconds" test $(($(now_ms) - t0)) -lt 2000
ok "no half-made song is left in the cache" test ! -e "$cache/songs/$ckey"
ok "nor its temporary" test -z "$(find "$cache" -maxdepth 1 -name "tmp-*" ! -name "tmp-$$-1")"
ok "no ffmpeg is left running" no_ffmpeg_left

# SIGKILL while ffmpeg runs: the next start cleans up and segments again
start_daemon P5 peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$lib" || exit 1
ok "ffmpeg starts on the new song again" wait_for_log P5 "segmenting 'c'" 10
sleep 0.3
stop_daemon P5 KILL
ok "a killed peer leaves no ffmpeg running" no_ffmpeg_left
ok "a killed peer leaves no song directory half-made" test ! -e "$cache/songs/$ckey"
rm -f "$SCRATCH/slow"
start_daemon P6 peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$lib" || exit 1
ok "the next start removes the killed peer's temporary" \
	grep -q "removing stale cache temporary" "$SCRATCH/P6.err"
ok "and segments the song" wait_for_served "$P6_ADDR" c 30
ok "the peer exits 0 on SIGTERM" stop_daemon P6

# a segment cut short (a crash before it reached the disk) is not trusted;
# a file rewritten between taking its key and ffmpeg reading it never gets
# segments of the new content kept under the old key
truncate -s -100 "$(cached_segment "$cache" "$ckey")"
make_mp3 "$lib/d.mp3" 3 440 || exit 1
make_mp3 "$SCRATCH/rewrite-d.mp3" 5 440 -b:a 80k || exit 1
dkey_old=$(key_of "$lib/d.mp3")
start_daemon P7 peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$lib" || exit 1
ok "a cache entry with a segment cut short is segmented again" \
	wait_for_log P7 "segmented 'c' into" 30
ok "the rewrite under ffmpeg is noticed" \
	wait_for_log P7 "d\.mp3 changed while being segmented; segmenting it again" 30
ok "the rewritten song is served" wait_for_served "$P7_ADDR" d 30
ok "nothing is cached under the old content's key" test ! -e "$cache/songs/$dkey_old"
fetch_song "$P7_ADDR" d "$SCRATCH/d7" || exit 1
ok "the playlist names segments of the new content" segments_named_by_hash "$SCRATCH/d7"
ok "cached under the new content's key" \
	cmp -s "$SCRATCH/d7/index.m3u8" "$cache/songs/$(key_of "$lib/d.mp3")/index.m3u8"
ok "which play for the new file's length" \
	close_to "$(duration_of "$SCRATCH/d7/index.m3u8")" "$(duration_of "$lib/d.mp3")" 0.5
ok "the peer exits 0 on SIGTERM" stop_daemon P7

# Ctrl-C at a terminal signals the peer's whole process group: ffmpeg is
# not in it, so the peer stops it itself, with no failure logged
make_mp3 "$lib/e.mp3" 9 440 -b:a 96k || exit 1
mkdir -p "$SCRATCH/sbin"
printf '#!/bin/sh\nexec setsid "%s/peer" "$@"\n' "$P2PM_BIN" >"$SCRATCH/sbin/peer"
chmod +x "$SCRATCH/sbin/peer"
touch "$SCRATCH/realtime"
P2PM_BIN=$SCRATCH/sbin start_daemon P8 peer -l 127.0.0.1:0 -t "$DEAD" \
	-c "$cache" -L "$lib" || exit 1
is "$(ps -o pgid= -p "$P8_PID" | tr -d ' ')" "$P8_PID" \
	"the peer leads its process group, as in a terminal"
for _ in $(seq 1 100); do
	ffpid=$(ffmpeg_pids "^$real_ffmpeg -re .*$(key_of "$lib/e.mp3")-%d\.ts") && break
	sleep 0.1
done
ok "ffmpeg runs on song e" test -n "$ffpid"
ok "in a process group of its own" \
	test -n "$ffpid" -a "$(ps -o pgid= -p "${ffpid:-0}" | tr -d ' ')" != "$P8_PID"
kill -INT -- "-$P8_PID"
ok "the peer exits 0 on a Ctrl-C" stop_daemon P8 INT
is "$(grep -c 'skipping\|ffmpeg killed' "$SCRATCH/P8.err")" 0 "no song is logged as failed"
ok "no ffmpeg is left running" no_ffmpeg_left
rm -f "$SCRATCH/realtime"

ok "no sanitizer reports" check_sanitizers
done_testing

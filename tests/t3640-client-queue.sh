#!/usr/bin/env bash
# cat and play of several songs: one stream as long as all of them, one
# player process for the whole queue, --playlist files, --shuffle, --album
# in track order (from a stand-in tracker giving tags), a song that fails
# skipped, and --start from the segment holding the time asked.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
[ -x "$P2PM_TOOLS/canned" ] || skip_all "build/san/tools/canned is missing (make check-build)"

mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/One.mp3" 3 440 -ac 2 -b:a 128k || exit 1
make_mp3 "$SCRATCH/lib/Two.mp3" 2 660 -ac 2 -b:a 128k || exit 1
make_mp3 "$SCRATCH/lib/Long.mp3" 13 550 -ac 2 -b:a 128k || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
for s in One Two Long; do
	wait_for_registered "$T_ADDR" "$s" 1 || exit 1
done

# packet_secs FILE : the seconds of audio in FILE, the sum of its packets'
packet_secs() {
	ffprobe -v error -select_streams a -show_entries packet=duration_time \
		-of csv=p=0 "$1" | awk '{ s += $1 } END { printf "%.3f", s }'
}

# 1. cat of two songs: one stream as long as both
client -q -t "$T_ADDR" cat One Two >"$SCRATCH/onetwo.ts" 2>"$SCRATCH/cat.err"
is "$?" 0 "cat of two songs exits 0"
one=$(client -q -t "$T_ADDR" cat One | tee "$SCRATCH/one.ts" | wc -c)
d=$(duration_of "$SCRATCH/onetwo.ts")
ok "  ffprobe reads it as long as both ($d s for 3 s + 2 s)" close_to "$d" 5 0.5
ok "  and it holds 5 s of audio ($(packet_secs "$SCRATCH/onetwo.ts") s)" \
	close_to "$(packet_secs "$SCRATCH/onetwo.ts")" 5 0.3
ok "  beginning with the first song's bytes as cat of it alone gives them" \
	cmp -s -n "$one" "$SCRATCH/one.ts" "$SCRATCH/onetwo.ts"
is "$(ffmpeg -nostdin -v warning -i "$SCRATCH/onetwo.ts" -f null - 2>&1)" "" \
	"  ffmpeg decodes it without a warning (timestamps and counters run on)"

# 2. play: one player process for the whole queue
scratch_program recorder <<SH || exit 1
#!/bin/sh
echo \$\$ >>"$SCRATCH/recorder.pids"
wc -c >>"$SCRATCH/recorder.bytes"
SH
client -q -t "$T_ADDR" play --player "$SCRATCH/bin/recorder" One Two 2>"$SCRATCH/rec.err"
is "$?" 0 "play of two songs into a recording player exits 0"
is "$(wc -l <"$SCRATCH/recorder.pids")" 1 "  one player process was started"
is "$(cat "$SCRATCH/recorder.bytes")" "$(wc -c <"$SCRATCH/onetwo.ts")" \
	"  and it read the whole stream cat gives, both songs"

# a player reading at about 80 KB/s: the next song is fetched while the
# current one is still being read
scratch_program slowreader <<'SH' || exit 1
#!/bin/sh
while [ "$(dd bs=4096 count=1 status=none | wc -c)" -gt 0 ]; do
	sleep 0.05
done
SH
client -v -t "$T_ADDR" play --player "$SCRATCH/bin/slowreader" Long One 2>"$SCRATCH/slow.err"
is "$?" 0 "play into a slow player exits 0"
asked=$(grep -n "for 'One'" "$SCRATCH/slow.err" | head -n 1 | cut -d: -f1)
moved=$(grep -n "song 2/2: 'One'" "$SCRATCH/slow.err" | cut -d: -f1)
ok "  the second song's swarm started (line ${asked:-none}) before the first was all written (line ${moved:-none})" \
	test "${asked:-999999}" -lt "${moved:-0}"

if command -v ffplay >/dev/null; then
	t0=$(date +%s%N)
	SDL_AUDIODRIVER=dummy timeout 60 "$P2PM_BIN/client" -q -t "$T_ADDR" play One Two \
		>"$SCRATCH/ffplay.out" 2>"$SCRATCH/ffplay.err"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	is "$rc" 0 "the real ffplay plays both songs to the end and exits 0"
	ok "  at their pace: $ms ms for 5 s" test "$ms" -ge 4500
else
	skip_test "ffplay is needed (apt-get install ffmpeg)"
fi
if command -v mpv >/dev/null; then
	t0=$(date +%s%N)
	timeout 60 "$P2PM_BIN/client" -q -t "$T_ADDR" play --player "mpv --no-video --ao=null" \
		One Two >"$SCRATCH/mpv.out" 2>"$SCRATCH/mpv.err"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	is "$rc" 0 "mpv plays both songs to the end and exits 0"
	ok "  at their pace: $ms ms for 5 s" test "$ms" -ge 4500
	like "$(cat "$SCRATCH/mpv.out" "$SCRATCH/mpv.err" | tr '\r' '\n' | grep ' / ' | tail -n 1)" "/ 00:00:0[45]" \
		"  seeing one stream of the length of both"
else
	skip_test "mpv is needed (apt-get install mpv)"
fi

# an interrupt stops the queue and the player at once
"$P2PM_BIN/client" -q -t "$T_ADDR" play --player "$SCRATCH/bin/slowreader" Long One \
	2>"$SCRATCH/int.err" &
pid=$!
sleep 1
kill -INT "$pid"
t0=$(date +%s%N)
wait "$pid"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$rc" 130 "SIGINT during play of a queue exits 130"
ok "  at once ($ms ms), the player stopped with it" test "$ms" -lt 5000

# 3. --playlist: names one a line, comments, blank lines, CR LF
printf '#EXTM3U\n# my songs\n\nOne\r\n   \n#Two\nTwo\n' >"$SCRATCH/list.m3u"
client -q -t "$T_ADDR" cat --playlist "$SCRATCH/list.m3u" >"$SCRATCH/list.ts"
is "$?" 0 "cat --playlist exits 0"
ok "  giving the songs it names, in order, as cat of them does" \
	cmp -s "$SCRATCH/list.ts" "$SCRATCH/onetwo.ts"
printf 'Two\n' | client -q -t "$T_ADDR" cat --playlist - One >"$SCRATCH/stdin.ts"
ok "  --playlist - reads stdin, after the songs named" cmp -s "$SCRATCH/stdin.ts" "$SCRATCH/onetwo.ts"
err=$(client -q -t "$T_ADDR" cat --playlist "$SCRATCH/nonesuch.m3u" 2>&1 >/dev/null)
is "$?" 4 "a playlist that cannot be read exits 4"
like "$err" "cannot open the playlist .*nonesuch.m3u" "  naming it"
{ printf 'One\n'; head -c 400 /dev/zero | tr '\0' x; printf '\n'; } >"$SCRATCH/long.m3u"
err=$(client -q -t "$T_ADDR" cat --playlist "$SCRATCH/long.m3u" 2>&1 >/dev/null)
is "$?" 2 "a playlist line longer than a name can be exits 2"
like "$err" "line 2 is longer than" "  naming the line"
printf '# nothing\n\n' >"$SCRATCH/empty.m3u"
client -q -t "$T_ADDR" cat --playlist "$SCRATCH/empty.m3u" >/dev/null 2>&1
is "$?" 2 "a playlist naming no song exits 2"

# 4. --shuffle plays the same set
client -v -t "$T_ADDR" cat --shuffle One Two Long >"$SCRATCH/shuf.ts" 2>"$SCRATCH/shuf.err"
is "$?" 0 "cat --shuffle exits 0"
is "$(sed -n "s/.*song [0-9]\\/3: '\\(.*\\)'\$/\\1/p" "$SCRATCH/shuf.err" | sort | tr '\n' ' ')" \
	"Long One Two " "  playing each song once"
ok "  as long as all three ($(duration_of "$SCRATCH/shuf.ts") s)" \
	close_to "$(duration_of "$SCRATCH/shuf.ts")" 18 0.6
orders=$(for _ in 1 2 3 4 5 6 7 8; do
	client -v -t "$T_ADDR" -p "$P_ADDR" cat --shuffle One Two Long 2>&1 >/dev/null |
		sed -n "s/.*song [0-9]\\/3: '\\(.*\\)'\$/\\1/p" | tr '\n' ' '
	echo
done | sort -u | wc -l)
ok "  in more than one order over eight runs ($orders)" test "$orders" -gt 1

# 5. a song that fails is said and skipped
client -q -t "$T_ADDR" cat One Nonesuch Two >"$SCRATCH/skip.ts" 2>"$SCRATCH/skip.err"
is "$?" 1 "cat of three songs, one unknown, exits 1"
like "$(cat "$SCRATCH/skip.err")" "no peer holds 'Nonesuch'" "  saying which"
like "$(cat "$SCRATCH/skip.err")" "1 of 3 songs failed" "  and how many failed"
ok "  having written the other two" cmp -s "$SCRATCH/skip.ts" "$SCRATCH/onetwo.ts"

# 6. --start: from the segment holding the time, the rest of it dropped
client -v -t "$T_ADDR" cat --start 0:09.5 Long >"$SCRATCH/start.ts" 2>"$SCRATCH/start.err"
is "$?" 0 "cat --start 0:09.5 exits 0"
like "$(cat "$SCRATCH/start.err")" "starting 'Long' at segment [0-9]+, [0-9.]+ s into it" \
	"  -v says the segment and the offset into it"
d=$(duration_of "$SCRATCH/start.ts")
ok "  the output holds the song from 9.5 s on ($d s of 13 s)" close_to "$d" 3.5 0.4
seg=$(sed -n "s/.*starting 'Long' at segment \\([0-9]*\\),.*/\\1/p" "$SCRATCH/start.err")
nsegs=$(client -v -t "$T_ADDR" cat Long 2>&1 >/dev/null | sed -n 's/.*content id [0-9a-f]*: \([0-9]*\) segments.*/\1/p')
ok "  starting in a later segment ($seg of $nsegs)" test "${seg:-0}" -gt 1 -a "${seg:-0}" -le "${nsegs:-0}"
client -q -t "$T_ADDR" cat --start 1:00 Long >"$SCRATCH/past.ts"
is "$?" 0 "a time past the end gives the end of the last segment"
if command -v ffplay >/dev/null; then
	t0=$(date +%s%N)
	SDL_AUDIODRIVER=dummy timeout 60 "$P2PM_BIN/client" -q -t "$T_ADDR" play --start 9.5 Long One \
		>"$SCRATCH/ffstart.out" 2>"$SCRATCH/ffstart.err"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	is "$rc" 0 "ffplay with --start 9.5 plays to the end"
	ok "  from 9.5 s on, then the next song: $ms ms for 3.5 s + 3 s" \
		test "$ms" -ge 6000 -a "$ms" -lt 9000
else
	skip_test "ffplay is needed (apt-get install ffmpeg)"
fi
if command -v mpv >/dev/null; then
	t0=$(date +%s%N)
	timeout 60 "$P2PM_BIN/client" -q -t "$T_ADDR" play --start 0:09.5 \
		--player "mpv --no-video --ao=null" Long >"$SCRATCH/mpvstart.out" 2>"$SCRATCH/mpvstart.err"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	is "$rc" 0 "mpv with --start 0:09.5 plays to the end"
	ok "  from 9.5 s on: $ms ms for 3.5 s" test "$ms" -ge 2800 -a "$ms" -lt 5500
else
	skip_test "mpv is needed (apt-get install mpv)"
fi
for bad in 1:60 -5 5s 1:2:3:4 ""; do
	client -t "$T_ADDR" play --start "$bad" One >/dev/null 2>&1
	is "$?" 2 "--start '$bad' is a usage error"
done

# 7. --album: the songs a tracker lists with the album, in track order
{
	printf 'PAGE 4\n'
	printf 'Two 1 album=Test%%20Album track=2/3\n'
	printf 'Long 1 album=Else track=1\n'
	printf 'One 1 album=test%%20album track=1/3 title=First\n'
	printf 'Nonesuch 1 album=Test%%20Album\n'
	printf 'END\n'
} >"$SCRATCH/page"
P2PM_BIN=$P2PM_TOOLS start_daemon C canned "$SCRATCH/page" || exit 1
client -v -t "$C_ADDR" -p "$P_ADDR" play --album "Test Album" \
	--player "$SCRATCH/bin/recorder" >/dev/null 2>"$SCRATCH/album.err"
is "$?" 1 "play --album exits 1 when one of its songs cannot be had"
is "$(sed -n "s/.*song [0-9]\\/3: '\\(.*\\)'\$/\\1/p" "$SCRATCH/album.err" | tr '\n' ' ')" \
	"One Two Nonesuch " "  the album in track order, ignoring case, the song without a track last"
is "$(wc -l <"$SCRATCH/recorder.pids")" 2 "  through one more player process"
is "$(tail -n 1 "$SCRATCH/recorder.bytes")" "$(wc -c <"$SCRATCH/onetwo.ts")" \
	"  which read the two songs there are"
err=$(client -t "$C_ADDR" -p "$P_ADDR" cat --album "No Such Album" 2>&1 >/dev/null)
is "$?" 1 "--album naming no album on the network exits 1"
like "$err" "no song on the network has the album 'No Such Album'" "  saying so"

ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer report" check_sanitizers
done_testing

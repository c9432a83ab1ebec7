#!/usr/bin/env bash
# `client play` with its default player, the real ffplay, on SDL's dummy
# audio driver (no sound device needed): the song is played to its end, and
# `client cat | ffprobe -` reads the stream from a pipe.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
command -v ffplay >/dev/null || skip_all "ffplay is needed (apt-get install ffmpeg)"

mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/Short Tune.mp3" 3 500 -ac 2 -b:a 128k || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
wait_for_registered "$T_ADDR" "Short Tune" 1 || exit 1

t0=$(date +%s%N)
SDL_AUDIODRIVER=dummy timeout 60 "$P2PM_BIN/client" -q -t "$T_ADDR" play "Short Tune" \
	>"$SCRATCH/play.out" 2>"$SCRATCH/play.err"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$rc" "0" "play with the default ffplay exits 0 when the song ends"
ok "having played it at its pace, not skipped it (${ms} ms for a 3 s song)" test "$ms" -ge 2500
is "$(cat "$SCRATCH/play.err")" "" "with nothing on stderr"

# a pipe cannot be seeked for a duration: span the packets' timestamps
got=$("$P2PM_BIN/client" -q -t "$T_ADDR" cat "Short Tune" |
	ffprobe -v error -select_streams a:0 -show_entries packet=pts_time -of csv=p=0 -i - |
	awk 'NR == 1 { first = $1 } { last = $1 } END { if (NR) printf "%.3f", last - first }')
ok "ffprobe reads client cat from a pipe as the whole song (${got:-no} s of packets)" \
	close_to "$got" 3 0.5

ok "daemons exit 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer report" check_sanitizers
done_testing

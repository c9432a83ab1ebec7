#!/usr/bin/env bash
# --player with the real mpv (which needs "-" to read stdin: the client adds
# it when the command names no input) and ffplay on SDL's dummy and missing
# audio drivers: a player that plays exits 0 after the song; one that could
# not play makes play exit 4 with the player's own reason.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
command -v mpv >/dev/null || skip_all "mpv is needed (apt-get install mpv)"
command -v ffplay >/dev/null || skip_all "ffplay is needed (apt-get install ffmpeg)"

mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/Short Tune.mp3" 3 500 -ac 2 -b:a 128k || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
wait_for_registered "$T_ADDR" "Short Tune" 1 || exit 1

# play PLAYER-CMD NAME [ENV...] : runs client play, times it into $ms, rc in $rc
play() {
	local cmd=$1 name=$2 t0
	shift 2
	t0=$(date +%s%N)
	env "$@" timeout 60 "$P2PM_BIN/client" -q -t "$T_ADDR" play --player "$cmd" \
		"Short Tune" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
}

play "mpv --no-video --ao=null" mpv
is "$rc" 0 "play with 'mpv --no-video --ao=null' (no input named) exits 0"
ok "  having played the song at its pace (${ms} ms for 3 s)" test "$ms" -ge 2500
ok "  and mpv did not print its usage" test -z "$(grep -h 'Usage:' "$SCRATCH/mpv.out" "$SCRATCH/mpv.err")"

play "mpv --no-video --ao=null -" mpv-dash
is "$rc" 0 "with '-' given by the user it plays too ($ms ms)"
ok "  at its pace" test "$ms" -ge 2500

play "mpv --no-video --ao=no-such-output" mpv-noao
is "$rc" 4 "mpv without an audio output makes play exit 4"
like "$(cat "$SCRATCH/mpv-noao.err")" "player 'mpv --no-video --ao=no-such-output' exited with status 2: Exiting\\.\\.\\. \\(Errors when loading file\\)" \
	"  with mpv's exit status and its last line as the reason"
like "$(cat "$SCRATCH/mpv-noao.out")" "Audio output no-such-output not found" \
	"  and mpv's own messages passed through on stdout, where mpv writes them"

play "ffplay -nodisp -autoexit -loglevel error" ffplay SDL_AUDIODRIVER=dummy
is "$rc" 0 "ffplay on SDL's dummy driver, no input named, exits 0 ($ms ms)"
ok "  at the song's pace" test "$ms" -ge 2500

play "ffplay -nodisp -autoexit -loglevel error" ffplay-noaudio SDL_AUDIODRIVER=no-such-driver
is "$rc" 4 "ffplay with no audio device makes play exit 4"
like "$(cat "$SCRATCH/ffplay-noaudio.err")" \
	"exited with status 1: Could not initialize SDL.*no-such-driver" \
	"  giving ffplay's reason"

cat >"$SCRATCH/fails-late" <<'SH'
#!/bin/sh
cat >/dev/null
echo "first complaint" >&2
printf 'status 1\rstatus 2\r' >&2
echo "cannot decode: bad frame" >&2
exit 3
SH
chmod +x "$SCRATCH/fails-late"
play "$SCRATCH/fails-late" late
is "$rc" 4 "a player that reads everything and exits 3 makes play exit 4"
like "$(cat "$SCRATCH/late.err")" "exited with status 3: cannot decode: bad frame$" \
	"  with its last stderr line as the reason"

ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer report" check_sanitizers
done_testing

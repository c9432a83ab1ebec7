#!/usr/bin/env bash
# `client serve` passes on only verified bytes: with one of two sources
# holding a corrupt copy of a segment, every segment a player gets still
# hashes to its name, and the playlist to the song's content id.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
. "$TEST_DIR/lib-gateway.sh"
need_ffmpeg

mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/Shared.mp3" 10 440 -ac 2 -b:a 128k || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon A peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cacheA" -L "$SCRATCH/lib" || exit 1
start_daemon B peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cacheB" -L "$SCRATCH/lib" || exit 1
wait_for_registered "$T_ADDR" Shared 2 || exit 1

# every segment of A's copy, corrupted in place (same size, other bytes)
n=0
while IFS= read -r f; do
	size=$(wc -c <"$f")
	head -c "$size" /dev/zero >"$f"
	n=$((n + 1))
done < <(find "$SCRATCH/cacheA" -type f -name '*.ts')
ok "source A's $n segment files are corrupted" test "$n" -ge 2

start_gateway || exit 1
G=$G_ADDR
http_get "$G" /songs/Shared/index.m3u8 >"$SCRATCH/pl"
is "$(status_of <"$SCRATCH/pl")" 200 "the playlist is served"
mkdir "$SCRATCH/got"
body_of <"$SCRATCH/pl" >"$SCRATCH/got/index.m3u8"
bad=0 total=0
for seg in $(segments_of "$SCRATCH/got"); do
	http_get "$G" "/songs/Shared/$seg" | body_of >"$SCRATCH/got/$seg"
	[ "$(sha256sum <"$SCRATCH/got/$seg" | cut -c1-64).ts" = "$seg" ] || bad=$((bad + 1))
	total=$((total + 1))
done
ok "all $total segments served hash to their names ($bad do not)" \
	test "$total" -ge 2 -a "$bad" -eq 0
ok "  and are source B's bytes" segments_match_cache "$SCRATCH/got" "$SCRATCH/cacheB"
src=$(duration_of "$SCRATCH/lib/Shared.mp3")
got=$(duration_of "$SCRATCH/got/index.m3u8")
ok "what was served plays for the song's duration ($got s, source $src s)" \
	close_to "$got" "$src" 0.5

ok "the gateway stops on SIGTERM with status 0" stop_daemon G
ok "no sanitizer reports" check_sanitizers
done_testing

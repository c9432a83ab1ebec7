#!/usr/bin/env bash
# client fetch -o DIR creates the missing parent directories of DIR, as
# mkdir -p would, and still refuses a parent that is not a directory.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg

mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/Deep Tune.mp3" 3 440 -ac 2 -b:a 128k || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
wait_for_registered "$T_ADDR" "Deep Tune" 1 || exit 1

out="$SCRATCH/music/new artist/new album/Deep Tune"
client -q -t "$T_ADDR" fetch -o "$out" "Deep Tune"
is "$?" 0 "fetch -o into a directory whose parents do not exist exits 0"
ok "  the song is there" segments_match_cache "$out" "$SCRATCH/cache"
ok "  and plays as the whole song" \
	close_to "$(duration_of "$out/index.m3u8")" "$(duration_of "$SCRATCH/lib/Deep Tune.mp3")" 0.5
ok "  with no temporary file left" no_temp_files "$SCRATCH/music"

client -q -t "$T_ADDR" fetch -o "$SCRATCH/slashes//a///b/" "Deep Tune"
is "$?" 0 "fetch -o with repeated and trailing slashes exits 0"
ok "  and writes the song" test -f "$SCRATCH/slashes/a/b/index.m3u8"

: >"$SCRATCH/plainfile"
err=$(client -q -t "$T_ADDR" fetch -o "$SCRATCH/plainfile/sub/song" "Deep Tune" 2>&1)
is "$?" 4 "fetch -o below a plain file exits 4"
like "$err" "plainfile" "  naming the path it could not create"

ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer report" check_sanitizers
done_testing

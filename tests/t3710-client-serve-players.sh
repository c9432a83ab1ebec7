#!/usr/bin/env bash
# Real players on `client serve`: mpv plays a song from the gateway's
# playlist to its end, and headless Chromium opens the page, searches,
# plays a song in its <audio> element (HLS natively), moves on to the next
# in the queue when it ends, and leaves a screenshot of the page.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
. "$TEST_DIR/lib-gateway.sh"
. "$TEST_DIR/lib-browser.sh"
need_ffmpeg

SONG_S=5
mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/Tone One.mp3" "$SONG_S" 440 -ac 2 -b:a 128k || exit 1
make_mp3 "$SCRATCH/lib/Tone Two.mp3" "$SONG_S" 660 -ac 2 -b:a 128k || exit 1
make_mp3 "$SCRATCH/lib/Other.mp3" 3 330 -ac 2 -b:a 128k || exit 1
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
for s in "Tone One" "Tone Two" Other; do
	wait_for_registered "$T_ADDR" "$s" 1 || exit 1
done
start_gateway || exit 1
G=$G_ADDR
src=$(duration_of "$SCRATCH/lib/Tone One.mp3")

# mpv, as someone would run it
if command -v mpv >/dev/null; then
	t0=$(date +%s%N)
	timeout 60 mpv --no-config --no-video --ao=null \
		--msg-level=all=info --term-playing-msg='duration=${=duration}' \
		"http://$G/songs/Tone%20One/index.m3u8" >"$SCRATCH/mpv.out" 2>&1
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	is "$rc" 0 "mpv plays the gateway's playlist and exits 0"
	like "$(cat "$SCRATCH/mpv.out")" "Exiting\.\.\. \(End of file\)" "  to the end of the song"
	got=$(sed -n 's/^duration=//p' "$SCRATCH/mpv.out" | head -n 1)
	ok "  whose duration it reports as the source's (${got:-none} s, source $src s)" \
		close_to "$got" "$src" 0.5
	ok "  at its pace (${ms} ms)" test "$ms" -ge $(( (SONG_S - 1) * 1000 ))
else
	skip_test "mpv plays a song from the gateway" "mpv is missing (scripts/install-deps installs it)"
fi

# Chromium: the page, driven by its own ?q=&play=1, read back over the
# DevTools JSON endpoint (the page publishes its state in its title)

# page_title PORT : the title of the first page target.
page_title() {
	curl -s "http://127.0.0.1:$1/json/list" |
		sed -n 's/^ *"title": "\(.*p2p-music\)",$/\1/p' | head -n 1
}

# wait_for_title PORT REGEX SECONDS : waits until the page's title matches.
wait_for_title() {
	local _
	for _ in $(seq 1 $(($3 * 10))); do
		TITLE=$(page_title "$1")
		printf '%s' "$TITLE" | grep -Eq -- "$2" && return 0
		sleep 0.1
	done
	diag "title never matched '$2'; last: '$TITLE'"
	return 1
}

# title_time : the playing time in the title, in tenths of a second.
title_time() {
	printf '%s' "$TITLE" | sed -n 's/^\[playing \([0-9]*\)\.\([0-9]\)s.*/\1\2/p'
}

if ! command -v chromium >/dev/null; then
	skip_test "Chromium plays songs from the page" "chromium is missing (scripts/install-deps installs it)"
elif ! command -v curl >/dev/null; then
	skip_test "Chromium plays songs from the page" "curl is missing (scripts/install-deps installs it)"
else
	browser_start "http://$G/?q=tone&play=1"
	port=$BROWSER_PORT
	ok "Chromium starts with a DevTools port ($port)" test -n "$port"
	ok "the page searches and starts the first match" \
		wait_for_title "$port" '^\[playing [0-9.]+s list=2 queue=1\] Now playing: Tone One - p2p-music$' 20
	wait_for_title "$port" '^\[playing ([1-9]|0\.[5-9])' 10
	t1=$(title_time)
	sleep 1.5
	wait_for_title "$port" '^\[playing' 5
	t2=$(title_time)
	ok "the audio element's currentTime advances (${t1:-?} -> ${t2:-?} tenths of s)" \
		test -n "$t1" -a -n "$t2" -a "$((10#${t2:-0}))" -ge $((10#${t1:-0} + 8))
	like "$TITLE" "Now playing: Tone One" "  and the now-playing line names the song"
	ok "at the end of the song the next one in the queue plays" \
		wait_for_title "$port" '^\[playing [0-9.]+s list=2 queue=0\] Now playing: Tone Two' $((SONG_S + 10))
	browser_stop

	# a screenshot for people to look at, of a phone-sized window
	mkdir "$SCRATCH/chromium-shot"
	timeout 60 chromium "${BROWSER_FLAGS[@]}" --user-data-dir="$SCRATCH/chromium-shot" \
		--window-size=420,760 --virtual-time-budget=4000 \
		--screenshot="$SCRATCH/gateway.png" "http://$G/?q=&play=1" \
		>/dev/null 2>"$SCRATCH/chromium-shot.log"
	ok "a screenshot of the page is saved ($SCRATCH/gateway.png)" \
		bash -c '[ "$(head -c 8 "$0" | od -An -tx1 | tr -d " ")" = 89504e470d0a1a0a ]' \
		"$SCRATCH/gateway.png"
fi

ok "the gateway stops on SIGTERM with status 0" stop_daemon G
ok "no sanitizer reports" check_sanitizers
done_testing

#!/usr/bin/env bash
# The player page in headless Chromium, driven over the DevTools protocol
# (tests/tools/cdp.js): an album opened by its address plays in track
# order with its cover shown (now-playing, the album, Media Session
# metadata), the arrow keys skip forward and back, space pauses, the queue
# ("Up next", never the playing song) is reordered and cut, artists and
# albums are browsed, a search finding nothing suggests the nearest song;
# screenshots at 1280x800 and 390x844 are kept (in $P2PM_ARTIFACTS too
# when it is set).
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
. "$TEST_DIR/lib-gateway.sh"
. "$TEST_DIR/lib-browser.sh"
need_ffmpeg
command -v chromium >/dev/null ||
	skip_all "chromium is missing (scripts/install-deps installs it)"
command -v node >/dev/null ||
	skip_all "node is missing (scripts/install-deps installs nodejs), which drives Chromium here"
command -v curl >/dev/null || skip_all "curl is missing (scripts/install-deps installs it)"

SONG_S=4
lib=$SCRATCH/music
mkdir -p "$lib/Björk/Homogenic" "$lib/Portishead/Dummy"
n=0
for t in Hunter Jóga Bachelorette; do
	n=$((n + 1))
	make_mp3 "$lib/Björk/Homogenic/0$n.mp3" "$SONG_S" $((300 + n * 110)) -ac 2 -b:a 128k \
		-metadata artist=Björk -metadata album=Homogenic -metadata title="$t" \
		-metadata track=$n || exit 1
done
ffmpeg -nostdin -loglevel error -f lavfi -i "testsrc=size=300x300" -frames:v 1 \
	"$lib/Björk/Homogenic/cover.jpg" || exit 1
make_mp3 "$lib/Portishead/Dummy/roads.mp3" 2 700 -metadata artist=Portishead \
	-metadata album=Dummy -metadata title=Roads -metadata track=11 || exit 1

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" || exit 1
for s in "Björk - Hunter" "Björk - Jóga" "Björk - Bachelorette" "Portishead - Roads"; do
	wait_for_registered "$T_ADDR" "$s" 1 || exit 1
done
start_gateway || exit 1
G=$G_ADDR

# cover art through the gateway
cover=$(sha256sum <"$lib/Björk/Homogenic/cover.jpg" | cut -d' ' -f1).jpg
like "$(http_get "$G" "/api/songs?q=hunter" | body_of)" "\"art\":\"$cover\"" \
	"/api/songs names the album's cover art ($cover)"
http_get "$G" "/art/$cover?song=Bj%C3%B6rk%20-%20Hunter" >"$SCRATCH/art.http"
is "$(status_of <"$SCRATCH/art.http") $(header_of Content-Type <"$SCRATCH/art.http")" "200 image/jpeg" \
	"/art/<name>?song=NAME is the picture, fetched from the song's peers"
is "$(header_of Cache-Control <"$SCRATCH/art.http")" "public, max-age=31536000, immutable" \
	"  cached for good (it is named by its hash)"
body_of <"$SCRATCH/art.http" >"$SCRATCH/art.jpg"
ok "  its bytes are cover.jpg's" cmp -s "$SCRATCH/art.jpg" "$lib/Björk/Homogenic/cover.jpg"
is "$(http_get "$G" "/art/$(printf '%064d' 7).jpg?song=Bj%C3%B6rk%20-%20Hunter" | status_of)" 404 \
	"a picture the song's peers do not have is 404"
is "$(http_get "$G" "/art/cover.jpg?song=Bj%C3%B6rk%20-%20Hunter" | status_of)" 404 \
	"  and a name that is not a picture's hash is 404"

# Chromium with a DevTools port, on the album's page, told to play it
browser_start "http://$G/?play=1#album/Bj%C3%B6rk/Homogenic" "--window-size=1280,800"
ok "Chromium starts with a DevTools port ($BROWSER_PORT)" test -n "$BROWSER_PORT"
cdp_start
# upnext : the titles under "Up next", joined by |
upnext() {
	cdp eval 'Array.from(document.querySelectorAll("#upnext .name")).map(function (e) { return e.textContent; }).join("|")'
}

ok "the album plays from its first track" \
	page_is 30 '/^\[playing [0-9.]+s list=4 queue=2\] Now playing: Björk - Hunter - p2p-music$/.test(document.title)'
is "$(cdp eval 'document.querySelectorAll("li.song .name").length + " " + Array.from(document.querySelectorAll("li.song .name")).map(function (e) { return e.textContent; }).join("|")')" \
	'"3 Hunter|Jóga|Bachelorette"' "  the album page lists its three songs in track order"
is "$(cdp eval 'Array.from(document.querySelectorAll("li.song .time")).map(function (e) { return e.textContent; }).join("|")')" \
	"\"1|0:0$SONG_S|2|0:0$SONG_S|3|0:0$SONG_S\"" "  with track numbers and durations"
is "$(upnext)" '"Jóga|Bachelorette"' "  Up next: the rest of the album, not the playing song"
ok "  the now-playing picture is the album's cover, loaded" \
	page_is 10 'el("nowart").complete && el("nowart").naturalWidth === 300 && !el("nowart").hidden'
ok "  and so is the album's" page_is 5 "/$cover/.test(el('albumcover').style.backgroundImage)"
is "$(cdp eval '[navigator.mediaSession.metadata.title, navigator.mediaSession.metadata.artist, navigator.mediaSession.metadata.album, /\/art\//.test(navigator.mediaSession.metadata.artwork[0].src)].join("|")')" \
	'"Hunter|Björk|Homogenic|true"' "  Media Session: title, artist, album and artwork for the lock screen"
like "$(cdp eval 'el("nowsub").textContent')" "Björk — Homogenic" "  the now-playing line names artist and album"

cdp key Space >/dev/null
ok "space pauses" page_is 5 '/^\[paused/.test(document.title)'
# the screenshots, while paused on the album
mkdir -p "$SCRATCH/shots"
cdp shot 1280 800 "$SCRATCH/shots/page-1280x800.png" >/dev/null
cdp shot 390 844 "$SCRATCH/shots/page-390x844.png" >/dev/null
cdp eval 'location.hash = "#albums", true' >/dev/null
cdp shot 390 844 "$SCRATCH/shots/albums-390x844.png" >/dev/null
cdp shot 1280 800 "$SCRATCH/shots/albums-1280x800.png" >/dev/null
for f in page-1280x800 page-390x844 albums-390x844; do
	ok "a screenshot $f.png is kept" bash -c \
		'[ "$(head -c 8 "$0" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]' "$SCRATCH/shots/$f.png"
done
if [ -n "${P2PM_ARTIFACTS:-}" ]; then
	mkdir -p "$P2PM_ARTIFACTS" && cp "$SCRATCH"/shots/*.png "$P2PM_ARTIFACTS/"
	diag "screenshots copied to $P2PM_ARTIFACTS"
fi
is "$(cdp eval 'Array.from(document.querySelectorAll(".card .title")).map(function (e) { return e.textContent; }).join("|")')" \
	'"Dummy|Homogenic"' "the albums view shows each album once"
cdp key Space >/dev/null
ok "space plays again" page_is 5 '/^\[playing/.test(document.title)'

cdp key ArrowRight >/dev/null
ok "the right arrow skips to the next song" \
	page_is 15 '/^\[playing [0-9.]+s list=4 queue=1\] Now playing: Björk - Jóga/.test(document.title)'
is "$(upnext)" '"Bachelorette"' "  and Up next is what is left"
cdp eval 'el("prev").click(), true' >/dev/null
ok "Previous, at the start of a song, goes back to the one before" \
	page_is 15 '/^\[playing [0-9.]+s list=4 queue=2\] Now playing: Björk - Hunter/.test(document.title)'
is "$(upnext)" '"Jóga|Bachelorette"' "  and the queue is as it was"

cdp eval 'document.querySelector("#upnext li button[aria-label=\"Move down\"]").click(), true' >/dev/null
is "$(upnext)" '"Bachelorette|Jóga"' "moving the first queued song down reorders the queue"
cdp eval 'document.querySelectorAll("#upnext li button[aria-label=\"Remove\"]")[1].click(), true' >/dev/null
is "$(upnext)" '"Bachelorette"' "removing one takes it out"
cdp key ArrowRight >/dev/null
ok "the next song is the one the queue now names" \
	page_is 15 '/^\[playing [0-9.]+s list=4 queue=0\] Now playing: Björk - Bachelorette/.test(document.title)'
is "$(upnext)" '""' "  and nothing is up next"
ok "at its end the page stops: nothing is playing" \
	page_is $((SONG_S + 15)) '/^\[idle [0-9.]+s list=4 queue=0\] Nothing playing/.test(document.title)'

# artists
cdp eval 'location.hash = "#artists", true' >/dev/null
is "$(cdp eval 'Array.from(document.querySelectorAll("li.artist")).map(function (e) { return e.textContent; }).join("|")')" \
	'"Björk1 album, 3 songs|Portishead1 album, 1 song"' "the artists view lists each artist with its albums and songs"
cdp eval 'document.querySelector("li.artist").click(), true' >/dev/null
ok "  an artist opens on its albums" page_is 5 \
	'location.hash === "#artist/Bj%C3%B6rk" && document.querySelector(".card .title").textContent === "Homogenic"'

# a search finding nothing
cdp eval 'location.hash = "#songs"; el("search").value = "bjork jgoa"; el("search").dispatchEvent(new Event("input")), true' >/dev/null
ok "a search finding nothing says so" page_is 10 '/^No songs matching/.test(el("status").textContent)'
is "$(cdp eval 'el("suggestion").textContent')" '"Björk - Jóga"' "  and suggests the nearest song"
cdp eval 'el("suggestion").click(), true' >/dev/null
ok "  which, clicked, is searched" page_is 10 \
	'document.querySelectorAll("li.song").length === 1 && el("status").textContent === "1 song"'
cdp eval 'el("search").value = "BJORK"; el("search").dispatchEvent(new Event("input")), true' >/dev/null
page_is 10 'el("status").textContent === "3 songs"'
is "$(cdp eval 'el("status").textContent')" '"3 songs"' "  BJORK finds Björk's three songs"

browser_stop
ok "the gateway stops on SIGTERM with status 0" stop_daemon G
ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer reports" check_sanitizers
done_testing

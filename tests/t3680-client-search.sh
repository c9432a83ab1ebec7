#!/usr/bin/env bash
# One search everywhere: `client list TEXT` and the gateway's
# /api/songs?q=TEXT find the same songs (every word in the name, artist,
# album or title, ignoring case and accents: bjork finds Björk); an empty
# result says so (exit 1, a message; "count":0 and a suggestion), and an
# unknown song, album, command or flag suggests the nearest.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
. "$TEST_DIR/lib-gateway.sh"
need_ffmpeg

lib=$SCRATCH/music
mkdir -p "$lib/Björk/Homogenic" "$lib/Portishead/Dummy" "$lib/Misc"
n=0
for t in Hunter Jóga Bachelorette; do
	n=$((n + 1))
	make_mp3 "$lib/Björk/Homogenic/0$n.mp3" 1 $((300 + n * 100)) -metadata artist=Björk \
		-metadata album=Homogenic -metadata title="$t" -metadata track=$n || exit 1
done
make_mp3 "$lib/Portishead/Dummy/roads.mp3" 1 700 -metadata artist=Portishead \
	-metadata album=Dummy -metadata title=Roads -metadata track=11 || exit 1
make_mp3 "$lib/Misc/Homogenic Jam.mp3" 1 800 || exit 1

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" || exit 1
for s in "Björk - Hunter" "Björk - Jóga" "Björk - Bachelorette" "Portishead - Roads" \
	"Misc/Homogenic Jam"; do
	wait_for_registered "$T_ADDR" "$s" 1 || exit 1
done
start_gateway || exit 1

# api_names TEXT : the names /api/songs?q=TEXT gives, one a line
api_names() {
	http_get "$G_ADDR" "/api/songs?q=$(encode_name "$1")" | body_of |
		grep -o '"name":"[^"]*"' | sed 's/^"name":"//; s/"$//'
}
# cli_names TEXT : the names `client list TEXT` gives, one a line
cli_names() {
	client -t "$T_ADDR" list -- "$1" 2>/dev/null | cut -f1
}

for q in homogenic HOMOGÉNIC bjork BJÖRK "bjork joga" "jóga homogenic" portishead dummy roads \
	"ö" jam "hunter roads"; do
	want=$(cli_names "$q")
	is "$(api_names "$q")" "$want" "'$q': the gateway finds what the CLI finds ($(printf '%s' "$want" | grep -c .) songs)"
done
is "$(cli_names homogenic)" "$(printf 'Björk - Bachelorette\nBjörk - Hunter\nBjörk - Jóga\nMisc/Homogenic Jam')" \
	"'homogenic' finds the album's three songs by their tag and a song by its name"
is "$(cli_names bjork)" "$(printf 'Björk - Bachelorette\nBjörk - Hunter\nBjörk - Jóga')" \
	"'bjork' finds Björk: accents are ignored"
is "$(cli_names "jóga bjork")" "Björk - Jóga" "every word must match, in any field"
is "$(cli_names "hunter roads")" "" "  so two songs' words find neither"

# the fields of /api/songs
json=$(http_get "$G_ADDR" "/api/songs?q=j%C3%B3ga" | body_of)
like "$json" '"name":"Björk - Jóga","artist":"Björk","album":"Homogenic","title":"Jóga","track":2,"duration":1\.[0-9]{3},"art":null,"sources":1' \
	"/api/songs gives artist, album, title, track, duration and art with each song"
like "$json" '"count":1,"truncated":false,"suggestion":null' "  and no suggestion when songs were found"

# nothing found: said, with the nearest
out=$(client -t "$T_ADDR" list "bjork jgoa" 2>"$SCRATCH/err")
is "$?" 1 "list finding nothing exits 1"
is "$out" "" "  prints no song"
is "$(cat "$SCRATCH/err")" "client: error: no songs matching 'bjork jgoa'; did you mean 'Björk - Jóga'?" \
	"  and says so, suggesting the nearest song"
json=$(http_get "$G_ADDR" "/api/songs?q=bjork%20jgoa" | body_of)
is "$json" '{"songs":[],"count":0,"truncated":false,"suggestion":"Björk - Jóga"}' \
	"/api/songs finding nothing says count 0 and suggests the same song"
client -t "$T_ADDR" list "zzzzzz" 2>"$SCRATCH/err"
is "$?" 1 "list of a text near nothing exits 1"
is "$(cat "$SCRATCH/err")" "client: error: no songs matching 'zzzzzz'" "  with no suggestion"

# an unknown song
client -t "$T_ADDR" fetch -o "$SCRATCH/x" "Bjork - Jgoa" 2>"$SCRATCH/err"
is "$?" 1 "fetch of an unknown song exits 1"
like "$(cat "$SCRATCH/err")" "no peer holds 'Bjork - Jgoa'" "  saying no peer holds it"
like "$(cat "$SCRATCH/err")" "did you mean 'Björk - Jóga'\?" "  and suggesting the nearest name"
client -t "$T_ADDR" cat "Portishead - Raods" >/dev/null 2>"$SCRATCH/err"
like "$(cat "$SCRATCH/err")" "did you mean 'Portishead - Roads'\?" "cat suggests it too"
client -t "$T_ADDR" cat --album homogénic >"$SCRATCH/album.ts" 2>"$SCRATCH/err"
is "$?" 0 "--album homogénic plays Homogenic: albums compare ignoring case and accents"
client -t "$T_ADDR" cat --album Dumy >/dev/null 2>"$SCRATCH/err"
like "$(cat "$SCRATCH/err")" "no song on the network has the album 'Dumy'; did you mean 'Dummy'\?" \
	"an unknown album suggests the nearest album"

# unknown commands and flags
"$P2PM_BIN/client" lsit 2>"$SCRATCH/err"
is "$?" 2 "an unknown command is a usage error"
like "$(head -n 1 "$SCRATCH/err")" "unknown command 'lsit'; did you mean 'list'\?" "  suggesting the nearest command"
"$P2PM_BIN/client" frobnicate 2>"$SCRATCH/err"
is "$(head -n 1 "$SCRATCH/err")" "client: unknown command 'frobnicate'" "  and none when nothing is near"
"$P2PM_BIN/client" list --jsno 2>"$SCRATCH/err"
is "$?" 2 "an unknown flag is a usage error"
like "$(head -n 1 "$SCRATCH/err")" "unknown option '--jsno'; did you mean '--json'\?" "  suggesting the nearest long option"
"$P2PM_BIN/client" play --shufle x 2>"$SCRATCH/err"
like "$(head -n 1 "$SCRATCH/err")" "did you mean '--shuffle'\?" "  (--shufle: --shuffle)"
"$P2PM_BIN/peer" --cahce x 2>"$SCRATCH/err"
like "$(head -n 1 "$SCRATCH/err")" "unknown option '--cahce'; did you mean '--cache'\?" "  the daemons' flags too"
"$P2PM_BIN/tracker" --ttll 5 2>"$SCRATCH/err"
like "$(head -n 1 "$SCRATCH/err")" "did you mean '--ttl'\?" "  (tracker --ttll: --ttl)"

ok "the gateway stops on SIGTERM with status 0" stop_daemon G
ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer reports" check_sanitizers
done_testing

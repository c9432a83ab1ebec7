#!/usr/bin/env bash
# A song of an -L tree named by its tags ("Artist - Title") is still found
# by the name its file gives it: the peer registers that name as the
# song's alias, the tracker resolves it (RESOLVE), and the client fetches
# the song by either name; `client list -v` shows it. A NAME=FILE song
# keeps the name given, tags or not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"
. "$(dirname "$0")/lib-client.sh"

lib=$SCRATCH/music
mkdir -p "$lib/Dir"
make_mp3 "$lib/cover art 48k 320k.mp3" 2 440 -metadata artist=Ann -metadata title="Tune One" || exit 1
make_mp3 "$lib/Dir/plain.mp3" 1 550 || exit 1
make_mp3 "$SCRATCH/given.mp3" 1 660 -metadata artist=Bob -metadata title="Other Tune" || exit 1

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$lib" \
	"Given Name=$SCRATCH/given.mp3" || exit 1
ok "the tagged file is served under its tag name" wait_for_served "$P_ADDR" "Ann - Tune One" 60
ok "the NAME=FILE song under the name given" wait_for_served "$P_ADDR" "Given Name" 30
wait_for_registered "$T_ADDR" "Ann - Tune One" 1 || exit 1
wait_for_registered "$T_ADDR" "Dir/plain" 1 || exit 1

# the alias travels with the song's tags
has_alias() {
	request "$T_ADDR" "LOCATE Ann%20-%20Tune%20One tags" | grep -q " alias=cover%20art%2048k%20320k\( \|$\)"
}
ok "REGISTER carries the file name as the alias= tag word" has_alias
is "$(request "$T_ADDR" "RESOLVE cover%20art%2048k%20320k")" "NAME Ann%20-%20Tune%20One" \
	"RESOLVE of the file name gives the song's name"
is "$(request "$T_ADDR" "RESOLVE Ann%20-%20Tune%20One")" "NAME Ann%20-%20Tune%20One" \
	"RESOLVE of a song's own name gives it back"
is "$(request "$T_ADDR" "RESOLVE nothing%20here")" "NAME nothing%20here" \
	"RESOLVE of a name nobody knows gives it back"
is "$(request "$T_ADDR" "RESOLVE")" "ERR 400 missing name" "RESOLVE without a name is ERR 400"

# the client finds the song by its file name
out=$(client -t "$T_ADDR" fetch -o "$SCRATCH/byfile" "cover art 48k 320k" 2>&1)
is "$?" 0 "client fetch by the file name succeeds"
like "$out" "fetched 'Ann - Tune One'" "  and says which song it fetched"
is "$(cat "$SCRATCH/byfile/song.name" 2>/dev/null)" "Ann - Tune One" "  under the song's name"
ok "  the same playlist the peer serves" same_as_served "$SCRATCH/byfile" "$P_ADDR" "Ann - Tune One"
client -t "$T_ADDR" cat "cover art 48k 320k" >"$SCRATCH/cat.ts" 2>"$SCRATCH/cat.err"
is "$?" 0 "client cat by the file name succeeds"
is "$(client -t "$T_ADDR" query "cover art 48k 320k")" "$P_ADDR" "client query by the file name names the peer"

# list -v shows it; list TEXT finds it by it
list=$(client -t "$T_ADDR" list -v 2>/dev/null)
is "$(printf '%s\n' "$list" | grep "^Ann - Tune One")" "$(printf 'Ann - Tune One\t1\tcover art 48k 320k')" \
	"client list -v shows the file name beside the song"
is "$(printf '%s\n' "$list" | grep "^Dir/plain")" "$(printf 'Dir/plain\t1\t')" \
	"  none for a song named by its path"
is "$(printf '%s\n' "$list" | grep "^Given Name")" "$(printf 'Given Name\t1\t')" \
	"  none for a NAME=FILE song, which keeps the name given despite its tags"
is "$(client -t "$T_ADDR" list 2>/dev/null | grep -c .)" 3 "client list without -v is as before: three songs"
is "$(client -t "$T_ADDR" list "48k" 2>/dev/null)" "$(printf 'Ann - Tune One\t1')" \
	"client list TEXT matches the file name too"
is "$(request "$P_ADDR" "REQUEST_SONG Bob%20-%20Other%20Tune")" "ERR 404 no such song" \
	"the NAME=FILE song is not served under its tags"

# once the song is gone, its file name finds nothing
ok "the peer stops cleanly" stop_daemon P
out=$(client -t "$T_ADDR" fetch -o "$SCRATCH/gone" "cover art 48k 320k" 2>&1)
is "$?" 1 "a file name whose song nobody holds exits 1"
like "$out" "no peer holds 'cover art 48k 320k'" "  saying no peer holds it"
ok "no sanitizer reports" check_sanitizers
done_testing

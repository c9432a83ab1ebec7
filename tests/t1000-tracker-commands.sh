#!/usr/bin/env bash
# The tracker answers every command as docs/protocol.md says.
. "$(dirname "$0")/lib.sh"

start_daemon T tracker -l 127.0.0.1:0 || exit 1
ok "tracker prints its ready line with a real port" \
	test "$(grep -c '^listening on 127\.0\.0\.1:[1-9][0-9]*$' "$SCRATCH/T.out")" = 1

is "$(request "$T_ADDR" PING)" "PONG" "PING answers PONG"
is "$(request "$T_ADDR" "QUERY SongA")" "PEERS" "QUERY of an unknown song answers PEERS alone"

# seed-style REGISTER: name, a path that is ignored, empty line
out=$(printf 'REGISTER 127.0.0.1:5001\nSongA /path/to/songA.ts\nSongB /path/to/songB.ts\n\nQUIT\n' | talk "$T_ADDR")
is "$out" "OK" "a seed-style REGISTER answers OK"
is "$(request "$T_ADDR" "QUERY SongA")" "PEERS 127.0.0.1:5001" "QUERY names the registering peer"

out=$(printf 'REGISTER 127.0.0.1:5002\nSongA\nMy%%20Song%%20%%C3%%9Cber\n\nQUIT\n' | talk "$T_ADDR")
is "$out" "OK" "a second peer registers an encoded name"
peers=$(request "$T_ADDR" "QUERY SongA" | tr ' ' '\n' | sed 1d | sort | tr '\n' ' ')
is "$peers" "127.0.0.1:5001 127.0.0.1:5002 " "QUERY lists every peer holding the song"

# shuffled order: over 40 queries both orders show up
orders=$(for _ in $(seq 40); do echo "QUERY SongA"; done | { cat; echo QUIT; } | talk "$T_ADDR" | sort -u | wc -l)
is "$orders" "2" "QUERY answers in shuffled order"

is "$(request "$T_ADDR" "QUERY My%20Song%20%C3%9Cber")" "PEERS 127.0.0.1:5002" \
	"a name with a space and non-ASCII letters is found"
is "$(request "$T_ADDR" "QUERY My%20song%20%c3%9cber")" "PEERS" \
	"names are case-sensitive, hex digits are not"

expected=$(printf 'SONGS 3\nMy%%20Song%%20%%C3%%9Cber 1\nSongA 2\nSongB 1')
is "$(request "$T_ADDR" LIST)" "$expected" "LIST gives every song with its peer count, sorted"
is "$(request "$T_ADDR" "LIST song")" "$expected" "LIST filters ignoring case"
is "$(request "$T_ADDR" "LIST %C3%9C")" "$(printf 'SONGS 1\nMy%%20Song%%20%%C3%%9Cber 1')" \
	"LIST filters on encoded non-ASCII text"
is "$(request "$T_ADDR" "LIST nothing-like-this")" "SONGS 0" "LIST with no match answers SONGS 0"

like "$(request "$T_ADDR" STATS)" '^STATS peers=2 songs=3 pairs=4 uptime=[0-9]+ requests=[0-9]+ connections=1 memory=[1-9][0-9]* staged=0$' \
	"STATS counts peers, songs and pairs"

# REGISTER replaces the whole set
out=$(printf 'REGISTER 127.0.0.1:5001\nSongC\n\nQUIT\n' | talk "$T_ADDR")
is "$out" "OK" "re-REGISTER answers OK"
is "$(request "$T_ADDR" "QUERY SongB")" "PEERS" "a song left out of a re-REGISTER is gone"
is "$(request "$T_ADDR" "QUERY SongC")" "PEERS 127.0.0.1:5001" "the new song is there"

# duplicate names count once
printf 'REGISTER 127.0.0.1:5003\nDup\nDup\nDup\n\nQUIT\n' | talk "$T_ADDR" >/dev/null
is "$(request "$T_ADDR" "LIST Dup")" "$(printf 'SONGS 1\nDup 1')" "a name given twice counts once"

is "$(request "$T_ADDR" "UNREGISTER 127.0.0.1:5002")" "OK" "UNREGISTER answers OK"
is "$(request "$T_ADDR" "QUERY SongA")" "PEERS" "an unregistered peer is gone from QUERY"
is "$(request "$T_ADDR" "UNREGISTER 127.0.0.1:5999")" "OK" "UNREGISTER of an unknown peer answers OK"

# IPv6 peers and the empty body
out=$(printf 'REGISTER [::1]:7001\nV6Song\n\nQUIT\n' | talk "$T_ADDR")
is "$(request "$T_ADDR" "QUERY V6Song")" "PEERS [::1]:7001" "an IPv6 peer is written [addr]:port"
out=$(printf 'REGISTER 127.0.0.1:5004\n\nQUIT\n' | talk "$T_ADDR")
is "$out" "OK" "a REGISTER with no songs answers OK"

# CR LF and persistence: many requests on one connection
out=$(printf 'PING\r\nPING\r\nQUERY SongC\r\nQUIT\r\n' | talk "$T_ADDR" | tr -d '\r')
is "$out" "$(printf 'PONG\nPONG\nPEERS 127.0.0.1:5001')" "CR LF lines work and one connection carries many requests"

is "$(request "$T_ADDR" "REQUEST_SONG SongA")" "ERR 400 unknown command" \
	"a peer command at the tracker is ERR 400"
is "$(request "$T_ADDR" "PING" "QUIT" "PING")" "PONG" \
	"QUIT closes the connection without a reply, whatever follows"

ok "tracker exits 0 on SIGTERM" stop_daemon T TERM
ok "tracker logged no sanitizer report" check_sanitizers

start_daemon T2 tracker -l 127.0.0.1:0 || exit 1
ok "tracker exits 0 on SIGINT" stop_daemon T2 INT

# IPv6 loopback, where the machine has it
if start_daemon T6 tracker -l '[::1]:0' 2>/dev/null; then
	like "$T6_ADDR" '^\[::1\]:[1-9][0-9]*$' "a tracker listens on [::1] and says so"
	is "$(request "$T6_ADDR" PING)" "PONG" "and answers over IPv6"
	stop_daemon T6
else
	ok "# SKIP no IPv6 loopback here" true
fi

"$P2PM_BIN/tracker" --bogus >/dev/null 2>"$SCRATCH/usage.err"
is "$?" "2" "an unknown flag exits 2"
like "$(cat "$SCRATCH/usage.err")" "usage: tracker" "with usage on stderr"
"$P2PM_BIN/tracker" --ttl 0 >/dev/null 2>&1
is "$?" "2" "--ttl 0 is a usage error"
"$P2PM_BIN/tracker" --max-conns abc >/dev/null 2>&1
is "$?" "2" "a non-numeric --max-conns is a usage error"
like "$("$P2PM_BIN/tracker" --help)" "--idle-timeout" "--help describes the flags"
like "$("$P2PM_BIN/tracker" --version)" "^tracker \(p2p-music\) [0-9]" "--version prints the version"
"$P2PM_BIN/tracker" -l 127.0.0.1:99999 >/dev/null 2>"$SCRATCH/bad-listen.err"
is "$?" "1" "an invalid listen address exits 1"
like "$(cat "$SCRATCH/bad-listen.err")" "invalid address" "and says why"

done_testing

#!/usr/bin/env bash
# The peer keeps its ready songs registered with the tracker: at start, after
# SIGHUP, after a tracker restart, and it unregisters when it stops.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"

lib=$SCRATCH/library
mkdir -p "$lib"
utf8="Two Words é"
make_mp3 "$SCRATCH/one.mp3" 4 440 || exit 1
make_mp3 "$SCRATCH/two.mp3" 3 440 -b:a 64k || exit 1
make_mp3 "$lib/three.mp3" 3 440 -b:a 96k || exit 1
make_mp3 "$SCRATCH/four.mp3" 2 440 -b:a 80k || exit 1

# query_peers ADDR NAME : the peers QUERY names, sorted, one line
query_peers() {
	request "$1" "QUERY $(encode_name "$2")" | tr ' ' '\n' | sed 1d | sort | tr '\n' ' ' |
		sed 's/ $//'
}

# wait_for_query ADDR NAME "PEER..." [SECONDS] : until QUERY NAME answers
# exactly those peers (in any order); "" for none
wait_for_query() {
	local _
	for _ in $(seq 1 $(( ${4:-10} * 10 ))); do
		[ "$(query_peers "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	diag "QUERY $2 names '$(query_peers "$1" "$2")', not '$3'"
	return 1
}

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" --renew 1 -c "$SCRATCH/cache" \
	-L "$lib" "One=$SCRATCH/one.mp3" "$utf8=$SCRATCH/two.mp3" || exit 1

ok "QUERY One finds the peer" wait_for_query "$T_ADDR" One "$P_ADDR"
ok "QUERY of the name with a space and non-ASCII letters finds the peer" \
	wait_for_query "$T_ADDR" "$utf8" "$P_ADDR"
ok "QUERY of a song from the -L directory finds the peer" \
	wait_for_query "$T_ADDR" three "$P_ADDR"
is "$(request "$T_ADDR" LIST)" "$(printf 'SONGS 3\nOne 1\nTwo%%20Words%%20%%C3%%A9 1\nthree 1')" \
	"LIST shows the three songs, encoded"

# SIGHUP: a new file is added, a removed one dropped
cp "$SCRATCH/four.mp3" "$lib/four.mp3"
rm "$lib/three.mp3"
kill -HUP "$P_PID"
ok "after SIGHUP the new file is registered" wait_for_query "$T_ADDR" four "$P_ADDR"
ok "after SIGHUP the removed file is unregistered" wait_for_query "$T_ADDR" three ""
is "$(request "$P_ADDR" "REQUEST_SONG three")" "ERR 404 no such song" \
	"the removed file is no longer served"
ok "the new file is served" wait_for_served "$P_ADDR" four 10

# -a and P2P_MUSIC_TRACKER: a second peer advertises another address
P2P_MUSIC_TRACKER=$T_ADDR start_daemon Q peer -l 127.0.0.1:0 -a 127.0.0.1:65000 \
	-c "$SCRATCH/cache" "One=$SCRATCH/one.mp3" || exit 1
ok "a peer started with -a is registered under that address" \
	wait_for_query "$T_ADDR" One "$(printf '%s\n' "$P_ADDR" 127.0.0.1:65000 | sort | tr '\n' ' ' | sed 's/ $//')"
ok "the second peer stops with status 0" stop_daemon Q
ok "and its UNREGISTER removes it at once" wait_for_query "$T_ADDR" One "$P_ADDR" 1

# the tracker goes away and comes back on the same port
tport=${T_ADDR##*:}
ok "the tracker stops" stop_daemon T
ok "the peer notices the tracker is gone" \
	wait_for_log P "cannot register with tracker $T_ADDR" 10
ok "and goes on serving" wait_for_served "$P_ADDR" One 5
start_daemon T tracker -l "127.0.0.1:$tport" || exit 1
ok "after the tracker restarts the songs are back within a few seconds" \
	wait_for_query "$T_ADDR" One "$P_ADDR" 5
is "$(request "$T_ADDR" "LIST")" "$(printf 'SONGS 3\nOne 1\nTwo%%20Words%%20%%C3%%A9 1\nfour 1')" \
	"all songs are back"

ok "the peer exits 0 on SIGTERM" stop_daemon P
is "$(request "$T_ADDR" "QUERY One")" "PEERS" "after SIGTERM the tracker no longer lists the peer"
is "$(request "$T_ADDR" "LIST")" "SONGS 0" "nor any of its songs"
ok "the peer logged its UNREGISTER" grep -q "unregistered $P_ADDR from tracker" "$SCRATCH/P.err"
ok "the tracker exits 0 on SIGTERM" stop_daemon T
ok "no sanitizer reports" check_sanitizers
done_testing

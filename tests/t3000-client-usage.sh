#!/usr/bin/env bash
# The client's command line: help, version, usage errors (exit 2), an
# unreachable tracker (exit 3), dead peers (exit 1) and a missing player.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"

# addresses that refuse connections
DEAD=$(refused_addr)
DEAD2=$(refused_addr)

out=$(client --help)
rc=$?
is "$rc" 0 "--help exits 0"
like "$out" 'usage: client' "--help prints the usage"
like "$out" '3 +the tracker is unreachable' "--help documents the exit codes"
like "$(client --version)" '^client \(p2p-music\) [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"

usage() {
	local err rc
	err=$(client "$@" 2>&1 >/dev/null)
	rc=$?
	is "$rc" 2 "usage error exits 2: client $*"
	like "$err" 'try .client --help.' "  and says where to look: client $*"
}
usage
usage bogus
usage query
usage query a b
usage fetch
usage list a b
usage --frobnicate list
usage -t nonsense list
usage -t 127.0.0.1:0 list
usage -t 127.0.0.1:70000 list
usage --timeout 0 list
usage --timeout 5x list
usage --timeout
usage -o somewhere list
usage -p 127.0.0.1:7001 query Song
usage --player cat fetch Song
usage -p not-an-address fetch Song
usage query "$(printf 'bad\001name')"
usage query "$(head -c 256 /dev/zero | tr '\0' x)"
usage play --player "" Song
usage -j 0 fetch Song
usage -j 17 cat Song
usage -j 2 list
usage --id 0123 fetch Song
usage --id "$(printf %064d 0 | tr 0 A)" fetch Song
usage --id "$(printf %064d 0)" query Song

err=$(P2P_MUSIC_TRACKER=nonsense client list 2>&1)
is "$?" 2 "a bad address in P2P_MUSIC_TRACKER is a usage error"
err=$(P2PM_CLIENT_SEGMENT_DELAY_MS=-1 client -p "$DEAD" fetch x 2>&1)
is "$?" 2 "a bad test delay is a usage error"

err=$(client -t "$DEAD" list 2>&1)
is "$?" 3 "list with the tracker down exits 3"
like "$err" "tracker unreachable.*$DEAD" "  and says the tracker is unreachable"
err=$(P2P_MUSIC_TRACKER=$DEAD client query Song 2>&1)
is "$?" 3 "query with the tracker (from P2P_MUSIC_TRACKER) down exits 3"
err=$(client -t "$DEAD" fetch -o "$SCRATCH/out" Song 2>&1)
is "$?" 3 "fetch with the tracker down exits 3"
ok "  and creates no output directory" test ! -e "$SCRATCH/out"
err=$(client --timeout 1 -t "$DEAD" cat Song 2>&1 >/dev/null)
is "$?" 3 "cat with the tracker down exits 3"

err=$(cd "$SCRATCH" && client -p "$DEAD" -p "$DEAD2" fetch "Some Song" 2>&1)
is "$?" 1 "fetch when every peer is dead exits 1"
like "$err" "peer $DEAD: connection refused" "  naming the first peer and what it did"
like "$err" "peer $DEAD2: connection refused" "  naming the second peer and what it did"
ok "  and leaves no directory behind" test ! -e "$SCRATCH/Some Song"
err=$(client -p "$DEAD" cat "Some Song" 2>&1 >"$SCRATCH/cat.out")
is "$?" 1 "cat when every peer is dead exits 1"
ok "  and writes nothing" test ! -s "$SCRATCH/cat.out"

err=$(PATH=/nonexistent client -p "$DEAD" play "Some Song" 2>&1)
is "$?" 4 "play with ffplay missing exits 4"
like "$err" "ffplay.*apt-get install ffmpeg" "  and says which package provides ffplay"
err=$(client -p "$DEAD" play --player "mpv-not-here -" "Some Song" 2>&1)
is "$?" 4 "play with a missing --player exits 4"
like "$err" "player 'mpv-not-here' not found" "  and names the missing player"
err=$(client -p "$DEAD" play --player "/no/such/dir/mpv -" "Some Song" 2>&1)
like "$err" "apt-get install mpv" "a missing mpv names the mpv package"

done_testing

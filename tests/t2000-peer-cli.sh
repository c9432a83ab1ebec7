#!/usr/bin/env bash
# The peer's command line: help, version, bad flags, a missing ffmpeg, a
# cache directory that cannot be used, the default cache directory, names
# that cannot be shared.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"
# a tracker address that refuses connections
DEAD=$(refused_addr)

peer=$P2PM_BIN/peer

"$peer" --help >"$SCRATCH/help" 2>&1
is "$?" 0 "--help exits 0"
like "$(cat "$SCRATCH/help")" '^usage: peer ' "--help prints the usage"
like "$(cat "$SCRATCH/help")" '--keep-cache +keep cached songs that no shared file uses' \
	"--help explains --keep-cache"
like "$("$peer" --version)" '^peer \(p2p-music\) [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"

for args in "--no-such-flag" "-l" "-l nonsense" "-l 127.0.0.1:99999" "-a 127.0.0.1:0" \
	"-t host" "-j 0" "-j many" "--renew 0" "--renew 1x" "--idle-timeout -1" \
	"--max-conns 0" "--keep-cache=yes" "not-a-name-file-pair"; do
	# shellcheck disable=SC2086
	"$peer" $args >"$SCRATCH/bad.out" 2>"$SCRATCH/bad.err"
	is "$?" 2 "'peer $args' exits 2"
	ok "'peer $args' prints the usage on stderr" grep -q '^usage: peer ' "$SCRATCH/bad.err"
done
P2P_MUSIC_TRACKER=nonsense "$peer" >/dev/null 2>&1
is "$?" 2 "a bad P2P_MUSIC_TRACKER exits 2"

# no ffmpeg in PATH: one line naming the package, non-zero, never ready
mkdir -p "$SCRATCH/nobin"
PATH=$SCRATCH/nobin "$peer" -l 127.0.0.1:0 >"$SCRATCH/noff.out" 2>"$SCRATCH/noff.err"
rc=$?
ok "without ffmpeg the peer exits non-zero" test "$rc" -ne 0
is "$(grep -c 'install it with: apt-get install ffmpeg' "$SCRATCH/noff.err")" 1 \
	"without ffmpeg the peer says how to install it, once"
is "$(cat "$SCRATCH/noff.out")" "" "without ffmpeg the peer never prints its ready line"

# a cache that cannot be used: one line naming it and why, non-zero, never ready
: >"$SCRATCH/cachefile"
mkdir -p "$SCRATCH/badsongs"
: >"$SCRATCH/badsongs/songs"
for c in "cachefile|Not a directory" "badsongs|cannot create $SCRATCH/badsongs/songs: Not a directory"; do
	dir=$SCRATCH/${c%%|*}
	"$peer" -l 127.0.0.1:0 -t "$DEAD" -c "$dir" "Tone=$SCRATCH/none.mp3" \
		>"$SCRATCH/cache.out" 2>"$SCRATCH/cache.err"
	rc=$?
	ok "-c ${c%%|*}: the peer exits non-zero" test "$rc" -ne 0
	like "$(cat "$SCRATCH/cache.err")" "error: cannot use cache directory $dir: ${c#*|}\$" \
		"-c ${c%%|*}: one line names the directory and the reason"
	is "$(wc -l <"$SCRATCH/cache.err" | tr -d ' ')" 1 "-c ${c%%|*}: and nothing else is logged"
	is "$(cat "$SCRATCH/cache.out")" "" "-c ${c%%|*}: the ready line is never printed"
done
# a directory without write permission (root writes anyway)
mkdir -p "$SCRATCH/rocache/songs" "$SCRATCH/rocache/files"
chmod a-w "$SCRATCH/rocache"
if touch "$SCRATCH/rocache/x" 2>/dev/null; then
	rm -f "$SCRATCH/rocache/x"
	skip_test "an unwritable cache directory is refused at start" "writes are allowed anyway here (root)"
else
	"$peer" -l 127.0.0.1:0 -t "$DEAD" -c "$SCRATCH/rocache" >"$SCRATCH/ro.out" 2>"$SCRATCH/ro.err"
	rc=$?
	ok "an unwritable cache directory is refused at start" test "$rc" -ne 0 -a ! -s "$SCRATCH/ro.out"
	like "$(cat "$SCRATCH/ro.err")" "cannot use cache directory $SCRATCH/rocache: cannot write in $SCRATCH/rocache: Permission denied\$" \
		"with one line naming it and the reason"
fi
chmod u+w "$SCRATCH/rocache"

# the default cache is $XDG_CACHE_HOME/p2p-music, created on start
make_mp3 "$SCRATCH/tone.mp3" 3 440 || exit 1
bad=$(printf 'bad\001name')
start_daemon P peer -l 127.0.0.1:0 -t "$DEAD" "Tone=$SCRATCH/tone.mp3" \
	"$bad=$SCRATCH/tone.mp3" "=$SCRATCH/tone.mp3" || exit 1
ok "the default cache directory is created under XDG_CACHE_HOME" \
	test -d "$XDG_CACHE_HOME/p2p-music/songs"
ok "the song is served" wait_for_served "$P_ADDR" Tone 30
ok "a name with a control byte is skipped with a log line" \
	grep -q "is not a valid song name" "$SCRATCH/P.err"
is "$(grep -c 'is not a valid song name' "$SCRATCH/P.err")" 2 "so is an empty name"
ok "the tracker being down is logged, serving goes on" \
	wait_for_log P "cannot register with tracker ${DEAD//./\\.}: .*refused" 10
is "$(request "$P_ADDR" PING)" PONG "the peer still answers"
ok "the peer exits 0 on SIGINT" stop_daemon P INT

# HOME is used when XDG_CACHE_HOME is unset
HOME=$SCRATCH/home XDG_CACHE_HOME='' start_daemon H peer -l 127.0.0.1:0 -t "$DEAD" || exit 1
ok "without XDG_CACHE_HOME the cache is ~/.cache/p2p-music" \
	test -d "$SCRATCH/home/.cache/p2p-music/songs"
ok "the peer exits 0 on SIGTERM" stop_daemon H

# the listening port is really in use: a second peer on it fails
start_daemon Q peer -l 127.0.0.1:0 -t "$DEAD" || exit 1
"$peer" -l "$Q_ADDR" -t "$DEAD" >"$SCRATCH/dup.out" 2>"$SCRATCH/dup.err"
is "$?" 1 "a port already in use exits 1"
ok "and says why" grep -q "cannot listen on $Q_ADDR" "$SCRATCH/dup.err"
ok "the first peer exits 0 on SIGTERM" stop_daemon Q

# --max-conns and --idle-timeout reach the accept loop
start_daemon L peer -l 127.0.0.1:0 -t "$DEAD" --max-conns 1 --idle-timeout 1 || exit 1
exec 6<>"/dev/tcp/${L_ADDR%:*}/${L_ADDR##*:}"
printf 'PING\n' >&6
IFS= read -r -t 5 line <&6
is "$line" "PONG" "the first connection is served"
is "$(request "$L_ADDR" PING)" "ERR 503 busy" "a connection over --max-conns gets ERR 503 busy"
t0=$(date +%s%3N)
ok "an idle connection is closed after --idle-timeout" timeout 5 cat <&6
ok "after about one second" test $(($(date +%s%3N) - t0)) -lt 3000
exec 6>&-
is "$(request "$L_ADDR" PING)" "PONG" "then a new connection is served"
ok "the peer exits 0 on SIGTERM" stop_daemon L

start_daemon W peer -l 0.0.0.0:0 -t "$DEAD" -c "$SCRATCH/cache-w" || exit 1
ok "listening on 0.0.0.0 without -a is warned about, naming -a" \
	wait_for_log W "warning: listening on every address .* without -a.* give -a" 10
ok "the peer exits 0 on SIGTERM" stop_daemon W

ok "no sanitizer reports" check_sanitizers
done_testing

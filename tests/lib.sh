# tests/lib.sh - shared helpers for the integration tests (TAP output).
#
# A test script sources this file, then states claims with ok/is/like.
# Daemons are started on 127.0.0.1 port 0 with start_daemon, which waits for
# their "listening on HOST:PORT" line; cleanup on exit stops exactly the
# processes this script started and removes its scratch directory.
# shellcheck shell=bash

set -u

TEST_DIR=$(cd "$(dirname "$0")" && pwd)
TOP_DIR=$(cd "$TEST_DIR/.." && pwd)
: "${P2PM_BIN:=$TOP_DIR/bin}"
# test-only programs (misbehaving peers), built by make check-build
: "${P2PM_TOOLS:=$TOP_DIR/build/san/tools}"
TEST_NAME=$(basename "$0" .sh)
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/p2pm-$TEST_NAME.XXXXXX")
# how long a daemon may take to print its ready line
: "${P2PM_START_TIMEOUT:=20}"

# sanitizer builds: leaks and undefined behaviour fail the run
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}"
# keep the peer's cache inside the scratch dir unless a test says otherwise
export XDG_CACHE_HOME="$SCRATCH/xdg-cache"

tap_n=0
tap_failed=0
DAEMONS=""

# ok DESCRIPTION COMMAND... : passes when COMMAND succeeds
ok() {
	local desc=$1
	shift
	tap_n=$((tap_n + 1))
	if "$@"; then
		echo "ok $tap_n - $desc"
	else
		echo "not ok $tap_n - $desc"
		tap_failed=$((tap_failed + 1))
	fi
}

# is GOT EXPECTED DESCRIPTION
is() {
	tap_n=$((tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $tap_n - $3"
	else
		echo "not ok $tap_n - $3"
		printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
		tap_failed=$((tap_failed + 1))
	fi
}

# like GOT EXTENDED-REGEX DESCRIPTION
like() {
	tap_n=$((tap_n + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		echo "ok $tap_n - $3"
	else
		echo "not ok $tap_n - $3"
		printf '#   got:      %s\n#   expected match: %s\n' "$1" "$2"
		tap_failed=$((tap_failed + 1))
	fi
}

diag() {
	printf '# %s\n' "$*"
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# start_daemon NAME PROGRAM ARGS... : starts bin/PROGRAM in the background,
# waits for its ready line and sets NAME_PID and NAME_ADDR. Its stdout and
# stderr are kept in $SCRATCH/NAME.out and NAME.err.
start_daemon() {
	local name=$1 prog=$2 pid addr
	shift 2
	"$P2PM_BIN/$prog" "$@" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" &
	pid=$!
	DAEMONS="$DAEMONS $pid"
	eval "${name}_PID=$pid"
	for _ in $(seq 1 $((P2PM_START_TIMEOUT * 20))); do
		addr=$(sed -n 's/^listening on //p' "$SCRATCH/$name.out" | head -n 1)
		if [ -n "$addr" ]; then
			eval "${name}_ADDR=$addr"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.05
	done
	diag "$name ($prog) did not become ready; its stderr:"
	sed 's/^/#   /' "$SCRATCH/$name.err"
	return 1
}

# stop_daemon NAME [SIGNAL] : signals the daemon (TERM by default), waits
# for it and returns its exit status.
stop_daemon() {
	local name=$1 sig=${2:-TERM} pid rc
	pid=$(eval "echo \${${name}_PID:-}")
	[ -n "$pid" ] || return 1
	kill "-$sig" "$pid" 2>/dev/null
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	DAEMONS=$(echo "$DAEMONS" | tr ' ' '\n' | grep -vx "$pid" | tr '\n' ' ')
	eval "${name}_PID="
	return "$rc"
}

# talk ADDR [TIMEOUT] : sends stdin to ADDR over TCP and prints everything
# the server sends back until it closes (end the input with QUIT).
talk() {
	local addr=$1 t=${2:-10} host port
	host=${addr%:*}
	port=${addr##*:}
	host=${host#[}
	host=${host%]}
	timeout "$t" bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
		cat >&3
		cat <&3' "$host" "$port"
}

# hang_up ADDR : sends stdin to ADDR and disconnects without reading.
hang_up() {
	local addr=$1
	timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; cat >&3' \
		"${addr%:*}" "${addr##*:}"
}

# request ADDR LINE... : sends each LINE (with LF) then QUIT, prints replies.
request() {
	local addr=$1
	shift
	{ printf '%s\n' "$@"; printf 'QUIT\n'; } | talk "$addr"
}

# duration_of FILE : its duration in seconds as ffprobe reads it.
duration_of() {
	ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"
}

# close_to A B TOLERANCE : true if |A - B| <= TOLERANCE.
close_to() {
	awk -v a="$1" -v b="$2" -v t="$3" \
		'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'
}

# wait_for_line FILE REGEX [SECONDS] [COUNT] : waits (10 s by default)
# until FILE has COUNT (default 1) lines matching the extended REGEX.
wait_for_line() {
	local _
	for _ in $(seq 1 $(( ${3:-10} * 20 ))); do
		[ "$(grep -cE -- "$2" "$1" 2>/dev/null)" -ge "${4:-1}" ] && return 0
		sleep 0.05
	done
	diag "no line matching '$2' in $1 in time"
	return 1
}

# wait_for_log NAME REGEX [SECONDS] [COUNT] : the same on a daemon's stderr,
# 30 s by default.
wait_for_log() {
	wait_for_line "$SCRATCH/$1.err" "$2" "${3:-30}" "${4:-1}"
}

# need_ffmpeg : skips the whole script where ffmpeg or ffprobe is missing.
need_ffmpeg() {
	if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
		skip_all "ffmpeg and ffprobe are needed (scripts/install-deps installs them)"
	fi
}

# make_mp3 OUT SECONDS FREQUENCY [FFMPEG-ARGS...] : a sine-tone MP3
# (libmp3lame); extra arguments go before the output name, e.g. -ac 1.
make_mp3() {
	local out=$1 secs=$2 freq=$3
	shift 3
	ffmpeg -nostdin -hide_banner -loglevel error -y \
		-f lavfi -i "sine=frequency=$freq:sample_rate=44100:duration=$secs" \
		-c:a libmp3lame "$@" "$out"
}

# encode_name NAME : the wire encoding (space, %, control and non-ASCII
# bytes as %XX).
encode_name() {
	local b out=""
	for b in $(printf '%s' "$1" | od -An -v -tx1); do
		case "$b" in
		2[1-46-9a-f] | [3-6][0-9a-f] | 7[0-9a-e]) out+=$(printf '%b' "\\x$b") ;;
		*) out+="%${b^^}" ;;
		esac
	done
	printf '%s' "$out"
}

# segments_of DIR : the segment names DIR/index.m3u8 lists, in order.
segments_of() {
	grep -v '^#' "$1/index.m3u8" | tr -d '\r' | grep -v '^$'
}

# segments_match_cache DIR CACHE : DIR/index.m3u8 lists at least one
# segment, and each is byte-identical to the file of that name in a peer's
# cache.
segments_match_cache() {
	local seg src n=0
	for seg in $(segments_of "$1"); do
		src=$(find "$2" -type f -name "$seg" | head -n 1)
		[ -n "$src" ] && cmp -s "$src" "$1/$seg" || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

# check_sanitizers : fails if any daemon log shows a sanitizer report.
check_sanitizers() {
	! grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$SCRATCH"/*.err 2>/dev/null
}

cleanup() {
	local pid
	for pid in $DAEMONS; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $DAEMONS; do
		wait "$pid" 2>/dev/null
	done
	if [ "$tap_failed" -eq 0 ] && [ -z "${P2PM_KEEP:-}" ]; then
		rm -rf "$SCRATCH"
	else
		echo "# scratch dir kept: $SCRATCH" >&2
	fi
}
trap cleanup EXIT

# tests/lib.sh - shared helpers for the integration tests (TAP output).
#
# A test script sources this file, then states claims with ok/is/like.
# Daemons are started on 127.0.0.1 port 0 with start_daemon, which waits for
# their "listening on HOST:PORT" line; cleanup on exit stops exactly the
# processes this script started and removes its scratch directory.
# Everything a test writes goes below that directory, $SCRATCH; a script
# that cannot have one of its own bails out before doing anything.
# shellcheck shell=bash

set -u

TEST_DIR=$(cd "$(dirname "$0")" && pwd)
TOP_DIR=$(cd "$TEST_DIR/.." && pwd)
: "${P2PM_BIN:=$TOP_DIR/bin}"
# test-only programs (misbehaving peers), built by make check-build
: "${P2PM_TOOLS:=$TOP_DIR/build/san/tools}"
TEST_NAME=$(basename "$0" .sh)
# how long a daemon may take to print its ready line
: "${P2PM_START_TIMEOUT:=20}"

# bail_out REASON : stops this script and, through prove, the whole run.
bail_out() {
	echo "Bail out! $TEST_NAME: $*"
	exit 1
}

# scratch_make : creates this script's scratch directory in $TMPDIR (/tmp
# when unset or empty) and sets SCRATCH, or bails out. The base must be an
# absolute path to a directory; what mktemp made must be an absolute path
# directly in it, a directory and not a link, owned by us, and empty. Every
# file a test writes goes below SCRATCH, so nothing runs without one.
scratch_make() {
	local base=${TMPDIR:-/tmp} dir entries
	case "$base" in
	/*) ;;
	*) bail_out "TMPDIR '$base' is not an absolute path" ;;
	esac
	while [ "$base" != / ] && [ "${base%/}" != "$base" ]; do
		base=${base%/}
	done
	[ -d "$base" ] || bail_out "TMPDIR '$base' is not a directory"
	base=${base%/}
	dir=$(mktemp -d "$base/p2pm-$TEST_NAME.XXXXXX") ||
		bail_out "cannot make a scratch directory in '$base/'"
	case "$dir" in
	"$base/p2pm-$TEST_NAME."*) ;;
	*) bail_out "scratch directory '$dir' is not in '$base/'" ;;
	esac
	case "${dir#"$base/p2pm-$TEST_NAME."}" in
	"" | */* | *..*) bail_out "scratch directory '$dir' is not directly in '$base/'" ;;
	esac
	if [ ! -d "$dir" ] || [ -L "$dir" ]; then
		bail_out "scratch '$dir' is not a directory"
	fi
	[ -O "$dir" ] || bail_out "scratch directory '$dir' is not ours"
	entries=$(ls -A -- "$dir") || bail_out "cannot list scratch directory '$dir'"
	[ -z "$entries" ] || bail_out "scratch directory '$dir' is not empty"
	SCRATCH=$dir
}
SCRATCH=
scratch_make

# programs, home, caches and temporaries of everything the tests run stay
# in the scratch directory; scratch_program puts programs in $SCRATCH/bin
mkdir "$SCRATCH/bin" "$SCRATCH/home" "$SCRATCH/tmp" || bail_out "cannot populate '$SCRATCH'"
export PATH="$SCRATCH/bin:$PATH"
export HOME="$SCRATCH/home"
export TMPDIR="$SCRATCH/tmp"

# sanitizer builds: leaks and undefined behaviour fail the run
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}"
# keep the peer's cache inside the scratch dir unless a test says otherwise
export XDG_CACHE_HOME="$SCRATCH/xdg-cache"

tap_n=0
tap_failed=0
DAEMONS=""

# tap_quote PREFIX TEXT : TEXT as TAP comment lines, PREFIX before the
# first (so that no line of it is read as TAP, such as "Bail out!").
tap_quote() {
	printf '%s\n' "$2" | awk -v p="$1" '{ print (NR == 1 ? p : "#     ") $0 }'
}

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
		tap_quote '#   got:      ' "$1"
		tap_quote '#   expected: ' "$2"
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
		tap_quote '#   got:      ' "$1"
		tap_quote '#   expected match: ' "$2"
		tap_failed=$((tap_failed + 1))
	fi
}

diag() {
	printf '# %s\n' "$*"
}

# skip_test DESCRIPTION REASON : a claim that cannot be checked here.
skip_test() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
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
		addr=$(sed -n 's/^listening on //p' "$SCRATCH/$name.out" 2>/dev/null | head -n 1)
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

# refused_addr : prints 127.0.0.1:PORT where nothing listens, for a dead
# tracker or peer: a port bound (port 0), closed again and checked to
# refuse a connect (the tool refusedport). A fixed low port is no such
# thing: as root anything may bind it. Bails out if there is none.
refused_addr() {
	"$P2PM_TOOLS/refusedport" || bail_out "no port that refuses connections (refusedport)"
}

# log_told FILE REGEX : how many events the lines of FILE matching REGEX
# tell of, where repeated refusals are folded (a line a second per reason
# and source): one per line, plus N for "(and N more like it ...)"; a
# "(repeated N more time(s) ...)" line, which only tells the count, N.
log_told() {
	awk -v re="$2" '$0 ~ re {
		if (match($0, /\(and [0-9]+ more like it/)) n += substr($0, RSTART + 5, RLENGTH - 18) + 1
		else if (match($0, /\(repeated [0-9]+ more/)) n += substr($0, RSTART + 10, RLENGTH - 15)
		else n++
	} END { print n + 0 }' "$1"
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

# wait_until SECONDS COMMAND... : runs COMMAND every tenth of a second
# until it succeeds (0) or SECONDS have passed (1)
wait_until() {
	local t=$1 _
	shift
	for _ in $(seq 1 $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
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

# key_of FILE : the content key the peer gives FILE (the first 16 hex
# digits of its SHA-256).
key_of() {
	sha256sum "$1" | cut -c1-16
}

# scratch_program NAME : writes stdin to $SCRATCH/bin/NAME and makes it
# executable; $SCRATCH/bin comes first on PATH, so NAME now runs it. For
# wrappers and fakes of outside programs, which never replace the real one.
scratch_program() {
	case "$1" in
	"" | */* | . | ..) diag "scratch_program: bad name '$1'"; return 1 ;;
	esac
	cat >"$SCRATCH/bin/$1" && chmod +x "$SCRATCH/bin/$1"
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
	case "$SCRATCH" in
	/?*) ;;
	*) return ;;
	esac
	if [ "$tap_failed" -eq 0 ] && [ -z "${P2PM_KEEP:-}" ]; then
		rm -rf -- "$SCRATCH"
	else
		echo "# scratch dir kept: $SCRATCH" >&2
	fi
}
trap cleanup EXIT

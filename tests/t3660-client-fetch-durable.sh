#!/usr/bin/env bash
# fetch -o commits a song once, durably: every segment is written, then
# all are flushed to disk (fsync), then song.name, index.m3u8 and the
# temporary directory, and only then is it renamed to its final name (its
# parent flushed after), as strace shows. A fetch killed with SIGKILL at
# any point - before a segment, between segments, with every file written
# but the rename held back - leaves the old state (no directory, or the
# empty one that was there) or the whole verified song, never a directory
# that looks complete; fetching again afterwards gives the whole song and
# removes the temporary directory the killed fetch left.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg

SONG="Durable Song"
make_songdir "$SCRATCH/song" "$SONG" 12 440 || exit 1
start_fakepeer P "$SCRATCH/song" || exit 1
nseg=$(segments_of "$SCRATCH/song" | wc -l)

# entries DIR : how many entries DIR holds
entries() {
	find "$1" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# whole_or_old DIR EMPTY : DIR is what it was before the fetch (absent, or
# an empty directory when EMPTY is 1) or the whole song, byte for byte
whole_or_old() {
	local seg n=0
	if [ ! -e "$1" ]; then
		[ "$2" -eq 0 ]
		return
	fi
	if [ "$(entries "$1")" -eq 0 ]; then
		[ "$2" -eq 1 ]
		return
	fi
	cmp -s "$1/index.m3u8" "$SCRATCH/song/index.m3u8" &&
		cmp -s "$1/song.name" "$SCRATCH/song/song.name" || return 1
	for seg in $(segments_of "$SCRATCH/song"); do
		cmp -s "$1/$seg" "$SCRATCH/song/$seg" || return 1
		n=$((n + 1))
	done
	[ "$n" -eq "$nseg" ] && [ "$(entries "$1")" -eq $((nseg + 2)) ]
}

# part_dir NAME : the temporary directory of a fetch into $SCRATCH/NAME
part_dir() {
	find "$SCRATCH" -maxdepth 1 -name ".$1.*.part~" | head -n 1
}

# wait_part NAME COUNT : waits (10 s at most) until the temporary
# directory of NAME holds COUNT files
wait_part() {
	local dir _
	for _ in $(seq 1 1000); do
		dir=$(part_dir "$1")
		if [ -n "$dir" ] && [ "$(entries "$dir")" -ge "$2" ]; then
			return 0
		fi
		sleep 0.01
	done
	diag "the fetch into $1 did not write $2 files in time"
	return 1
}

# 1. the order of the flushes and the rename, as the system calls show
if ! command -v strace >/dev/null; then
	skip_test "the commit's fsyncs and rename are in order" "strace is missing (scripts/install-deps installs it)"
elif ! strace -f -qq -o /dev/null true 2>/dev/null; then
	skip_test "the commit's fsyncs and rename are in order" "strace cannot trace here"
else
	# (LeakSanitizer cannot run under a tracer)
	rc=0
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -y -o "$SCRATCH/trace" \
		-e trace=openat,fsync,fdatasync,syncfs,rename,renameat,renameat2 \
		"$P2PM_BIN/client" -q -p "$P_ADDR" fetch -o "$SCRATCH/traced" "$SONG" || rc=$?
	is "$rc" 0 "a fetch under strace succeeds"
	# line numbers of: each segment's creation and fsync, the directory's
	# fsync, the rename, the parent's fsync after it
	awk -v nseg="$nseg" -v parent="$SCRATCH" '
	/openat\(.*part~.*\.ts", O_WRONLY\|O_CREAT\|O_EXCL/ { if (NR > last_create) last_create = NR }
	# several threads flush the segments: a call may show up in two
	# lines, "fsync(N<path>) <unfinished ...>" and "<... fsync resumed>) = 0"
	/fsync\([0-9]+<[^>]*part~\/[0-9a-f]+\.ts>/ {
		seg_syncs++
		if (first_seg_sync == 0) first_seg_sync = NR
	}
	/fsync\([0-9]+<[^>]*part~\/[0-9a-f]+\.ts>\) += 0/ || /<\.\.\. fsync resumed>\) += 0/ { last_seg_sync = NR }
	/fsync.* = -1/ { failed++ }
	/fsync\([0-9]+<[^>]*part~\/index\.m3u8>\) += 0/ { index_sync = NR }
	/fsync\([0-9]+<[^>]*part~\/song\.name>\) += 0/ { name_sync = NR }
	/fsync\([0-9]+<[^>]*part~>\) += 0/ { dir_sync = NR }
	/rename.*part~.*"traced".* = 0/ { rename = NR }
	/fsync\([0-9]+</ && rename && NR > rename && index($0, "<" parent ">") { parent_sync = NR }
	END {
		printf "segments %d synced %d; created up to %d, synced %d..%d; index %d name %d dir %d rename %d parent %d\n",
		    nseg, seg_syncs, last_create, first_seg_sync, last_seg_sync,
		    index_sync, name_sync, dir_sync, rename, parent_sync
		exit !(seg_syncs == nseg && !failed && last_create < first_seg_sync &&
		    last_seg_sync < index_sync && index_sync < dir_sync &&
		    name_sync < dir_sync && dir_sync < rename && rename < parent_sync)
	}' "$SCRATCH/trace" >"$SCRATCH/order" && order=1 || order=0
	diag "$(cat "$SCRATCH/order")"
	is "$order" 1 "every segment is written, then each is flushed once, then index.m3u8, song.name and the directory, then the rename, then its parent"
	ok "  and the song is whole" whole_or_old "$SCRATCH/traced" 0
fi

# 2. killed between segments: each segment comes 150 ms after the last
kill_at() {
	local name=$1 files=$2 empty=$3 pid
	[ "$empty" -eq 0 ] || mkdir "$SCRATCH/$name"
	P2PM_CLIENT_SEGMENT_DELAY_MS=150 "$P2PM_BIN/client" -q -p "$P_ADDR" \
		fetch -o "$SCRATCH/$name" "$SONG" 2>"$SCRATCH/$name.err" &
	pid=$!
	wait_part "$name" "$files"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	ok "killed with $files of $nseg segments written: the old state is left" \
		whole_or_old "$SCRATCH/$name" "$empty"
	ok "  nothing under the final name looks complete" \
		test ! -e "$SCRATCH/$name/index.m3u8"
}
kill_at k0 0 0
kill_at k1 1 0
kill_at k6 6 1
kill_at k11 $((nseg - 1)) 0

# 3. killed with every file written and flushed but the rename held back
# (strace delays it by 5 s)
if command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null; then
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -o /dev/null -e trace=renameat2,rename,renameat \
		-e inject=renameat2,rename,renameat:delay_enter=5000000 \
		"$P2PM_BIN/client" -q -p "$P_ADDR" fetch -o "$SCRATCH/held" "$SONG" \
		2>"$SCRATCH/held.err" &
	spid=$!
	wait_part held $((nseg + 2))
	ok "the temporary directory holds the whole song before the rename" \
		test "$(entries "$(part_dir held)")" -eq $((nseg + 2))
	sleep 0.3
	cpid=$(pgrep -P "$spid" | head -n 1)
	[ -n "$cpid" ] && kill -KILL "$cpid"
	wait "$spid" 2>/dev/null
	ok "killed just before the rename: no directory under the final name" \
		test ! -e "$SCRATCH/held"
else
	skip_test "killed just before the rename: no directory under the final name" "strace is missing or cannot trace here"
fi

# 4. afterwards, fetching again brings the whole song
for name in k0 k1 k6 k11 held; do
	rc=0
	client -q -p "$P_ADDR" fetch -o "$SCRATCH/$name" "$SONG" || rc=$?
	[ "$rc" -eq 0 ] || break
	whole_or_old "$SCRATCH/$name" 0 || { rc=whole; break; }
done
is "$rc" 0 "a fetch after each kill succeeds"
ok "  and each output is the whole song" whole_or_old "$SCRATCH/$name" 0
left=$(find "$SCRATCH" -maxdepth 1 -name '.*.part~' | wc -l)
is "$left" 0 "  and what the killed fetches left beside them is gone"

ok "no sanitizer report" check_sanitizers
done_testing

#!/usr/bin/env bash
# Cache eviction: once the library is ready (at start and after SIGHUP) the
# peer removes the cached songs and file records no shared file uses: the
# old content of a changed file, a file gone from an -L directory, a
# NAME=FILE left out at a restart. --keep-cache removes nothing, nor does a
# rescan while an -L directory cannot be read, and entries of the cache
# directories the peer did not make (other files, symbolic links) are
# neither followed nor removed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-peer.sh"
# a tracker address that refuses connections
DEAD=$(refused_addr)

lib=$SCRATCH/library
cache=$SCRATCH/cache
outside=$SCRATCH/outside
mkdir -p "$lib" "$cache/songs" "$cache/files" "$outside/dir" "$SCRATCH/empty"
# record_of FILE : the name of FILE's record under files/
record_of() { printf '%s' "$(realpath "$1")" | sha256sum | cut -c1-64; }
sweep_line() { grep -E 'cache: (removed|keeping) ' "$SCRATCH/$1.err" | sed -n "${2}p"; }

make_mp3 "$lib/a.mp3" 2 440 || exit 1
make_mp3 "$lib/b.mp3" 2 440 -b:a 64k || exit 1
make_mp3 "$SCRATCH/c.mp3" 2 440 -b:a 80k || exit 1
akey=$(key_of "$lib/a.mp3")
bkey=$(key_of "$lib/b.mp3")
ckey=$(key_of "$SCRATCH/c.mp3")
brec=$(record_of "$lib/b.mp3")
crec=$(record_of "$SCRATCH/c.mp3")

# what the peer did not make: a key-named link to a directory outside the
# cache, a key-named plain file, a directory with another name, a file, and
# a record-named link to a file outside
: >"$outside/dir/precious.ts"
: >"$outside/precious-record"
ln -s "$outside/dir" "$cache/songs/0123456789abcdef"
: >"$cache/songs/fedcba9876543210"
mkdir "$cache/songs/not-a-key"
: >"$cache/songs/not-a-key/x.ts"
: >"$cache/songs/README"
strange_rec=$(printf 'x' | sha256sum | cut -c1-64)
ln -s "$outside/precious-record" "$cache/files/$strange_rec"
# strangers_intact : all of the above is still there, and outside untouched
strangers_intact() {
	test -L "$cache/songs/0123456789abcdef" -a -f "$cache/songs/fedcba9876543210" \
		-a -f "$cache/songs/not-a-key/x.ts" -a -f "$cache/songs/README" \
		-a -f "$outside/dir/precious.ts" -a -f "$outside/precious-record"
}

start_daemon P1 peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$lib" \
	"C=$SCRATCH/c.mp3" || exit 1
ok "the cache is swept once the library is ready" wait_for_sweeps P1 1 30
like "$(sweep_line P1 1)" "removed 0 unused song\(s\) \(0 B freed\) and 1 stale file record\(s\)$" \
	"at start nothing used is removed; the strange record-named link is"
ok "songs a, b and C are cached" \
	test -d "$cache/songs/$akey" -a -d "$cache/songs/$bkey" -a -d "$cache/songs/$ckey"
ok "a key-named link to a directory outside the cache is not followed" \
	test -f "$outside/dir/precious.ts" -a -L "$cache/songs/0123456789abcdef"
ok "a record-named link is removed, not what it points to" \
	test ! -e "$cache/files/$strange_rec" -a -f "$outside/precious-record"
ok "other entries of songs/ are left alone" strangers_intact

# SIGHUP after a changed and b left the library
make_mp3 "$SCRATCH/a-new.mp3" 3 440 || exit 1
mv "$SCRATCH/a-new.mp3" "$lib/a.mp3"
anew=$(key_of "$lib/a.mp3")
fetch_song "$P1_ADDR" a "$SCRATCH/a1" || exit 1
old_seg=$(grep -v '^#' "$SCRATCH/a1/index.m3u8" | head -n 1)
ok "b has a file record" test -f "$cache/files/$brec"
rm "$lib/b.mp3"
kill -HUP "$P1_PID"
ok "the cache is swept again after SIGHUP" wait_for_sweeps P1 2 30
like "$(sweep_line P1 2)" "removed 2 unused song\(s\) \([0-9.]+ [KM]iB freed\) and 1 stale file record\(s\)$" \
	"the sweep logs two songs and a record removed, and the space freed"
ok "the old content of the changed file is removed" test ! -e "$cache/songs/$akey"
ok "its new content is cached" test -d "$cache/songs/$anew"
ok "the song is served with the new key" wait_for_served "$P1_ADDR" a 10
fetch_song "$P1_ADDR" a "$SCRATCH/a2" || exit 1
ok "its playlist names segments of the new content" \
	cmp -s "$SCRATCH/a2/index.m3u8" "$cache/songs/$anew/index.m3u8"
is "$(request "$P1_ADDR" "REQUEST_SEGMENT $old_seg")" "ERR 404 no such segment" \
	"segments of the old content are not served"
ok "the song removed from the -L directory is removed from the cache" \
	test ! -e "$cache/songs/$bkey"
ok "and so is its file record" test ! -e "$cache/files/$brec"
ok "C, still shared, is kept" test -d "$cache/songs/$ckey" -a -f "$cache/files/$crec"
ok "nothing is left in temporaries" \
	test -z "$(find "$cache" -maxdepth 1 -name 'tmp-*')"
ok "other entries of songs/ are still left alone" strangers_intact
ok "the peer exits 0 on SIGTERM" stop_daemon P1

# a restart without C=FILE removes it at start
start_daemon P2 peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$lib" || exit 1
ok "after a restart the cache is swept" wait_for_sweeps P2 1 30
ok "a NAME=FILE no longer given is removed at start" test ! -e "$cache/songs/$ckey"
ok "and so is its file record" test ! -e "$cache/files/$crec"
ok "the song still shared is kept" test -d "$cache/songs/$anew"
ok "the peer exits 0 on SIGTERM" stop_daemon P2

# an -L directory that cannot be read: nothing is removed
start_daemon P3 peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$SCRATCH/missing" || exit 1
ok "an unreadable library directory stops the sweep, with a warning" \
	wait_for_log P3 "cache: nothing removed while 1 library directory cannot be read" 10
kill -HUP "$P3_PID"
ok "and again after SIGHUP" wait_for_log P3 "cache: nothing removed" 10 2
ok "the peer exits 0 on SIGTERM" stop_daemon P3
ok "and its songs stay cached" test -d "$cache/songs/$anew"

# --keep-cache: a sweep that only counts
start_daemon P4 peer -l 127.0.0.1:0 -t "$DEAD" -c "$cache" -L "$SCRATCH/empty" \
	--keep-cache || exit 1
ok "with --keep-cache the sweep only counts" wait_for_sweeps P4 1 30
like "$(sweep_line P4 1)" "keeping 1 unused song\(s\) \([0-9.]+ KiB\) and 1 stale file record\(s\) \(--keep-cache\)$" \
	"it logs what it keeps"
ok "with --keep-cache an unused song is not removed" test -d "$cache/songs/$anew"
ok "nor its file record" test -f "$cache/files/$(record_of "$lib/a.mp3")"
ok "the peer exits 0 on SIGTERM" stop_daemon P4
ok "other entries of songs/ are still left alone at the end" strangers_intact

ok "no sanitizer reports" check_sanitizers
done_testing

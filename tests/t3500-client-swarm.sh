#!/usr/bin/env bash
# The swarm: a song from several sources at once, every segment verified.
# Lying sources (a flipped byte, a wrong playlist, a short segment, ERR)
# among honest ones change nothing in the output and are named; only liars
# make the fetch fail with nothing under the final name; two songs shared
# under one name give the one more peers hold; slow and stalling sources
# do not hold the fetch back.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
for t in fakepeer mksongdir relay; do
	[ -x "$P2PM_TOOLS/$t" ] || skip_all "build/san/tools/$t is missing (make check-build)"
done

SONG="Blue Monday"
make_songdir "$SCRATCH/A" "$SONG" 12 440 || exit 1
make_songdir "$SCRATCH/B" "$SONG" 12 880 || exit 1
ID_A=$(sha256sum <"$SCRATCH/A/index.m3u8" | cut -c1-64)
ID_B=$(sha256sum <"$SCRATCH/B/index.m3u8" | cut -c1-64)
NSEG=$(segments_of "$SCRATCH/A" | wc -l)

for p in H1 H2 H3 H4; do
	start_fakepeer "$p" "$SCRATCH/A" || exit 1
done
start_fakepeer FLIP "$SCRATCH/A" --flip 0 || exit 1
start_fakepeer WRONG "$SCRATCH/A" --wrong-playlist || exit 1
start_fakepeer SHORT "$SCRATCH/A" --short 0 || exit 1
start_fakepeer ERRS "$SCRATCH/A" --err-segments || exit 1
start_fakepeer OTHER "$SCRATCH/B" || exit 1

# same_song DIR REF : DIR is the song directory REF, file for file
same_song() {
	diff -r "$1" "$2" >/dev/null
}

# no_leftovers DIR : nothing half-written beside or inside DIR
no_leftovers() {
	[ -z "$(find "$(dirname "$1")" -maxdepth 2 -name '*.part~' 2>/dev/null)" ]
}

# 1. four honest sources
client -v fetch -j 4 -o "$SCRATCH/f1" -p "$H1_ADDR" -p "$H2_ADDR" -p "$H3_ADDR" \
	-p "$H4_ADDR" "$SONG" >"$SCRATCH/f1.out" 2>"$SCRATCH/f1.err"
is "$?" 0 "a fetch from four sources exits 0"
ok "  the song directory is the source's, file for file" same_song "$SCRATCH/f1" "$SCRATCH/A"
ok "  the song has many segments ($NSEG)" test "$NSEG" -ge 8
for p in H1 H2 H3 H4; do
	addr=$(eval "echo \$${p}_ADDR")
	like "$(cat "$SCRATCH/f1.err")" "peer $addr: [1-9][0-9]* segments" \
		"  source $p delivered segments (-v)"
done
like "$(cat "$SCRATCH/f1.out")" "from 4 sources" "  the summary says four sources delivered"
is "$(cat "$SCRATCH/f1/song.name")" "$SONG" "  song.name holds the song's name"

client cat -p "$H1_ADDR" -p "$H2_ADDR" -p "$H3_ADDR" -p "$H4_ADDR" "$SONG" \
	>"$SCRATCH/cat1.ts" 2>"$SCRATCH/cat1.err"
is "$?" 0 "cat from four sources exits 0"
concat_segments "$SCRATCH/f1" >"$SCRATCH/expected.ts"
ok "  its output is the segments concatenated in playlist order" \
	cmp -s "$SCRATCH/cat1.ts" "$SCRATCH/expected.ts"

client -v fetch -j 1 -o "$SCRATCH/f1j" -p "$H1_ADDR" -p "$H2_ADDR" "$SONG" \
	>/dev/null 2>"$SCRATCH/f1j.err"
is "$?" 0 "-j 1 fetches from one source"
like "$(cat "$SCRATCH/f1j.err")" "from 1 of 1 sources" "  and says so"

# 2. liars among honest sources, the liars first
err=$(client -v fetch -o "$SCRATCH/f2" -p "$FLIP_ADDR" -p "$WRONG_ADDR" -p "$SHORT_ADDR" \
	-p "$ERRS_ADDR" -p "$H1_ADDR" -p "$H2_ADDR" "$SONG" 2>&1 >/dev/null)
is "$?" 0 "a fetch with liars among honest sources exits 0"
ok "  the output is byte-identical to the honest copy" same_song "$SCRATCH/f2" "$SCRATCH/A"
like "$err" "peer $FLIP_ADDR: sent segment [0-9]+/$NSEG with the wrong bytes" \
	"  the source flipping a byte is named"
like "$err" "peer $WRONG_ADDR: its playlist (does not match|differs)" \
	"  the source with a wrong playlist is named"
like "$err" "peer $SHORT_ADDR: sent segment [0-9]+/$NSEG with the wrong bytes" \
	"  the source sending short segments is named"
like "$err" "peer $ERRS_ADDR: answered ERR 404" "  the source answering ERR is named"

client cat -p "$FLIP_ADDR" -p "$H1_ADDR" -p "$SHORT_ADDR" "$SONG" >"$SCRATCH/cat2.ts" 2>/dev/null
is "$?" 0 "cat with liars among honest sources exits 0"
ok "  and streams the honest bytes" cmp -s "$SCRATCH/cat2.ts" "$SCRATCH/expected.ts"

# 3. only liars
err=$(client fetch -o "$SCRATCH/f3" -p "$FLIP_ADDR" -p "$WRONG_ADDR" -p "$SHORT_ADDR" "$SONG" 2>&1)
is "$?" 1 "a fetch from liars only exits 1"
ok "  nothing is under the final name" test ! -e "$SCRATCH/f3"
ok "  and nothing half-written is left beside it" no_leftovers "$SCRATCH/f3"
like "$err" "no peer could serve '$SONG'" "  saying no source could serve it"
client cat -p "$FLIP_ADDR" "$SONG" >"$SCRATCH/cat3.ts" 2>/dev/null
is "$?" 1 "cat from a liar only exits 1"
is "$(wc -c <"$SCRATCH/cat3.ts")" 0 "  and writes nothing"

# 4. -p with two different songs: the first playlist fixes the content id
err=$(client fetch -o "$SCRATCH/f4" -p "$H1_ADDR" -p "$OTHER_ADDR" -p "$H2_ADDR" "$SONG" 2>&1 >/dev/null)
is "$?" 0 "with -p the first playlist fetched fixes the song"
ok "  the output is that song only" same_song "$SCRATCH/f4" "$SCRATCH/A"
like "$err" "peer $OTHER_ADDR: its playlist differs" "  a source with another song is not used"

# 5. through the tracker: two songs under one name, the one more peers hold
start_daemon T tracker -l 127.0.0.1:0 || exit 1
register() {	# register ADDR LINE...
	local addr=$1
	shift
	{ printf 'REGISTER %s\n' "$addr"; printf '%s\n' "$@"; printf '\nQUIT\n'; } | talk "$T_ADDR"
}
enc=$(encode_name "$SONG")
register "$H1_ADDR" "$enc $ID_A" >/dev/null
register "$H2_ADDR" "$enc $ID_A" >/dev/null
register "$H3_ADDR" "$enc $ID_A" >/dev/null
register "$OTHER_ADDR" "$enc $ID_B" >/dev/null
client -v -t "$T_ADDR" fetch -o "$SCRATCH/f5" "$SONG" >/dev/null 2>"$SCRATCH/f5.err"
is "$?" 0 "fetch through the tracker (LOCATE) exits 0"
ok "  two songs under one name: the one three peers hold, not the one one holds" \
	same_song "$SCRATCH/f5" "$SCRATCH/A"
ok "  no segment of the other song was asked for" test "$(served_count OTHER)" -eq 0
client -t "$T_ADDR" fetch --id "$ID_B" -o "$SCRATCH/f5b" "$SONG" >/dev/null 2>&1
is "$?" 0 "--id picks the other song"
ok "  and gets exactly it" same_song "$SCRATCH/f5b" "$SCRATCH/B"
err=$(client -t "$T_ADDR" fetch --id "$(printf '%064d' 0)" -o "$SCRATCH/f5c" "$SONG" 2>&1)
is "$?" 1 "--id of a song nobody holds exits 1"
like "$err" "no peer holds '$SONG' with content id" "  saying so"

# a liar registered under the content id it does not serve
register "$FLIP_ADDR" "$enc $ID_A" >/dev/null
register "$WRONG_ADDR" "$enc $ID_A" >/dev/null
err=$(client -t "$T_ADDR" -j 8 fetch -o "$SCRATCH/f5d" "$SONG" 2>&1 >/dev/null)
is "$?" 0 "liars registered under the content id do not spoil a tracker fetch"
ok "  the output is the honest copy" same_song "$SCRATCH/f5d" "$SCRATCH/A"

# registrations without a content id: the first playlist fixes the song
start_fakepeer PLAIN1 "$SCRATCH/A" -n "Plain Song" || exit 1
start_fakepeer PLAIN2 "$SCRATCH/A" -n "Plain Song" || exit 1
register "$PLAIN1_ADDR" "Plain%20Song" >/dev/null
register "$PLAIN2_ADDR" "Plain%20Song /seed/style/path.ts" >/dev/null
is "$(request "$T_ADDR" "LOCATE Plain%20Song" | grep -c '^- ')" 2 \
	"(two peers registered the name without a content id)"
client -v -t "$T_ADDR" fetch -o "$SCRATCH/plain" "Plain Song" >/dev/null 2>"$SCRATCH/plain.err"
is "$?" 0 "a song registered without content ids is fetched"
ok "  the first playlist fixed the song: the segments are the right ones" \
	diff -r -x song.name "$SCRATCH/plain" "$SCRATCH/A"
is "$(cat "$SCRATCH/plain/song.name")" "Plain Song" "  under the name asked for"
like "$(cat "$SCRATCH/plain.err")" "from 2 of 2 sources" "  from both sources"

# a version-1 tracker (ERR 400 to LOCATE): QUERY, and the first playlist
# fixes the song
start_fakepeer V1 "$SCRATCH/A" --v1-tracker "$H1_ADDR $OTHER_ADDR $H2_ADDR" || exit 1
err=$(client -t "$V1_ADDR" fetch -o "$SCRATCH/v1" "$SONG" 2>&1 >/dev/null)
is "$?" 0 "with a version-1 tracker the client falls back to QUERY"
ok "  and fetches the first playlist's song" same_song "$SCRATCH/v1" "$SCRATCH/A"
like "$err" "peer $OTHER_ADDR: its playlist differs" "  not using the source with another song"

# 6. fetching again, and into a directory holding something else
ino=$(stat -c %i "$SCRATCH/f1/index.m3u8")
out=$(client fetch -o "$SCRATCH/f1" -p "$H1_ADDR" "$SONG" 2>&1)
is "$?" 0 "fetching the same song again exits 0"
like "$out" "already in .*whole and verified" "  and only verifies it"
is "$(stat -c %i "$SCRATCH/f1/index.m3u8")" "$ino" "  leaving its files as they were"
err=$(client fetch --id "$ID_B" -o "$SCRATCH/f1" -t "$T_ADDR" "$SONG" 2>&1)
is "$?" 4 "fetching another song into a song's directory exits 4"
like "$err" "'$SCRATCH/f1' holds another song" "  naming the directory"
ok "  and leaves the first song whole" same_song "$SCRATCH/f1" "$SCRATCH/A"
err=$(client fetch -o "$SCRATCH/f1" -p "$OTHER_ADDR" "$SONG" 2>&1)
is "$?" 4 "the same with -p (the content id known from the playlist)"
mkdir "$SCRATCH/mine"
echo precious >"$SCRATCH/mine/notes.txt"
err=$(client fetch -o "$SCRATCH/mine" -p "$H1_ADDR" "$SONG" 2>&1)
is "$?" 4 "fetching into a directory holding other files exits 4"
like "$err" "'$SCRATCH/mine' holds files" "  naming it"
is "$(ls -A "$SCRATCH/mine")" "notes.txt" "  and touches nothing there"
cp -r "$SCRATCH/A" "$SCRATCH/altered"
seg=$(segments_of "$SCRATCH/altered" | sed -n 2p)
printf 'x' | dd of="$SCRATCH/altered/$seg" bs=1 seek=100 conv=notrunc status=none
err=$(client fetch -o "$SCRATCH/altered" -p "$H1_ADDR" "$SONG" 2>&1)
is "$?" 4 "a song directory with an altered segment is not taken for the song"
like "$err" "$seg" "  naming the segment"
mkdir "$SCRATCH/empty"
client -q fetch -o "$SCRATCH/empty" -p "$H1_ADDR" "$SONG"
is "$?" 0 "fetching into an empty directory works"
ok "  and fills it with the song" same_song "$SCRATCH/empty" "$SCRATCH/A"

# 7. a peer naming files it must not write, and a CR inside a line
mkdir "$SCRATCH/evil" "$SCRATCH/home2"
printf 'evil\n' >"$SCRATCH/evil/.bashrc"
printf 'evil\n' >"$SCRATCH/evil/Makefile"
printf 'mine\n' >"$SCRATCH/home2/.bashrc"
printf 'mine\n' >"$SCRATCH/home2/Makefile"
printf '#EXTM3U\n#EXTINF:1,\n.bashrc\n#EXTINF:1,\nMakefile\n#EXT-X-ENDLIST\n' >"$SCRATCH/evil.m3u8"
start_fakepeer EVIL "$SCRATCH/evil" -n "$SONG" --playlist "$SCRATCH/evil.m3u8" || exit 1
err=$(client fetch -o "$SCRATCH/home2" -p "$EVIL_ADDR" "$SONG" 2>&1)
is "$?" 4 "a fetch into a directory holding .bashrc and Makefile refuses (exit 4)"
is "$(cat "$SCRATCH/home2/.bashrc" "$SCRATCH/home2/Makefile")" "$(printf 'mine\nmine')" \
	"  and both files are as they were"
err=$(client fetch -o "$SCRATCH/evil-out" -p "$EVIL_ADDR" "$SONG" 2>&1)
is "$?" 1 "a playlist naming .bashrc and Makefile is refused (exit 1)"
like "$err" "not content-addressed" "  saying why"
ok "  and nothing is written" test ! -e "$SCRATCH/evil-out"
ok "  no .bashrc anywhere it could reach" test ! -e "$SCRATCH/.bashrc"
{ printf '#EXTM3U\n#EXTINF:1,\r/etc/passwd\n'; segments_of "$SCRATCH/A" | head -n 1; } >"$SCRATCH/cr.m3u8"
start_fakepeer CR "$SCRATCH/A" --playlist "$SCRATCH/cr.m3u8" || exit 1
err=$(client cat -p "$CR_ADDR" "$SONG" 2>&1 >"$SCRATCH/cr.ts")
is "$?" 1 "a playlist with a CR inside a line is refused"
like "$err" "CR inside a line" "  saying so"

# 8. a segment larger than its duration allows
mkdir "$SCRATCH/big"
head -c 300000 /dev/urandom >"$SCRATCH/big/seg"
bigname=$(sha256sum <"$SCRATCH/big/seg" | cut -c1-64).ts
mv "$SCRATCH/big/seg" "$SCRATCH/big/$bigname"
printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:0.010000,\n%s\n#EXT-X-ENDLIST\n' \
	"$bigname" >"$SCRATCH/big/index.m3u8"
start_fakepeer BIG "$SCRATCH/big" -n "$SONG" || exit 1
err=$(client fetch -o "$SCRATCH/big-out" -p "$BIG_ADDR" "$SONG" 2>&1)
is "$?" 1 "a segment over its duration's byte cap is refused"
like "$err" "peer $BIG_ADDR: .*over the limit" "  naming the source"
ok "  and nothing is written" test ! -e "$SCRATCH/big-out"

# ... and a song of many short segments holding more than its length
# allows (each 266 packets of MPEG-TS shape: the sync byte 'G', 0x47, then
# 187 random bytes)
mkdir "$SCRATCH/many"
{
	printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n'
	for i in $(seq 1 30); do
		perl -e 'for (1..266) { print "G", map { chr(int(rand(256))) } 1..187 }' \
			>"$SCRATCH/many/seg"
		name=$(sha256sum <"$SCRATCH/many/seg" | cut -c1-64).ts
		mv "$SCRATCH/many/seg" "$SCRATCH/many/$name"
		printf '#EXTINF:0.010000,\n%s\n' "$name"
	done
	printf '#EXT-X-ENDLIST\n'
} >"$SCRATCH/many/index.m3u8"
start_fakepeer MANY "$SCRATCH/many" -n "$SONG" || exit 1
err=$(client fetch -o "$SCRATCH/many-out" -p "$MANY_ADDR" "$SONG" 2>&1)
is "$?" 1 "a song holding more bytes than its length allows is refused (exit 1)"
like "$err" "holds more than its length allows" "  saying so"
ok "  and nothing is written" test ! -e "$SCRATCH/many-out"
ok "  nor left beside it" no_leftovers "$SCRATCH/many-out"

# 9. a slow source (8 KB/s) and a stalling one do not hold the fetch back
P2PM_BIN=$P2PM_TOOLS start_daemon SLOW relay --rate 8000 "$H4_ADDR" || exit 1
P2PM_BIN=$P2PM_TOOLS start_daemon STALL relay --freeze-after 60000 "$H3_ADDR" || exit 1
t0=$(date +%s%N)
client -v --timeout 30 fetch -o "$SCRATCH/f9" -p "$SLOW_ADDR" -p "$STALL_ADDR" \
	-p "$H1_ADDR" -p "$H2_ADDR" "$SONG" >/dev/null 2>"$SCRATCH/f9.err"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$rc" 0 "a fetch with a slow and a stalling source exits 0"
ok "  the output is whole" same_song "$SCRATCH/f9" "$SCRATCH/A"
ok "  in ${ms} ms: not the 30 s timeout, nor the slow source's 25 s for the song" \
	test "$ms" -lt 8000
t0=$(date +%s%N)
client -v --timeout 30 cat -p "$STALL_ADDR" -p "$SLOW_ADDR" -p "$H1_ADDR" "$SONG" \
	>"$SCRATCH/cat9.ts" 2>"$SCRATCH/cat9.err"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$rc" 0 "cat with the stalling source first exits 0"
ok "  the stream is whole and in order" cmp -s "$SCRATCH/cat9.ts" "$SCRATCH/expected.ts"
ok "  in ${ms} ms, not the 30 s timeout" test "$ms" -lt 8000

# 10. a full disk stops the fetch cleanly (a small tmpfs in a mount namespace)
if unshare -m true 2>/dev/null; then
	mkdir "$SCRATCH/small"
	unshare -m bash -c 'mount -t tmpfs -o size=64k none "$1" || exit 99
		"$2/client" fetch -o "$1/song" -p "$3" "$4" 2>"$5"
		rc=$?
		ls -A "$1" >"$6"
		exit $rc' _ "$SCRATCH/small" "$P2PM_BIN" "$H1_ADDR" "$SONG" \
		"$SCRATCH/full.err" "$SCRATCH/full.ls"
	rc=$?
	if [ "$rc" = 99 ]; then
		skip_test "a full disk stops the fetch with exit 4" "cannot mount a tmpfs"
	else
		is "$rc" 4 "a full disk stops the fetch with exit 4"
		like "$(cat "$SCRATCH/full.err")" "disk is full" "  saying the disk is full"
		is "$(cat "$SCRATCH/full.ls")" "" "  and removes what it wrote"
	fi
else
	skip_test "a full disk stops the fetch with exit 4" "no mount namespaces here"
fi

ok "no sanitizer report" check_sanitizers
done_testing

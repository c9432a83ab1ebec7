#!/usr/bin/env bash
# client list: TEXT matched ignoring case beyond ASCII (BJÖRK finds Björk,
# Greek and Cyrillic too), tags from the tracker's LIST lines shown as
# columns of a table aligned by display width on a terminal, --json lines
# for scripts, and tab-separated lines when stdout is not a terminal.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
need_ffmpeg
: "${P2PM_TOOLS:=$TOP_DIR/build/san/tools}"

mkdir -p "$SCRATCH/lib"
for name in "Björk - Jóga" "Кино - Группа крови" "Σωκράτης" "日本語の歌" "Plain Song"; do
	make_mp3 "$SCRATCH/lib/$name.mp3" 1 440 || exit 1
done
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
export P2P_MUSIC_TRACKER=$T_ADDR
for name in "Björk - Jóga" "Кино - Группа крови" "Σωκράτης" "日本語の歌" "Plain Song"; do
	wait_for_registered "$T_ADDR" "$name" 1 || exit 1
done

# matching against the real tracker
is "$(client list BJÖRK)" "$(printf 'Björk - Jóga\t1')" "list BJÖRK finds 'Björk - Jóga'"
is "$(client list jÓGA)" "$(printf 'Björk - Jóga\t1')" "list jÓGA finds it too"
is "$(client list ГРУППА)" "$(printf 'Кино - Группа крови\t1')" "list ГРУППА finds the Cyrillic name"
is "$(client list ΣΩΚΡΆΤΗΣ)" "$(printf 'Σωκράτης\t1')" "list ΣΩΚΡΆΤΗΣ finds 'Σωκράτης' (final sigma)"
is "$(client list 日本)" "$(printf '日本語の歌\t1')" "list 日本 finds the Japanese name"
is "$(client list PLAIN)" "$(printf 'Plain Song\t1')" "an ASCII TEXT still matches, ignoring case"
is "$(client list ÄÄÄ 2>/dev/null)" "" "a non-ASCII TEXT matching nothing prints nothing"
is "$(client list --json BJÖRK)" \
	'{"name":"Björk - Jóga","artist":null,"album":null,"title":null,"track":null,"duration":1.000,"sources":1}' \
	"--json prints a JSON line, UTF-8 kept, the duration the peer registered, null for tags it has not"

if command -v script >/dev/null; then
	# a terminal gets a table; the row with 日本語の歌 lines up by columns
	script -qec "$P2PM_BIN/client -t $T_ADDR list Ω" /dev/null </dev/null |
		tr -d '\r' >"$SCRATCH/table"
	is "$(cat "$SCRATCH/table")" \
		"$(printf 'NAME      ARTIST  ALBUM  TIME  SOURCES\nΣωκράτης                 0:01  1')" \
		"on a terminal: a table of name, artist, album, time and sources, empty cells for no tags"
else
	skip_test "script (bsdutils) is needed for the terminal table"
fi

# a tracker that gives tags: a stand-in answering every request with a page
{
	printf 'PAGE 4\n'
	printf 'Bj%%C3%%B6rk%%20-%%20J%%C3%%B3ga 2 artist=Bj%%C3%%B6rk album=Homog%%C3%%A9nic duration=305.4 year=1997 bogus =x\n'
	printf 'Say%%20"Hi"%%20\\o/ 1\n'
	printf 'Tabbed 3 artist=a%%09b duration=-1\n'
	printf '%%E6%%97%%A5%%E6%%9C%%AC%%E8%%AA%%9E%%E3%%81%%AE%%E6%%AD%%8C 1 artist=%%E6%%AD%%8C%%E6%%89%%8B title=Uta duration=abc\n'
	printf 'END\n'
} >"$SCRATCH/page"
[ -x "$P2PM_TOOLS/canned" ] || skip_all "build/san/tools/canned is missing (make check-build)"
P2PM_BIN=$P2PM_TOOLS start_daemon C canned "$SCRATCH/page" || exit 1

is "$(client -t "$C_ADDR" list)" \
	"$(printf 'Björk - Jóga\t2\nSay "Hi" \\o/\t1\nTabbed\t3\n日本語の歌\t1')" \
	"tag words after the count leave the tab-separated lines as they were"
is "$(client -t "$C_ADDR" list HOMOGÉNIC)" "$(printf 'Björk - Jóga\t2')" \
	"a non-ASCII TEXT matches the album tag too"
is "$(client -t "$C_ADDR" list uta)" "$(printf '日本語の歌\t1')" \
	"an ASCII TEXT matches the title tag as well"
is "$(client -t "$C_ADDR" list 歌手)" "$(printf '日本語の歌\t1')" "  and the artist tag"
client -t "$C_ADDR" list --json >"$SCRATCH/json"
is "$(sed -n 1p "$SCRATCH/json")" \
	'{"name":"Björk - Jóga","artist":"Björk","album":"Homogénic","title":null,"track":null,"duration":305.400,"sources":2}' \
	"--json gives the tags, the duration in seconds; unknown and malformed words are ignored"
is "$(sed -n 2p "$SCRATCH/json")" \
	'{"name":"Say \"Hi\" \\o/","artist":null,"album":null,"title":null,"track":null,"duration":null,"sources":1}' \
	"  quotes and backslashes escaped"
is "$(sed -n 3p "$SCRATCH/json")" \
	'{"name":"Tabbed","artist":null,"album":null,"title":null,"track":null,"duration":null,"sources":3}' \
	"  a tag with a control character and a negative duration are ignored"
is "$(sed -n 4p "$SCRATCH/json")" \
	'{"name":"日本語の歌","artist":"歌手","album":null,"title":"Uta","track":null,"duration":null,"sources":1}' \
	"  and a duration that is not a number is left out"
if command -v script >/dev/null; then
	script -qec "$P2PM_BIN/client -t $C_ADDR list" /dev/null </dev/null |
		tr -d '\r' >"$SCRATCH/table"
	{
		printf 'NAME          ARTIST  ALBUM      TIME  SOURCES\n'
		printf 'Björk - Jóga  Björk   Homogénic  5:05  2\n'
		printf 'Say "Hi" \\o/                           1\n'
		printf 'Tabbed                                 3\n'
		printf '日本語の歌    歌手                     1\n'
	} >"$SCRATCH/table.want"
	ok "the table lines up by display width (日本語の歌 takes 10 columns, 歌手 4)" \
		cmp -s "$SCRATCH/table" "$SCRATCH/table.want"
	diff "$SCRATCH/table.want" "$SCRATCH/table" | sed 's/^/# /'
else
	skip_test "script (bsdutils) is needed for the terminal table"
fi

client --json query Foo >/dev/null 2>&1
is "$?" 2 "--json with another command than list is a usage error"

stop_daemon C >/dev/null
ok "peer exits 0" stop_daemon P
ok "tracker exits 0" stop_daemon T
ok "no sanitizer report" check_sanitizers
done_testing

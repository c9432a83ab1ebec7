#!/usr/bin/env bash
# Text from the other side never steers a terminal: a peer's or tracker's
# ERR text with C1 controls (the one-byte CSI 0x9B, U+009B, U+009D OSC),
# ESC sequences, invalid UTF-8 and bidi overrides reaches the client's
# stderr and the peer's log with each of those replaced by '?'. Song
# names and tags with bidi controls or zero-width characters are refused
# at REGISTER, and a peer neither shares nor tags with them.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
: "${P2PM_TOOLS:=$TOP_DIR/build/san/tools}"
[ -x "$P2PM_TOOLS/canned" ] || skip_all "build/san/tools/canned is missing (make check-build)"

# only_printable FILE : every byte of FILE is printable ASCII or a newline
# (what the sanitized text of this test's replies comes to)
only_printable() {
	[ "$(LC_ALL=C tr -d '\n\040-\176' <"$1" | wc -c)" -eq 0 ]
}

# a stand-in peer and tracker answering every request with a hostile ERR
printf 'ERR 404 no \xc2\x9b31mRED\xc2\x9b0m \x9b32mX\x9b0m \xe2\x80\xaereversed \xc2\x9d0;title\x07 \x1b[2J\xe2\x81\xa6end\n' \
	>"$SCRATCH/hostile"
P2PM_BIN=$P2PM_TOOLS start_daemon H canned "$SCRATCH/hostile" || exit 1
shown='ERR 404 no ?31mRED?0m ?32mX?0m ?reversed ?0;title? ?[2J?end'

client fetch -p "$H_ADDR" -o "$SCRATCH/out" tone 2>"$SCRATCH/fetch.err"
ok "fetch from the hostile peer fails" test $? -ne 0
ok "its ERR text is shown with every control, bidi control and invalid byte as '?'" \
	grep -qF "peer $H_ADDR: answered $shown" "$SCRATCH/fetch.err"
ok "the client's stderr holds nothing but printable ASCII" only_printable "$SCRATCH/fetch.err"
ok "no C1 CSI (raw 0x9B or U+009B) on stderr" \
	bash -c '! LC_ALL=C grep -q "$(printf "\\x9b")" "$1"' _ "$SCRATCH/fetch.err"

client -t "$H_ADDR" query tone 2>"$SCRATCH/query.err"
ok "a tracker's ERR text to QUERY is sanitized the same way" \
	grep -qF "tracker $H_ADDR answered $shown" "$SCRATCH/query.err"
ok "and nothing unprintable reaches stderr" only_printable "$SCRATCH/query.err"
client -t "$H_ADDR" list >"$SCRATCH/list.out" 2>"$SCRATCH/list.err"
ok "an ERR to LISTPAGE too" only_printable "$SCRATCH/list.err"

# the peer logs what its tracker refused with: sanitized by the logger
start_daemon P peer -l 127.0.0.1:0 -t "$H_ADDR" --renew 1 -c "$SCRATCH/pcache" || exit 1
ok "the peer logs the tracker's refusal" wait_for_log P 'reversed' 10
ok "with nothing unprintable in its log" only_printable "$SCRATCH/P.err"
stop_daemon P

# REGISTER: names with bidi controls or zero-width characters are refused
start_daemon T tracker -l 127.0.0.1:0 || exit 1
id=$(printf 'A' | sha256sum | cut -c1-64)
register() {
	{ printf 'REGISTER 127.0.0.1:5201\n'; printf '%s\n' "$@"; printf '\nQUIT\n'; } | talk "$T_ADDR"
}
for enc in 'evil%E2%80%AEpm3.mp3' 'a%E2%80%ADb' 'a%E2%80%AAb' 'a%E2%81%A6b' 'a%E2%81%A9b' \
	'a%E2%80%8Bb' 'a%E2%80%8Cb' 'a%E2%80%8Fb' 'a%E2%81%A0b' '%EF%BB%BFa' 'a%C2%9Bb' 'a%C2%85b'; do
	is "$(register "$enc $id")" "ERR 400 invalid song name in REGISTER body" \
		"REGISTER of the name '$enc' is refused"
done
is "$(register "Plain $id artist=%E2%80%AEdrawkcab title=zero%E2%80%8Bwidth album=Fine")" OK \
	"a song whose tags hold bidi or zero-width characters registers"
is "$(request "$T_ADDR" "LOCATE Plain tags" | sed -n 2p)" "$id 127.0.0.1:5201" \
	"without those tags, as with other control characters"
is "$(request "$T_ADDR" "QUERY a%E2%80%AEb")" "ERR 400 invalid name encoding" \
	"QUERY of such a name is a bad request"
register >/dev/null

# a peer skips a file whose name has a bidi override, and drops such a tag
need_ffmpeg
mkdir -p "$SCRATCH/lib"
make_mp3 "$SCRATCH/lib/$(printf 'evil\xe2\x80\xaegpj.mp3')" 1 440 || exit 1
make_mp3 "$SCRATCH/lib/Tagged.mp3" 1 550 -metadata "artist=$(printf '\xe2\x80\xaeoknow')" \
	-metadata "title=$(printf 'zero\xe2\x80\x8bwidth')" -metadata album=Fine || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
wait_for_registered "$T_ADDR" Tagged 1 || exit 1
is "$(request "$T_ADDR" "LISTPAGE limit=10 tags=1" | sed -n '2,$p')" \
	"$(printf 'Tagged 1 album=Fine duration=1\nEND')" \
	"only the song with a plain name registers, without its bidi and zero-width tags"
ok "the peer says why it skipped the other" wait_for_log P 'skipping .*not a valid song name' 10
ok "and its log shows the name with '?' for the override" \
	grep -q "'evil?gpj'" "$SCRATCH/P.err"
ok "with nothing unprintable in the peer's log" only_printable "$SCRATCH/P.err"
ok "no sanitizer report" check_sanitizers
done_testing

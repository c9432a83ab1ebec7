#!/usr/bin/env bash
# Protocol version 2 at the tracker: REGISTER lines with content ids, and
# LOCATE, which groups a song's sources by content id.
. "$(dirname "$0")/lib.sh"

start_daemon T tracker -l 127.0.0.1:0 || exit 1

idA=$(printf 'A' | sha256sum | cut -c1-64)
idB=$(printf 'B' | sha256sum | cut -c1-64)

is "$(request "$T_ADDR" "LOCATE Nobody")" "SOURCES 0" "LOCATE of an unknown song answers SOURCES 0"

# two peers hold encoding A, one encoding B, one (version 1) no id at all
for p in 5101 5102; do
	out=$(printf 'REGISTER 127.0.0.1:%d\nBlue%%20Monday %s\nOther %s\n\nQUIT\n' "$p" "$idA" "$idB" | talk "$T_ADDR")
	is "$out" "OK" "peer $p registers names with content ids"
done
printf 'REGISTER 127.0.0.1:5103\nBlue%%20Monday %s tags=ignored\n\nQUIT\n' "$idB" | talk "$T_ADDR" >/dev/null
printf 'REGISTER 127.0.0.1:5104\nBlue%%20Monday /seed/path.ts\n\nQUIT\n' | talk "$T_ADDR" >/dev/null

expected=$(printf 'SOURCES 4\n%s 127.0.0.1:5101\n%s 127.0.0.1:5102\n%s 127.0.0.1:5103\n- 127.0.0.1:5104' "$idA" "$idA" "$idB")
got=$(request "$T_ADDR" "LOCATE Blue%20Monday")
is "$(printf '%s\n' "$got" | head -n 1)" "SOURCES 4" \
	"LOCATE counts every live registration"
# the order of ids is fixed (most peers first, '-' by its count); within an id it is shuffled
is "$(printf '%s\n' "$got" | sed 1d | cut -d' ' -f1 | uniq -c | awk '{ print $1 }' | tr '\n' ' ')" "2 1 1 " \
	"the content id most peers hold comes first, in one group"
is "$(printf '%s\n' "$got" | sed -n 2p | cut -d' ' -f1)" "$idA" "and it is the id two peers hold"
is "$(printf '%s\n' "$got" | sed -n 5p)" "- 127.0.0.1:5104" "a registration without an id is '-'"
is "$(printf '%s\n' "$got" | sort)" "$(printf '%s\n' "$expected" | sort)" \
	"each source is named with the content id it registered"

# shuffled within a content id
orders=$(for _ in $(seq 40); do echo "LOCATE Blue%20Monday"; done | { cat; echo QUIT; } |
	talk "$T_ADDR" | grep -c "^$idA 127.0.0.1:5101$" )
firsts=$(for _ in $(seq 40); do echo "LOCATE Blue%20Monday"; done | { cat; echo QUIT; } |
	talk "$T_ADDR" | awk '/^SOURCES/ { getline; print }' | sort -u | wc -l)
is "$orders" "40" "every reply names each source"
is "$firsts" "2" "the sources of one content id come in shuffled order"

is "$(request "$T_ADDR" "QUERY Blue%20Monday" | wc -w)" "5" "QUERY is unchanged: it names all four peers"
is "$(request "$T_ADDR" "LIST Blue")" "$(printf 'SONGS 1\nBlue%%20Monday 4')" "LIST counts them as before"

# a new REGISTER moves the peer to its new content id
printf 'REGISTER 127.0.0.1:5102\nBlue%%20Monday %s\n\nQUIT\n' "$idB" | talk "$T_ADDR" >/dev/null
is "$(request "$T_ADDR" "LOCATE Blue%20Monday" | sed 1d | cut -d' ' -f1 | uniq -c | awk '{ print $1 }' | tr '\n' ' ')" "2 1 1 " \
	"after a peer re-registers, groups are recounted"
is "$(request "$T_ADDR" "LOCATE Blue%20Monday" | sed -n 2p | cut -d' ' -f1)" "$idB" \
	"and the id now held by two peers comes first"

# an upper-case or short id is not a content id: the name is registered without one
printf 'REGISTER 127.0.0.1:5105\nCase %s\n\nQUIT\n' "${idA^^}" | talk "$T_ADDR" >/dev/null
is "$(request "$T_ADDR" "LOCATE Case")" "$(printf 'SOURCES 1\n- 127.0.0.1:5105')" \
	"an upper-case id is no content id"

# at most 64 rows per content id
for p in $(seq 1 70); do
	printf 'REGISTER 127.0.0.1:%d\nPopular %s\n\n' $((20000 + p)) "$idA"
done | { cat; echo QUIT; } | talk "$T_ADDR" >/dev/null
printf 'REGISTER 127.0.0.1:21000\nPopular %s\n\nQUIT\n' "$idB" | talk "$T_ADDR" >/dev/null
got=$(request "$T_ADDR" "LOCATE Popular")
is "$(printf '%s\n' "$got" | head -n 1)" "SOURCES 65" "LOCATE names at most 64 sources of one content id"
is "$(printf '%s\n' "$got" | tail -n 1)" "$idB 127.0.0.1:21000" "and then the next content id"

is "$(request "$T_ADDR" "LOCATE")" "ERR 400 missing name" "LOCATE without a name is ERR 400"
is "$(request "$T_ADDR" "LOCATE a%ZZ")" "ERR 400 invalid name encoding" "a badly encoded name is ERR 400"

ok "tracker exits 0 on SIGTERM" stop_daemon T
ok "tracker logged no sanitizer report" check_sanitizers
done_testing

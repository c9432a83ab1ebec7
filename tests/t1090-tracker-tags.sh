#!/usr/bin/env bash
# Tag words after the content id of a REGISTER line are kept per
# registration (bounded, counted in the memory budget) and returned by
# LISTPAGE tags=1 and LOCATE <name> tags; without the flag words the
# replies are as before.
. "$(dirname "$0")/lib.sh"

start_daemon T tracker -l 127.0.0.1:0 || exit 1
id=$(printf 'A' | sha256sum | cut -c1-64)
tags='artist=Bj%C3%B6rk album=Homogenic title=J%C3%B3ga track=3 year=1997 duration=305'

# register LINE... : registers the body lines for peer 127.0.0.1:5201
register() {
	{ printf 'REGISTER 127.0.0.1:5201\n'; printf '%s\n' "$@"; printf '\nQUIT\n'; } | talk "$T_ADDR"
}
mem_of() { request "$T_ADDR" STATS | tr ' ' '\n' | sed -n 's/^memory=//p'; }
is "$(register "Plain $id")" OK "a line without tags registers"
mem0=$(mem_of)
is "$(register "Plain $id" "Bj%C3%B6rk%20-%20J%C3%B3ga $id $tags" "Old" "Seed /some/path")" OK \
	"a line with tag words registers, beside version-1 lines"
is "$(request "$T_ADDR" "LOCATE Bj%C3%B6rk%20-%20J%C3%B3ga")" "$(printf 'SOURCES 1\n%s 127.0.0.1:5201' "$id")" \
	"LOCATE without 'tags' answers as before"
is "$(request "$T_ADDR" "LOCATE Bj%C3%B6rk%20-%20J%C3%B3ga tags")" \
	"$(printf 'SOURCES 1\n%s 127.0.0.1:5201 %s' "$id" "$tags")" \
	"LOCATE <name> tags returns the tag words as sent"
is "$(request "$T_ADDR" "LOCATE Old tags")" "$(printf 'SOURCES 1\n- 127.0.0.1:5201')" \
	"a version-1 registration has no tags"
is "$(request "$T_ADDR" "LISTPAGE limit=10")" \
	"$(printf 'PAGE 4\nBj%%C3%%B6rk%%20-%%20J%%C3%%B3ga 1\nOld 1\nPlain 1\nSeed 1\nEND')" \
	"LISTPAGE without tags=1 answers as before"
is "$(request "$T_ADDR" "LISTPAGE limit=10 tags=1")" \
	"$(printf 'PAGE 4\nBj%%C3%%B6rk%%20-%%20J%%C3%%B3ga 1 %s\nOld 1\nPlain 1\nSeed 1\nEND' "$tags")" \
	"LISTPAGE tags=1 puts the tag words after the peer count"
is "$(request "$T_ADDR" "LIST")" "$(printf 'SONGS 4\nBj%%C3%%B6rk%%20-%%20J%%C3%%B3ga 1\nOld 1\nPlain 1\nSeed 1')" \
	"LIST never carries tags"
mem1=$(mem_of)
ok "the tags count in the memory budget ($mem0 -> $mem1 bytes)" test "$mem1" -gt "$((mem0 + ${#tags}))"

# what is not kept: too long, not key=value, a bad key, a bad encoding
long="title=$(head -c 520 /dev/zero | tr '\0' 'x')"
for bad in "$long" "artist" "Artist=X" "artist=%ZZ" "artist=a  title=b" "artist=" "=x"; do
	register "Song $id $bad" >/dev/null
	is "$(request "$T_ADDR" "LOCATE Song tags")" "$(printf 'SOURCES 1\n%s 127.0.0.1:5201' "$id")" \
		"tags '${bad:0:20}' are not kept; the song still registers"
done
# two values of 250 and 249 bytes: 512 bytes of tag words
max="title=$(head -c 250 /dev/zero | tr '\0' 'y') album=$(head -c 249 /dev/zero | tr '\0' 'z')"
is "$(register "Song $id $max")" OK "512 bytes of tags are kept"
is "$(request "$T_ADDR" "LOCATE Song tags" | sed -n 2p)" "$id 127.0.0.1:5201 $max" \
	"and returned whole"
is "$(register "Song $id $max" "Song2 $id ${max}z")" OK "513 bytes are not"
is "$(request "$T_ADDR" "LOCATE Song2 tags" | sed -n 2p)" "$id 127.0.0.1:5201" \
	"the song registers without them"
is "$(request "$T_ADDR" "LISTPAGE limit=1 tags=1 tags=1" | head -n 1)" \
	"ERR 400 want limit=N [after=NAME] [match=TEXT] [tags=1]" "tags=1 twice is refused"
is "$(request "$T_ADDR" "LISTPAGE limit=1 tags=2" | head -n 1)" \
	"ERR 400 want limit=N [after=NAME] [match=TEXT] [tags=1]" "tags=2 is refused"
register >/dev/null
ok "re-registering without the songs frees their tags" test "$(mem_of)" -lt "$mem0"
ok "no sanitizer reports" check_sanitizers
ok "the tracker stops cleanly" stop_daemon T
done_testing

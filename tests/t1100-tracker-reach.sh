#!/usr/bin/env bash
# The tracker's reachability requests on loopback: WHOAMI names where the
# connection comes from; DIALBACK connects back to the requester's own
# address (a server answering PONG there is reachable, a closed port is
# not), rate-limited per source; a REGISTER with reach=nat is recorded at
# the source address and named only by LOCATE ... reach, marked nat; one
# with reach=mapped is reachable like a plain one, marked mapped.
. "$(dirname "$0")/lib.sh"

start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon TL tracker -l 127.0.0.1:0 --limit-loopback || exit 1
TPORT=${T_ADDR##*:}

like "$(request "$T_ADDR" WHOAMI)" '^ADDR 127\.0\.0\.1:[0-9]+$' \
	"WHOAMI names the address the connection comes from"
is "$(request "$T_ADDR" "DIALBACK $TPORT")" "OK reachable 127.0.0.1:$TPORT" \
	"DIALBACK to a port where a p2p-music server listens: reachable"
# the port of a tracker just stopped: nothing listens there
start_daemon GONE tracker -l 127.0.0.1:0 || exit 1
DEAD=${GONE_ADDR##*:}
stop_daemon GONE
like "$(request "$T_ADDR" "DIALBACK $DEAD")" "^ERR 504 not reachable at 127\.0\.0\.1:$DEAD: " \
	"DIALBACK to a closed port: ERR 504 not reachable"
like "$(request "$T_ADDR" "DIALBACK 0" "DIALBACK 65536" "DIALBACK x")" \
	'^ERR 400 .*
ERR 400 .*
ERR 400 ' "a port out of 1-65535 is malformed"
replies=$(for _ in 1 2 3 4 5 6 7; do echo "DIALBACK $TPORT"; done | { cat; echo QUIT; } |
	talk "$TL_ADDR" 30)
is "$(printf '%s\n' "$replies" | grep -c '^OK reachable')" 6 \
	"one source gets 6 dial-backs a minute"
is "$(printf '%s\n' "$replies" | tail -n 1)" "ERR 429 too many dial-backs from this address" \
	"  the 7th is refused with 429"

is "$(request "$T_ADDR" "REGISTER 198.19.129.2:7001 reach=nat" "Song" "")" "OK" \
	"REGISTER reach=nat with an inside address is accepted"
is "$(request "$T_ADDR" "LOCATE Song reach")" "SOURCES 1
- 127.0.0.1:7001 nat" "  recorded at the source address, marked nat by LOCATE ... reach"
is "$(request "$T_ADDR" "LOCATE Song" "QUERY Song")" "SOURCES 0
PEERS" "  and left out of LOCATE without reach and of QUERY"
is "$(request "$T_ADDR" "REGISTER 127.0.0.1:7002" "Song" "")" "OK" "a peer without reach="
is "$(request "$T_ADDR" "LOCATE Song reach" | sort)" "- 127.0.0.1:7001 nat
- 127.0.0.1:7002 direct
SOURCES 2" "  is marked direct"
is "$(request "$T_ADDR" "UNREGISTER 0.0.0.0:7001" "LOCATE Song reach")" "OK
SOURCES 1
- 127.0.0.1:7002 direct" "UNREGISTER 0.0.0.0:PORT removes the peer behind NAT"
is "$(request "$T_ADDR" "REGISTER 127.0.0.1:7003 reach=mapped" "Song" "")" "OK" \
	"REGISTER reach=mapped (reachable through its router's port mapping) is accepted"
is "$(request "$T_ADDR" "LOCATE Song reach" | sort)" "- 127.0.0.1:7002 direct
- 127.0.0.1:7003 mapped
SOURCES 2" "  marked mapped by LOCATE ... reach"
is "$(request "$T_ADDR" "LOCATE Song" | sort)" "- 127.0.0.1:7002
- 127.0.0.1:7003
SOURCES 2" "  and named by LOCATE without reach, as reachable"
like "$(request "$T_ADDR" "QUERY Song")" "^PEERS( 127\.0\.0\.1:700[23]){2}\$" "  and by QUERY"
is "$(request "$T_ADDR" "REGISTER 127.0.0.1:7003" "Song" "" "LOCATE Song reach" | sort)" "- 127.0.0.1:7002 direct
- 127.0.0.1:7003 direct
OK
SOURCES 2" "  its next REGISTER without the word makes it direct"
like "$(request "$T_ADDR" "REGISTER 127.0.0.1:7003 reach=mapped reach=nat" "Song" "")" \
	"^ERR 400 " "  two reach= words are malformed"
ok "no sanitizer report" check_sanitizers
done_testing

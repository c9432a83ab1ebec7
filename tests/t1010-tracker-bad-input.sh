#!/usr/bin/env bash
# Malformed requests get ERR or a close, never a crash, and never disturb
# other connections or the registry.
. "$(dirname "$0")/lib.sh"

start_daemon T tracker -l 127.0.0.1:0 --idle-timeout 2 || exit 1

printf 'REGISTER 127.0.0.1:6000\nKeep\n\nQUIT\n' | talk "$T_ADDR" >/dev/null
registry_intact() {
	[ "$(request "$T_ADDR" "QUERY Keep")" = "PEERS 127.0.0.1:6000" ]
}

# a bystander holds one connection open across all the abuse below and
# pings on it twice a second, noting every answer
bystander() {
	exec 5<>"/dev/tcp/${T_ADDR%:*}/${T_ADDR##*:}" || exit 1
	while [ ! -e "$SCRATCH/stop-bystander" ]; do
		printf 'PING\n' >&5
		if read -r -t 3 reply <&5 && [ "$reply" = PONG ]; then
			echo ok >>"$SCRATCH/bystander.log"
		else
			echo "failed: ${reply:-no answer}" >>"$SCRATCH/bystander.log"
			exit 1
		fi
		sleep 0.5
	done
}
bystander &
BYSTANDER=$!

err() { request "$T_ADDR" "$1" | head -n 1; }

like "$(err "FROB")" "^ERR 400 " "an unknown command is ERR 400"
like "$(err "query Keep")" "^ERR 400 " "a lower-case command is ERR 400"
like "$(err "QUERY")" "^ERR 400 " "a missing name is ERR 400"
like "$(err "QUERY a b")" "^ERR 400 " "an extra word is ERR 400"
like "$(err "QUERY  Keep")" "^ERR 400 " "a double space is ERR 400"
like "$(err "PING now")" "^ERR 400 " "a word after PING is ERR 400"
like "$(err "QUERY a%zzb")" "^ERR 400 " "bad percent-encoding is ERR 400"
like "$(err "QUERY a%4")" "^ERR 400 " "a truncated escape is ERR 400"
like "$(err "QUERY %FF%FE")" "^ERR 400 " "invalid UTF-8 is ERR 400"
like "$(err "QUERY a%0Ab")" "^ERR 400 " "an escaped control byte is ERR 400"
# a REGISTER with a bad address still has its body read (and refused):
# one ERR for the request, and the body lines are not taken as requests
bad_register() {
	printf '%s\nSongX /x\nPING\n\nPING\nQUIT\n' "$1" | talk "$T_ADDR" | tr '\n' '|'
}
like "$(bad_register "REGISTER nowhere")" "^ERR 400 [^|]*\|PONG\|$" \
	"an address without a port is one ERR 400, body included"
like "$(bad_register "REGISTER 127.0.0.1:0")" "^ERR 400 [^|]*\|PONG\|$" "port 0 is ERR 400"
like "$(bad_register "REGISTER 127.0.0.1:65536")" "^ERR 400 [^|]*\|PONG\|$" "port 65536 is ERR 400"
like "$(bad_register "REGISTER 127.0.0.1:-1")" "^ERR 400 [^|]*\|PONG\|$" "a negative port is ERR 400"
like "$(bad_register "REGISTER ../../x:80")" "^ERR 400 [^|]*\|PONG\|$" "a host with slashes is ERR 400"
like "$(bad_register "REGISTER")" "^ERR 400 [^|]*\|PONG\|$" "a REGISTER without address is ERR 400"
is "$(request "$T_ADDR" "QUERY SongX")" "PEERS" "and none of those registered anything"
like "$(err "UNREGISTER [::1:80")" "^ERR 400 " "a broken IPv6 literal is ERR 400"
like "$(err "")" "^ERR 400 " "an empty line is ERR 400"

out=$(printf 'QUERY Ke\0ep\nPING\nQUIT\n' | talk "$T_ADDR")
is "$out" "$(printf 'ERR 400 NUL byte in request\nPONG')" \
	"a NUL byte is ERR 400 and the connection stays usable"

out=$(printf 'FROB\nQUERY Keep\nQUIT\n' | talk "$T_ADDR")
is "$out" "$(printf 'ERR 400 unknown command\nPEERS 127.0.0.1:6000')" \
	"after an ERR 400 the connection stays usable"

long=$(head -c 5000 /dev/zero | tr '\0' 'a')
out=$(printf 'QUERY %s\nPING\n' "$long" | talk "$T_ADDR")
is "$out" "ERR 414 line too long" "a 5000-byte line is ERR 414 and the connection closes"
name4090=$(head -c 4089 /dev/zero | tr '\0' 'b')
out=$(printf 'LIST %s\nPING\nQUIT\n' "${name4090:0:4090}" | talk "$T_ADDR" | head -n 1)
like "$out" "^ERR 400 " "a line of exactly 4096 bytes is read (its name is too long: 400)"

# bad REGISTER bodies change nothing
out=$(printf 'REGISTER 127.0.0.1:6000\nGood\nBad%%zz\n\nQUIT\n' | talk "$T_ADDR")
like "$out" "^ERR 400 " "a REGISTER body with a bad name is ERR 400"
ok "and the registry keeps the peer's old songs" registry_intact

out=$(printf 'REGISTER 127.0.0.1:6000\nGood\nNew' | talk "$T_ADDR" 5)
is "$out" "" "a REGISTER body that never ends is closed after the idle timeout"
ok "and the registry keeps the peer's old songs" registry_intact

out=$(printf 'REGISTER 127.0.0.1:6000\nGood\n%s\n\n' "$long" | talk "$T_ADDR")
is "$out" "ERR 414 line too long" "an oversize line inside a REGISTER body is ERR 414"
ok "and the registry keeps the peer's old songs" registry_intact

# connects and sends nothing: closed at the idle timeout
start=$(date +%s)
out=$(talk "$T_ADDR" 10 </dev/null; true)
# talk's cat >&3 ends at once; cat <&3 then waits for the server to close
is "$out" "" "a silent client gets nothing"
elapsed=$(( $(date +%s) - start ))
ok "and is closed by the idle timeout, not by our own timeout (${elapsed}s)" test "$elapsed" -lt 9

# disconnects in the middle of a request line and of a REGISTER body
printf 'QUERY Ke' | hang_up "$T_ADDR"
printf 'REGISTER 127.0.0.1:6000\nHalf' | hang_up "$T_ADDR"
ok "clients that hang up mid-request leave the registry intact" registry_intact

# random bytes
head -c 20000 /dev/urandom | talk "$T_ADDR" 5 >/dev/null 2>&1
ok "random bytes do not break the tracker" test "$(request "$T_ADDR" PING)" = PONG

touch "$SCRATCH/stop-bystander"
wait "$BYSTANDER"
is "$(sort -u "$SCRATCH/bystander.log")" "ok" "the bystander connection was served throughout"
ok "over many pings ($(wc -l <"$SCRATCH/bystander.log"))" test "$(wc -l <"$SCRATCH/bystander.log")" -gt 5

ok "tracker exits 0 on SIGTERM" stop_daemon T
ok "tracker logged no sanitizer report" check_sanitizers
done_testing

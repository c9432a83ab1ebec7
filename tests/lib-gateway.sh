# tests/lib-gateway.sh - helpers for the tests of `client serve`: raw HTTP
# over bash's /dev/tcp, and reading status lines and headers back. Source
# after lib.sh and lib-client.sh.
# shellcheck shell=bash

# http_raw ADDR [TIMEOUT] : sends stdin to ADDR as it is and prints all the
# server answers until it closes the connection (TIMEOUT seconds at most).
http_raw() {
	local addr=$1 t=${2:-10}
	timeout "$t" bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
		cat >&3
		cat <&3' "${addr%:*}" "${addr##*:}"
}

# http_get ADDR PATH [HEADER...] : one HTTP/1.1 request with Connection:
# close and the extra header lines; prints the whole response.
http_get() {
	local addr=$1 path=$2 h
	shift 2
	{
		printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n' "$path" "$addr"
		for h in "$@"; do
			printf '%s\r\n' "$h"
		done
		printf '\r\n'
	} | http_raw "$addr"
}

# status_of : the code on the status line of the response on stdin.
status_of() {
	head -n 1 | tr -d '\r' | awk '{ print $2 }'
}

# header_of NAME : the value of header NAME in the response head on stdin.
header_of() {
	tr -d '\r' | sed '/^$/q' | awk -v n="$1" 'BEGIN { n = tolower(n) ": " }
		index(tolower($0), n) == 1 { print substr($0, length(n) + 1); exit }'
}

# body_of : the body of the response on stdin (after the empty line).
body_of() {
	sed '1,/^\r*$/d'
}

# statuses_of : every status code in a stream of responses, one a line.
statuses_of() {
	tr -d '\r' | sed -n 's/^HTTP\/1\.1 \([0-9][0-9][0-9]\) .*/\1/p'
}

# start_gateway : starts `client serve` on 127.0.0.1 port 0 against
# $T_ADDR as daemon G (G_ADDR, G_PID), logging at debug level.
start_gateway() {
	start_daemon G client -t "$T_ADDR" -v -v serve -l 127.0.0.1:0
}

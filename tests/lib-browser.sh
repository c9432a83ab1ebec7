# tests/lib-browser.sh - headless Chromium for the gateway's page tests:
# started with a DevTools port, and driven by tests/tools/cdp.js.
# Source after lib.sh.
# shellcheck shell=bash

# the flags every test's Chromium runs with: headless, no first-run work,
# nothing sent anywhere but the page's own gateway, audio without a click
BROWSER_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
	--disable-background-networking --disable-component-update --disable-sync
	--autoplay-policy=no-user-gesture-required)
# how long Chromium may take to open its DevTools port, in tenths of a
# second
BROWSER_START_TENTHS=200

# browser_start URL [FLAGS...] : starts Chromium on URL with a profile of
# its own in the scratch dir (and FLAGS), counted among the DAEMONS; sets
# BROWSER_PID and BROWSER_PORT (its DevTools port, "" when it opened none
# in time). Fails when there is no port.
browser_start() {
	local url=$1 _
	shift
	mkdir -p "$SCRATCH/chromium" || return 1
	chromium "${BROWSER_FLAGS[@]}" "$@" --user-data-dir="$SCRATCH/chromium" \
		--remote-debugging-port=0 "$url" \
		>"$SCRATCH/chromium.out" 2>"$SCRATCH/chromium.log" &
	BROWSER_PID=$!
	DAEMONS="$DAEMONS $BROWSER_PID"
	BROWSER_PORT=
	for _ in $(seq 1 "$BROWSER_START_TENTHS"); do
		BROWSER_PORT=$(head -n 1 "$SCRATCH/chromium/DevToolsActivePort" 2>/dev/null)
		[ -n "$BROWSER_PORT" ] && return 0
		sleep 0.1
	done
	return 1
}

# browser_stop : ends the driver (if started) and Chromium
browser_stop() {
	[ -z "${CDP_PID:-}" ] || kill "$CDP_PID" 2>/dev/null
	kill "$BROWSER_PID" 2>/dev/null
	wait "$BROWSER_PID" 2>/dev/null
}

# cdp_start : tests/tools/cdp.js on the DevTools port, as the coprocess
# CDP, counted among the DAEMONS
cdp_start() {
	coproc CDP { exec node "$TEST_DIR/tools/cdp.js" "$BROWSER_PORT"; }
	DAEMONS="$DAEMONS $CDP_PID"
}

# cdp COMMAND : one command to the driver; prints its answer's value, and
# fails unless it is "ok ..."
cdp() {
	local reply
	printf '%s\n' "$*" >&"${CDP[1]}"
	IFS= read -r -t 60 reply <&"${CDP[0]}" || { diag "no answer from cdp.js to: $*"; return 1; }
	printf '%s\n' "${reply#ok }"
	case $reply in
	ok*) return 0 ;;
	*) diag "cdp.js: $reply"; return 1 ;;
	esac
}

# page_is SECONDS EXPR : waits until the page's EXPR is true
page_is() {
	cdp wait "$1" "$2" >/dev/null
}

#!/usr/bin/env bash
# `client serve` past its swarms: while GATEWAY_MAX_SWARMS songs are being
# swarmed (slowly, with the client's segment-delay testing aid), a segment
# of one of them is waited for until its swarm brings it, and one more
# song is served a segment at a time from its sources, the next
# GATEWAY_READ_AHEAD segments read ahead; every byte verified either way.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/lib-client.sh"
. "$TEST_DIR/lib-gateway.sh"
need_ffmpeg

# src/client/gateway/gateway.h
MAX_SWARMS=4
DELAY_MS=1500

mkdir -p "$SCRATCH/lib"
for i in 1 2 3 4 5; do
	make_mp3 "$SCRATCH/lib/Song $i.mp3" 9 $((300 + 100 * i)) -ac 2 -b:a 128k || exit 1
done
start_daemon T tracker -l 127.0.0.1:0 || exit 1
start_daemon P peer -l 127.0.0.1:0 -t "$T_ADDR" -c "$SCRATCH/cache" -L "$SCRATCH/lib" || exit 1
for i in 1 2 3 4 5; do
	wait_for_registered "$T_ADDR" "Song $i" 1 || exit 1
done
export P2PM_CLIENT_SEGMENT_DELAY_MS=$DELAY_MS
start_gateway || exit 1
unset P2PM_CLIENT_SEGMENT_DELAY_MS
G=$G_ADDR

# hashes_ok DIR : DIR/index.m3u8 lists segments, each DIR/<seg> hashes to
# its name.
hashes_ok() {
	local seg n=0
	for seg in $(segments_of "$1"); do
		[ "$(sha256sum <"$1/$seg" | cut -c1-64).ts" = "$seg" ] || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

# get_song N : the playlist of "Song N" into $SCRATCH/sN/index.m3u8.
get_song() {
	mkdir -p "$SCRATCH/s$1"
	http_get "$G" "/songs/Song%20$1/index.m3u8" | body_of >"$SCRATCH/s$1/index.m3u8"
}

for i in $(seq 1 "$MAX_SWARMS"); do
	get_song "$i"
done
is "$(grep -c "swarm done" "$SCRATCH/G.err")" 0 \
	"$MAX_SWARMS songs are being swarmed, none done yet"
get_song 5
ok "the next song's playlist comes from one source, without a swarm" \
	wait_for_log G "'Song 5': playlist of [0-9]+ segments from" 5

last=$(segments_of "$SCRATCH/s1" | tail -n 1)
t0=$(date +%s%N)
http_get "$G" "/songs/Song%201/$last" | body_of >"$SCRATCH/s1/$last"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ok "the last segment of a song being swarmed is waited for (${ms} ms) and verified" \
	bash -c '[ "$(sha256sum <"$0" | cut -c1-64).ts" = "$1" ] && [ "$2" -ge 300 ]' \
	"$SCRATCH/s1/$last" "$last" "$ms"

first=$(segments_of "$SCRATCH/s5" | head -n 1)
http_get "$G" "/songs/Song%205/$first" | body_of >"$SCRATCH/s5/$first"
ok "a segment of the song past the swarms reads the next ones ahead" \
	wait_for_log G "read ahead: .* of 'Song 5'" 10 2
for seg in $(segments_of "$SCRATCH/s5"); do
	http_get "$G" "/songs/Song%205/$seg" | body_of >"$SCRATCH/s5/$seg"
done
ok "  and every segment of it hashes to its name" hashes_ok "$SCRATCH/s5"
ok "  and is the peer's" segments_match_cache "$SCRATCH/s5" "$SCRATCH/cache"

ok "the gateway stops on SIGTERM with status 0, swarms and all" stop_daemon G
ok "no sanitizer reports" check_sanitizers
done_testing

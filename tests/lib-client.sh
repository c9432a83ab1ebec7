# tests/lib-client.sh - helpers for the client's integration tests, sourced
# after tests/lib.sh: sample songs, the client itself, waiting for peers to
# register, and comparing durations.
# shellcheck shell=bash

# how long peers may take to segment and register their songs
: "${P2PM_REGISTER_TIMEOUT:=60}"

need_ffmpeg() {
	if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
		skip_all "ffmpeg and ffprobe are needed (scripts/install-deps installs them)"
	fi
}

# make_song FILE FREQUENCY SECONDS : a stereo MP3 sine tone
make_song() {
	ffmpeg -nostdin -loglevel error -f lavfi \
		-i "sine=frequency=$2:duration=$3" -ac 2 -b:a 128k -y "$1"
}

# client ARGS... : the client under test
client() {
	"$P2PM_BIN/client" "$@"
}

# wait_for_song TRACKER SONG COUNT : waits until COUNT peers hold SONG
wait_for_song() {
	local i n
	for i in $(seq 1 $((P2PM_REGISTER_TIMEOUT * 10))); do
		n=$(client -q -t "$1" query -- "$2" 2>/dev/null | wc -l)
		[ "$n" -ge "$3" ] && return 0
		sleep 0.1
	done
	diag "'$2' was not registered by $3 peers in time (i=$i)"
	return 1
}

# cached CACHEDIR NAME : the path of a file NAME in a peer's cache
cached() {
	find "$1" -type f -name "$2" | head -n 1
}

# segments_of DIR : the segment names DIR/index.m3u8 lists, in order
segments_of() {
	grep -v '^#' "$1/index.m3u8" | tr -d '\r' | grep -v '^$'
}

# same_as_cache DIR CACHEDIR : every segment of a fetched song is
# byte-identical to the peer's copy in its cache
same_as_cache() {
	local seg f n=0
	for seg in $(segments_of "$1"); do
		f=$(cached "$2" "$seg")
		[ -n "$f" ] && cmp -s "$1/$seg" "$f" || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

# same_as_served DIR PEER SONG : DIR/index.m3u8 is the playlist PEER serves
same_as_served() {
	local enc
	enc=$(printf '%s' "$3" | sed 's/%/%25/g; s/ /%20/g')
	request "$2" "REQUEST_SONG $enc" | tail -n +2 >"$SCRATCH/served.m3u8"
	cmp -s "$1/index.m3u8" "$SCRATCH/served.m3u8"
}

# no_temp_files DIR : nothing half-written is left in DIR
no_temp_files() {
	[ -z "$(find "$1" -name '*~' 2>/dev/null)" ]
}

# concat_segments DIR : the segments of a fetched song as one stream
concat_segments() {
	local seg
	for seg in $(segments_of "$1"); do
		cat "$1/$seg"
	done
}

# wait_for_line FILE REGEX : waits (10 s at most) until FILE has a matching line
wait_for_line() {
	local i
	for i in $(seq 1 200); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	diag "no line matching '$2' in $1 (i=$i)"
	return 1
}

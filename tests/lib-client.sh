# tests/lib-client.sh - helpers for the client's integration tests, sourced
# after tests/lib.sh: the client itself, waiting for peers to register,
# comparing what was fetched with what peers serve.
# shellcheck shell=bash

# how long peers may take to segment and register their songs
: "${P2PM_REGISTER_TIMEOUT:=60}"

# client ARGS... : the client under test, run in the current directory when
# that is in the scratch directory, else in $SCRATCH (fetch without -o
# writes into the current directory)
client() {
	case "$PWD/" in
	"$SCRATCH"/*) "$P2PM_BIN/client" "$@" ;;
	*) (cd "$SCRATCH" && exec "$P2PM_BIN/client" "$@") ;;
	esac
}

# wait_for_registered TRACKER SONG COUNT : waits until the tracker names COUNT
# peers holding SONG
wait_for_registered() {
	local i n
	for i in $(seq 1 $((P2PM_REGISTER_TIMEOUT * 10))); do
		n=$(client -q -t "$1" query -- "$2" 2>/dev/null | wc -l)
		[ "$n" -ge "$3" ] && return 0
		sleep 0.1
	done
	diag "'$2' was not registered by $3 peers in time (i=$i)"
	return 1
}

# same_as_served DIR PEER SONG : DIR/index.m3u8 is the playlist PEER serves
same_as_served() {
	local enc
	enc=$(encode_name "$3")
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

# make_songdir OUT NAME SECONDS FREQUENCY : a song directory (the format
# of docs/protocol.md) of a sine tone, segmented by the real ffmpeg into
# 1-second MPEG-TS segments, made by the mksongdir test tool
make_songdir() {
	local out=$1 name=$2 secs=$3 freq=$4 hls
	hls=$(mktemp -d "$SCRATCH/hls.XXXXXX") || return 1
	make_mp3 "$hls/src.mp3" "$secs" "$freq" -ac 2 -b:a 128k &&
	ffmpeg -nostdin -hide_banner -loglevel error -y -i "$hls/src.mp3" -c copy \
		-f hls -hls_time 1 -hls_playlist_type vod \
		-hls_segment_filename "$hls/seg%d.ts" "$hls/index.m3u8" &&
	"$P2PM_TOOLS/mksongdir" "$hls" "$name" "$out" && rm -rf "$hls"
}

# start_fakepeer NAME DIR [FLAGS...] : the fakepeer test tool serving the
# song directory DIR
start_fakepeer() {
	local name=$1 dir=$2
	shift 2
	P2PM_BIN=$P2PM_TOOLS start_daemon "$name" fakepeer "$@" "$dir"
}

# served_count NAME : segments the fakepeer NAME has sent
served_count() {
	grep -c '^served ' "$SCRATCH/$1.out"
}

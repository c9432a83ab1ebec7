# tests/lib-peer.sh - helpers for the peer's integration tests: generated
# songs, fetching a whole song over one connection, waiting on log lines.
# Source after lib.sh.
# shellcheck shell=bash

need_ffmpeg

# make_tone_with_cover OUT SECONDS : an MP3 with a PNG attached picture.
make_tone_with_cover() {
	local out=$1 secs=$2
	ffmpeg -nostdin -hide_banner -loglevel error -y \
		-f lavfi -i "testsrc=size=64x64:duration=1" -frames:v 1 "$SCRATCH/cover.png" &&
	ffmpeg -nostdin -hide_banner -loglevel error -y \
		-f lavfi -i "sine=frequency=330:duration=$secs" -i "$SCRATCH/cover.png" \
		-map 0 -map 1 -c:a libmp3lame -b:a 96k -c:v png \
		-disposition:v attached_pic -id3v2_version 3 "$out"
}

# read_body FD BYTES OUT : copies exactly BYTES bytes from FD into OUT.
read_body() {
	dd iflag=fullblock,count_bytes bs=65536 count="$2" status=none <&"$1" >"$3"
}

# ffmpeg_spy : an ffmpeg first on PATH that writes each run's words as
# one line of $SCRATCH/ffmpeg.runs, then runs the real one; the count
# starts at 0 (and again after forget_runs)
ffmpeg_spy() {
	local real
	real=$(command -v ffmpeg) || return 1
	scratch_program ffmpeg <<EOF || return 1
#!/bin/sh
echo "\$*" >>"$SCRATCH/ffmpeg.runs"
exec "$real" "\$@"
EOF
	forget_runs
}
# forget_runs : the ffmpeg runs are counted from 0 again
forget_runs() { : >"$SCRATCH/ffmpeg.runs"; }
# runs : the ffmpeg runs so far; art_runs : those only reading out a picture
runs() { wc -l <"$SCRATCH/ffmpeg.runs" | tr -d ' '; }
art_runs() { grep -c -e ' -f image2pipe ' "$SCRATCH/ffmpeg.runs"; }

# get_body ADDR REQUEST WORD OUT : sends the request line REQUEST to ADDR
# on a connection of its own, prints the reply's first line, and writes
# the body of a "WORD <name> <bytes>" reply to OUT (empty otherwise)
get_body() {
	local host=${1%:*} port=${1##*:} hdr word got bytes
	: >"$4"
	exec 6<>"/dev/tcp/$host/$port" || return 1
	printf '%s\n' "$2" >&6
	IFS= read -r -t 10 hdr <&6 || { exec 6>&-; return 1; }
	printf '%s\n' "$hdr"
	read -r word got bytes <<<"$hdr"
	[ "$word" != "$3" ] || read_body 6 "$bytes" "$4"
	printf 'QUIT\n' >&6
	exec 6>&-
}
# get_segment ADDR SEGMENT OUT : get_body of REQUEST_SEGMENT SEGMENT
get_segment() {
	get_body "$1" "REQUEST_SEGMENT $2" SEGMENT "$3"
}
# get_playlist ADDR NAME OUT : get_body of REQUEST_SONG NAME (decoded)
get_playlist() {
	get_body "$1" "REQUEST_SONG $(encode_name "$2")" PLAYLIST "$3"
}

# song_gone ADDR NAME : the peer at ADDR answers ERR to REQUEST_SONG NAME
song_gone() {
	case "$(request "$1" "REQUEST_SONG $(encode_name "$2")" | head -n 1)" in
	ERR*) return 0 ;;
	esac
	return 1
}

# fetch_song ADDR NAME DIR : over one connection, asks ADDR for the song
# NAME (decoded) and then every segment its playlist lists; writes
# DIR/index.m3u8 and DIR/<segment>, and the header lines to DIR/headers.
fetch_song() {
	local addr=$1 name=$2 dir=$3 host port hdr word got bytes seg
	host=${addr%:*}
	port=${addr##*:}
	mkdir -p "$dir" || return 1
	exec 5<>"/dev/tcp/$host/$port" || return 1
	printf 'REQUEST_SONG %s\n' "$(encode_name "$name")" >&5
	IFS= read -r -t 10 hdr <&5 || { exec 5>&-; return 1; }
	echo "$hdr" >"$dir/headers"
	read -r word got bytes <<<"$hdr"
	if [ "$word" != PLAYLIST ]; then
		exec 5>&-
		return 1
	fi
	read_body 5 "$bytes" "$dir/index.m3u8"
	while IFS= read -r seg; do
		printf 'REQUEST_SEGMENT %s\n' "$seg" >&5
		IFS= read -r -t 10 hdr <&5 || { exec 5>&-; return 1; }
		echo "$hdr" >>"$dir/headers"
		read -r word got bytes <<<"$hdr"
		if [ "$word" != SEGMENT ] || [ "$got" != "$seg" ]; then
			exec 5>&-
			return 1
		fi
		read_body 5 "$bytes" "$dir/$seg"
	done < <(segments_of "$dir")
	printf 'QUIT\n' >&5
	exec 5>&-
}

# wait_for_served ADDR NAME [SECONDS] : waits until the peer at ADDR serves
# NAME (30 s by default).
wait_for_served() {
	local _ enc
	enc=$(encode_name "$2")
	for _ in $(seq 1 $(( ${3:-30} * 10 ))); do
		case "$(request "$1" "REQUEST_SONG $enc" | head -n 1)" in
		PLAYLIST*) return 0 ;;
		esac
		sleep 0.1
	done
	return 1
}

# playlist_is_vod FILE : the RFC 8216 tags a VOD media playlist needs.
playlist_is_vod() {
	local f=$1 n_inf n_seg
	[ "$(head -n 1 "$f")" = "#EXTM3U" ] &&
	grep -q '^#EXT-X-TARGETDURATION:[0-9][0-9]*$' "$f" &&
	grep -q '^#EXT-X-PLAYLIST-TYPE:VOD$' "$f" &&
	[ "$(grep -v '^$' "$f" | tail -n 1)" = "#EXT-X-ENDLIST" ] || return 1
	n_inf=$(grep -c '^#EXTINF:[0-9.]*,' "$f")
	n_seg=$(grep -vc '^#' "$f")
	[ "$n_inf" -gt 0 ] && [ "$n_inf" = "$n_seg" ]
}

# wait_for_sweeps NAME COUNT [SECONDS] : waits until the peer NAME has
# logged COUNT sweeps of its cache ("cache: removed ..." or "cache: keeping ...").
wait_for_sweeps() {
	wait_for_log "$1" 'cache: (removed|keeping) ' "${3:-30}" "$2"
}

# segments_named_by_hash DIR : DIR/index.m3u8 lists at least one segment,
# each named <64 hex>.ts and holding bytes whose SHA-256 is that name.
segments_named_by_hash() {
	local seg n=0
	for seg in $(segments_of "$1"); do
		[[ "$seg" =~ ^[0-9a-f]{64}\.ts$ ]] || return 1
		[ "$(sha256sum <"$1/$seg" | cut -c1-64).ts" = "$seg" ] || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

# content_id_of FILE : the content id of a playlist, the SHA-256 of its bytes.
content_id_of() {
	sha256sum <"$1" | cut -c1-64
}

# cached_segment CACHE KEY [N] : the file of the Nth segment (1 by
# default) that the song directory KEY of the peer's cache CACHE lists.
cached_segment() {
	echo "$1/songs/$2/$(segments_of "$1/songs/$2" | sed -n "${3:-1}p")"
}

# playlist_is_canonical FILE : FILE is byte for byte a canonical playlist
# (docs/protocol.md): the fixed header, #EXT-X-TARGETDURATION the longest
# segment rounded up (at least 1), "#EXTINF:<s>.<6 digits>," before each
# <64 hex>.ts name, #EXT-X-ENDLIST, LF line ends and nothing else.
playlist_is_canonical() {
	local f=$1
	! grep -q $'\r' "$f" && [ "$(tail -c 1 "$f" | od -An -tx1 | tr -d ' ')" = 0a ] &&
	awk '
	NR == 1 { ok = $0 == "#EXTM3U" }
	NR == 2 { ok = ok && $0 == "#EXT-X-VERSION:3" }
	NR == 3 { ok = ok && $0 ~ /^#EXT-X-TARGETDURATION:[1-9][0-9]*$/; t = substr($0, 23) + 0 }
	NR == 4 { ok = ok && $0 == "#EXT-X-MEDIA-SEQUENCE:0" }
	NR == 5 { ok = ok && $0 == "#EXT-X-PLAYLIST-TYPE:VOD" }
	NR > 5 && NR % 2 == 0 && $0 != "#EXT-X-ENDLIST" {
		if ($0 !~ /^#EXTINF:[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9],$/) ok = 0
		split(substr($0, 9), p, ".")
		c = p[1] + (substr(p[2], 1, 6) + 0 > 0)
		if (c > m) m = c
	}
	NR > 5 && NR % 2 == 1 { if (length($0) != 67 || $0 !~ /^[0-9a-f]+\.ts$/) ok = 0 }
	{ last = $0 }
	END {
		if (m < 1) m = 1
		exit !(ok && last == "#EXT-X-ENDLIST" && NR >= 8 && NR % 2 == 0 && t == m)
	}' "$f"
}

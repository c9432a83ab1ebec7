#!/usr/bin/env bash
# Memory and the registry lock: REGISTER bodies are staged under a byte
# cap and a shared budget, LIST is served page by page (LISTPAGE, and
# version-1 LIST without holding the lock across writes), and with
# 1,000,000 songs a QUERY is answered promptly while LISTs go unread.
. "$(dirname "$0")/lib.sh"

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# ms_of COMMAND... : runs it, prints how many milliseconds it took
ms_of() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}

start_daemon T tracker -l 127.0.0.1:0 --ttl 600 --max-memory 2048 || exit 1
host=${T_ADDR%:*}
port=${T_ADDR##*:}

# --- LISTPAGE
printf 'REGISTER 127.0.0.1:5001\nSongA\nSongB\nSongC\nOther\n\nREGISTER 127.0.0.1:5002\nSongA\n\nQUIT\n' |
	talk "$T_ADDR" >/dev/null
is "$(request "$T_ADDR" "LISTPAGE limit=2 match=song")" "$(printf 'PAGE 2\nSongA 2\nSongB 1\nNEXT SongB')" \
	"LISTPAGE answers a page and a cursor"
is "$(request "$T_ADDR" "LISTPAGE match=song after=SongB limit=2")" "$(printf 'PAGE 1\nSongC 1\nEND')" \
	"the next page goes on after the cursor and ends with END"
is "$(request "$T_ADDR" "LISTPAGE limit=500")" "$(printf 'PAGE 4\nOther 1\nSongA 2\nSongB 1\nSongC 1\nEND')" \
	"without match= it lists every song"
is "$(request "$T_ADDR" "LISTPAGE limit=501")" "ERR 400 limit= wants 1-500" "limit= past 500 is ERR 400"
is "$(request "$T_ADDR" "LISTPAGE match=x")" "ERR 400 missing limit=" "limit= is required"
is "$(request "$T_ADDR" "LISTPAGE limit=1 limit=2")" "ERR 400 want limit=N [after=NAME] [match=TEXT] [tags=1]" \
	"a word given twice is ERR 400"
is "$(request "$T_ADDR" "LIST")" "$(printf 'SONGS 4\nOther 1\nSongA 2\nSongB 1\nSongC 1')" \
	"version-1 LIST still answers every song"
is "$("$P2PM_BIN/client" -t "$T_ADDR" list Song | wc -l)" "3" "client list pages through LISTPAGE"

# --- 413: a body needing more than TRACKER_MAX_BODY_BYTES (24 MiB) staged
long=$(printf 'x%.0s' $(seq 1 250))
awk -v l="$long" 'BEGIN { print "REGISTER 127.0.0.1:5003"; for (i = 0; i < 100000; i++) printf "%s%05d\n", l, i; print ""; print "QUIT" }' \
	>"$SCRATCH/big.in"
is "$(talk "$T_ADDR" 30 <"$SCRATCH/big.in")" "ERR 413 REGISTER body too large" \
	"a REGISTER body over the staging cap gets ERR 413"
like "$(request "$T_ADDR" STATS)" "peers=2 songs=4 pairs=5 " "and nothing changed"

# --- bodies that never end: the staging budget (64 MiB) stops them
awk -v l="$long" 'BEGIN { print "REGISTER 127.0.0.1:5004"; for (i = 0; i < 60000; i++) printf "%s%05d\n", l, i }' \
	>"$SCRATCH/endless.in"
rss0=$(rss_kb "$T_PID")
for fd in 5 6 7 8 9; do
	eval "exec $fd<>/dev/tcp/$host/$port"
	cat "$SCRATCH/endless.in" 2>/dev/null 1>&"$fd"
done
out=$(printf 'REGISTER 127.0.0.1:5005\nHonest\n\nQUERY Honest\nQUIT\n' | talk "$T_ADDR")
is "$out" "$(printf 'OK\nPEERS 127.0.0.1:5005')" \
	"while five endless bodies are held open, an honest REGISTER and QUERY are served"
refused=0
for fd in 5 6 7 8 9; do
	if read -r -t 2 line <&"$fd" && [ "$line" = "ERR 503 busy: too many REGISTERs being read" ]; then
		refused=$((refused + 1))
	fi
done
ok "the bodies past the shared budget got ERR 503 ($refused of 5)" test "$refused" -ge 1
rss1=$(rss_kb "$T_PID")
diag "tracker rss ${rss0} kB before the endless bodies, ${rss1} kB with them"
exec 5>&- 6>&- 7>&- 8>&- 9>&-
like "$(request "$T_ADDR" STATS)" "peers=3 songs=5 pairs=6 " "none of their songs were registered"
for _ in $(seq 50); do
	request "$T_ADDR" STATS | grep -q ' staged=0$' && break
	sleep 0.1
done
like "$(request "$T_ADDR" STATS)" " staged=0$" "once they are gone their staging budget is given back"
ok "tracker exits 0 on SIGTERM" stop_daemon T

# --- 1,000,000 songs: a QUERY is prompt while LISTs go unread
# (with the default limits: a million songs of their own fit the budget)
start_daemon T tracker -l 127.0.0.1:0 --ttl 600 || exit 1
host=${T_ADDR%:*}
port=${T_ADDR##*:}
for p in $(seq 0 9); do
	{ echo "REGISTER 127.0.0.1:$((9000 + p))"; seq -f "p${p}song%06.0f" 1 100000; echo; echo QUIT; } |
		talk "$T_ADDR" 60 >>"$SCRATCH/reg.out"
done
is "$(sort -u "$SCRATCH/reg.out")" "OK" "ten REGISTERs of 100000 distinct songs answer OK with the default budget"
like "$(request "$T_ADDR" STATS)" "songs=1000000 pairs=1000000 " "the registry holds 1,000,000 songs"
rss0=$(rss_kb "$T_PID")
# eight LISTs nobody reads, and one with a 128-byte filter that matches nothing
for fd in 5 6 7 8 9 10 11 12; do
	eval "exec $fd<>/dev/tcp/$host/$port"
	printf 'LIST\n' >&"$fd"
done
filter=$(printf 'q%.0s' $(seq 1 127))z
exec 13<>"/dev/tcp/$host/$port"
printf 'LIST %s\n' "$filter" >&13
sleep 1
ms=$(ms_of request "$T_ADDR" "QUERY p3song054321")
is "$(request "$T_ADDR" "QUERY p3song054321")" "PEERS 127.0.0.1:9003" "QUERY finds its song while the LISTs are open"
ok "and is answered within 2 s (${ms} ms)" test "$ms" -lt 2000
read -r -t 30 line <&13
is "$line" "SONGS 0" "the 128-byte filter that matches nothing answers SONGS 0"
rss1=$(rss_kb "$T_PID")
ok "eight unread LISTs cost the tracker under 20 MB (rss $rss0 -> $rss1 kB)" \
	test $((rss1 - rss0)) -lt 20000
exec 5>&- 6>&- 7>&- 8>&- 9>&- 10>&- 11>&- 12>&- 13>&-
is "$(request "$T_ADDR" "LIST p9song09999" | sed -n '1p;2p;$p' | tr '\n' ' ')" "SONGS 10 p9song099990 1 p9song099999 1 " \
	"LIST with a filter over 1,000,000 songs finds the matches, sorted"
ok "client list pages through all 1,000,000 songs" \
	test "$("$P2PM_BIN/client" -t "$T_ADDR" --timeout 60 list | wc -l)" = 1000000
ok "tracker exits 0 on SIGTERM" stop_daemon T
ok "tracker logged no sanitizer report" check_sanitizers
done_testing

#!/usr/bin/env bash
# bench/live.sh — live capture under load (issues 6 and 7).
#
# Runs `wsscope -i lo --json 'tcp port PORT'` while bench/loadgen sends
# RATE messages/s over CONNS gorilla/websocket connections on 127.0.0.1 for
# DURATION, then checks that wsscope wrote one text-message record for every
# message the generator sent, that the kernel dropped nothing, and that the
# resident memory of wsscope stayed flat (VmRSS sampled every RSS_EVERY s).
# Needs root (or CAP_NET_RAW) for the capture.
#
#   sudo bench/live.sh                      # 100,000 msg/s for 30 s
#   sudo DURATION=200s bench/live.sh        # the issue-7 endurance run
#   sudo DEFLATE=1 SIZE=400 bench/live.sh   # permessage-deflate
#
# Environment: RATE (100000), CONNS (8), SIZE (100 bytes), DURATION (30s),
# DEFLATE (0), BATCH (1 message per TCP write), PORT (18765), RSS_EVERY (5),
# WSARGS (extra wsscope flags, e.g. "-B 64M" or "-Z nobody"), NICE (0: nice
# value for both wsscope and the generator; e.g. -5 on a machine shared with
# other CPU-bound jobs, and say so when quoting the result), OUT (bench/out).
# Exit status 1 when a count mismatches, the kernel dropped packets or the
# memory grew.
set -u
cd "$(dirname "$0")/.."
RATE=${RATE:-100000}
CONNS=${CONNS:-8}
SIZE=${SIZE:-100}
DURATION=${DURATION:-30s}
DEFLATE=${DEFLATE:-0}
BATCH=${BATCH:-1}
PORT=${PORT:-18765}
RSS_EVERY=${RSS_EVERY:-5}
WSARGS=${WSARGS:-}
NICE=${NICE:-0}
OUT=${OUT:-bench/out}
mkdir -p "$OUT"

[ "$(id -u)" = 0 ] || echo "live.sh: not root: the capture will fail unless wsscope gets CAP_NET_RAW" >&2
echo "== building wsscope (CGO_ENABLED=0) and loadgen"
CGO_ENABLED=0 go build -o "$OUT/wsscope-live" . || exit 1
go build -o "$OUT/loadgen" ./bench/loadgen || exit 1

fifo=$(mktemp -u "$OUT/live.fifo.XXXX")
mkfifo "$fifo" || exit 1
trap 'rm -f "$fifo"' EXIT
counts="$OUT/live.counts"
errf="$OUT/live.stderr"
rssf="$OUT/live.rss"
: >"$rssf"

# The records go through a pipe to a counter (loadgen -count), at the same
# priority as wsscope: at 100,000 msg/s a long run writes gigabytes of JSON,
# and a counter left behind would block wsscope's writes and fill the ring.
nice -n "$NICE" "$OUT/loadgen" -count <"$fifo" >"$counts" 2>"$OUT/live.anomalies" &
counter=$!

# shellcheck disable=SC2086
nice -n "$NICE" "$OUT/wsscope-live" $WSARGS -i lo --json -o "$fifo" "tcp port $PORT" 2>"$errf" &
ws=$!
sleep 1
if ! kill -0 $ws 2>/dev/null; then
	echo "live.sh: wsscope did not start:" >&2
	cat "$errf" >&2
	exit 1
fi

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
hz=$(getconf CLK_TCK)

# RSS sampler.
(
	t=0
	while kill -0 $ws 2>/dev/null; do
		r=$(rss_kb $ws)
		[ -n "$r" ] && echo "$t $r" >>"$rssf"
		sleep "$RSS_EVERY"
		t=$((t + RSS_EVERY))
	done
) &
sampler=$!

deflate=""
[ "$DEFLATE" = 1 ] && deflate="-deflate"
echo "== load: $RATE msg/s, $CONNS connections, $SIZE-byte messages, batch $BATCH ${deflate:+(permessage-deflate)} for $DURATION on 127.0.0.1:$PORT; wsscope $WSARGS -i lo --json (nice $NICE)"
c0=$(cpu_ticks $ws)
t0=$(date +%s.%N)
nice -n "$NICE" "$OUT/loadgen" -port "$PORT" -rate "$RATE" -conns "$CONNS" -size "$SIZE" -batch "$BATCH" -duration "$DURATION" $deflate >"$OUT/live.loadgen" 2>&1
lgstatus=$?
sleep 1 # the last ring block (50 ms timeout) and the close handshakes
c1=$(cpu_ticks $ws)
t1=$(date +%s.%N)
kill -INT $ws
wait $ws
wsstatus=$?
kill $sampler 2>/dev/null
wait $counter

head -1 "$OUT/live.loadgen"
[ $lgstatus = 0 ] || { echo "live.sh: loadgen failed:"; cat "$OUT/live.loadgen"; }
summary=$(tail -1 "$OUT/live.loadgen")
sent=$(echo "$summary" | sed -n 's/.*"sent":\([0-9]*\).*/\1/p')
achieved=$(echo "$summary" | sed -n 's/.*"rate":\([0-9.]*\).*/\1/p')
read -r msgs texts anoms <"$counts"
cat "$errf"
drops=$(sed -n 's/.*TCP, \([0-9]*\) dropped by the kernel.*/\1/p' "$errf")
wscpu=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v hz="$hz" 'BEGIN { printf "%.2f s (%.0f%% of a core)", (b-a)/hz, 100*(b-a)/hz/(e-s) }')

echo "== results"
printf "generator:   sent %s messages, achieved %.0f msg/s (target %s)\n" "$sent" "$achieved" "$RATE"
echo "wsscope:     $texts text-message records ($msgs message records incl. close frames), $anoms anomaly records, kernel drops ${drops:-?}, CPU $wscpu"
[ "$anoms" -gt 0 ] && { echo "first anomalies:"; cat "$OUT/live.anomalies"; }
echo "RSS (KB) every ${RSS_EVERY}s:"
awk '{ printf "%s%s:%s", (NR>1 ? " " : "  "), $1 "s", $2 } END { print "" }' "$rssf"
# Flat: the peak of the second half of the run is within 5 MB (or 5%) of
# the peak of the first half (after a warm-up of 2 samples).
rssverdict=$(awk 'NR>2 { v[++n]=$2 } END {
	if (n < 4) { print "too few samples"; exit }
	h = int(n/2); a = 0; b = 0
	for (i = 1; i <= h; i++) if (v[i] > a) a = v[i]
	for (i = h+1; i <= n; i++) if (v[i] > b) b = v[i]
	lim = a * 1.05; if (a + 5120 > lim) lim = a + 5120
	printf "%s: peak %d KB in the first half, %d KB in the second\n", (b <= lim ? "flat" : "GROWING"), a, b }' "$rssf")
echo "memory:      $rssverdict"

status=0
if [ -z "$sent" ] || [ "$texts" != "$sent" ]; then
	echo "MISMATCH: generator sent ${sent:-?}, wsscope wrote $texts text-message records"
	status=1
fi
if [ "${drops:-1}" != 0 ]; then
	echo "KERNEL DROPS: ${drops:-unknown}"
	status=1
fi
case $rssverdict in
flat*) ;;
GROWING*) status=1 ;;
*) echo "memory: not judged (run longer than $((4 * RSS_EVERY + 2 * RSS_EVERY)) s)" ;;
esac
awk -v a="$achieved" -v r="$RATE" 'BEGIN { if (a < 0.95*r) printf "note: the generator reached only %.0f%% of the target rate (shared CPU?): the result says nothing about %s msg/s\n", 100*a/r, r }'
[ $wsstatus = 0 ] || { echo "wsscope exited with status $wsstatus"; status=1; }
if [ $status = 0 ]; then
	case $rssverdict in
	flat*) echo "OK: every message found, no kernel drops, flat memory" ;;
	*) echo "OK: every message found, no kernel drops" ;;
	esac
fi
exit $status

#!/bin/sh
# bigcap.sh — time wsscope's terminal UI on a large capture in a real
# terminal (tmux), next to the JSON export of the same file.
#
#   tui/testdata/bigcap.sh WSSCOPE_BINARY CAPTURE [WIDTH HEIGHT]
#
# Prints: time to the first screen showing message rows, time until the
# capture is fully indexed (the status bar's "reading N%" is gone: the UI
# shows it until the pipeline has finished), the UI process's peak RSS and
# CPU time (GNU time), and the same for `wsscope --json -r CAPTURE >
# /dev/null`. Needs tmux and /usr/bin/time.
set -u
BIN=$1
CAP=$2
W=${3:-160}
H=${4:-50}
DIR=$(mktemp -d)
SOCK="$DIR/tmux.sock"
T="tmux -S $SOCK"
trap '$T kill-server 2>/dev/null; rm -rf "$DIR"' EXIT INT TERM
now() { date +%s.%N; }

start=$(now)
$T new-session -d -s big -x "$W" -y "$H" "/usr/bin/time -v -o '$DIR/time.txt' '$BIN' -r '$CAP'; sleep 600" || exit 2
first=""
while :; do
	$T capture-pane -p -t big > "$DIR/pane"
	t=$(now)
	if [ -z "$first" ] && grep -qE '[│║][0-9:.]+ +[0-9]+ +[→←] ' "$DIR/pane"; then
		first=$t
		echo "first screen with rows: $(echo "$first - $start" | bc) s"
	fi
	if [ -n "$first" ] && grep -q 'msgs' "$DIR/pane" && ! grep -q 'reading [0-9]*%' "$DIR/pane"; then
		echo "fully indexed: $(echo "$t - $start" | bc) s"
		break
	fi
	if [ "$(echo "$t - $start > 900" | bc)" = 1 ]; then
		echo "timed out"
		cat "$DIR/pane"
		break
	fi
	sleep 0.05
done
tail -1 "$DIR/pane"
$T send-keys -t big q
i=0
while [ $i -lt 100 ] && ! grep -q "Exit status" "$DIR/time.txt" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
echo "--- UI process (GNU time):"
grep -E "Elapsed|User time|System time|Maximum resident|Exit status" "$DIR/time.txt"
echo "--- wsscope --json -r CAPTURE > /dev/null:"
/usr/bin/time -f "elapsed %e s, user %U s, system %S s, max RSS %M kB" "$BIN" --json -r "$CAP" > /dev/null

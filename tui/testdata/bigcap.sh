#!/usr/bin/env bash
# bigcap.sh — time wsscope's terminal UI on a large capture in a real
# terminal (tmux), next to the JSON export of the same file.
#
#   tui/testdata/bigcap.sh WSSCOPE_BINARY CAPTURE [WIDTH HEIGHT [RUNS]]
#
# Prints, for each of RUNS rounds (default 1): time to the first screen
# showing message rows, time until the capture is fully indexed (the status
# bar's "reading N%" is gone: the UI shows it until the pipeline has
# delivered every message), the UI process's peak RSS and CPU time (GNU
# time), and the same for `wsscope --json -r CAPTURE > /dev/null` run right
# after it, then the ratio of the two times (the issue asks for >= 0.5).
# Needs bash, tmux and /usr/bin/time.
#
# The screen is read through one tmux control-mode client that stays
# attached (capture-pane over a pipe), and the waits are bash builtins: a
# poll costs ~4 ms of CPU. Starting a tmux client per poll costs ~15 ms, and
# the old loop (tmux, grep, bc and date at every 50 ms) took half a core of
# this 2-core machine away from the UI it was timing.
set -u
BIN=$1
CAP=$2
W=${3:-160}
H=${4:-50}
RUNS=${5:-1}
if [ "$W" -lt 120 ]; then
	# Narrower, the status bar is cut before "reading N%" and the
	# capture would look indexed at once.
	echo "bigcap.sh: WIDTH must be at least 120 columns" >&2
	exit 2
fi
DIR=$(mktemp -d)
SOCK="$DIR/tmux.sock"
# UTF-8 throughout: in another locale (bench/run.sh sets LC_ALL=C) tmux
# shows the table's box characters as "_" and the rows are never found.
export LC_ALL=C.UTF-8
T="tmux -u -S $SOCK"
trap '$T kill-server 2>/dev/null; rm -rf "$DIR"' EXIT INT TERM
exec 9<> <(:) # read -t on it is a sleep without a fork

# secs START END: END - START in seconds (EPOCHREALTIME values).
secs() {
	local a=${1/./} b=${2/./}
	local d=$((10#$b - 10#$a))
	printf '%d.%06d' $((d / 1000000)) $((d % 1000000))
}

# capture: PANE = the visible screen, through the control client.
capture() {
	echo "capture-pane -p -t big" >&"${TM[1]}"
	PANE=""
	local line in=0
	while IFS= read -r line <&"${TM[0]}"; do
		case $line in
		%begin*) in=1 PANE="" ;;
		%end* | %error*) [ $in = 1 ] && return ;;
		*) [ $in = 1 ] && PANE+="$line"$'\n' ;;
		esac
	done
}

# sync: read the control client's output up to a marker, so that each
# capture's reply is the next block (attach and set-up replies consumed).
sync_client() {
	echo "display-message -p bigcap-sync" >&"${TM[1]}"
	local line
	while IFS= read -r line <&"${TM[0]}"; do
		[ "$line" = bigcap-sync ] && break
	done
	while IFS= read -r line <&"${TM[0]}"; do
		case $line in %end* | %error*) break ;; esac
	done
}

rows_re='[│║][0-9:.]+ +[0-9]+ +[→←] '
ratios=""
for run in $(seq "$RUNS"); do
	[ "$RUNS" -gt 1 ] && echo "=== run $run"
	rm -f "$DIR/time.txt"
	start=$EPOCHREALTIME
	$T new-session -d -s big -x "$W" -y "$H" "/usr/bin/time -v -o '$DIR/time.txt' '$BIN' -r '$CAP'; sleep 600" || exit 2
	tpid=$($T display-message -p '#{pid}')
	coproc TM { $T -C attach -t big; }
	echo "refresh-client -f no-output" >&"${TM[1]}" # no %output stream
	sync_client
	first="" indexed=""
	while :; do
		capture
		t=$EPOCHREALTIME
		if [ -z "$first" ] && [[ $PANE =~ $rows_re ]]; then
			first=$t
			echo "first screen with rows: $(secs "$start" "$first") s"
		fi
		if [ -n "$first" ] && [[ $PANE == *msgs* && ! $PANE =~ reading\ [0-9]+% ]]; then
			indexed=$(secs "$start" "$t")
			echo "fully indexed: $indexed s"
			break
		fi
		if [ $(((${t/./} - ${start/./}) / 1000000)) -gt 900 ]; then
			echo "timed out"
			printf '%s' "$PANE"
			break
		fi
		# 20 ms until the first screen, then 100 ms (index times are seconds).
		if [ -z "$first" ]; then read -r -t 0.02 -u 9; else read -r -t 0.1 -u 9; fi
	done
	printf '%s' "$PANE" | grep -E 'msgs' | tail -1
	# The terminal's own work (tmux parsing the UI's output) runs on the
	# same 2 cores; say how much it was.
	tcpu=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$tpid/stat" 2>/dev/null)
	[ -n "$tcpu" ] && echo "tmux server CPU until indexed: $tcpu s"
	$T send-keys -t big q
	i=0
	while [ $i -lt 100 ] && ! grep -q "Exit status" "$DIR/time.txt" 2>/dev/null; do
		read -r -t 0.1 -u 9
		i=$((i + 1))
	done
	$T kill-server 2>/dev/null
	wait "$TM_PID" 2>/dev/null
	echo "--- UI process (GNU time):"
	grep -E "Elapsed|User time|System time|Maximum resident|Exit status" "$DIR/time.txt"
	echo "--- wsscope --json -r CAPTURE > /dev/null:"
	/usr/bin/time -f "elapsed %e s, user %U s, system %S s, max RSS %M kB" -o "$DIR/json.txt" "$BIN" --json -r "$CAP" > /dev/null
	cat "$DIR/json.txt"
	if [ -n "$indexed" ]; then
		exp=$(awk '{ print $2 }' "$DIR/json.txt")
		r=$(awk -v e="$exp" -v i="$indexed" 'BEGIN { printf "%.2f", e / i }')
		echo "indexing speed / export speed: $r (export $exp s, indexed $indexed s)"
		ratios+="$r "
	fi
done
if [ "$RUNS" -gt 1 ]; then
	echo "ratios: $ratios"
fi

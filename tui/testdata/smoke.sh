#!/bin/sh
# smoke.sh — drive wsscope's terminal UI in a real terminal (tmux) on a
# sample capture, send keys, and print the captured pane after each step.
#
#   tui/testdata/smoke.sh WSSCOPE_BINARY CAPTURE [WIDTH HEIGHT]
#
# Output: for each step a line "=== STEP name" followed by the pane's text;
# finally "=== EXIT n" with wsscope's exit status after q. Exit status 1 if a
# step's expected text never appeared (the pane is still printed).
# TestTmuxSmoke (tui/smoke_test.go) runs it and checks the output.
set -u
BIN=$1
CAP=$2
W=${3:-120}
H=${4:-40}
DIR=$(mktemp -d)
SOCK="$DIR/tmux.sock"
T="tmux -S $SOCK"
trap '$T kill-server 2>/dev/null; rm -rf "$DIR"' EXIT INT TERM
fail=0

$T new-session -d -s smoke -x "$W" -y "$H" "'$BIN' -r '$CAP'; echo \$? > '$DIR/status'; sleep 60" || exit 2

# step NAME EXPECTED-TEXT KEYS... : send keys, wait (5 s at most) for the
# expected text, print the pane.
step() {
	name=$1 want=$2
	shift 2
	for k in "$@"; do
		$T send-keys -t smoke "$k"
	done
	i=0
	while [ $i -lt 50 ]; do
		$T capture-pane -p -t smoke > "$DIR/pane"
		grep -qF -- "$want" "$DIR/pane" && break
		sleep 0.1
		i=$((i + 1))
	done
	echo "=== STEP $name"
	cat "$DIR/pane"
	if ! grep -qF -- "$want" "$DIR/pane"; then
		echo "=== MISSING $name: $want"
		fail=1
	fi
}

step start "1000 normal bye" # the last message: the capture is loaded (steps below are written for chat-deflate.pcap)
step first-message '"type": "join"' g
step frames "FIN RSV opcode" 3
step handshake "Sec-Websocket-Key" 4
step handshake-zoom "101 Switching Protocols" Tab z
step unzoom "▶ Messages" z BTab
step hex "00000000" 2
step payload "Detail: payload" 1
step filter "filter: dir:s" f "dir:s" Enter
step search "search: carol" / carol Enter
step jump "packet #>" :
step jumped "packets 19–19" 19 Enter
step help "Help" "?"
step help-end "quit" G
step help-closed "▶ Messages" Escape
step conns "▶ Connections" BTab
$T send-keys -t smoke q
i=0
while [ $i -lt 50 ] && [ ! -s "$DIR/status" ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "=== EXIT $(cat "$DIR/status" 2>/dev/null || echo none)"
exit $fail

package tui

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTmuxSmoke builds wsscope, runs testdata/smoke.sh (the UI in a tmux
// pane on pcaps/chat-deflate.pcap, keys sent one step at a time) and checks
// every captured pane.
func TestTmuxSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wsscope binary")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed: skipping the terminal smoke test")
	}
	capFile, err := filepath.Abs("../pcaps/chat-deflate.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(capFile); err != nil {
		t.Skip("sample capture pcaps/chat-deflate.pcap missing")
	}
	bin := filepath.Join(t.TempDir(), "wsscope")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("sh", "testdata/smoke.sh", bin, capFile, "100", "30").CombinedOutput()
	steps := map[string]string{}
	var name string
	for _, l := range strings.Split(string(out), "\n") {
		if n, ok := strings.CutPrefix(l, "=== STEP "); ok {
			name = n
			continue
		}
		steps[name] += l + "\n"
	}
	if err != nil {
		t.Fatalf("smoke.sh: %v\n%s", err, out)
	}
	check := func(step string, wants ...string) {
		t.Helper()
		pane, ok := steps[step]
		if !ok {
			t.Errorf("step %s missing", step)
			return
		}
		for _, w := range wants {
			if !strings.Contains(pane, w) {
				t.Errorf("step %s: pane lacks %q:\n%s", step, w, pane)
			}
		}
	}
	check("start", "Connections (1)", "chat.example:8080/chat", "closed 1000/1000", "1000 normal bye", "msgs 22")
	check("first-message", `"type": "join"`, "client→server text")
	check("frames", "FIN RSV opcode", "text")
	check("handshake", "GET /chat HTTP/1.1", "permessage-deflate")
	check("handshake-zoom", "▶ Detail: handshake", "101 Switching Protocols", "Sec-WebSocket-Accept:", "upgraded:            ok")
	check("unzoom", "▶ Messages")
	check("hex", `7b 22 74 79 70 65 22 3a`)
	check("filter", "Messages: all connections (11)", "filter: dir:s")
	if p := steps["filter"]; strings.Contains(p, " → ") && strings.Contains(p, "1 →   text") {
		t.Errorf("client→server message shown with dir:s:\n%s", p)
	}
	check("search", "search: carol", `carol`)
	check("jumped", "packets 19–19")
	check("help", "Help — keys", "Navigation")
	check("help-end", "quit", "Legend")
	check("conns", "▶ Connections")
	if !strings.Contains(string(out), "=== EXIT 0") {
		t.Errorf("wsscope did not exit 0 after q:\n%s", out)
	}
}

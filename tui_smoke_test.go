package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTUISmoke builds wsscope and runs it on a sample capture in a tmux
// pane (a real terminal): with no output flag it must open the terminal UI,
// show the connection and its messages, and exit 0 on q.
func TestTUISmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	capFile, err := filepath.Abs("pcaps/chat-deflate.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(capFile); err != nil {
		t.Skip("sample capture missing")
	}
	dir := t.TempDir()
	bin := wsscopeBinary(t)
	sock := filepath.Join(dir, "tmux.sock")
	session := "wsscope-smoke"
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		return string(out), err
	}
	status := filepath.Join(dir, "status")
	cmd := bin + " -r " + capFile + "; echo $? > " + status + "; sleep 30"
	if out, err := tmux("new-session", "-d", "-s", session, "-x", "140", "-y", "40", cmd); err != nil {
		t.Skipf("tmux cannot start a session: %v %s", err, out)
	}
	defer tmux("kill-server")

	var screen string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		screen, _ = tmux("capture-pane", "-p", "-t", session)
		if strings.Contains(screen, "chat.example:8080/chat") && strings.Contains(screen, "bye") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(screen, "Connections") || !strings.Contains(screen, "chat.example:8080/chat") || !strings.Contains(screen, "bye") {
		t.Fatalf("terminal UI not shown as expected:\n%s", screen)
	}
	tmux("send-keys", "-t", session, "q")
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(status); err == nil && len(b) > 0 {
			if s := strings.TrimSpace(string(b)); s != "0" {
				t.Fatalf("exit status %s after q", s)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	screen, _ = tmux("capture-pane", "-p", "-t", session)
	t.Fatalf("wsscope did not exit after q:\n%s", screen)
}

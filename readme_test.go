package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeOutput keeps README.md honest: the output shown for its first
// command (go run . -r pcaps/chat-deflate.pcap --text) must be what that
// command prints. -update rewrites the block.
func TestReadmeOutput(t *testing.T) {
	const cmd = "go run . -r pcaps/chat-deflate.pcap --text"
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	if !strings.HasPrefix(s, "# wsscope\n\n```sh\n"+cmd+"\ngo test ./...\n```") {
		t.Fatalf("README.md must start with the commands %q and %q", cmd, "go test ./...")
	}
	const marker = "coder/websocket endpoints with permessage-deflate):\n\n```\n"
	a := strings.Index(s, marker)
	if a < 0 {
		t.Fatal("README.md: output block of the first command not found")
	}
	a += len(marker)
	b := strings.Index(s[a:], "```")
	if b < 0 {
		t.Fatal("README.md: output block not closed")
	}
	code, out, stderr := runArgs(t, nil, "-r", "pcaps/chat-deflate.pcap", "--text")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(s[:a]+out+s[a+b:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := s[a : a+b]; got != out {
		t.Errorf("README.md shows output that differs from %q (go test . -update rewrites it):\n%s", cmd, firstDiff(got, out))
	}
}

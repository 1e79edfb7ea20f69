package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wsscope/wsscope/pcaps/synth"
)

// wsFrame builds one unfragmented WebSocket frame (RFC 6455 §5.2), masked
// when key is not nil.
func wsFrame(op byte, payload []byte, key []byte) []byte {
	b := []byte{0x80 | op}
	mask := byte(0)
	if key != nil {
		mask = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, mask|byte(n))
	case n < 1<<16:
		b = append(b, mask|126, byte(n>>8), byte(n))
	default:
		b = append(b, mask|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if key == nil {
		return append(b, payload...)
	}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// escapePayloads are sent both ways: terminal escape sequences, NUL,
// invalid UTF-8, bidi overrides, separators.
var escapePayloads = []string{
	"\x1b[2J\x1b[31mred alert\x1b[0m",
	"\x1b]0;owned title\x07 and \x1b]52;c;Y2xpcGJvYXJk\x07",
	"nul\x00in the middle\x00",
	"bad utf8: \xff\xfe\xc3(",
	"bidi \u202egnp.exe\u202c and\u2028line\u2029para zero\u200bwidth",
	"c1 \u009b31m csi",
	"cr\rover\nlines\ttab\x7f",
}

// TestEscapesEndToEnd sends hostile payloads through a synthesised capture
// and checks that text output shows them escaped, never raw, and that JSON
// output is valid and carries every payload byte-exactly.
func TestEscapesEndToEnd(t *testing.T) {
	c := &synth.Conn{
		Client: netip.MustParseAddrPort("192.0.2.10:40000"),
		Server: netip.MustParseAddrPort("192.0.2.1:8080"),
	}
	c.Chunks = append(c.Chunks,
		synth.Chunk{Dir: synth.ClientToServer, Data: []byte("GET /evil\x1b[5m HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Evil: \x1b[8mhidden\r\n\r\n")},
		synth.Chunk{Dir: synth.ServerToClient, Data: []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")})
	key := []byte{0x37, 0xfa, 0x21, 0x3d}
	for _, p := range escapePayloads {
		c.Chunks = append(c.Chunks,
			synth.Chunk{Dir: synth.ClientToServer, Data: wsFrame(1, []byte(p), key)},
			synth.Chunk{Dir: synth.ServerToClient, Data: wsFrame(2, []byte(p), nil)})
	}
	c.Chunks = append(c.Chunks,
		synth.Chunk{Dir: synth.ClientToServer, Data: wsFrame(8, []byte("\x03\xe8bye\x1b[1m"), key)},
		synth.Chunk{Dir: synth.ServerToClient, Data: wsFrame(8, []byte("\x03\xe8"), nil)})
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, []*synth.Conn{c}, synth.Options{Seed: 7}); err != nil {
		t.Fatal(err)
	}
	capFile := filepath.Join(t.TempDir(), "evil.pcap")
	if err := os.WriteFile(capFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	code, text, stderr := runArgs(t, nil, "-r", capFile, "--text", "--preview", "0")
	if code != 0 {
		t.Fatalf("--text: exit %d: %s", code, stderr)
	}
	checkTerminalSafe(t, text)
	if strings.ContainsRune(text, 0x1b) || strings.ContainsRune(text, 0) || strings.Contains(text, "\u202e") {
		t.Fatalf("raw escape in text output:\n%q", text)
	}
	for _, want := range []string{`\x1b[2J\x1b[31mred alert`, `\x1b]0;owned title\x07`, `nul\x00in the middle\x00`,
		`bad utf8: \xff\xfe\xc3(`, `bidi \u202egnp.exe\u202c and\u2028line\u2029para zero\u200bwidth`, `c1 \u009b31m`,
		`cr\rover\nlines\ttab\x7f`, `/evil\x1b[5m`, `bye\x1b[1m`} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %s:\n%s", want, text)
		}
	}
	// Text messages whose payload is invalid UTF-8 are still shown (escaped).
	if n := strings.Count(text, " → text "); n != len(escapePayloads) {
		t.Errorf("%d client text lines, want %d:\n%s", n, len(escapePayloads), text)
	}

	code, out, stderr := runArgs(t, nil, "-r", capFile, "--json")
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, stderr)
	}
	for _, b := range []byte(out) {
		if (b < 0x20 && b != '\n') || b == 0x7f {
			t.Fatalf("raw control byte %#x in JSON output", b)
		}
	}
	recs := checkJSONLines(t, []byte(out))
	var got [2][]string
	for _, r := range recs {
		if r["record"] != "message" || (r["opcode"] != "text" && r["opcode"] != "binary") {
			continue
		}
		var p []byte
		if s, ok := r["text"].(string); ok {
			p = []byte(s)
		} else {
			p, _ = base64.StdEncoding.DecodeString(r["data"].(string))
		}
		d := 0
		if r["from"] == "server" {
			d = 1
		}
		got[d] = append(got[d], string(p))
	}
	for d := range got {
		if len(got[d]) != len(escapePayloads) {
			t.Fatalf("direction %d: %d messages, want %d", d, len(got[d]), len(escapePayloads))
		}
		for i, p := range escapePayloads {
			if got[d][i] != p {
				t.Errorf("direction %d message %d: %q, want %q", d, i, got[d][i], p)
			}
		}
	}
	// A text message takes "data" only when it is not valid UTF-8.
	for _, r := range recs {
		if r["record"] == "message" && r["opcode"] == "text" {
			if _, hasText := r["text"]; hasText {
				continue
			}
			p, _ := base64.StdEncoding.DecodeString(r["data"].(string))
			if utf8.Valid(p) {
				t.Errorf("valid UTF-8 text message went to data: %q", p)
			}
		}
	}
}

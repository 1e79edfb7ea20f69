package export

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

func TestAppendEscaped(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 0, "hello"},
		{"\x1b[31mred", 0, `\x1b[31mred`},
		{"a\x00b\n\t\r\x7f\\", 0, `a\x00b\n\t\r\x7f\\`},
		{"bad\xff\xc3", 0, `bad\xff\xc3`},
		{"\u2028\u2029\u202e\u200b\ufeff", 0, `\u2028\u2029\u202e\u200b\ufeff`},
		{"\u0085\u009b", 0, `\u0085\u009b`},
		{"\U000e0001tag", 0, `\U000e0001tag`},
		{"日本語 😀", 0, "日本語 😀"},
		{"abcdef", 6, "abcdef"},
		{"abcdefg", 6, "abcde…"},
		{"abcd\x1b", 6, "abcd…"},
		{"ab\x1b", 6, `ab\x1b`},
	}
	for _, tt := range tests {
		got, trunc := AppendEscaped(nil, tt.in, tt.max)
		if string(got) != tt.want {
			t.Errorf("AppendEscaped(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if trunc != strings.HasSuffix(tt.want, "…") {
			t.Errorf("AppendEscaped(%q, %d) truncated = %v", tt.in, tt.max, trunc)
		}
	}
}

// checkTerminalSafe fails if out holds anything a terminal would interpret.
func checkTerminalSafe(t *testing.T, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Fatalf("output is not valid UTF-8: %q", out)
	}
	for _, r := range string(out) {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 ||
			(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200b || r == 0xfeff {
			t.Fatalf("raw %U in terminal output: %q", r, out)
		}
	}
}

func FuzzAppendEscaped(f *testing.F) {
	for _, s := range nastyPayloads {
		f.Add([]byte(s), 10)
	}
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		max %= 200
		out, trunc := AppendEscaped(nil, in, max)
		checkTerminalSafe(t, out)
		if max > 0 && utf8.RuneCount(out) > max {
			t.Fatalf("%d cells > max %d: %q", utf8.RuneCount(out), max, out)
		}
		if !trunc {
			full, _ := AppendEscaped(nil, in, 0)
			if !bytes.Equal(full, out) {
				t.Fatalf("not truncated but differs from full: %q vs %q", out, full)
			}
		}
	})
}

func TestTextWriterNastyPayloads(t *testing.T) {
	var out bytes.Buffer
	w := NewTextWriter(&out)
	c := testConn(3)
	c.Handshake.URI = "/\x1b]0;pwn\x07"
	w.ConnOpen(c)
	for _, p := range nastyPayloads {
		w.Message(c, textMsg(wsdecode.FromClient, p))
		m := textMsg(wsdecode.FromServer, p)
		m.Opcode = wsdecode.OpBinary
		w.Message(c, m)
	}
	w.Anomaly(c, &pipeline.Anomaly{Code: "x\x1b[2J", Detail: "detail \x1b[2J\r", Severity: "error", From: "server", Packet: 3})
	endConn(c)
	w.ConnEnd(c)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	checkTerminalSafe(t, out.Bytes())
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2*len(nastyPayloads)+3 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	for _, want := range []string{`\x1b[31mred`, `nul\x00byte`, `\xff\xfe \xc3`, `line\u2028sep`, `\u202eevil`, `\u009b31m`, `cr\r\nlf\ttab\x7fdel\\back`, `/\x1b]0;pwn\x07`, `detail \x1b[2J\r`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %s:\n%s", want, out.String())
		}
	}
}

func TestTextWriterLines(t *testing.T) {
	var out bytes.Buffer
	w := NewTextWriter(&out)
	w.Preview = 20
	c := testConn(2)
	w.ConnOpen(c)
	w.Message(c, textMsg(wsdecode.FromClient, "hello"))
	m := textMsg(wsdecode.FromServer, strings.Repeat("x", 50))
	m.Compressed, m.WireLen = true, 9
	m.Frames = make([]wsdecode.Frame, 2)
	w.Message(c, m)
	cl := textMsg(wsdecode.FromClient, "\x03\xe8bye")
	cl.Opcode, cl.HasCloseCode, cl.CloseCode, cl.CloseReason = wsdecode.OpClose, true, 1000, "bye"
	w.Message(c, cl)
	inc := textMsg(wsdecode.FromServer, "par")
	inc.Incomplete = true
	inc.Anomalies = []wsdecode.Anomaly{{Code: "gap"}}
	w.Message(c, inc)
	w.Anomaly(nil, &pipeline.Anomaly{Code: "snaplen", Severity: "warning"})
	endConn(c)
	w.ConnEnd(c)
	w.Flush()
	want := `18:47:51.123456 #2 open 10.0.0.1:50312 → [2001:db8::1]:8080 GET example.com:8080/chat?room=a%20b&x=1 → 101 Switching Protocols subprotocol=chat deflate=permessage-deflate;server_no_context_takeover
18:47:51.125456 #2 → text 5B  hello
18:47:51.125456 #2 ← text 50B deflate 9B 2 frames  xxxxxxxxxxxxxxxxxxx…
18:47:51.125456 #2 → close 1000  bye
18:47:51.125456 #2 ← text 3B INCOMPLETE !gap  par
--:--:--.------ - ! warning snaplen
18:47:53.123456 #2 closed fin: → 3 msgs 120B close 1000, ← 4 msgs 2400B, 2 anomalies
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func BenchmarkTextWriter70(b *testing.B) {
	t := NewTextWriter(io.Discard)
	c := testConn(1)
	m := textMsg(0, `{"type":"tick","symbol":"WS1","seq":1234,"bid":101.25,"ask":101.5}`)
	b.SetBytes(int64(len(m.Payload)))
	b.ReportAllocs()
	for b.Loop() {
		t.Message(c, m)
	}
}

func TestAppendEscapedBinary(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"SSH-2.0\r\n", 0, `SSH-2.0\r\n`},
		// Random bytes that happen to be valid UTF-8 ("ۏ" is d6 8f) are
		// not shown as letters in binary payloads.
		{"\x8fۏ\x00x", 0, `\x8f\xdb\x8f\x00x`},
		{"日", 0, `\xe6\x97\xa5`},
		{"ab\xe6\x97\xa5", 8, `ab\xe6…`},
		{"ab\xe6", 6, `ab\xe6`},
	}
	for _, tt := range tests {
		got, trunc := AppendEscapedBinary(nil, []byte(tt.in), tt.max)
		if string(got) != tt.want {
			t.Errorf("AppendEscapedBinary(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if trunc != strings.HasSuffix(tt.want, "…") {
			t.Errorf("AppendEscapedBinary(%q, %d) truncated = %v", tt.in, tt.max, trunc)
		}
	}
}

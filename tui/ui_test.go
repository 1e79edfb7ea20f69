package tui

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"github.com/wsscope/wsscope/wsdecode"
)

func TestRenderPanes(t *testing.T) {
	m := NewModel(ModelOptions{})
	fixture(m)
	h := startUI(t, m, 120, 40, Options{Title: "test.pcap"})
	scr := h.waitText("Connections (2)")
	for _, want := range []string{
		"chat.example/socket?room=1", "api.example/feed", "10.0.0.1:40001 → 10.0.0.2:8080",
		"pmd cnct", "chat", "closed 1000/1000", "open", "Messages: all connections (8)",
		"welcome ann", "find the needle here", "test.pcap", "conns 2", "msgs 8",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
	// Direction arrows, opcode, compressed flag, frame count, packet number.
	l := h.line(`{"type":"hello"`)
	if l == "" || !strings.Contains(l, "→") || !strings.Contains(l, "text") || !strings.Contains(l, " z ") {
		t.Errorf("hello row = %q", l)
	}
	if l := h.line("welcome ann"); !strings.Contains(l, "←") {
		t.Errorf("welcome row lacks ←: %q", l)
	}
	// Anomalous message marked with "!" (readable without colour) and red.
	l = h.line("bad frame")
	if !strings.Contains(l, " ! ") {
		t.Errorf("anomaly row lacks ! marker: %q", l)
	}
	if l := h.line("1000 normal bye"); !strings.Contains(l, "close") {
		t.Errorf("close row = %q", l)
	}
	// Binary preview in hex.
	if h.line("00 01 02 03 62 69") == "" {
		t.Error("binary preview not shown in hex")
	}
	// The conn with a gap anomaly shows its count.
	if l := h.line("api.example/feed"); !strings.Contains(l, "!1") {
		t.Errorf("conn 2 row lacks anomaly count: %q", l)
	}
	// Follow mode: the last message is selected, its detail shown.
	h.waitText("close code 1000 normal")
}

func TestSelectConnAndDetailViews(t *testing.T) {
	m := NewModel(ModelOptions{})
	fixture(m)
	h := startUI(t, m, 120, 45, Options{})
	h.waitText("Messages: all connections (8)")
	// Focus the connections pane (Shift-Tab from messages), select conn 2.
	h.key(tcell.KeyBacktab)
	h.waitText("▶ Connections")
	h.keys("jj")
	scr := h.waitText("Messages: conn 2 (2)")
	if strings.Contains(scr, "welcome ann") {
		t.Error("messages of conn 1 shown while conn 2 selected")
	}
	h.keys("a")
	h.waitText("Messages: all connections (8)")

	// Messages pane: go to the top, the JSON message.
	h.key(tcell.KeyTab)
	h.waitText("▶ Messages")
	h.keys("g")
	scr = h.waitText("JSON:")
	for _, want := range []string{`"type": "hello"`, `"n": [`, `"ok": true`, "client→server text", "compressed"} {
		if !strings.Contains(scr, want) {
			t.Errorf("payload view lacks %q", want)
		}
	}
	h.keys("3")
	scr = h.waitText("Detail: frames")
	if !strings.Contains(scr, "FIN RSV opcode") || !strings.Contains(scr, "37fa213d") {
		t.Errorf("frames view incomplete:\n%s", scr)
	}
	if l := h.line("37fa213d"); !strings.Contains(l, " 1  100 text") {
		t.Errorf("frame row = %q (want FIN=1 RSV=100 text)", l)
	}
	h.keys("2")
	h.waitText("Detail: hex")
	h.waitText(`00000000  7b 22 74 79 70 65 22 3a`)
	h.keys("4")
	h.waitText("Detail: handshake")
	// Zoom the detail pane to see all of it.
	h.key(tcell.KeyTab)
	h.waitText("▶ Detail")
	h.keys("z")
	scr = h.waitFor("zoomed detail", func(s string) bool { return !strings.Contains(s, "Connections (2)") })
	for _, want := range []string{"GET /socket?room=1 HTTP/1.1", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "HTTP/1.1 101 Switching Protocols", "upgraded:            ok", "client_no_context_takeover=true"} {
		if !strings.Contains(scr, want) {
			t.Errorf("handshake view lacks %q\n%s", want, scr)
		}
	}
	h.keys("z")
	h.waitText("Connections (2)")
	h.keys("v") // cycles back to payload
	h.waitText("Detail: payload")
	h.key(tcell.KeyBacktab)
	h.waitText("▶ Messages")
	// The anomaly is listed in the detail of its message.
	h.keys("G")
	h.keys("k")
	h.waitText("! unmasked-client-frame frame from client not masked")
}

func TestFilterSearchJump(t *testing.T) {
	m := NewModel(ModelOptions{})
	fixture(m)
	h := startUI(t, m, 120, 40, Options{})
	h.waitText("Messages: all connections (8)")
	h.keys("f")
	h.waitText("filter> ")
	h.keys("dir:s")
	h.key(tcell.KeyEnter)
	scr := h.waitText("Messages: all connections (4)")
	if !strings.Contains(scr, "filter: dir:s") {
		t.Error("filter bar does not show the filter")
	}
	for _, l := range strings.Split(scr, "\n") {
		if strings.Contains(l, " → ") && strings.Contains(l, "text") && !strings.Contains(l, "10.0.0.1") {
			t.Errorf("client→server row shown with dir:s: %q", l)
		}
	}
	// Hide control frames on top: the pong goes.
	h.keys("x")
	h.waitText("Messages: all connections (3)")
	h.waitText("filter: dir:s -ctl")
	// Regex filter.
	h.keys("f")
	h.waitText("filter> ")
	for range "dir:s -ctl" {
		h.key(tcell.KeyBackspace2)
	}
	h.keys("re:^wel")
	h.key(tcell.KeyEnter)
	h.waitText("Messages: all connections (1)")
	h.keys("f")
	h.waitText("filter> ")
	for range "re:^wel" {
		h.key(tcell.KeyBackspace2)
	}
	h.key(tcell.KeyEnter)
	h.waitText("Messages: all connections (8)")

	// Search: / needle, then n wraps to the same match.
	h.keys("/needle")
	h.key(tcell.KeyEnter)
	h.waitText("search: needle")
	scr = h.waitText("conn 2 client→server text")
	if !strings.Contains(scr, "find the needle here") {
		t.Error("search did not select the needle message")
	}
	// Two matches: n and N move between them.
	h.keys("/")
	h.waitText("/needle")
	for range "needle" {
		h.key(tcell.KeyBackspace2)
	}
	h.keys("re:needle|welcome")
	h.key(tcell.KeyEnter)
	h.waitText("search: re:needle|welcome")
	h.waitText("│welcome ann") // Enter went to the next match, wrapping around
	h.keys("n")
	h.waitText("│find the needle here")
	h.keys("N")
	h.waitText("│welcome ann")

	// Jump to packet: the ping was packet 6.
	h.keys(":6")
	h.key(tcell.KeyEnter)
	h.waitText("client→server ping")
}

func TestHelp(t *testing.T) {
	m := NewModel(ModelOptions{})
	h := startUI(t, m, 120, 60, Options{})
	h.keys("?")
	scr := h.waitText("Help — keys")
	for _, k := range keyHelp {
		if k[0] == "" {
			continue
		}
		if !strings.Contains(scr, k[0]) {
			t.Errorf("help lacks key %q", k[0])
		}
	}
	h.key(tcell.KeyEscape)
	h.waitGone("Help — keys")
}

func TestPayloadEscaping(t *testing.T) {
	m := NewModel(ModelOptions{})
	f := newFeeder(m)
	c := f.open("evil.example", "/\x1b]0;pwned\x07", true, nil, wsdecode.Deflate{})
	f.msg(c, 1, 1, "A\x1b[31mRED[red]B[::b]\u202eC\u009bD\r\n\xff")
	h := startUI(t, m, 120, 30, Options{})
	scr := h.waitText(`A\x1b[31mRED[red]B[::b]\u202eC\u009bD\r\n`)
	// The detail pane keeps the newline but escapes the rest.
	if !strings.Contains(scr, `A\x1b[31mRED[red]B[::b]\u202eC\u009bD\r`) {
		t.Errorf("detail not escaped:\n%s", scr)
	}
	if !strings.Contains(scr, `evil.example/\x1b]0;pwned\x`) {
		t.Errorf("host/path not escaped:\n%s", scr)
	}
	h.keys("4")
	h.waitText(`GET /\x1b]0;pwned\x07 HTTP/1.1`)
	// Brackets around characters outside tview's tag alphabet (tview.Escape
	// leaves "[![]" alone and the renderer would show "[!]").
	f.msg(c, 1, 1, "x[![]y [a\n[]")
	h.keys("1")
	h.waitText(`x[![]y [a\n[]`) // preview row
	h.waitText("│x[![]y [a ")   // detail pane (multi-line)
	// No cell holds a raw control character or a C1/bidi character, and
	// "[red]" did not colour anything: every cell of the preview line
	// has the same foreground.
	cells, _, _ := h.contents()
	for _, c := range cells {
		for _, r := range c.Runes {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == 0x202e {
				t.Fatalf("raw control rune %U on screen", r)
			}
		}
	}
}

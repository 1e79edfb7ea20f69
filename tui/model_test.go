package tui

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/tview"
	"github.com/rivo/uniseg"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

func TestModelCopiesAndCaps(t *testing.T) {
	m := NewModel(ModelOptions{MaxPayloadPerMessage: 8, MaxMessages: 3, MaxFramesPerMessage: 2})
	f := newFeeder(m)
	c := f.open("h", "/", true, nil, wsdecode.Deflate{})
	f.msg(c, wsdecode.FromClient, wsdecode.OpText, "0123456789abcdef", func(m *wsdecode.Message) {
		m.Frames = append(m.Frames, m.Frames[0], m.Frames[0]) // 3 frames
	})
	f.msg(c, wsdecode.FromServer, wsdecode.OpText, "short")
	f.msg(c, wsdecode.FromServer, wsdecode.OpText, "third")
	f.msg(c, wsdecode.FromServer, wsdecode.OpText, "not listed")
	s := m.snapshot()
	if s.nMsgs() != 3 || s.total != 4 || s.dropped != 1 {
		t.Fatalf("listed %d, total %d, dropped %d; want 3, 4, 1", s.nMsgs(), s.total, s.dropped)
	}
	r := s.msg(0)
	// The feeder scribbled over its buffers after the call: what the model
	// shows must be its own copy.
	if got := string(s.payload(r)); got != "01234567" {
		t.Errorf("payload kept %q, want the first 8 bytes", got)
	}
	if r.flags&fPayloadCut == 0 || r.length != 16 {
		t.Errorf("cut flag/length: %08b %d", r.flags, r.length)
	}
	if r.nFrames != 3 || r.kFrames != 2 {
		t.Errorf("frames %d kept %d, want 3 kept 2", r.nFrames, r.kFrames)
	}
	if fr := s.msgFrames(r); fr[0].key != [4]byte{0x37, 0xfa, 0x21, 0x3d} || !fr[0].fin {
		t.Errorf("frame not copied: %+v", fr[0])
	}
	if got := string(s.payload(s.msg(1))); got != "short" {
		t.Errorf("second payload %q", got)
	}
	// The connection summary is copied at each call, not aliased.
	c.Summary.Messages[0] = 999
	if v, _ := m.conn(0, false); v.sum.Messages[0] == 999 {
		t.Error("model aliases the pipeline's Summary")
	}
}

func TestModelPayloadTotalCap(t *testing.T) {
	m := NewModel(ModelOptions{MaxPayloadTotal: arenaChunk}) // one arena chunk
	f := newFeeder(m)
	c := f.open("h", "/", true, nil, wsdecode.Deflate{})
	big := strings.Repeat("x", DefaultMaxPayloadPerMessage)
	n := arenaChunk/len(big) + 5
	for i := 0; i < n; i++ {
		f.msg(c, wsdecode.FromServer, wsdecode.OpText, big)
	}
	s := m.snapshot()
	if len(s.chunks) != 1 {
		t.Errorf("arena has %d chunks, want 1", len(s.chunks))
	}
	last := s.msg(s.nMsgs() - 1)
	if last.flags&fPayloadGone == 0 || last.payN != 0 {
		t.Errorf("last message flags %08b payN %d: want payload not kept", last.flags, last.payN)
	}
	if got := preview(&s, last); got != "(payload not kept: memory limit)" {
		t.Errorf("preview %q", got)
	}
	if s.msg(0).payN != uint32(len(big)) {
		t.Error("first message lost its payload")
	}
}

func TestModelAnomalies(t *testing.T) {
	m := NewModel(ModelOptions{})
	f := fixture(m)
	m.Anomaly(nil, &pipeline.Anomaly{Code: "truncated-file", Detail: "capture ends mid-packet"})
	_, msgs, anoms := m.Counts()
	if msgs != 8 || anoms != 3 {
		t.Errorf("counts msgs %d anomalies %d, want 8, 3", msgs, anoms)
	}
	s := m.snapshot()
	if ca := s.captureAnoms(10); len(ca) != 1 || ca[0].code != "truncated-file" {
		t.Errorf("capture anomalies %+v", ca)
	}
	c2, _ := m.conn(1, true)
	if len(c2.anoms) != 1 || c2.anoms[0].code != "gap" || c2.id != f.conns[1].ID {
		t.Errorf("conn 2 anomalies %+v", c2.anoms)
	}
}

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantErr bool
		check   func(Filter) bool
	}{
		{"", false, func(f Filter) bool { return !f.active() }},
		{"dir:c", false, func(f Filter) bool { return f.Dir == 0 }},
		{"dir:server", false, func(f Filter) bool { return f.Dir == 1 }},
		{"dir:x", true, nil},
		{"op:text,ping", false, func(f Filter) bool { return f.Ops == 1<<1|1<<9 }},
		{"op:nope", true, nil},
		{"-ctl anom", false, func(f Filter) bool { return f.HideControl && f.AnomOnly }},
		{"hello  world dir:s", false, func(f Filter) bool { return f.Text == "hello world" && f.Dir == 1 }},
		{"dir:c re:a b+", false, func(f Filter) bool { return f.Regexp.String() == "a b+" && f.Dir == 0 }},
		{"re:(", true, nil},
	} {
		f, err := ParseFilter(tc.in, -1)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if err == nil && !tc.check(f) {
			t.Errorf("%q: got %+v", tc.in, f)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	m := NewModel(ModelOptions{})
	fixture(m)
	s := m.snapshot()
	count := func(src string, conn int) int {
		f, err := ParseFilter(src, conn)
		if err != nil {
			t.Fatal(err)
		}
		var v msgView
		v.reset(f)
		v.sync(&s)
		return len(v.idx)
	}
	for _, tc := range []struct {
		src  string
		conn int
		want int
	}{
		{"", -1, 8}, {"", 0, 6}, {"", 1, 2}, {"dir:c", -1, 4}, {"-ctl", -1, 5},
		{"op:ping,pong", -1, 2}, {"needle", -1, 1}, {"re:^(welcome|bad)", -1, 2},
		{"anom", -1, 1}, {"dir:s -ctl", 0, 2}, {"nothing-matches", -1, 0},
	} {
		if got := count(tc.src, tc.conn); got != tc.want {
			t.Errorf("filter %q conn %d: %d messages, want %d", tc.src, tc.conn, got, tc.want)
		}
	}
}

func TestVisible(t *testing.T) {
	for _, tc := range []struct{ in, oneLine, multi string }{
		{"plain text", "plain text", "plain text"},
		{"a\nb\tc", `a\nb\tc`, "a\nb\tc"},
		{"\x1b[31m", `\x1b[31m`, `\x1b[31m`},
		{"\x00\x7f", `\x00\x7f`, `\x00\x7f`},
		{"\u009b2J", `\u009b2J`, `\u009b2J`},
		{"a\u202eb\u200bc", `a\u202eb\u200bc`, `a\u202eb\u200bc`},
		{"\xff\xfe", `\xff\xfe`, `\xff\xfe`},
		{"héllo → 日本", "héllo → 日本", "héllo → 日本"},
		{"\r\n", `\r\n`, "\\r\n"},
	} {
		if got := visible([]byte(tc.in), false, 0); got != tc.oneLine {
			t.Errorf("visible(%q, one line) = %q, want %q", tc.in, got, tc.oneLine)
		}
		if got := visible([]byte(tc.in), true, 0); got != tc.multi {
			t.Errorf("visible(%q, multi-line) = %q, want %q", tc.in, got, tc.multi)
		}
	}
	if got := visible([]byte("abcdef"), false, 3); got != "abc…" {
		t.Errorf("max: %q", got)
	}
}

// FuzzSafe checks the escaping invariants on arbitrary payloads: no control,
// C1 or format character survives, and tview interprets no style tag in the
// result (its tag-stripped width equals its plain width).
func FuzzSafe(f *testing.F) {
	for _, s := range []string{"[red]x", "\x1b[31m[::b]", "[#ff0000:blue:b]hi[-:-:-]", "[\"region\"]", "a[]b", "\u202e\u009b", "\xff[", "[[red]]", "[[]]", "0[![]0", "[:::]", "[red::b:x[y]z", "[:][-]", "[a\n[]", "[é[[]", `{"a":[],"[red]":"\u001b[31m"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v := visible(b, false, 0)
		if !utf8.ValidString(v) {
			t.Fatalf("visible(%q) not valid UTF-8", b)
		}
		for _, r := range v {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("visible(%q) = %q keeps %U", b, v, r)
			}
		}
		s := safe(b, false, 0)
		// Widths are compared only when no non-ASCII character follows a
		// "[": escaping splits "[" from a combining mark after it (tview
		// then draws them in two cells), which is not a tag being
		// interpreted.
		if w, want := tview.TaggedStringWidth(s), uniseg.StringWidth(v); w != want && asciiAfterBrackets(v) {
			t.Fatalf("safe(%q) = %q: width with tags interpreted %d, as plain text %d", b, s, w, want)
		}
		// Pretty JSON: its tags are the only ones; what is displayed is
		// the indented JSON.
		if looksJSON(b) {
			p := prettyJSON(b)
			var ind bytes.Buffer
			_ = json.Indent(&ind, bytes.TrimSpace(b), "", "  ")
			// Newlines are removed on both sides: the bracket structure
			// (and so tview's escaping) does not depend on them.
			got := tview.TaggedStringWidth(strings.ReplaceAll(p, "\n", ""))
			want := uniseg.StringWidth(strings.ReplaceAll(visibleJSON(ind.String()), "\n", ""))
			if got != want && asciiAfterBrackets(string(b)) {
				t.Fatalf("prettyJSON(%q) = %q: displayed width %d, want %d", b, p, got, want)
			}
		}
	})
}

func asciiAfterBrackets(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '[' && s[i+1] >= 0x80 {
			return false
		}
	}
	return true
}

// visibleJSON escapes what prettyJSON escapes inside strings (raw C1 and
// format characters are valid in JSON strings).
func visibleJSON(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString(visible([]byte(line), false, 0))
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// TestRunStopsOnCancel: cancelling Run's context ends it.
func TestRunStopsOnCancel(t *testing.T) {
	m := NewModel(ModelOptions{})
	h := startUI(t, m, 80, 24, Options{Progress: func() (int64, int64) { return 50, 100 }})
	h.waitText("reading 50%")
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatal(err)
		}
		h.done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRelativeTime(t *testing.T) {
	m := NewModel(ModelOptions{})
	fixture(m)
	h := startUI(t, m, 100, 30, Options{})
	h.waitText("12:00:00.020000")
	h.keys("t")
	scr := h.waitText("Time (rel)")
	if !strings.Contains(scr, "+0.020000") || strings.Contains(h.line("welcome ann"), "12:00:00") {
		t.Errorf("relative times not shown:\n%s", scr)
	}
	h.keys("t")
	h.waitText("12:00:00.020000")
}

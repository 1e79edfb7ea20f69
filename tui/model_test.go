package tui

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/rivo/tview"
	"github.com/rivo/uniseg"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

func TestModelCopiesAndCaps(t *testing.T) {
	m := NewModel(ModelOptions{MaxPayloadPerMessage: 8, MaxMessages: 3, MaxFramesPerMessage: 2})
	t.Cleanup(func() { m.Close() })
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
	d, err := s.readDetail(r, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	// The feeder scribbled over its buffers after the call: what the model
	// shows must be its own copy.
	if got := string(d.payload); got != "01234567" {
		t.Errorf("payload kept %q, want the first 8 bytes", got)
	}
	if r.flags&fPayloadCut == 0 || r.length != 16 || d.length != 16 || d.payN != 8 {
		t.Errorf("cut flag/length: %08b %d %d kept %d", r.flags, r.length, d.length, d.payN)
	}
	if r.frames != 3 || d.nFrames != 3 || d.kFrames != 2 || len(d.frames) != 2 {
		t.Errorf("frames %d/%d kept %d (%d), want 3 kept 2", r.frames, d.nFrames, d.kFrames, len(d.frames))
	}
	if fr := d.frames; fr[0].key != [4]byte{0x37, 0xfa, 0x21, 0x3d} || !fr[0].fin || fr[0].payLen != 16 || fr[0].headerLen != 2 {
		t.Errorf("frame not copied: %+v", fr[0])
	}
	d1, err := s.readDetail(s.msg(1), previewBytes, false)
	if err != nil || string(d1.payload) != "short" || s.msg(1).dir() != 1 {
		t.Errorf("second payload %+v %v", d1, err)
	}
	// Preview-sized reads cut the payload and say so.
	d0, _ := s.readDetail(r, 3, false)
	if string(d0.payload) != "012" || !d0.partialPayload() {
		t.Errorf("short read %q partial %v", d0.payload, d0.partialPayload())
	}
	// The connection summary is copied at each call, not aliased.
	c.Summary.Messages[0] = 999
	if v, _ := m.conn(0, false); v.sum.Messages[0] == 999 {
		t.Error("model aliases the pipeline's Summary")
	}
}

// TestMsgRecCompact: the in-memory index record stays 40 bytes and holds
// no pointers (its blocks live off the Go heap).
func TestMsgRecCompact(t *testing.T) {
	if n := unsafe.Sizeof(msgRec{}); n != 40 {
		t.Errorf("msgRec is %d bytes, want 40", n)
	}
	typ := reflect.TypeOf(msgRec{})
	for i := 0; i < typ.NumField(); i++ {
		switch typ.Field(i).Type.Kind() {
		case reflect.Int64, reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		default:
			t.Errorf("msgRec.%s is a %s: the record must hold no pointers", typ.Field(i).Name, typ.Field(i).Type)
		}
	}
}

// TestModelSpillLimit: past MaxSpill, messages are still listed, first
// without payload, then without any detail record; both say so.
func TestModelSpillLimit(t *testing.T) {
	// Room for 3 whole records (header, one frame, payload of 1000 bytes)
	// and a few more without payload.
	const limit = 3500
	m := NewModel(ModelOptions{MaxSpill: limit})
	t.Cleanup(func() { m.Close() })
	f := newFeeder(m)
	c := f.open("h", "/", true, nil, wsdecode.Deflate{})
	big := strings.Repeat("x", 1000)
	const n = 100
	for i := 0; i < n; i++ {
		f.msg(c, wsdecode.FromServer, wsdecode.OpText, big)
	}
	s := m.snapshot()
	if s.nMsgs() != n {
		t.Fatalf("%d messages listed, want %d", s.nMsgs(), n)
	}
	kept, gone, none := 0, 0, 0
	for i := 0; i < n; i++ {
		r := s.msg(i)
		d, err := s.readDetail(r, -1, false)
		switch {
		case err != nil:
			none++
			if r.off != noDetail || preview(r, nil) != "(details not kept: spill limit)" {
				t.Errorf("message %d: %v, off %d", i, err, r.off)
			}
		case r.flags&fPayloadGone != 0:
			gone++
			if len(d.payload) != 0 || d.length != 1000 || preview(r, d) != "(payload not kept: spill limit)" {
				t.Errorf("message %d: payload %d bytes, length %d", i, len(d.payload), d.length)
			}
		default:
			kept++
			if string(d.payload) != big {
				t.Errorf("message %d: payload %.20q", i, d.payload)
			}
		}
	}
	if kept != 3 || gone == 0 || none == 0 {
		t.Errorf("kept %d, payload gone %d, no details %d; want 3 and some of each", kept, gone, none)
	}
	if size := s.sp.size(); size > limit {
		t.Errorf("spill holds %d bytes, limit %d", size, limit)
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
		return v.rows()
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

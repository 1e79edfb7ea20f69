package tui

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

// TestLiveFollow feeds the model while the UI runs: new rows appear, follow
// mode keeps the newest selected, scrolling up pauses it, G resumes it.
func TestLiveFollow(t *testing.T) {
	m := NewModel(ModelOptions{})
	f := newFeeder(m)
	c := f.open("live.example", "/", true, nil, wsdecode.Deflate{})
	h := startUI(t, m, 100, 30, Options{Title: "eth0"})
	h.waitText("Messages: all connections (0) follow")
	for i := 0; i < 50; i++ {
		f.msg(c, wsdecode.FromServer, wsdecode.OpText, "tick "+strconv.Itoa(i))
	}
	h.waitText("Messages: all connections (50) follow")
	scr := h.waitText("│tick 49 ") // detail pane of the newest message
	if !strings.Contains(scr, "FOLLOW") {
		t.Error("status bar lacks FOLLOW")
	}
	// Scroll up: follow pauses, new messages do not move the selection.
	h.keys("kk")
	scr = h.waitText("│tick 47 ")
	if strings.Contains(scr, "follow") || strings.Contains(scr, "FOLLOW") {
		t.Errorf("follow mode still on after scrolling up:\n%s", scr)
	}
	for i := 50; i < 60; i++ {
		f.msg(c, wsdecode.FromServer, wsdecode.OpText, "tick "+strconv.Itoa(i))
	}
	scr = h.waitText("Messages: all connections (60)")
	if !strings.Contains(scr, "│tick 47 ") {
		t.Errorf("selection moved while follow was paused:\n%s", scr)
	}
	// G resumes follow mode.
	h.keys("G")
	h.waitText("│tick 59 ")
	h.waitText("(60) follow")
	for i := 60; i < 65; i++ {
		f.msg(c, wsdecode.FromServer, wsdecode.OpText, "tick "+strconv.Itoa(i))
	}
	h.waitText("│tick 64 ")
	// Page keys: Ctrl-u pages up (and pauses follow).
	h.key(tcell.KeyCtrlU)
	h.waitGone("(65) follow")
}

// TestActions saves a payload, copies it (OSC 52, read back from the
// simulation screen's clipboard) and exports the filtered view.
func TestActions(t *testing.T) {
	dir := t.TempDir()
	m := NewModel(ModelOptions{})
	fixture(m)
	h := startUI(t, m, 120, 40, Options{})
	h.waitText("Messages: all connections (8)")
	h.keys("g") // the JSON message
	h.waitText("JSON:")

	save := filepath.Join(dir, "payload.bin")
	h.keys("s")
	h.waitText("save payload to> wsscope-msg-3.bin")
	h.key(tcell.KeyCtrlU)
	h.keys(save)
	h.key(tcell.KeyEnter)
	h.waitText("saved 51 bytes to")
	got, err := os.ReadFile(save)
	if err != nil || string(got) != `{"type":"hello","user":"ann","n":[1,2,3],"ok":true}` {
		t.Fatalf("saved payload = %q, %v", got, err)
	}

	h.keys("yb")
	h.waitText("copied 68 bytes to the clipboard")
	if cb := string(h.s.GetClipboardData()); cb != base64.StdEncoding.EncodeToString(got) {
		t.Errorf("clipboard = %q", cb)
	}
	h.keys("yh")
	h.waitText("copied 102 bytes")
	if cb := string(h.s.GetClipboardData()); !strings.HasPrefix(cb, "7b2274797065") {
		t.Errorf("hex clipboard = %q", cb)
	}

	// Export only server→client messages.
	h.keys("f")
	h.waitText("filter> ")
	h.keys("dir:s")
	h.key(tcell.KeyEnter)
	h.waitText("Messages: all connections (4)")
	out := filepath.Join(dir, "view.jsonl")
	h.keys("e")
	h.waitText("export view (JSON Lines) to> ")
	h.key(tcell.KeyCtrlU)
	h.keys(out)
	h.key(tcell.KeyEnter)
	h.waitText("exported 4 messages to")
	fh, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	var recs []viewRecord
	for sc.Scan() {
		var r viewRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 4 {
		t.Fatalf("exported %d records, want 4", len(recs))
	}
	for _, r := range recs {
		if r.From != "server" || r.Record != "message" {
			t.Errorf("record %+v", r)
		}
	}
	if recs[0].Text == nil || *recs[0].Text != "welcome ann" || recs[0].Conn != 1 || recs[0].Client != "10.0.0.1:40001" {
		t.Errorf("first record %+v", recs[0])
	}
	if string(recs[1].Data) != "\x00\x01\x02\x03binary-blob" || recs[1].Opcode != "binary" {
		t.Errorf("binary record %+v", recs[1])
	}
	if len(recs[3].Anomalies) != 1 || recs[3].Anomalies[0].Code != "unmasked-client-frame" {
		t.Errorf("anomaly record %+v", recs[3])
	}
}

// TestSmallTerminal renders in 80×24 and checks that every pane, the filter
// bar and the status bar are there, and that panes resize with +/-.
func TestSmallTerminal(t *testing.T) {
	m := NewModel(ModelOptions{})
	fixture(m)
	h := startUI(t, m, 80, 24, Options{Title: "capture.pcapng"})
	scr := h.waitText("Connections (2)")
	for _, want := range []string{"Messages: all connections (8)", "Detail: payload", "filter: none", "capture.pcapng", "msgs 8"} {
		if !strings.Contains(scr, want) {
			t.Errorf("80×24 screen lacks %q:\n%s", want, scr)
		}
	}
	lines := strings.Split(scr, "\n")
	row := func(sub string) int {
		for i, l := range lines {
			if strings.Contains(l, sub) {
				return i
			}
		}
		return -1
	}
	before := row("Detail: payload")
	h.keys("++") // messages pane grows: detail moves down
	scr = h.waitFor("resize", func(s string) bool {
		lines = strings.Split(s, "\n")
		return row("Detail: payload") == before+2
	})
	h.keys("----")
	h.waitFor("shrink", func(s string) bool {
		lines = strings.Split(s, "\n")
		return row("Detail: payload") == before-2
	})
	// Mouse: clicking a connection row selects it.
	y := row("api.example/feed")
	h.s.InjectMouse(5, y, tcell.Button1, tcell.ModNone)
	h.s.InjectMouse(5, y, tcell.ButtonNone, tcell.ModNone)
	h.waitText("Messages: conn 2 (2)")
}

// TestResponsiveUnderFlood feeds messages as fast as the model takes them
// while keys are pressed: every key still takes effect.
func TestResponsiveUnderFlood(t *testing.T) {
	m := NewModel(ModelOptions{})
	f := newFeeder(m)
	c := f.open("flood.example", "/", true, nil, wsdecode.Deflate{})
	h := startUI(t, m, 100, 30, Options{})
	stop := make(chan struct{})
	fed := make(chan int)
	go func() {
		n := 0
		defer func() { fed <- n }()
		msg := &wsdecode.Message{Opcode: wsdecode.OpText, Frames: make([]wsdecode.Frame, 1)}
		for {
			select {
			case <-stop:
				return
			default:
			}
			msg.Payload = []byte("flood message")
			msg.Len = int64(len(msg.Payload))
			m.Message(c, msg)
			n++
		}
	}()
	h.keys("?")
	h.waitText("Help — keys")
	h.key(tcell.KeyEscape)
	h.waitGone("Help — keys")
	h.keys("x")
	h.waitText("filter: -ctl")
	h.keys("3")
	h.waitText("Detail: frames")
	close(stop)
	n := <-fed
	h.waitText("(" + strconv.Itoa(n) + ")")
	t.Logf("%d messages fed while the keys were handled", n)
}

// TestWheelPausesFollow: scrolling the messages pane up with the mouse wheel
// pauses follow mode; and with no message selected the detail pane lists
// capture-level anomalies.
func TestWheelPausesFollow(t *testing.T) {
	m := NewModel(ModelOptions{})
	f := newFeeder(m)
	c := f.open("wheel.example", "/", true, nil, wsdecode.Deflate{})
	m.Anomaly(nil, &pipeline.Anomaly{Code: "truncated-file", Detail: "capture ends mid-packet", Severity: "warning", Packet: 7})
	h := startUI(t, m, 100, 30, Options{})
	h.waitText("! truncated-file warning capture ends mid-packet (packet 7)")
	for i := 0; i < 40; i++ {
		f.msg(c, wsdecode.FromServer, wsdecode.OpText, "m"+strconv.Itoa(i))
	}
	h.waitText("(40) follow")
	lines := strings.Split(h.screen(), "\n")
	y := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "║") && strings.Contains(l, " m3") { // a row of the (focused) messages pane
			y = i
		}
	}
	h.s.InjectMouse(20, y, tcell.WheelUp, tcell.ModNone)
	h.waitGone("(40) follow")
	f.msg(c, wsdecode.FromServer, wsdecode.OpText, "after")
	scr := h.waitText("Messages: all connections (41)")
	if strings.Contains(scr, "FOLLOW") {
		t.Error("follow mode resumed by itself")
	}
}

// TestVirtualRows: with 100,000 messages only the visible rows are ever
// built (the tables are tview.TableContent; no cell exists per row), also
// after G jumps to the end.
func TestVirtualRows(t *testing.T) {
	m := NewModel(ModelOptions{})
	loadModel(t, m, 100_000)
	h := startUI(t, m, 80, 24, Options{NoFollow: true})
	h.waitText("(100000)")
	h.keys("G")
	h.waitText("(100000) follow")
	var n int
	h.onUI(func() { n = len(h.u.msgs.cache) })
	if n == 0 || n > 24 {
		t.Errorf("%d message rows built for a 24-line screen", n)
	}
}

// TestBackgroundFilterAndSearch: on 50,000 messages a payload filter and a
// search run as background jobs (more than inline limits) and still find
// exactly the right messages, read back from the spill file.
func TestBackgroundFilterAndSearch(t *testing.T) {
	old := inlineSearch
	inlineSearch = 0
	t.Cleanup(func() { inlineSearch = old })
	m := NewModel(ModelOptions{})
	t.Cleanup(func() { m.Close() })
	loadModel(t, m, 50_000)
	h := startUI(t, m, 120, 40, Options{NoFollow: true})
	h.waitText("(50000)")
	h.keys("f")
	h.waitText("filter> ")
	h.keys(`"seq":37777,`)
	h.key(tcell.KeyEnter)
	scr := h.waitText("Messages: all connections (1)")
	if !strings.Contains(scr, `{"type":"trade","seq":37777,`) {
		t.Errorf("filtered row missing:\n%s", scr)
	}
	var scanned int
	h.onUI(func() { scanned = h.u.view.scanned })
	if scanned != 50_000 {
		t.Errorf("filter scanned %d messages", scanned)
	}
	// Back to all messages; search from the top for a message near the
	// end, and back (N) to one near the start.
	h.keys("f")
	h.waitText("filter> ")
	h.key(tcell.KeyCtrlU)
	h.key(tcell.KeyEnter)
	h.waitText("Messages: all connections (50000)")
	h.keys("g/")
	h.keys(`re:"seq":4876[5],`)
	h.key(tcell.KeyEnter)
	h.waitText(`"seq": 48765,`)
	h.keys("/")
	h.key(tcell.KeyCtrlU)
	h.keys(`"seq":12,`)
	h.key(tcell.KeyEnter)
	h.waitText(`"seq": 12,`)
}

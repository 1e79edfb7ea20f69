package tui

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// feeder builds hand-made pipeline values and feeds them to a Model the way
// the pipeline does.
type feeder struct {
	m     *Model
	conns []*pipeline.Conn
	pkt   uint64
	now   time.Time
}

func newFeeder(m *Model) *feeder { return &feeder{m: m, now: t0} }

func (f *feeder) open(host, path string, upgraded bool, ext []string, d wsdecode.Deflate) *pipeline.Conn {
	id := uint64(len(f.conns) + 1)
	f.pkt++
	hs := &reassembly.Handshake{
		Method: "GET", URI: path, Proto: "HTTP/1.1",
		RequestHeaders: []reassembly.Header{
			{Name: "Host", Value: host}, {Name: "Upgrade", Value: "websocket"},
			{Name: "Connection", Value: "Upgrade"}, {Name: "Sec-WebSocket-Key", Value: "dGhlIHNhbXBsZSBub25jZQ=="},
			{Name: "Sec-WebSocket-Version", Value: "13"}, {Name: "Sec-WebSocket-Protocol", Value: "chat"},
		},
		Host: host, Key: "dGhlIHNhbXBsZSBub25jZQ==", KeyValid: true, Version: "13",
		Protocols: []string{"chat"}, Extensions: ext,
		RequestAt: reassembly.Meta{Time: f.now, Packet: f.pkt},
	}
	if upgraded {
		hs.Status, hs.Reason, hs.ResponseProto = 101, "Switching Protocols", "HTTP/1.1"
		hs.ResponseHeaders = []reassembly.Header{
			{Name: "Upgrade", Value: "websocket"}, {Name: "Connection", Value: "Upgrade"},
			{Name: "Sec-WebSocket-Accept", Value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
			{Name: "Sec-WebSocket-Protocol", Value: "chat"},
		}
		hs.Accept, hs.AcceptValid, hs.Subprotocol, hs.Upgraded = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", true, "chat", true
		hs.AcceptedExtensions = ext
	} else {
		hs.Status, hs.Reason = 403, "Forbidden"
	}
	c := &pipeline.Conn{
		ID:        id,
		Client:    netip.MustParseAddrPort("10.0.0.1:" + strconv.Itoa(40000+int(id))),
		Server:    netip.MustParseAddrPort("10.0.0.2:8080"),
		Handshake: hs, Deflate: d, Start: f.now,
		Summary: pipeline.Summary{CloseCodes: [2]int{-1, -1}},
	}
	f.conns = append(f.conns, c)
	f.m.ConnOpen(c)
	return c
}

// msg feeds one message with one frame per fragment.
func (f *feeder) msg(c *pipeline.Conn, dir wsdecode.Dir, op wsdecode.Opcode, payload string, opt ...func(*wsdecode.Message)) {
	f.pkt++
	f.now = f.now.Add(10 * time.Millisecond)
	at := wsdecode.Meta{Time: f.now, Packet: f.pkt}
	m := &wsdecode.Message{
		Dir: dir, Opcode: op, Payload: []byte(payload), Len: int64(len(payload)),
		WireLen: int64(len(payload) + 2), First: at, Last: at, Masked: dir == wsdecode.FromClient,
		Frames: []wsdecode.Frame{{Fin: true, Opcode: op, Masked: dir == wsdecode.FromClient,
			MaskKey: [4]byte{0x37, 0xfa, 0x21, 0x3d}, PayloadLen: uint64(len(payload)), HeaderLen: 2, First: at, Last: at}},
	}
	if op == wsdecode.OpClose && len(payload) >= 2 {
		m.HasCloseCode = true
		m.CloseCode = uint16(payload[0])<<8 | uint16(payload[1])
		m.CloseReason = payload[2:]
	}
	for _, o := range opt {
		o(m)
	}
	c.Summary.Messages[dir]++
	c.Summary.Bytes[dir] += uint64(len(payload))
	c.Summary.Anomalies += uint64(len(m.Anomalies))
	f.m.Message(c, m)
	// The pipeline owns and reuses these buffers: scribble over them to
	// prove the model copied what it kept.
	for i := range m.Payload {
		m.Payload[i] = 'X'
	}
	for i := range m.Frames {
		m.Frames[i] = wsdecode.Frame{}
	}
}

func withAnomaly(code, detail string) func(*wsdecode.Message) {
	return func(m *wsdecode.Message) {
		m.Anomalies = append(m.Anomalies, wsdecode.Anomaly{Code: code, Detail: detail, Dir: m.Dir, At: m.First})
	}
}

func compressed(m *wsdecode.Message) { m.Compressed = true; m.Frames[0].Rsv = 4 }

// fixture is two connections and a handful of messages.
func fixture(m *Model) *feeder {
	f := newFeeder(m)
	c1 := f.open("chat.example", "/socket?room=1", true, []string{"permessage-deflate; client_max_window_bits"},
		wsdecode.Deflate{Mode: wsdecode.PerMessageDeflate, ClientNoContextTakeover: true})
	c2 := f.open("api.example", "/feed", true, nil, wsdecode.Deflate{})
	f.msg(c1, wsdecode.FromClient, wsdecode.OpText, `{"type":"hello","user":"ann","n":[1,2,3],"ok":true}`, compressed)
	f.msg(c1, wsdecode.FromServer, wsdecode.OpText, "welcome ann")
	f.msg(c2, wsdecode.FromServer, wsdecode.OpBinary, "\x00\x01\x02\x03binary-blob")
	f.msg(c1, wsdecode.FromClient, wsdecode.OpPing, "")
	f.msg(c1, wsdecode.FromServer, wsdecode.OpPong, "")
	f.msg(c2, wsdecode.FromClient, wsdecode.OpText, "find the needle here")
	f.msg(c1, wsdecode.FromServer, wsdecode.OpText, "bad frame", withAnomaly("unmasked-client-frame", "frame from client not masked"))
	f.msg(c1, wsdecode.FromClient, wsdecode.OpClose, "\x03\xe8bye")
	c1.Summary.Ended, c1.Summary.EndReason, c1.Summary.CloseCodes = true, reassembly.EndFIN, [2]int{1000, 1000}
	m.ConnEnd(c1)
	m.Anomaly(c2, &pipeline.Anomaly{Code: "gap", Detail: "120 bytes lost", Severity: "warning", From: "server", Packet: 99})
	return f
}

// harness runs the UI on a simulation screen.
type harness struct {
	t      *testing.T
	u      *ui
	s      tcell.SimulationScreen
	cancel context.CancelFunc
	done   chan error
}

func startUI(t *testing.T, m *Model, w, h int, opts Options) *harness {
	t.Helper()
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	s.SetSize(w, h)
	opts.Screen = s
	if opts.Refresh == 0 {
		opts.Refresh = 10 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := newUI(m, opts)
	u.setScreen(s)
	hs := &harness{t: t, u: u, s: s, cancel: cancel, done: make(chan error, 1)}
	go func() { hs.done <- u.run(ctx) }()
	t.Cleanup(hs.stop)
	hs.waitFor("first draw", func(string) bool {
		_, sw, sh := hs.contents()
		return sw == w && sh == h && strings.Contains(hs.screen(), "Messages")
	})
	return hs
}

func (h *harness) stop() {
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(5 * time.Second):
		h.t.Error("UI did not stop")
	}
}

// contents copies the simulation screen's cells. GetContents returns the
// screen's own slice, written by draws: copy it on the event goroutine.
func (h *harness) contents() (cells []tcell.SimCell, w, hh int) {
	h.t.Helper()
	h.onUI(func() {
		c, ww, hhh := h.s.GetContents()
		cells, w, hh = append([]tcell.SimCell(nil), c...), ww, hhh
	})
	return cells, w, hh
}

// onUI runs f on the event goroutine. QueueUpdate blocks until f has run
// (forever if the UI has stopped), so it is called from another goroutine.
func (h *harness) onUI(f func()) {
	h.t.Helper()
	ch := make(chan struct{})
	go h.u.app.QueueUpdate(func() { f(); close(ch) })
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		h.t.Fatal("UI not responding")
	}
}

// screen returns the rendered screen as lines of text.
func (h *harness) screen() string {
	cells, w, hh := h.contents()
	var b strings.Builder
	for y := 0; y < hh; y++ {
		for x := 0; x < w; x++ {
			c := cells[y*w+x]
			if len(c.Runes) == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteString(string(c.Runes))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// line returns the screen line containing sub, or "".
func (h *harness) line(sub string) string {
	for _, l := range strings.Split(h.screen(), "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// waitFor polls the rendered screen until cond holds (10 s at most: the
// machine may be loaded, and under -race every key costs a full redraw).
func (h *harness) waitFor(what string, cond func(screen string) bool) string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		scr := h.screen()
		if cond(scr) {
			return scr
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, scr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) waitText(sub string) string {
	h.t.Helper()
	return h.waitFor(strings.TrimSpace(sub), func(s string) bool { return strings.Contains(s, sub) })
}

func (h *harness) waitGone(sub string) string {
	h.t.Helper()
	return h.waitFor("no "+sub, func(s string) bool { return !strings.Contains(s, sub) })
}

func (h *harness) keys(s string) {
	for _, r := range s {
		h.s.InjectKey(tcell.KeyRune, r, tcell.ModNone)
	}
}

func (h *harness) key(k tcell.Key) { h.s.InjectKey(k, 0, tcell.ModNone) }

package tui

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/pipeline"
)

// runCapture feeds a sample capture through the real pipeline into m while
// the UI is already running (as wsscope does).
func runCapture(t *testing.T, m *Model, name string) <-chan error {
	t.Helper()
	src, err := capture.OpenFile("../pcaps/"+name, capture.Options{})
	if err != nil {
		t.Skipf("sample capture %s: %v", name, err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := pipeline.Run(context.Background(), src, pipeline.Options{}, m)
		src.Close()
		done <- err
	}()
	return done
}

// TestSampleCaptureDamaged runs pcaps/damaged-drop.pcap through the pipeline
// into a running UI: the gap shows as an incomplete message marked "!" and
// its anomaly is listed in the detail pane.
func TestSampleCaptureDamaged(t *testing.T) {
	m := NewModel(ModelOptions{})
	h := startUI(t, m, 140, 45, Options{Title: "damaged-drop.pcap"})
	if err := <-runCapture(t, m, "damaged-drop.pcap"); err != nil {
		t.Fatal(err)
	}
	scr := h.waitText("Messages: all connections (14)")
	if !strings.Contains(scr, "closed 1000/1000") {
		t.Errorf("connection state not shown:\n%s", scr)
	}
	l := h.line("→   text   1440")
	if !strings.Contains(l, " ! line 4 of message 4") {
		t.Errorf("incomplete message row = %q", l)
	}
	// Filter to messages with anomalies, and look at it.
	h.keys("f")
	h.waitText("filter> ")
	h.keys("anom")
	h.key(tcell.KeyEnter)
	scr = h.waitText("Messages: all connections (1)")
	if !strings.Contains(scr, "INCOMPLETE") || !strings.Contains(scr, "! gap") {
		t.Errorf("detail of the damaged message:\n%s", scr)
	}
}

// TestSampleCaptureMany loads pcaps/many-conns.pcap and walks the
// connections pane.
func TestSampleCaptureMany(t *testing.T) {
	m := NewModel(ModelOptions{})
	if err := <-runCapture(t, m, "many-conns.pcap"); err != nil {
		t.Fatal(err)
	}
	nc, nm, _ := m.Counts()
	if nc < 2 || nm == 0 {
		t.Fatalf("model has %d conns, %d messages", nc, nm)
	}
	h := startUI(t, m, 120, 40, Options{})
	h.waitText("Connections (" + strconv.Itoa(nc) + ")")
	h.key(tcell.KeyBacktab)
	h.waitText("▶ Connections")
	h.keys("j") // from "all connections" to the first connection
	// Rows are sorted by connection ID: the first row is the smallest.
	var c connView
	for i := 0; i < nc; i++ {
		if v, _ := m.conn(i, false); c.id == 0 || v.id < c.id {
			c = v
		}
	}
	if l := h.line(" many.example"); !strings.HasPrefix(strings.TrimLeft(l, "║│ "), strconv.Itoa(int(c.id))+" ") {
		t.Errorf("first connection row %q, want ID %d", l, c.id)
	}
	scr := h.waitText("Messages: conn " + strconv.Itoa(int(c.id)) + " (" + strconv.Itoa(int(c.msgs)) + ")")
	// Every message row names that connection.
	for _, l := range strings.Split(scr, "\n") {
		if strings.HasPrefix(l, "│03:04:") && !strings.Contains(l, "    "+strconv.Itoa(int(c.id))+" ") {
			t.Errorf("row of another connection: %q", l)
		}
	}
}

// TestSampleCaptureRefused: refused upgrades show their state, and with no
// messages the detail pane shows the connection's handshake.
func TestSampleCaptureRefused(t *testing.T) {
	m := NewModel(ModelOptions{})
	if err := <-runCapture(t, m, "refused.pcap"); err != nil {
		t.Fatal(err)
	}
	h := startUI(t, m, 100, 40, Options{})
	scr := h.waitText("handshake failed 403")
	if !strings.Contains(scr, "Detail: none") {
		t.Errorf("detail with nothing selected:\n%s", scr)
	}
	h.key(tcell.KeyBacktab)
	h.keys("j")
	scr = h.waitText("Detail: connection")
	for _, want := range []string{"GET /forbidden HTTP/1.1", "state handshake failed 403", "Messages: conn "} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
}

package tui

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/pipeline"
)

var bigcap = flag.String("bigcap", "", "capture for TestBigCapture (e.g. ../bench/out/small-1GB.pcap)")

// TestBigCapture opens a large capture the way wsscope -r does (the real
// pipeline feeding the model while the UI runs on a simulation screen) and
// reports: time to the first screen showing message rows, time until the
// capture is fully indexed (MB/s, messages/s), peak RSS, memory per
// message, render time per frame at that size, and how long a payload
// filter takes in the background. Run with
//
//	go test ./tui -run TestBigCapture -bigcap ../bench/out/small-1GB.pcap -v
//
// It is skipped without -bigcap. It measures; it asserts only that every
// message was indexed and the UI kept answering.
func TestBigCapture(t *testing.T) {
	if *bigcap == "" {
		t.Skip("no -bigcap capture given")
	}
	fi, err := os.Stat(*bigcap)
	if err != nil {
		t.Skip(err)
	}
	src, err := capture.OpenFile(*bigcap, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m := NewModel(ModelOptions{})
	defer m.Close()
	cpu0 := cpuTime()
	start := time.Now()
	h := startUI(t, m, 160, 50, Options{Title: *bigcap, NoFollow: true, Refresh: 66 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		_, err := pipeline.Run(context.Background(), src, pipeline.Options{}, m)
		done <- err
	}()
	h.waitFor("first message row", func(s string) bool { return strings.Contains(s, "│") && strings.Contains(s, " text ") })
	first := time.Since(start)
	var err2 error
	polls := 0
	for waiting := true; waiting; {
		select {
		case err2 = <-done:
			waiting = false
		case <-time.After(500 * time.Millisecond):
			polls++
			h.screen() // the UI keeps answering while loading
		}
	}
	if err2 != nil {
		t.Fatal(err2)
	}
	indexed := time.Since(start)
	cpu := time.Duration(cpuTime() - cpu0)
	_, total, _ := m.Counts()
	s := m.snapshot()
	if uint64(s.nMsgs()) != total {
		t.Errorf("indexed %d of %d messages", s.nMsgs(), total)
	}
	h.waitText("(" + strconv.FormatUint(total, 10) + ")")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mb := float64(fi.Size()) / 1e6
	t.Logf("capture %s: %.0f MB, %d messages, spill %d MB", *bigcap, mb, total, s.sp.size()>>20)
	t.Logf("first screen with rows: %v", first)
	t.Logf("fully indexed: %v wall (%.0f MB/s, %.2f M msg/s), %v CPU", indexed, mb/indexed.Seconds(), float64(total)/indexed.Seconds()/1e6, cpu)
	_, off := offheapMapped()
	t.Logf("peak RSS %s, now %s; Go heap in use %d MB, index off-heap %d MB: %.1f B/message (heap+index)",
		procStatus("VmHWM"), procStatus("VmRSS"), ms.HeapInuse>>20, off>>20, float64(ms.HeapInuse+uint64(off))/float64(total))

	// Render time per frame at this size: jump around the messages pane.
	h.onUI(func() {
		u := h.u
		n := u.view.rows()
		const frames = 50
		t0 := time.Now()
		c0 := cpuTime()
		for i := 0; i < frames; i++ {
			u.msgs.table.Select(1+(i*7919)%n, 0)
			u.app.ForceDraw()
		}
		t.Logf("render: %v per frame (%v CPU), %d rows", time.Since(t0)/frames, time.Duration(cpuTime()-c0)/frames, n)
	})
	// A payload filter on the whole capture runs in the background: the
	// UI answers meanwhile.
	h.keys("f")
	h.waitText("filter> ")
	h.keys("nomatch-zzz")
	t0 := time.Now()
	h.key(tcell.KeyEnter)
	h.waitText("filter: nomatch-zzz")
	answered := time.Since(t0)
	h.waitFor("filter done", func(s string) bool {
		return strings.Contains(s, "(0)") && !strings.Contains(s, "filtering")
	})
	t.Logf("payload filter over %d messages: %v (UI answered after %v)", total, time.Since(t0), answered)
	t.Logf("peak RSS at the end %s", procStatus("VmHWM"))
}

// procStatus returns a field of /proc/self/status ("n/a" elsewhere).
func procStatus(field string) string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return fmt.Sprintf("no %s", field)
}

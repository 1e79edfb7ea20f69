package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	p := &progress{total: 2_000_000_000}
	p.done.Store(500_000_000)
	l := p.line(80, 10*time.Second)
	for _, want := range []string{"[", "]", " 25%", "500.0 MB / 2.0 GB", "30s left"} {
		if !strings.Contains(l, want) {
			t.Errorf("line %q lacks %q", l, want)
		}
	}
	if w := len([]rune(strings.TrimSuffix(l, "\x1b[K"))); w > 80 {
		t.Errorf("line is %d columns wide on an 80-column terminal", w)
	}
	if l := p.line(20, time.Second); strings.Contains(l, "[") {
		t.Errorf("no room for a bar, got %q", l)
	}
	p.done.Store(p.total)
	if l := p.line(80, time.Second); !strings.Contains(l, "100%") || strings.Contains(l, "left") {
		t.Errorf("complete: %q", l)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// The bar stays hidden for reads faster than progressDelay.
func TestProgressQuickRead(t *testing.T) {
	var out lockedBuffer
	p := &progress{total: 100}
	stop := p.start(&out, 80)
	p.done.Store(100)
	stop()
	if out.b.Len() != 0 {
		t.Errorf("progress bar drawn for a quick read: %q", out.b.String())
	}
}

// The TUI's progress reaches the total only once the pipeline is done, not
// when the reader has read the last byte (the analysis lags behind it).
func TestProgressAnalysed(t *testing.T) {
	p := &progress{total: 1000}
	done := make(chan struct{})
	prog := p.analysed(done)
	for _, read := range []int64{0, 500, 999, 1000, 1200} {
		p.done.Store(read)
		d, total := prog()
		if total != 1000 || d >= total || d > read {
			t.Errorf("read %d, pipeline running: progress %d/%d, want below the total and at most the bytes read", read, d, total)
		}
	}
	close(done)
	p.done.Store(400) // stopped early (-c, an error): done all the same
	if d, total := prog(); d != total {
		t.Errorf("pipeline done: progress %d/%d", d, total)
	}
}

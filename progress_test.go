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

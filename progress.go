package main

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// progress tracks how much of a capture file has been read.
type progress struct {
	total int64
	done  atomic.Int64
}

// countingReader counts the bytes read through it into n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// analysed returns the TUI's Options.Progress for a run whose pipeline
// closes done when it has delivered everything: the bytes read, but one
// short of the total until done is closed. The reader runs ahead of the
// analysis by a few batches, so "the whole file is read" is not "every
// message is in the model": the status bar must keep saying "reading"
// until the counts it shows are final.
func (p *progress) analysed(done <-chan struct{}) func() (int64, int64) {
	return func() (int64, int64) {
		select {
		case <-done:
			return p.total, p.total // analysed (or the run stopped)
		default:
		}
		return max(0, min(p.done.Load(), p.total-1)), p.total
	}
}

// progressDelay is how long a read must take before the bar appears.
const progressDelay = time.Second

// start draws a progress bar on w (a terminal) every 200 ms once reading has
// taken longer than progressDelay. The returned stop function erases it.
func (p *progress) start(w io.Writer, width int) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		shown := false
		delay := time.NewTimer(progressDelay)
		defer delay.Stop()
		select {
		case <-quit:
			return
		case <-delay.C:
		}
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		began := time.Now().Add(-progressDelay)
		for {
			io.WriteString(w, "\r"+p.line(width, time.Since(began)))
			shown = true
			select {
			case <-quit:
				if shown {
					io.WriteString(w, "\r\x1b[K")
				}
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

// line renders the bar: "[=====>      ]  42%  1.2 GB / 2.9 GB  3s left".
func (p *progress) line(width int, elapsed time.Duration) string {
	done, total := p.done.Load(), p.total
	frac := 0.0
	if total > 0 {
		frac = min(1, float64(done)/float64(total))
	}
	info := fmt.Sprintf(" %3d%%  %s / %s", int(frac*100), size(done), size(total))
	if frac > 0.01 && frac < 1 {
		left := time.Duration(float64(elapsed) * (1 - frac) / frac).Round(time.Second)
		info += fmt.Sprintf("  %s left", left)
	}
	if width <= 0 {
		width = 80
	}
	barW := min(50, width-len(info)-3)
	if barW < 10 {
		return strings.TrimSpace(info)
	}
	fill := int(frac * float64(barW))
	bar := strings.Repeat("=", fill)
	if fill < barW {
		bar += ">" + strings.Repeat(" ", barW-fill-1)
	}
	return "[" + bar + "]" + info + "\x1b[K"
}

func size(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

package main

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/export"
	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/tui"
)

// runTUI shows the terminal UI while the pipeline feeds its model from
// another goroutine. The UI lives until the user quits or ctx (signals) is
// cancelled; the pipeline stops at the end of the input, at -c (pcancel),
// or when the UI is gone. sinks are the other writers (--har).
func (r *runner) runTUI(ctx, pctx context.Context, pcancel context.CancelFunc, g *guardSink, sinks []pipeline.Sink) error {
	model := tui.NewModel(tui.ModelOptions{})
	defer model.Close() // after the pipeline and the UI are done (below)
	g.next = export.Tee(append([]pipeline.Sink{model}, sinks...)...)
	sink := export.Select(r.cfg.sel, g)
	src := &statsSource{Source: r.src}

	var pipeErr error
	var errText atomic.Pointer[string]
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, pipeErr = runPipeline(pctx, src, r.cfg.limits, sink)
		if pipeErr != nil && !errors.Is(pipeErr, context.Canceled) {
			s := describe(pipeErr)
			errText.Store(&s)
		}
	}()
	opts := tui.Options{
		Title: r.name,
		Status: func() tui.Status {
			var st tui.Status
			if p := src.stats.Load(); p != nil {
				st.Packets, st.Bytes, st.Drops = p.Packets, p.Bytes, p.KernelDrops
			}
			if e := errText.Load(); e != nil {
				st.Err = *e
			}
			return st
		},
	}
	if p := r.progress; p != nil {
		opts.Progress = p.analysed(done)
	}
	uiErr := tui.Run(ctx, model, opts)
	pcancel()
	<-done
	if pipeErr != nil && !errors.Is(pipeErr, context.Canceled) {
		return pipeErr
	}
	if uiErr != nil {
		return uiErr
	}
	return pipeErr
}

// statsSource publishes the Source's Stats for the status bar, which polls
// from the UI goroutines (a Source itself is not safe for concurrent use).
type statsSource struct {
	capture.Source
	n     int
	last  time.Time
	stats atomic.Pointer[capture.Stats]
}

// Next publishes the stats every 512 packets, and at least every 100 ms
// while packets trickle in (live capture).
func (s *statsSource) Next() (*capture.Packet, error) {
	p, err := s.Source.Next()
	s.n++
	if s.n%512 == 0 || err != nil || time.Since(s.last) > 100*time.Millisecond {
		st := s.Source.Stats()
		s.stats.Store(&st)
		s.last = time.Now()
	}
	return p, err
}

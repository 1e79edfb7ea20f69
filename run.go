package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/export"
	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3").
var version = "devel"

// fullVersion is version, or the module version and VCS revision recorded
// by the Go toolchain (go install, go build in a clone).
func fullVersion() string {
	if version != "devel" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	v := version
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " (" + rev + dirty + ")"
	}
	return v + " " + bi.GoVersion
}

// environ is what run may touch of the process: streams and whether they
// are terminals. Tests pass buffers.
type environ struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	StdoutTTY      bool
	StderrTTY      bool
	StdoutWidth    int // columns of the terminal on stdout (text preview)
	StderrWidth    int // columns of the terminal on stderr (progress bar)
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// run is the whole command: it parses args, reads the capture, writes the
// output and returns the exit status.
func run(ctx context.Context, args []string, env *environ) int {
	cfg, err := parseArgs(args, env.Stderr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "wsscope: %v (see wsscope --help)\n", err)
		return exitUsage
	}
	switch {
	case cfg.help:
		io.WriteString(env.Stdout, usageText)
		return exitOK
	case cfg.version:
		fmt.Fprintf(env.Stdout, "wsscope %s\n", fullVersion())
		return exitOK
	case cfg.list:
		return listInterfaces(env)
	}
	r := &runner{cfg: cfg, env: env}
	return r.run(ctx)
}

// runner holds the state of one analysis run.
type runner struct {
	cfg *config
	env *environ

	src       capture.Source
	name      string       // source name for messages ("-" is stdin)
	progress  *progress    // nil unless reading a file whose progress is shown
	pstats    atomic.Value // capture.Stats, refreshed by statsSource (TUI status bar)
	closers   []func() error
	stopLive  func() error // unblocks a live source's Next (from any goroutine)
	liveFlush func()       // flushes the writers; called on the pipeline goroutine by a live source
	stdin     *flushingReader
}

// flushingReader calls flush before every Read of r.
type flushingReader struct {
	r     io.Reader
	flush func()
}

func (f *flushingReader) Read(p []byte) (int, error) {
	if f.flush != nil {
		f.flush()
	}
	return f.r.Read(p)
}

// fail prints one error line and returns exitError.
func (r *runner) fail(err error) int {
	fmt.Fprintf(r.env.Stderr, "wsscope: %s\n", describe(err))
	return exitError
}

// describe turns an error into the text after "wsscope: ", naming the file,
// offset or flag at fault without repeating package prefixes.
func describe(err error) string {
	var fe *capture.FormatError
	if errors.As(err, &fe) {
		return fmt.Sprintf("%s: offset %d: %v", fe.Path, fe.Offset, fe.Err)
	}
	var le *capture.LiveError
	if errors.As(err, &le) && errors.Is(err, capture.ErrNoSuchInterface) {
		return fmt.Sprintf("%s: no such network interface (wsscope -D lists them)", le.Iface)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s: %v", pe.Path, pe.Err)
	}
	s := err.Error()
	for _, p := range []string{"capture: ", "pipeline: ", "export: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

type outputMode int

const (
	modeNone outputMode = iota // HAR only
	modeText
	modeJSON
	modeTUI
)

func (r *runner) mode() outputMode {
	c := r.cfg
	switch {
	case c.jsonOut:
		return modeJSON
	case c.textOut:
		return modeText
	case c.tuiOut:
		return modeTUI
	case c.harFile != "" && c.outFile == "":
		return modeNone
	case c.outFile == "" && r.env.StdoutTTY:
		return modeTUI
	}
	return modeText
}

func (r *runner) run(ctx context.Context) (status int) {
	defer func() {
		for i := len(r.closers) - 1; i >= 0; i-- {
			r.closers[i]()
		}
	}()
	mode := r.mode()
	if mode == modeTUI && !r.env.StdoutTTY {
		fmt.Fprintln(r.env.Stderr, "wsscope: --tui needs a terminal on stdout (see wsscope --help)")
		return exitUsage
	}
	drop, err := privDrop(r.cfg.dropUser) // -Z: checked before opening anything
	if err != nil {
		return r.fail(err)
	}
	if err := r.open(mode); err != nil {
		return r.fail(err)
	}

	// Writers.
	var writers []export.Writer
	var sinks []pipeline.Sink
	out := r.env.Stdout
	if r.cfg.outFile != "" && (mode == modeText || mode == modeJSON) {
		f, err := os.Create(r.cfg.outFile)
		if err != nil {
			return r.fail(err)
		}
		r.closers = append(r.closers, f.Close)
		out = f
	}
	live := r.cfg.iface != ""
	switch mode {
	case modeText:
		w := export.NewTextWriter(out)
		switch p := r.cfg.preview; {
		case p == 0:
			w.Preview = -1 // whole payload
		case p > 0:
			w.Preview = p
		case r.env.StdoutTTY && r.env.StdoutWidth > 0 && out == r.env.Stdout:
			// Fit a terminal line: the fields before the payload take
			// about 50 columns.
			w.Preview = max(20, r.env.StdoutWidth-50)
		default:
			w.Preview = export.DefaultPreview
		}
		writers = append(writers, w)
	case modeJSON:
		w := export.NewJSONWriter(out)
		writers = append(writers, w)
	}
	var harOut io.Writer
	if r.cfg.harFile != "" {
		if r.cfg.harFile == "-" {
			harOut = r.env.Stdout
		} else {
			f, err := os.Create(r.cfg.harFile)
			if err != nil {
				return r.fail(err)
			}
			r.closers = append(r.closers, f.Close)
			harOut = f
		}
		writers = append(writers, export.NewHARWriter(harOut, "wsscope", fullVersion()))
	}
	for _, w := range writers {
		sinks = append(sinks, w)
	}
	if err := drop(); err != nil { // -Z: capture and output files are open
		return r.fail(err)
	}
	if (r.stdin != nil || live) && mode != modeTUI {
		flush := func() {
			for _, w := range writers {
				w.Flush()
			}
		}
		if r.stdin != nil {
			r.stdin.flush = flush
		}
		r.liveFlush = flush // live: called by the source's Tick (live.go)
	}

	// The pipeline runs under pctx: -c and write errors cancel it (guard),
	// signals cancel ctx and so pctx.
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	guard := &guardSink{writers: writers, limit: r.cfg.count, cancel: pcancel}
	if r.stopLive != nil {
		// A live source blocks in Next while no packet arrives: stop it
		// when the run is cancelled (Ctrl-C, -c, write error, UI quit).
		finished := make(chan struct{})
		defer close(finished)
		go func() {
			select {
			case <-pctx.Done():
				r.stopLive()
			case <-finished:
			}
		}()
	}

	var runErr error
	if mode == modeTUI {
		runErr = r.runTUI(ctx, pctx, pcancel, guard, sinks)
	} else {
		guard.next = export.Tee(sinks...)
		sink := export.Select(r.cfg.sel, guard)
		if r.progress != nil && r.env.StderrTTY && !r.cfg.noProgres {
			stop := r.progress.start(r.env.Stderr, r.env.StderrWidth)
			_, runErr = runPipeline(pctx, r.src, r.cfg.limits, sink)
			stop()
		} else {
			_, runErr = runPipeline(pctx, r.src, r.cfg.limits, sink)
		}
	}
	if runErr != nil && pctx.Err() != nil && errors.Is(runErr, context.Canceled) {
		runErr = nil // -c reached, interrupted, or the UI quit
	}

	// Complete the outputs before reporting an input error: everything
	// decoded before the damage is written.
	var writeErr error
	for _, w := range writers {
		if err := w.Close(); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	for i := len(r.closers) - 1; i >= 0; i-- {
		if err := r.closers[i](); err != nil && writeErr == nil && !errors.Is(err, os.ErrClosed) {
			writeErr = err
		}
	}
	r.closers = nil
	if w, ok := r.src.(capture.Warner); ok {
		for _, msg := range w.Warnings() {
			fmt.Fprintf(r.env.Stderr, "wsscope: %s: warning: %s\n", r.name, msg)
		}
	}
	if live {
		st := r.src.Stats()
		fmt.Fprintf(r.env.Stderr, "wsscope: %d packets captured, %d TCP, %d dropped by the kernel\n", st.Packets, st.TCP, st.KernelDrops)
	}
	switch {
	case runErr != nil:
		return r.fail(runErr)
	case writeErr != nil:
		return r.fail(fmt.Errorf("writing output: %w", writeErr))
	}
	return exitOK
}

// open opens the capture source named by -r or -i.
func (r *runner) open(mode outputMode) error {
	c := r.cfg
	opts := capture.Options{Filter: c.filter}
	if c.iface != "" || c.read == "-" {
		// Live and piped captures run serially: a sharded run hands
		// packets on in batches, which would hold records back until a
		// batch fills, and the stdin reader flushes the writers from
		// the reading goroutine. Files use every core (Shards 0).
		c.limits.Shards = 1
	}
	if c.iface != "" {
		src, stop, err := openLive(c, &r.liveFlush)
		if err != nil {
			return err
		}
		r.src, r.name, r.stopLive = src, c.iface, stop
		r.closers = append(r.closers, src.Close)
		return nil
	}
	r.name = c.read
	if c.read == "-" {
		// Output is flushed whenever the capture reader is about to read
		// more of stdin, which may block (tcpdump -w - | wsscope -r -):
		// records appear as their packets arrive.
		r.stdin = &flushingReader{r: r.env.Stdin}
		src, err := capture.OpenReader(r.stdin, "-", opts)
		if err != nil {
			return err
		}
		r.src = src
		r.closers = append(r.closers, src.Close)
		return nil
	}
	// Count the bytes read for the TUI's status bar, or for a progress bar
	// on stderr when it is a terminal that the output does not go to.
	wantProgress := mode == modeTUI ||
		(!c.noProgres && r.env.StderrTTY && (!r.env.StdoutTTY || c.outFile != "" || mode == modeNone))
	if !wantProgress {
		src, err := capture.OpenFile(c.read, opts)
		if err != nil {
			return err
		}
		r.src = src
		r.closers = append(r.closers, src.Close)
		return nil
	}
	f, err := os.Open(c.read)
	if err != nil {
		return err
	}
	r.closers = append(r.closers, f.Close)
	st, err := f.Stat()
	if err != nil {
		return err
	}
	r.progress = &progress{total: st.Size()}
	src, err := capture.OpenReader(&countingReader{r: f, n: &r.progress.done}, c.read, opts)
	if err != nil {
		return err
	}
	r.src = src
	r.closers = append(r.closers, src.Close)
	return nil
}

// guardSink passes records to next, counts messages for -c and stops the
// run (cancel) once the limit is reached or a writer failed.
type guardSink struct {
	next    pipeline.Sink
	writers []export.Writer
	limit   int64
	n       int64
	done    bool
	cancel  context.CancelFunc
	opened  map[uint64]bool // connections whose open was passed on
}

func (g *guardSink) check() {
	for _, w := range g.writers {
		if w.Err() != nil {
			g.done = true
			g.cancel()
		}
	}
}

func (g *guardSink) ConnOpen(c *pipeline.Conn) {
	if !g.done {
		if g.opened == nil {
			g.opened = make(map[uint64]bool)
		}
		g.opened[c.ID] = true
		g.next.ConnOpen(c)
		g.check()
	}
}

func (g *guardSink) Message(c *pipeline.Conn, m *wsdecode.Message) {
	if g.done {
		return
	}
	g.next.Message(c, m)
	g.delivered()
}

// delivered counts a message passed on, stopping the run at the -c limit.
func (g *guardSink) delivered() {
	g.n++
	if g.limit > 0 && g.n >= g.limit {
		g.done = true
		g.cancel()
	}
	g.check()
}

// NewMessageFormatter implements pipeline.MessageFormatter when next does
// (the JSON writer): a sharded pipeline then renders messages in parallel.
func (g *guardSink) NewMessageFormatter() func(dst []byte, m *wsdecode.Message) []byte {
	if f, ok := g.next.(pipeline.MessageFormatter); ok {
		return f.NewMessageFormatter()
	}
	return nil
}

// MessageFormatted is Message for a message rendered ahead.
func (g *guardSink) MessageFormatted(c *pipeline.Conn, m *wsdecode.Message, pre []byte) {
	if g.done {
		return
	}
	g.next.(pipeline.MessageFormatter).MessageFormatted(c, m, pre)
	g.delivered()
}

func (g *guardSink) Anomaly(c *pipeline.Conn, a *pipeline.Anomaly) {
	if !g.done {
		g.next.Anomaly(c, a)
		g.check()
	}
}

func (g *guardSink) ConnEnd(c *pipeline.Conn) {
	// Ends of connections already shown are passed on even after -c, so
	// their summaries (and HAR entries) complete.
	if g.opened[c.ID] {
		delete(g.opened, c.ID)
		g.next.ConnEnd(c)
		g.check()
	}
}

package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// Options configures Run. Zero values take the documented defaults of each
// layer.
type Options struct {
	Reassembly reassembly.Config
	// Decode bounds the WebSocket decoder; its Deflate field is ignored
	// (it comes from each connection's handshake).
	Decode wsdecode.Config
	// Shards is how many goroutines reassemble and decode connections,
	// each taking the connections whose unordered TCP 4-tuple hashes to it
	// (see shard.go). 0 means runtime.GOMAXPROCS(0) (at most MaxShards);
	// 1 runs everything on the calling goroutine, packet by packet, which
	// is what a live capture wants (a sharded run hands packets on in
	// batches and so delays output until a batch fills). Whatever the
	// number, the Sink sees the same calls in the same order unless a
	// global limit (MaxConns, MaxBufferedTotal, which are divided among
	// the shards) is hit or the capture's timestamps step back across an
	// idle timeout (see shard.go).
	Shards int
}

// MaxShards bounds Options.Shards.
const MaxShards = 64

// Stats counts what Run processed.
type Stats struct {
	Capture capture.Stats // as reported by the Source at the end
	// Reassembly sums the shards' counters; MaxBufferedObs is then the sum
	// of each shard's highest (an upper bound of the highest total).
	Reassembly reassembly.Stats
	Packets    uint64 // TCP packets processed
	Bytes      uint64 // TCP payload bytes processed (captured)
	Conns      uint64 // ConnOpen calls (upgrades, refused or not)
	WebSockets uint64 // of those, upgraded
	Messages   uint64 // Message calls
	Anomalies  uint64 // Anomaly calls plus anomalies attached to messages
	Shards     int    // shards used
}

// ctxCheckEvery is how many packets are processed between context checks.
const ctxCheckEvery = 256

// Run reads src until io.EOF, reassembles and decodes every WebSocket
// connection and delivers the results to sink from the calling goroutine.
// It returns the source's error (e.g. a *capture.FormatError) after
// everything read before it was processed and every connection was ended,
// or ctx.Err() when ctx is cancelled (open connections are still ended,
// with reassembly.EndCapture). Same packets → same Sink calls, for any
// opts.Shards (see Options.Shards for the exceptions).
func Run(ctx context.Context, src capture.Source, opts Options, sink Sink) (Stats, error) {
	n := opts.Shards
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	n = min(n, MaxShards)
	if n > 1 {
		return runSharded(ctx, src, opts, n, sink)
	}
	return runSerial(ctx, src, opts, sink)
}

// runSerial is Run on the calling goroutine alone.
func runSerial(ctx context.Context, src capture.Source, opts Options, sink Sink) (Stats, error) {
	d := &deliverer{sink: sink}
	h := &handler{decCfg: opts.Decode, out: d}
	asm := reassembly.New(opts.Reassembly, h)
	last, err := readPackets(ctx, src, &d.stats, func(p *capture.Packet) bool {
		asm.Add(p)
		return true
	})
	if err == nil {
		err = ctx.Err()
	}
	asm.Close(last)
	d.stats.Capture = src.Stats()
	d.stats.Reassembly = asm.Stats()
	d.stats.Shards = 1
	d.captureAnomalies(last)
	return d.stats, err
}

// readPackets reads src until io.EOF, a source error or a cancelled ctx
// (checked every ctxCheckEvery packets), counting every packet in st and
// passing it to add (the packet is the Source's, reused by its next Next);
// add returns false to stop reading. It returns the location of the last
// packet read and the error to report: nil at io.EOF and when add stopped
// the loop, ctx.Err() when a check found ctx cancelled.
func readPackets(ctx context.Context, src capture.Source, st *Stats, add func(*capture.Packet) bool) (last reassembly.Meta, err error) {
	for n := 1; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return last, err
			}
		}
		p, err := src.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return last, err
		}
		st.Packets++
		st.Bytes += uint64(len(p.Payload))
		last = reassembly.Meta{Time: p.Time, Packet: p.Num}
		if !add(p) {
			return last, nil
		}
	}
}

// output receives a handler's results: the deliverer (to the Sink, single
// goroutine) or a shard's recorder (to the merger).
type output interface {
	// open reports a new connection; id is the Assembler's Conn.ID.
	open(pc *Conn, id uint64)
	message(pc *Conn, m *wsdecode.Message)
	anomaly(pc *Conn, a *Anomaly)
	end(pc *Conn, c *reassembly.Conn, why reassembly.EndReason, at reassembly.Meta)
}

// handler implements reassembly.Handler: it runs one wsdecode.Conn per
// WebSocket connection and hands connections, messages and anomalies to
// out. All its state is per connection (reached through reassembly.Conn),
// so that connections can be split among shards, each with its own
// Assembler and handler.
type handler struct {
	decCfg wsdecode.Config
	out    output
	anom   Anomaly // reused for anomalies
	// cur is the connection whose decoder is running (Data, Gap, End), for
	// a shard's recorder to key events it hands over early (chunk).
	cur *reassembly.Conn
}

// connState is one connection's decoder and record; it implements
// wsdecode.Handler.
type connState struct {
	h   *handler
	pc  *Conn
	dec *wsdecode.Conn
}

func (h *handler) Handshake(c *reassembly.Conn, hs *reassembly.Handshake) {
	hc := *hs
	pc := &Conn{
		ID:        c.ID,
		Client:    c.Client,
		Server:    c.Server,
		Handshake: &hc,
		Start:     hs.RequestAt.Time,
		Summary:   Summary{CloseCodes: [2]int{-1, -1}},
	}
	if pc.Start.IsZero() {
		pc.Start = hs.ResponseAt.Time
	}
	cs := &connState{h: h, pc: pc}
	c.User = cs
	var extAnoms []wsdecode.Anomaly
	if hs.Upgraded {
		pc.Deflate, extAnoms = wsdecode.NegotiatedDeflate(hs.AcceptedExtensions)
		cfg := h.decCfg
		cfg.Deflate = pc.Deflate
		cs.dec = wsdecode.NewConn(cfg, cs)
	}
	h.out.open(pc, c.ID)
	for i := range extAnoms {
		a := &extAnoms[i]
		a.Dir = wsdecode.FromServer
		if a.At == (wsdecode.Meta{}) {
			a.At = wsdecode.Meta(hs.ResponseAt)
		}
		cs.Anomaly(a)
	}
}

func state(c *reassembly.Conn) *connState {
	cs, _ := c.User.(*connState)
	return cs
}

func (h *handler) Data(c *reassembly.Conn, d reassembly.Dir, data []byte, at reassembly.Meta) {
	if cs := state(c); cs != nil && cs.dec != nil {
		h.cur = c
		cs.dec.Feed(wsdecode.Dir(d), data, wsdecode.Meta(at))
		h.cur = nil
	}
}

func (h *handler) Gap(c *reassembly.Conn, d reassembly.Dir, n int64, at reassembly.Meta) {
	if cs := state(c); cs != nil && cs.dec != nil {
		h.cur = c
		cs.dec.Gap(wsdecode.Dir(d), n, wsdecode.Meta(at))
		h.cur = nil
	}
}

func (h *handler) Anomaly(c *reassembly.Conn, a reassembly.Anomaly) {
	cs := state(c)
	if cs == nil {
		return
	}
	h.anom = Anomaly{
		Code:     a.Code,
		Detail:   a.Detail,
		Severity: a.Severity,
		From:     wsdecode.Dir(a.Dir).String(),
		Packet:   a.At.Packet,
		Time:     a.At.Time,
	}
	if a.Both {
		h.anom.From = ""
	}
	h.out.anomaly(cs.pc, &h.anom)
}

func (h *handler) End(c *reassembly.Conn, why reassembly.EndReason, at reassembly.Meta) {
	cs := state(c)
	if cs == nil {
		return
	}
	if cs.dec != nil {
		h.cur = c
		cs.dec.Close(wsdecode.Meta(at))
		h.cur = nil
		cs.dec = nil
	}
	h.out.end(cs.pc, c, why, at)
	c.User = nil
}

// Message implements wsdecode.Handler.
func (cs *connState) Message(m *wsdecode.Message) { cs.h.out.message(cs.pc, m) }

// Anomaly implements wsdecode.Handler.
func (cs *connState) Anomaly(a *wsdecode.Anomaly) {
	h := cs.h
	h.anom = Anomaly{
		Code:     a.Code,
		Detail:   a.Detail,
		Severity: Severity(a.Code),
		From:     a.Dir.String(),
		Packet:   a.At.Packet,
		Time:     a.At.Time,
	}
	h.out.anomaly(cs.pc, &h.anom)
}

// deliverer keeps the Summary of each Conn and the Stats, and calls the
// Sink. It is used from one goroutine: the serial run's, or the merger of
// a sharded run.
type deliverer struct {
	sink    Sink
	fmtSink MessageFormatter // sink, when shards render messages for it
	stats   Stats
	anom    Anomaly  // for capture-level anomalies
	keys    keyReuse // Sec-WebSocket-Key reuse across connections (security.go)
}

func (d *deliverer) open(pc *Conn, id uint64) {
	pc.ID = id
	if pc.Handshake.Upgraded {
		d.stats.WebSockets++
	}
	d.stats.Conns++
	d.sink.ConnOpen(pc)
	if a, ok := d.keys.check(pc); ok {
		d.anomaly(pc, &a)
	}
}

func (d *deliverer) message(pc *Conn, m *wsdecode.Message) {
	d.count(pc, m)
	d.sink.Message(pc, m)
}

// messageFormatted is message for one rendered by a MessageFormatter.
func (d *deliverer) messageFormatted(pc *Conn, m *wsdecode.Message, pre []byte) {
	d.count(pc, m)
	d.fmtSink.MessageFormatted(pc, m, pre)
}

// count updates the Summary and Stats for a message.
func (d *deliverer) count(pc *Conn, m *wsdecode.Message) {
	s := &pc.Summary
	dir := m.Dir & 1
	s.Messages[dir]++
	s.Bytes[dir] += uint64(m.Len)
	s.WireBytes[dir] += uint64(m.WireLen)
	if m.Opcode == wsdecode.OpClose {
		s.CloseCodes[dir] = 0
		if m.HasCloseCode {
			s.CloseCodes[dir] = int(m.CloseCode)
		}
	}
	s.Anomalies += uint64(len(m.Anomalies))
	d.stats.Anomalies += uint64(len(m.Anomalies))
	d.stats.Messages++
}

func (d *deliverer) anomaly(pc *Conn, a *Anomaly) {
	d.stats.Anomalies++
	if pc != nil {
		pc.Summary.Anomalies++
	}
	d.sink.Anomaly(pc, a)
}

func (d *deliverer) end(pc *Conn, _ *reassembly.Conn, why reassembly.EndReason, at reassembly.Meta) {
	s := &pc.Summary
	s.Ended, s.EndReason, s.End = true, why, at.Time
	d.sink.ConnEnd(pc)
}

// captureAnomalies reports capture-level findings (Sink.Anomaly with a nil
// Conn) at the end of the run: connections evicted from a full flow table
// and packets the kernel dropped.
func (d *deliverer) captureAnomalies(at reassembly.Meta) {
	if n := d.stats.Reassembly.Evicted; n > 0 {
		d.anom = Anomaly{Code: reassembly.CodeLimit, Severity: "warning", Packet: at.Packet, Time: at.Time,
			Detail: fmt.Sprintf("%d connections evicted because the flow table was full (MaxConns)", n)}
		d.anomaly(nil, &d.anom)
	}
	if n := d.stats.Capture.KernelDrops; n > 0 {
		d.anom = Anomaly{Code: CodeKernelDrops, Severity: "warning", Packet: at.Packet, Time: at.Time,
			Detail: fmt.Sprintf("the kernel dropped %d packets: streams may have gaps", n)}
		d.anomaly(nil, &d.anom)
	}
}

// CodeKernelDrops is the capture-level anomaly for packets dropped by the
// kernel during a live capture.
const CodeKernelDrops = "kernel-drops"

package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"

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
}

// Stats counts what Run processed.
type Stats struct {
	Capture    capture.Stats    // as reported by the Source at the end
	Reassembly reassembly.Stats // TCP flows, gaps, conflicts, limits
	Packets    uint64           // TCP packets processed
	Bytes      uint64           // TCP payload bytes processed (captured)
	Conns      uint64           // ConnOpen calls (upgrades, refused or not)
	WebSockets uint64           // of those, upgraded
	Messages   uint64           // Message calls
	Anomalies  uint64           // Anomaly calls plus anomalies attached to messages
}

// ctxCheckEvery is how many packets are processed between context checks.
const ctxCheckEvery = 256

// Run reads src until io.EOF, reassembles and decodes every WebSocket
// connection and delivers the results to sink, all from the calling
// goroutine. It returns the source's error (e.g. a *capture.FormatError)
// after everything read before it was processed and every connection was
// ended, or ctx.Err() when ctx is cancelled (open connections are still
// ended, with reassembly.EndCapture). Same packets → same Sink calls.
func Run(ctx context.Context, src capture.Source, opts Options, sink Sink) (Stats, error) {
	r := &runner{sink: sink, decCfg: opts.Decode}
	asm := reassembly.New(opts.Reassembly, r)
	var (
		err  error
		last reassembly.Meta
		n    int
	)
	for {
		if n++; n%ctxCheckEvery == 0 {
			if e := ctx.Err(); e != nil {
				err = e
				break
			}
		}
		p, e := src.Next()
		if e != nil {
			if !errors.Is(e, io.EOF) {
				err = e
			}
			break
		}
		r.stats.Packets++
		r.stats.Bytes += uint64(len(p.Payload))
		last = reassembly.Meta{Time: p.Time, Packet: p.Num}
		asm.Add(p)
	}
	if err == nil {
		err = ctx.Err()
	}
	asm.Close(last)
	r.stats.Capture = src.Stats()
	r.stats.Reassembly = asm.Stats()
	r.captureAnomalies(last)
	return r.stats, err
}

// runner implements reassembly.Handler and turns its calls into Sink calls.
//
// All per-connection state (reassembly flows, wsdecode.Conn, the *Conn
// record) is reached only through its own connection, so the work can later
// be sharded by a hash of the unordered 4-tuple across goroutines (issue 6),
// each with its own Assembler, with the Sink calls merged back in packet
// order to keep the output deterministic.
type runner struct {
	sink   Sink
	decCfg wsdecode.Config
	stats  Stats
	anom   Anomaly // reused for Sink.Anomaly calls
}

// connState is one connection's decoder and record; it implements
// wsdecode.Handler.
type connState struct {
	r   *runner
	pc  *Conn
	dec *wsdecode.Conn
}

func (r *runner) Handshake(c *reassembly.Conn, hs *reassembly.Handshake) {
	h := *hs
	pc := &Conn{
		ID:        c.ID,
		Client:    c.Client,
		Server:    c.Server,
		Handshake: &h,
		Start:     hs.RequestAt.Time,
		Summary:   Summary{CloseCodes: [2]int{-1, -1}},
	}
	if pc.Start.IsZero() {
		pc.Start = hs.ResponseAt.Time
	}
	cs := &connState{r: r, pc: pc}
	c.User = cs
	var extAnoms []wsdecode.Anomaly
	if hs.Upgraded {
		pc.Deflate, extAnoms = wsdecode.NegotiatedDeflate(hs.AcceptedExtensions)
		cfg := r.decCfg
		cfg.Deflate = pc.Deflate
		cs.dec = wsdecode.NewConn(cfg, cs)
		r.stats.WebSockets++
	}
	r.stats.Conns++
	r.sink.ConnOpen(pc)
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

func (r *runner) Data(c *reassembly.Conn, d reassembly.Dir, data []byte, at reassembly.Meta) {
	if cs := state(c); cs != nil && cs.dec != nil {
		cs.dec.Feed(wsdecode.Dir(d), data, wsdecode.Meta(at))
	}
}

func (r *runner) Gap(c *reassembly.Conn, d reassembly.Dir, n int64, at reassembly.Meta) {
	if cs := state(c); cs != nil && cs.dec != nil {
		cs.dec.Gap(wsdecode.Dir(d), n, wsdecode.Meta(at))
	}
}

func (r *runner) Anomaly(c *reassembly.Conn, a reassembly.Anomaly) {
	cs := state(c)
	if cs == nil {
		return
	}
	r.anom = Anomaly{
		Code:     a.Code,
		Detail:   a.Detail,
		Severity: a.Severity,
		From:     wsdecode.Dir(a.Dir).String(),
		Packet:   a.At.Packet,
		Time:     a.At.Time,
	}
	if a.Both {
		r.anom.From = ""
	}
	r.emitAnomaly(cs.pc)
}

func (r *runner) emitAnomaly(pc *Conn) {
	r.stats.Anomalies++
	if pc != nil {
		pc.Summary.Anomalies++
	}
	r.sink.Anomaly(pc, &r.anom)
}

func (r *runner) End(c *reassembly.Conn, why reassembly.EndReason, at reassembly.Meta) {
	cs := state(c)
	if cs == nil {
		return
	}
	if cs.dec != nil {
		cs.dec.Close(wsdecode.Meta(at))
		cs.dec = nil
	}
	s := &cs.pc.Summary
	s.Ended, s.EndReason, s.End = true, why, at.Time
	r.sink.ConnEnd(cs.pc)
	c.User = nil
}

// Message implements wsdecode.Handler.
func (cs *connState) Message(m *wsdecode.Message) {
	r := cs.r
	s := &cs.pc.Summary
	d := m.Dir & 1
	s.Messages[d]++
	s.Bytes[d] += uint64(m.Len)
	s.WireBytes[d] += uint64(m.WireLen)
	if m.Opcode == wsdecode.OpClose {
		s.CloseCodes[d] = 0
		if m.HasCloseCode {
			s.CloseCodes[d] = int(m.CloseCode)
		}
	}
	s.Anomalies += uint64(len(m.Anomalies))
	r.stats.Anomalies += uint64(len(m.Anomalies))
	r.stats.Messages++
	r.sink.Message(cs.pc, m)
}

// Anomaly implements wsdecode.Handler.
func (cs *connState) Anomaly(a *wsdecode.Anomaly) {
	r := cs.r
	r.anom = Anomaly{
		Code:     a.Code,
		Detail:   a.Detail,
		Severity: Severity(a.Code),
		From:     a.Dir.String(),
		Packet:   a.At.Packet,
		Time:     a.At.Time,
	}
	r.emitAnomaly(cs.pc)
}

// captureAnomalies reports capture-level findings (Sink.Anomaly with a nil
// Conn) at the end of the run: connections evicted from a full flow table
// and packets the kernel dropped.
func (r *runner) captureAnomalies(at reassembly.Meta) {
	if n := r.stats.Reassembly.Evicted; n > 0 {
		r.anom = Anomaly{Code: reassembly.CodeLimit, Severity: "warning", Packet: at.Packet, Time: at.Time,
			Detail: fmt.Sprintf("%d connections evicted because the flow table was full (MaxConns)", n)}
		r.emitAnomaly(nil)
	}
	if n := r.stats.Capture.KernelDrops; n > 0 {
		r.anom = Anomaly{Code: CodeKernelDrops, Severity: "warning", Packet: at.Packet, Time: at.Time,
			Detail: fmt.Sprintf("the kernel dropped %d packets: streams may have gaps", n)}
		r.emitAnomaly(nil)
	}
}

// CodeKernelDrops is the capture-level anomaly for packets dropped by the
// kernel during a live capture.
const CodeKernelDrops = "kernel-drops"

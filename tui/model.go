package tui

import (
	"net/netip"
	"sync"
	"time"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// Default limits of a Model (see ModelOptions).
const (
	DefaultMaxPayloadPerMessage = 64 << 20   // payload kept per message (the decoder's default message limit)
	DefaultMaxSpill             = 16 << 30   // detail records (payloads) kept in the spill file in all
	DefaultMaxPayloadTotal      = 256 << 20  // the same, in memory, when no spill file can be created
	DefaultMaxMessages          = 16_000_000 // messages listed (40 B each in memory: 640 MB at most)
	DefaultMaxFramesPerMessage  = 1024       // frame headers kept per message (in the spill)
	DefaultMaxAnomalies         = 200_000    // anomalies kept (all are counted)
	DefaultMaxConnAnomalies     = 1_000      // anomalies listed per connection
)

// ModelOptions bounds what a Model keeps. Zero values take the documented
// defaults; everything past a limit is still counted (connection summaries,
// status bar) but not kept for display.
//
// Per message, memory holds a fixed 40-byte index record (msgRec); frame
// headers and payload bytes go to an append-only spill file on disk
// (spill.go, detail.go), read back on demand. Payloads are cut to
// MaxPayloadPerMessage; once the spill holds MaxSpill bytes (or
// MaxPayloadTotal when it had to be kept in memory), later messages are
// listed without their details; a message whose payload was cut or not
// kept says so in its detail view.
type ModelOptions struct {
	MaxPayloadPerMessage int    // default 64 MiB
	MaxSpill             int64  // default 16 GiB (spill file)
	MaxPayloadTotal      int64  // default 256 MiB (in-memory fallback)
	MaxMessages          int    // default 16,000,000; at most 1<<31-1
	MaxFramesPerMessage  int    // default 1024
	MaxAnomalies         int    // default 200,000
	SpillDir             string // directory of the spill file; "" = os.TempDir()
}

func (o *ModelOptions) defaults() {
	if o.MaxPayloadPerMessage <= 0 {
		o.MaxPayloadPerMessage = DefaultMaxPayloadPerMessage
	}
	o.MaxPayloadPerMessage = min(o.MaxPayloadPerMessage, 1<<31)
	if o.MaxSpill <= 0 {
		o.MaxSpill = DefaultMaxSpill
	}
	if o.MaxPayloadTotal <= 0 {
		o.MaxPayloadTotal = DefaultMaxPayloadTotal
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = DefaultMaxMessages
	}
	o.MaxMessages = min(o.MaxMessages, 1<<31-1)
	if o.MaxFramesPerMessage <= 0 {
		o.MaxFramesPerMessage = DefaultMaxFramesPerMessage
	}
	o.MaxFramesPerMessage = min(o.MaxFramesPerMessage, 0xffff)
	if o.MaxAnomalies <= 0 {
		o.MaxAnomalies = DefaultMaxAnomalies
	}
}

// Message flags (msgRec.flags).
const (
	fServer      uint8 = 1 << iota // server→client
	fCompressed                    // permessage-deflate / deflate-frame
	fMasked                        // every frame masked
	fIncomplete                    // bytes lost (gap)
	fTruncated                     // decoder limit hit
	fAnom                          // the message has anomalies
	fPayloadCut                    // payload cut by MaxPayloadPerMessage
	fPayloadGone                   // payload not kept (spill limit or error)
)

// Saturation values of msgRec's narrow fields: the exact value is in the
// detail record.
const (
	maxLen32    = 1<<32 - 1
	maxFrames16 = 1<<16 - 1
)

// msgRec is the compact, immutable index record of one message: what the
// messages pane, the filter and jump-to-packet need without reading the
// spill. 40 bytes, no pointers (its blocks live off the Go heap, see
// offheap_unix.go). Once appended to Model.msgs it is never modified, so
// the UI may read it without the lock through a snapshot.
type msgRec struct {
	t      int64  // first byte, Unix nanoseconds
	pkt0   uint64 // first packet
	off    uint64 // spill offset of the detail record; noDetail if none
	length uint32 // payload length after decompression, saturated at maxLen32
	conn   uint32 // index into Model.conns
	pktN   uint32 // last packet - first packet, saturated
	frames uint16 // frames the message was made of, saturated at maxFrames16
	op     uint8
	flags  uint8
}

func (r *msgRec) dir() uint8 {
	if r.flags&fServer != 0 {
		return 1
	}
	return 0
}

// pkt1 is the last packet (a lower bound when pktN is saturated).
func (r *msgRec) pkt1() uint64 { return r.pkt0 + uint64(r.pktN) }

// frameRec is a compact copy of wsdecode.Frame.
type frameRec struct {
	payLen    uint64
	pkt0      uint64
	pkt1      uint64
	key       [4]byte
	rsv       uint8
	op        uint8
	headerLen uint8
	fin       bool
	masked    bool
}

// anomRec is one anomaly, from a message or from the connection or capture.
type anomRec struct {
	code, detail, severity string
	from                   string // "client", "server" or ""
	pkt                    uint64
	t                      int64
	conn                   int32 // -1: capture-level
	msg                    int32 // -1: not tied to a message
}

// connRec is the model's copy of one pipeline.Conn, refreshed at every Sink
// call under the model's lock.
type connRec struct {
	id             uint64
	client, server netip.AddrPort
	hs             *reassembly.Handshake // deep copy, nil until known
	deflate        wsdecode.Deflate
	start          time.Time
	sum            pipeline.Summary
	msgs           uint64   // messages listed for this connection
	anoms          []uint32 // indexes into Model.anoms (connection-level), capped
	anomCount      uint64   // anomalies of this connection seen by the model
}

// Model is the TUI's data model. It implements pipeline.Sink and is safe for
// concurrent use: Sink methods may be called from the analysis goroutine while
// the UI reads it. It copies everything it keeps; nothing passed to a Sink
// method is retained except the *pipeline.Conn identity (used as a map key).
type Model struct {
	opts ModelOptions

	mu      sync.Mutex
	version uint64 // bumped at every change

	conns  []*connRec
	byConn map[*pipeline.Conn]uint32
	byID   map[uint64]uint32

	msgs    chunked[msgRec]
	anoms   chunked[anomRec]
	sp      *spill     // created with the first message
	scratch []byte     // detail header being encoded
	frames  []frameRec // frames being encoded
	closed  bool

	first      int64 // earliest time seen (Unix ns), 0 if none
	totalMsgs  uint64
	droppedMsg uint64 // messages not listed (MaxMessages)
	totalAnoms uint64
}

// NewModel returns an empty model bounded by opts.
func NewModel(opts ModelOptions) *Model {
	opts.defaults()
	return &Model{
		opts:   opts,
		byConn: make(map[*pipeline.Conn]uint32),
		byID:   make(map[uint64]uint32),
		msgs:   chunked[msgRec]{alloc: allocMsgBlock},
	}
}

// Close releases the spill file and the message index. Call it once the
// UI (Run) has returned and nothing feeds the model any more; the model
// must not be used after.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var err error
	if m.sp != nil {
		err = m.sp.close()
	}
	freeMsgBlocks(m.msgs.blocks)
	m.msgs = chunked[msgRec]{}
	return err
}

// SpillErr returns the spill's first error ("" if none): the file could
// not be created (payloads are then kept in memory, capped) or a write
// failed (later messages are listed without payload).
func (m *Model) SpillErr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sp == nil {
		return ""
	}
	m.sp.mu.Lock()
	defer m.sp.mu.Unlock()
	if m.sp.err == nil {
		return ""
	}
	return m.sp.err.Error()
}

var _ pipeline.Sink = (*Model)(nil)

// ConnOpen implements pipeline.Sink.
func (m *Model) ConnOpen(c *pipeline.Conn) {
	m.mu.Lock()
	m.connLocked(c)
	m.version++
	m.mu.Unlock()
}

// ConnEnd implements pipeline.Sink.
func (m *Model) ConnEnd(c *pipeline.Conn) {
	m.mu.Lock()
	m.connLocked(c)
	m.version++
	m.mu.Unlock()
}

// connLocked finds or creates the record of c and refreshes it from c.
func (m *Model) connLocked(c *pipeline.Conn) uint32 {
	i, ok := m.byConn[c]
	if !ok {
		i = uint32(len(m.conns))
		m.conns = append(m.conns, &connRec{})
		m.byConn[c] = i
		m.byID[c.ID] = i
	}
	r := m.conns[i]
	r.id = c.ID
	r.client, r.server = c.Client, c.Server
	r.deflate = c.Deflate
	r.start = c.Start
	r.sum = c.Summary
	if c.Handshake != nil && (r.hs == nil || !ok || r.hs.Status != c.Handshake.Status) {
		r.hs = copyHandshake(c.Handshake)
	}
	if !c.Start.IsZero() {
		m.seeTime(c.Start.UnixNano())
	}
	return i
}

func (m *Model) seeTime(t int64) {
	if t != 0 && (m.first == 0 || t < m.first) {
		m.first = t
	}
}

func copyHandshake(h *reassembly.Handshake) *reassembly.Handshake {
	c := *h
	c.RequestHeaders = append([]reassembly.Header(nil), h.RequestHeaders...)
	c.ResponseHeaders = append([]reassembly.Header(nil), h.ResponseHeaders...)
	c.Protocols = append([]string(nil), h.Protocols...)
	c.Extensions = append([]string(nil), h.Extensions...)
	c.AcceptedExtensions = append([]string(nil), h.AcceptedExtensions...)
	return &c
}

// Message implements pipeline.Sink. It copies what it keeps of msg: the
// index record in memory, the detail record (frames, payload) to the spill.
func (m *Model) Message(c *pipeline.Conn, msg *wsdecode.Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ci, ok := m.byConn[c]
	if ok {
		// Known connection: only its counters move between ConnOpen and
		// ConnEnd (which refresh the rest).
		m.conns[ci].sum = c.Summary
	} else {
		ci = m.connLocked(c)
	}
	m.version++
	m.totalMsgs++
	m.totalAnoms += uint64(len(msg.Anomalies))
	cr := m.conns[ci]
	cr.anomCount += uint64(len(msg.Anomalies))
	if m.msgs.len() >= m.opts.MaxMessages || m.closed {
		m.droppedMsg++
		return
	}
	r := msgRec{
		t:      unixNano(msg.First.Time),
		pkt0:   msg.First.Packet,
		length: uint32(min(max(msg.Len, 0), maxLen32)),
		conn:   ci,
		pktN:   uint32(min(msg.Last.Packet-min(msg.Last.Packet, msg.First.Packet), maxLen32)),
		frames: uint16(min(len(msg.Frames), maxFrames16)),
		op:     uint8(msg.Opcode),
	}
	m.seeTime(r.t)
	if msg.Dir == wsdecode.FromServer {
		r.flags |= fServer
	}
	if msg.Compressed {
		r.flags |= fCompressed
	}
	if msg.Masked {
		r.flags |= fMasked
	}
	if msg.Incomplete {
		r.flags |= fIncomplete
	}
	if msg.Truncated {
		r.flags |= fTruncated
	}
	d := msgDetail{
		tLast: unixNano(msg.Last.Time), length: msg.Len, wire: msg.WireLen, pkt1: msg.Last.Packet,
		nFrames: uint32(len(msg.Frames)), close: msg.CloseCode, hasClose: msg.HasCloseCode,
	}
	d.anom0 = uint32(m.anoms.len())
	for i := range msg.Anomalies {
		if m.anoms.len() >= m.opts.MaxAnomalies || i >= 0xffff {
			break
		}
		a := &msg.Anomalies[i]
		m.anoms.add(anomRec{
			code: a.Code, detail: a.Detail, from: a.Dir.String(),
			pkt: a.At.Packet, t: unixNano(a.At.Time),
			conn: int32(ci), msg: int32(m.msgs.len()),
		})
		d.nAnom++
	}
	if len(msg.Anomalies) > 0 {
		r.flags |= fAnom
	}
	m.writeDetailLocked(&r, &d, msg)
	cr.msgs++
	m.msgs.add(r)
}

// writeDetailLocked appends the detail record of msg to the spill and sets
// r.off (noDetail if it did not fit).
func (m *Model) writeDetailLocked(r *msgRec, d *msgDetail, msg *wsdecode.Message) {
	r.off = noDetail
	if m.sp == nil {
		m.sp = newSpill(m.opts.SpillDir, m.opts.MaxSpill, m.opts.MaxPayloadTotal)
	}
	p := msg.Payload
	if len(p) > m.opts.MaxPayloadPerMessage {
		p = p[:m.opts.MaxPayloadPerMessage]
		r.flags |= fPayloadCut
	}
	k := min(len(msg.Frames), m.opts.MaxFramesPerMessage)
	d.kFrames = uint16(k)
	fr := m.frames[:0]
	for i := range k {
		f := &msg.Frames[i]
		fr = append(fr, frameRec{
			payLen: f.PayloadLen, pkt0: f.First.Packet, pkt1: f.Last.Packet,
			key: f.MaskKey, rsv: f.Rsv, op: uint8(f.Opcode), headerLen: uint8(f.HeaderLen),
			fin: f.Fin, masked: f.Masked,
		})
	}
	m.frames, d.frames = fr, fr
	d.payN = uint32(len(p))
	m.scratch = encodeDetailHeader(m.scratch[:0], r, d)
	if !m.sp.reserve(len(m.scratch) + len(p)) {
		if len(p) > 0 || msg.Len > 0 {
			r.flags |= fPayloadGone
		}
		p, d.payN = nil, 0
		m.scratch = encodeDetailHeader(m.scratch[:0], r, d)
		if !m.sp.reserve(len(m.scratch)) {
			return
		}
	}
	if len(p) <= 4096 {
		m.scratch = append(m.scratch, p...)
		r.off = uint64(m.sp.append(m.scratch))
		return
	}
	r.off = uint64(m.sp.append(m.scratch))
	m.sp.append(p)
}

// Anomaly implements pipeline.Sink. c is nil for capture-level findings.
func (m *Model) Anomaly(c *pipeline.Conn, a *pipeline.Anomaly) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.version++
	m.totalAnoms++
	ci := int32(-1)
	var cr *connRec
	if c != nil {
		i := m.connLocked(c)
		ci = int32(i)
		cr = m.conns[i]
		cr.anomCount++
	}
	if m.anoms.len() >= m.opts.MaxAnomalies {
		return
	}
	if cr != nil {
		if len(cr.anoms) >= DefaultMaxConnAnomalies {
			return
		}
		cr.anoms = append(cr.anoms, uint32(m.anoms.len()))
	}
	m.anoms.add(anomRec{
		code: a.Code, detail: a.Detail, severity: a.Severity, from: a.From,
		pkt: a.Packet, t: unixNano(a.Time), conn: ci, msg: -1,
	})
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Version returns a counter that changes whenever the model does.
func (m *Model) Version() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version
}

// Counts returns the number of connections, messages (all seen, including
// those past MaxMessages) and anomalies (all seen).
func (m *Model) Counts() (conns int, messages, anomalies uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.conns), m.totalMsgs, m.totalAnoms
}

// snapshot is a consistent, lock-free view of the model's append-only data,
// taken under the lock. Records in it are immutable.
type snapshot struct {
	msgs    chunked[msgRec]
	anoms   chunked[anomRec]
	sp      *spill // nil before the first message
	nConns  int
	first   int64
	total   uint64
	dropped uint64
	anomTot uint64
	version uint64
}

func (m *Model) snapshot() snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return snapshot{
		msgs: m.msgs, anoms: m.anoms, sp: m.sp,
		nConns: len(m.conns), first: m.first, total: m.totalMsgs,
		dropped: m.droppedMsg, anomTot: m.totalAnoms, version: m.version,
	}
}

// msg returns message i (0 ≤ i < s.nMsgs()).
func (s *snapshot) msg(i int) *msgRec { return s.msgs.at(i) }

func (s *snapshot) nMsgs() int { return s.msgs.len() }

// msgAnoms returns a copy of the anomalies kept for a message.
func (s *snapshot) msgAnoms(d *msgDetail) []anomRec {
	if d == nil || d.nAnom == 0 {
		return nil
	}
	return s.anoms.span(int(d.anom0), int(d.nAnom))
}

// connView is a value copy of a connection record for display.
type connView struct {
	idx            int
	id             uint64
	client, server netip.AddrPort
	hs             *reassembly.Handshake // immutable copy
	deflate        wsdecode.Deflate
	start          time.Time
	sum            pipeline.Summary
	msgs           uint64
	anomCount      uint64
	anoms          []anomRec
}

// conn returns a copy of connection i (0-based, in order of appearance).
func (m *Model) conn(i int, withAnoms bool) (connView, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i < 0 || i >= len(m.conns) {
		return connView{}, false
	}
	r := m.conns[i]
	v := connView{
		idx: i, id: r.id, client: r.client, server: r.server, hs: r.hs,
		deflate: r.deflate, start: r.start, sum: r.sum, msgs: r.msgs, anomCount: r.anomCount,
	}
	if withAnoms {
		v.anoms = make([]anomRec, len(r.anoms))
		for j, k := range r.anoms {
			v.anoms[j] = *m.anoms.at(int(k))
		}
	}
	return v, true
}

// captureAnoms returns copies of the capture-level anomalies (at most max).
func (s *snapshot) captureAnoms(max int) []anomRec {
	var out []anomRec
	for i := 0; i < s.anoms.len(); i++ {
		if a := s.anoms.at(i); a.conn < 0 {
			out = append(out, *a)
			if len(out) >= max {
				break
			}
		}
	}
	return out
}

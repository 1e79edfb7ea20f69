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
	DefaultMaxPayloadPerMessage = 16 << 10  // 16 KiB of payload kept per message
	DefaultMaxPayloadTotal      = 256 << 20 // 256 MiB of payload kept in all
	DefaultMaxMessages          = 2_000_000 // messages listed (≈100 B each plus payload)
	DefaultMaxFramesPerMessage  = 64        // frame headers kept per message
	DefaultMaxAnomalies         = 200_000   // anomalies kept (all are counted)
	DefaultMaxConnAnomalies     = 1_000     // anomalies listed per connection
)

// ModelOptions bounds what a Model keeps in memory. Zero values take the
// documented defaults; everything past a limit is still counted (connection
// summaries, status bar) but not kept for display.
//
// Payload bytes are kept in memory for now, cut to MaxPayloadPerMessage per
// message and MaxPayloadTotal in all; a message whose payload was cut or not
// kept says so in its detail view. (Issue 6 will keep payloads on disk as
// offsets instead.)
type ModelOptions struct {
	MaxPayloadPerMessage int   // default 16 KiB
	MaxPayloadTotal      int64 // default 256 MiB
	MaxMessages          int   // default 2,000,000
	MaxFramesPerMessage  int   // default 64
	MaxAnomalies         int   // default 200,000
}

func (o *ModelOptions) defaults() {
	if o.MaxPayloadPerMessage <= 0 {
		o.MaxPayloadPerMessage = DefaultMaxPayloadPerMessage
	}
	if o.MaxPayloadPerMessage > arenaChunk {
		o.MaxPayloadPerMessage = arenaChunk
	}
	if o.MaxPayloadTotal <= 0 {
		o.MaxPayloadTotal = DefaultMaxPayloadTotal
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = DefaultMaxMessages
	}
	if o.MaxFramesPerMessage <= 0 {
		o.MaxFramesPerMessage = DefaultMaxFramesPerMessage
	}
	if o.MaxAnomalies <= 0 {
		o.MaxAnomalies = DefaultMaxAnomalies
	}
}

// Message flags (msgRec.flags).
const (
	fCompressed  uint8 = 1 << iota // permessage-deflate / deflate-frame
	fMasked                        // every frame masked
	fIncomplete                    // bytes lost (gap)
	fTruncated                     // decoder limit hit
	fHasClose                      // close frame with a status code
	fPayloadCut                    // payload cut by MaxPayloadPerMessage
	fPayloadGone                   // payload not kept (MaxPayloadTotal reached)
)

// msgRec is the compact, immutable record of one message. Once appended to
// Model.msgs it is never modified, so the UI may read it without the lock
// through a snapshot.
type msgRec struct {
	t       int64  // first byte, Unix nanoseconds
	tLast   int64  // last byte, Unix nanoseconds
	length  int64  // payload length after decompression
	wire    int64  // bytes on the wire
	pkt0    uint64 // first packet
	pkt1    uint64 // last packet
	pay     uint64 // arena reference: chunk<<32 | offset
	payN    uint32 // payload bytes kept
	conn    uint32 // index into Model.conns
	frame0  uint32 // index into Model.frames
	nFrames uint32 // frames the message was made of (≥ frames kept)
	kFrames uint16 // frames kept
	nAnom   uint16 // anomalies kept for this message
	anom0   uint32 // index into Model.anoms
	close   uint16
	dir     uint8
	op      uint8
	flags   uint8
}

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

// arenaChunk is the size of one payload arena chunk (also the largest
// payload kept per message).
const arenaChunk = 1 << 20

// arena stores kept payload bytes in fixed-size chunks. Chunk slices are
// allocated at full length and never resliced, so bytes already referenced by
// a msgRec are never written again and may be read without the lock.
type arena struct {
	chunks [][]byte
	fill   int // bytes used in the last chunk
	total  int64
}

func (a *arena) put(b []byte) (ref uint64) {
	if len(a.chunks) == 0 || a.fill+len(b) > arenaChunk {
		a.chunks = append(a.chunks, make([]byte, arenaChunk))
		a.fill = 0
		a.total += arenaChunk
	}
	c := len(a.chunks) - 1
	copy(a.chunks[c][a.fill:], b)
	ref = uint64(c)<<32 | uint64(a.fill)
	a.fill += len(b)
	return ref
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

	msgs   chunked[msgRec]
	frames chunked[frameRec]
	anoms  chunked[anomRec]
	pay    arena

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
	}
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

// Message implements pipeline.Sink. It copies what it keeps of msg.
func (m *Model) Message(c *pipeline.Conn, msg *wsdecode.Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ci := m.connLocked(c)
	m.version++
	m.totalMsgs++
	m.totalAnoms += uint64(len(msg.Anomalies))
	cr := m.conns[ci]
	cr.anomCount += uint64(len(msg.Anomalies))
	if m.msgs.len() >= m.opts.MaxMessages {
		m.droppedMsg++
		return
	}
	r := msgRec{
		t:       unixNano(msg.First.Time),
		tLast:   unixNano(msg.Last.Time),
		length:  msg.Len,
		wire:    msg.WireLen,
		pkt0:    msg.First.Packet,
		pkt1:    msg.Last.Packet,
		conn:    ci,
		dir:     uint8(msg.Dir),
		op:      uint8(msg.Opcode),
		nFrames: uint32(len(msg.Frames)),
		close:   msg.CloseCode,
	}
	m.seeTime(r.t)
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
	if msg.HasCloseCode {
		r.flags |= fHasClose
	}
	p := msg.Payload
	if len(p) > m.opts.MaxPayloadPerMessage {
		p = p[:m.opts.MaxPayloadPerMessage]
		r.flags |= fPayloadCut
	}
	if len(p) > 0 {
		if m.pay.total+int64(len(p)) > m.opts.MaxPayloadTotal && (len(m.pay.chunks) == 0 || m.pay.fill+len(p) > arenaChunk) {
			r.flags |= fPayloadGone
		} else {
			r.pay = m.pay.put(p)
			r.payN = uint32(len(p))
		}
	}
	r.frame0 = uint32(m.frames.len())
	for i := range msg.Frames {
		if i >= m.opts.MaxFramesPerMessage {
			break
		}
		f := &msg.Frames[i]
		m.frames.add(frameRec{
			payLen: f.PayloadLen, pkt0: f.First.Packet, pkt1: f.Last.Packet,
			key: f.MaskKey, rsv: f.Rsv, op: uint8(f.Opcode), headerLen: uint8(f.HeaderLen),
			fin: f.Fin, masked: f.Masked,
		})
		r.kFrames++
	}
	r.anom0 = uint32(m.anoms.len())
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
		r.nAnom++
	}
	cr.msgs++
	m.msgs.add(r)
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
	frames  chunked[frameRec]
	anoms   chunked[anomRec]
	chunks  [][]byte
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
		msgs: m.msgs, frames: m.frames, anoms: m.anoms, chunks: m.pay.chunks,
		nConns: len(m.conns), first: m.first, total: m.totalMsgs,
		dropped: m.droppedMsg, anomTot: m.totalAnoms, version: m.version,
	}
}

// payload returns the kept payload bytes of r (read-only).
func (s *snapshot) payload(r *msgRec) []byte {
	if r.payN == 0 {
		return nil
	}
	c, off := r.pay>>32, r.pay&0xffffffff
	return s.chunks[c][off : off+uint64(r.payN) : off+uint64(r.payN)]
}

// msg returns message i (0 ≤ i < s.nMsgs()).
func (s *snapshot) msg(i int) *msgRec { return s.msgs.at(i) }

func (s *snapshot) nMsgs() int { return s.msgs.len() }

// msgFrames returns a copy of the frames kept for r.
func (s *snapshot) msgFrames(r *msgRec) []frameRec {
	return s.frames.span(int(r.frame0), int(r.kFrames))
}

// msgAnoms returns a copy of the anomalies kept for r.
func (s *snapshot) msgAnoms(r *msgRec) []anomRec {
	return s.anoms.span(int(r.anom0), int(r.nAnom))
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

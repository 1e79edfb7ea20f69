package wsdecode

// Parser states of one direction.
const (
	stHeader  = iota // reading a frame header (hdrN bytes buffered)
	stPayload        // reading remaining payload bytes of frame f
	stResync         // searching for a plausible header after a gap
)

// Conn decodes both directions of one WebSocket connection. It is not safe for
// concurrent use.
type Conn struct {
	cfg Config
	h   Handler
	s   [2]stream
	msg Message   // handed to Handler.Message (one at a time)
	mk  maskStats // client masking keys (maskkey.go)
}

// stream is the decoder state of one direction.
type stream struct {
	c   *Conn
	dir Dir

	state   int
	hdr     [maxHeaderLen]byte
	hdrN    int
	hdrMeta Meta

	f          Frame // current frame
	remaining  uint64
	phase      int       // masking key phase of the next payload byte
	cur        *assembly // where the current frame's payload goes
	frameZ     bool      // deflate-frame: this frame is compressed
	frameCtxOK bool      // deflate-frame: history intact when it started

	data assembly // data message (possibly fragmented)
	ctrl assembly // control or reserved-opcode frame

	closed     bool // a close frame was seen
	afterClose bool // data-after-close reported
	ctxLost    bool // inflate history lost (gap, failure) under takeover
	window     []byte

	// resynchronisation
	skipped    int64
	resyncAt   Meta
	resyncCont bool // a fragmented message was cut: continuations are resync points
	carry      [carryMax]byte
	carryN     int
	carryMeta  Meta

	// confirmation of a resynchronised position (see confirm.go)
	guess    bool   // decoding from a position found by search, unconfirmed
	links    int    // consecutive links since the guess (or the last non-link)
	chainN   int    // headers decoded since the guess
	viol     uint64 // anomalies counted as evidence against the position
	violMark uint64 // viol after the previous header was checked
	curOK    bool   // the current frame can be a link (clean header, payload)
	curSum   uint64 // FNV-1a of the current frame's wire bytes so far
	lastSum  uint64 // FNV-1a of the previous frame's wire bytes

	sanom   Anomaly
	scratch []byte // allocated on first use (see scratchBuf)
}

type nopHandler struct{}

func (nopHandler) Message(*Message) {}
func (nopHandler) Anomaly(*Anomaly) {}

// NewConn returns a decoder for one connection whose handshake negotiated
// cfg. Zero limits in cfg take the defaults (see limits.go). A nil h
// discards the output.
func NewConn(cfg Config, h Handler) *Conn {
	if h == nil {
		h = nopHandler{}
	}
	c := &Conn{cfg: cfg.withDefaults(), h: h}
	for d := range c.s {
		c.s[d].c = c
		c.s[d].dir = Dir(d)
	}
	return c
}

// Feed hands the decoder the next bytes of direction dir, in stream order.
// at is the capture position of the packet that carried them. data is owned
// by the caller and not retained after Feed returns. Messages and anomalies
// completed by these bytes are delivered to the Handler before Feed returns.
func (c *Conn) Feed(dir Dir, data []byte, at Meta) {
	c.s[dir&1].feed(data, at)
}

// Gap tells the decoder that n bytes of direction dir were lost at this point
// of the stream (never captured, or cut by the snaplen).
//
// A gap inside a frame payload of known length is skipped: the message is
// marked Incomplete (with a gap anomaly), later bytes of it are consumed but
// not kept, and decoding continues at the next header. Otherwise the message
// in progress is emitted Incomplete and the decoder searches for the next
// plausible frame header (see plausible), reporting the skipped bytes;
// messages decoded from there carry resync-guess until the position is
// confirmed (see the package documentation). Under
// context takeover the inflate history of the direction is lost for good
// (unless the gap lay inside an uncompressed frame's payload): later
// compressed messages are marked deflate-context-lost, not inflated.
func (c *Conn) Gap(dir Dir, n int64, at Meta) {
	if n > 0 {
		c.s[dir&1].gap(n, at)
	}
}

// Close ends both streams: partial messages are emitted marked Incomplete
// (truncated-stream), and bytes skipped while resynchronising are reported.
// The Conn is not meant to be fed after Close.
func (c *Conn) Close(at Meta) {
	for d := range c.s {
		c.s[d].end(at)
	}
	c.mk.report(c.h)
}

func (s *stream) feed(data []byte, at Meta) {
	for len(data) > 0 {
		switch s.state {
		case stHeader:
			if s.hdrN == 0 {
				s.hdrMeta = at
				if len(data) >= 2 {
					if need := headerLen(data[0], data[1]); len(data) >= need {
						// Fast path: the whole header is in this chunk.
						s.beginFrame(data[:need], at)
						data = data[need:]
						continue
					}
				}
			}
			if s.hdrN < 2 {
				k := copy(s.hdr[s.hdrN:2], data)
				s.hdrN += k
				data = data[k:]
				if s.hdrN < 2 {
					continue
				}
			}
			need := headerLen(s.hdr[0], s.hdr[1])
			k := copy(s.hdr[s.hdrN:need], data)
			s.hdrN += k
			data = data[k:]
			if s.hdrN == need {
				s.beginFrame(s.hdr[:need], at)
			}
		case stPayload:
			n := len(data)
			if uint64(n) > s.remaining {
				n = int(s.remaining)
			}
			s.payload(data[:n], at)
			s.remaining -= uint64(n)
			data = data[n:]
			if s.remaining == 0 {
				s.endFrame(at)
			}
		case stResync:
			data = s.resync(data, at)
		}
	}
}

// beginFrame handles a complete frame header h whose first byte arrived in
// the packet s.hdrMeta and last byte in at.
func (s *stream) beginFrame(h []byte, at Meta) {
	v0 := s.viol
	f := &s.f
	nonMin := parseHeader(h, f)
	f.First, f.Last = s.hdrMeta, at
	hm := s.hdrMeta
	s.hdrN = 0
	s.phase = 0
	s.remaining = f.PayloadLen
	s.frameZ = false
	op := f.Opcode
	if s.closed && !s.afterClose {
		s.afterClose = true
		s.streamAnomaly(hm, CodeDataAfterClose, "frame (opcode %#x) after this direction's close frame", uint8(op))
	}
	if f.PayloadLen>>63 != 0 {
		s.streamAnomaly(hm, CodeLengthTopBit, "64-bit payload length %#x has its most significant bit set (RFC 6455 §5.2); resynchronising", f.PayloadLen)
		s.abort(at, CodeLengthTopBit, 0)
		s.startResync(hm, int64(len(h)))
		return
	}

	var a *assembly
	switch {
	case isControl(op) || !isKnownOpcode(op):
		a = &s.ctrl
		s.startMsg(a, op, hm)
	case op == OpContinuation:
		a = &s.data
		if !a.active {
			s.startMsg(a, op, hm)
			s.addAnomaly(a, hm, CodeOrphanContinuation, "continuation frame without a message in progress")
		}
	default:
		a = &s.data
		if a.active {
			s.addAnomaly(a, hm, CodeInterruptedMessage, "new data frame (opcode %#x) before this fragmented message's final frame", uint8(op))
			a.holed, a.incomplete, a.utf8Partial = true, true, true // its FIN never came
			s.finish(a)
		}
		s.startMsg(a, op, hm)
	}
	s.cur = a
	a.wire += int64(f.HeaderLen) + int64(min(f.PayloadLen, 1<<62))
	a.masked = a.masked && f.Masked

	if !isKnownOpcode(op) {
		s.addAnomaly(a, hm, CodeReservedOpcode, "reserved opcode %#x", uint8(op))
	}
	if isControl(op) {
		if !f.Fin {
			s.addAnomaly(a, hm, CodeFragmentedControl, "control frame (opcode %#x) without FIN", uint8(op))
		}
		if f.PayloadLen > maxControlPayload {
			s.addAnomaly(a, hm, CodeControlTooLong, "control frame payload of %d bytes (max 125)", f.PayloadLen)
		}
	}
	if nonMin {
		s.addAnomaly(a, hm, CodeNonMinimalLength, "payload length %d encoded in %d bytes", f.PayloadLen, f.HeaderLen-2-4*b2i(f.Masked))
	}
	if s.dir == FromClient {
		if !f.Masked {
			s.addAnomaly(a, hm, CodeUnmaskedClient, "client frame not masked (RFC 6455 §5.3)")
		} else if !s.guess {
			s.c.mk.see(&f.MaskKey, &hm)
		}
	}
	if s.dir == FromServer && f.Masked {
		s.addAnomaly(a, hm, CodeMaskedServer, "server frame masked (RFC 6455 §5.1)")
	}
	if f.Rsv&0x3 != 0 {
		s.addAnomaly(a, hm, CodeUnexpectedRSV, "RSV2/RSV3 set (%#x); no negotiated extension defines them", f.Rsv)
	}
	if f.Rsv&0x4 != 0 {
		mode := s.c.cfg.Deflate.Mode
		switch {
		case mode == DeflateNone:
			s.addAnomaly(a, hm, CodeUnexpectedRSV, "RSV1 set without a negotiated extension")
		case isControl(op) || !isKnownOpcode(op):
			s.addAnomaly(a, hm, CodeUnexpectedRSV, "RSV1 set on a control frame")
		case mode == PerMessageDeflate && op == OpContinuation:
			s.addAnomaly(a, hm, CodeUnexpectedRSV, "RSV1 set on a continuation frame (RFC 7692 §6.1)")
		case mode == PerMessageDeflate:
			a.compressed = true
			a.anyCompressed = true
		default: // deflate-frame: per frame
			s.frameZ = true
			s.frameCtxOK = !s.ctxLost
			a.anyCompressed = true
		}
	}
	s.chainHeader(h, a, hm, v0)
	if s.remaining == 0 {
		s.endFrame(at)
	} else {
		s.state = stPayload
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// payload handles the next bytes of the current frame's payload.
func (s *stream) payload(p []byte, at Meta) {
	a := s.cur
	if s.guess {
		s.curSum = fnv(s.curSum, p)
	}
	if a.holed {
		s.phase = (s.phase + len(p)) & 3
		return
	}
	if a.compressed || s.frameZ {
		s.appendZ(a, p, at)
	} else {
		s.appendPlain(a, p, at)
	}
}

// endFrame completes the current frame; its last byte arrived in at.
func (s *stream) endFrame(at Meta) {
	s.state = stHeader
	s.hdrN = 0
	a := s.cur
	s.f.Last = at
	a.last = at
	if len(a.frames) < s.c.cfg.MaxFramesPerMessage {
		a.frames = append(a.frames, s.f)
	} else if !a.framesCut {
		a.framesCut = true
		s.addAnomaly(a, at, CodeTooManyFrames, "more than %d frames; further frame headers not recorded", s.c.cfg.MaxFramesPerMessage)
	}
	if s.frameZ {
		s.frameZ = false
		if len(a.zbuf) > 0 || !a.holed {
			s.inflateData(a, at, s.frameCtxOK)
		}
	}
	if a == &s.ctrl || s.f.Fin {
		s.finish(a)
	}
}

// abort ends the frame and messages in progress because bytes were lost (a
// gap running past the current frame, code gap) or the stream ended (code
// truncated-stream, or length-top-bit); lost is the number of bytes lost.
func (s *stream) abort(at Meta, code string, lost int64) (absorbed bool) {
	mark := func(a *assembly) {
		absorbed = true
		switch code {
		case CodeGap:
			s.markGap(a, lost, at)
		case CodeTruncated:
			if !a.holed {
				s.addAnomaly(a, at, code, "the stream ended inside this message")
			}
		default:
			if !a.holed {
				s.addAnomaly(a, at, code, "the rest of this message cannot be located")
			}
		}
		a.holed, a.incomplete, a.utf8Partial = true, true, true
		a.last = at
	}
	if s.state == stPayload {
		a := s.cur
		mark(a)
		s.f.Last = at
		if len(a.frames) < s.c.cfg.MaxFramesPerMessage {
			a.frames = append(a.frames, s.f)
		}
		if s.frameZ {
			s.frameZ = false
			if len(a.zbuf) > 0 {
				s.inflateData(a, at, s.frameCtxOK)
			}
		}
		if a == &s.ctrl {
			s.finish(a)
		}
	}
	if s.data.active {
		mark(&s.data)
		s.finish(&s.data)
	}
	s.state = stHeader
	s.hdrN = 0
	return absorbed
}

// end finishes the stream at Close.
func (s *stream) end(at Meta) {
	if s.state == stResync {
		if s.carryN > 0 {
			// Decide on the held-back bytes now that no more will come.
			s.resyncFinal(nil, at, true)
		}
		if s.state == stResync {
			if s.skipped+int64(s.carryN) > 0 {
				s.streamAnomaly(s.resyncAt, CodeResyncSkipped, "%d bytes skipped; no frame header found before the end", s.skipped+int64(s.carryN))
			}
			s.skipped, s.carryN = 0, 0
			s.state = stHeader
		}
	}
	if s.state == stHeader && s.hdrN > 0 {
		s.streamAnomaly(s.hdrMeta, CodeTruncated, "the stream ended inside a frame header (%d bytes)", s.hdrN)
	}
	s.abort(at, CodeTruncated, 0)
}

// scratchBuf returns the direction's scratch buffer, used only past a limit
// (validating the UTF-8 of bytes not kept, probing for more inflate output).
func (s *stream) scratchBuf() []byte {
	if s.scratch == nil {
		s.scratch = make([]byte, scratchSize)
	}
	return s.scratch
}

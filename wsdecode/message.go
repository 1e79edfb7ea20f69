package wsdecode

import (
	"encoding/binary"
	"unicode/utf8"
)

// assembly collects one message: a data message over its fragments, or one
// control (or reserved-opcode) frame. Its buffers belong to the stream and are
// reused from message to message; Message fields point into them.
type assembly struct {
	active bool
	op     Opcode
	text   bool // validate as UTF-8

	buf   []byte // unmasked (and inflated) payload, at most MaxMessageSize
	zbuf  []byte // compressed input of the message or frame being inflated
	total int64  // payload length after decompression (Message.Len)
	zlen  int64  // compressed bytes seen
	wire  int64

	hint      int // sizeHint of the previous message's payload
	zhint     int // and of its compressed bytes
	frames    []Frame
	framesCut bool
	anoms     []Anomaly
	utf8      utf8Validator

	compressed    bool // permessage-deflate message: payload goes to zbuf
	anyCompressed bool // Message.Compressed
	masked        bool
	incomplete    bool
	truncated     bool
	holed         bool // bytes were lost: further payload is dropped
	utf8Partial   bool // not every payload byte could be validated
	zTooLarge     bool
	ctxOK         bool // history intact when the message started
	ctxReported   bool
	guessed       bool // resync-guess recorded

	hasCode bool
	code    uint16
	reason  string

	first, last Meta
}

// startMsg resets a for a new message whose first frame header started at at.
func (s *stream) startMsg(a *assembly, op Opcode, at Meta) {
	a.active = true
	a.op = op
	a.text = op == OpText
	a.buf = a.buf[:0]
	a.zbuf = a.zbuf[:0]
	a.total, a.zlen, a.wire = 0, 0, 0
	a.frames = a.frames[:0]
	a.framesCut = false
	a.anoms = a.anoms[:0]
	a.utf8.reset()
	a.compressed, a.anyCompressed = false, false
	a.masked = true
	a.incomplete, a.truncated, a.holed, a.utf8Partial, a.zTooLarge = false, false, false, false, false
	a.ctxOK = !s.ctxLost
	a.ctxReported = false
	a.guessed = false
	a.hasCode, a.code, a.reason = false, 0, ""
	a.first, a.last = at, at
}

// unmask copies src into dst, unmasking with the current frame's key.
func (s *stream) unmask(dst, src []byte) {
	if s.f.Masked {
		s.phase = maskCopy(dst, src, s.f.MaskKey, s.phase)
	} else {
		copy(dst, src)
	}
}

// appendPlain adds uncompressed payload bytes to a, up to MaxMessageSize;
// bytes past the limit are counted and UTF-8-validated but not kept.
func (s *stream) appendPlain(a *assembly, p []byte, at Meta) {
	a.total += int64(len(p))
	room := s.c.cfg.MaxMessageSize - int64(len(a.buf))
	n := len(p)
	if int64(n) > room {
		n = int(max(room, 0))
	}
	if n > 0 {
		l := len(a.buf)
		// Doubling from the pools (append grows large slices by 1.25×,
		// which allocates ~5× the final size on the way to a
		// MaxMessageSize message), capped at the limit.
		a.buf = growBuf(a.buf, n, s.c.cfg.MaxMessageSize, a.hint)[:l+n]
		dst := a.buf[l:]
		s.unmask(dst, p[:n])
		if a.text {
			a.utf8.write(dst)
		}
	}
	if n == len(p) {
		return
	}
	if !a.truncated {
		a.truncated = true
		s.addAnomaly(a, at, CodeMessageTooLarge, "payload exceeds %d bytes; the rest is counted, not kept", s.c.cfg.MaxMessageSize)
	}
	rest := p[n:]
	if !a.text {
		s.phase = (s.phase + len(rest)) & 3
		return
	}
	scratch := s.scratchBuf()
	for len(rest) > 0 {
		k := min(len(rest), len(scratch))
		s.unmask(scratch[:k], rest[:k])
		a.utf8.write(scratch[:k])
		rest = rest[k:]
	}
}

// appendZ buffers compressed payload bytes, up to MaxMessageSize.
func (s *stream) appendZ(a *assembly, p []byte, at Meta) {
	a.zlen += int64(len(p))
	if a.zTooLarge || int64(len(a.zbuf)+len(p)) > s.c.cfg.MaxMessageSize {
		if !a.zTooLarge {
			a.zTooLarge = true
			a.truncated = true
			s.addAnomaly(a, at, CodeCompressedTooLarge, "compressed payload exceeds %d bytes; not inflated", s.c.cfg.MaxMessageSize)
		}
		s.phase = (s.phase + len(p)) & 3
		return
	}
	l := len(a.zbuf)
	a.zbuf = growBuf(a.zbuf, len(p), s.c.cfg.MaxMessageSize, a.zhint)[:l+len(p)]
	s.unmask(a.zbuf[l:], p)
}

// markGap records that bytes of a were lost.
func (s *stream) markGap(a *assembly, n int64, at Meta) {
	if !a.holed {
		s.addAnomaly(a, at, CodeGap, "%d bytes lost; payload holds only the bytes before the gap", n)
	}
	a.holed = true
	a.incomplete = true
	a.utf8Partial = true
}

// finish completes a message (inflation, close body, UTF-8) and emits it.
func (s *stream) finish(a *assembly) {
	at := a.last
	if a.compressed {
		s.inflateData(a, at, a.ctxOK)
	}
	if a.op == OpClose {
		s.parseClose(a, at)
	}
	if a.text {
		if !a.utf8.valid(!a.utf8Partial) {
			s.addAnomaly(a, at, CodeInvalidUTF8, "text payload is not valid UTF-8")
		}
	}
	s.emit(a)
}

// parseClose decodes a close body (RFC 6455 §5.5.1) and checks its status
// code (§7.4) and reason.
func (s *stream) parseClose(a *assembly, at Meta) {
	s.closed = true
	b := a.buf
	switch {
	case len(b) == 0 && a.total == 0:
		return
	case len(b) < 2:
		if !a.incomplete {
			s.addAnomaly(a, at, CodeInvalidCloseLength, "close body of %d byte: a status code needs 2", len(b))
		}
		return
	}
	a.hasCode = true
	a.code = binary.BigEndian.Uint16(b)
	if !validCloseCode(a.code) {
		s.addAnomaly(a, at, CodeInvalidCloseCode, "close status code %d is not valid on the wire", a.code)
	}
	r := b[2:]
	if !utf8.Valid(r) && !(a.incomplete || a.truncated) {
		s.addAnomaly(a, at, CodeInvalidCloseReason, "close reason is not valid UTF-8")
	}
	if len(r) > 0 {
		a.reason = string(r)
	}
}

// validCloseCode reports whether code may appear in a close frame: 1000-1003
// and 1007-1014 (RFC 6455 §7.4.1 and the IANA registry), 3000-4999
// (registered and private use). 1004 (reserved), 1005, 1006 and 1015 (never
// sent), codes below 1000, unassigned 1016-2999 and 5000+ are not.
func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// emit hands a's message to the Handler and resets a.
func (s *stream) emit(a *assembly) {
	m := &s.c.msg
	*m = Message{
		Dir:          s.dir,
		Opcode:       a.op,
		Payload:      a.buf,
		Len:          a.total,
		WireLen:      a.wire,
		Frames:       a.frames,
		Compressed:   a.anyCompressed,
		Masked:       a.masked && len(a.frames) > 0,
		HasCloseCode: a.hasCode,
		CloseCode:    a.code,
		CloseReason:  a.reason,
		First:        a.first,
		Last:         a.last,
		Incomplete:   a.incomplete,
		Truncated:    a.truncated,
		Anomalies:    a.anoms,
	}
	if len(m.Anomalies) == 0 {
		m.Anomalies = nil
	}
	s.c.h.Message(m)
	a.active = false
	a.hint, a.zhint = sizeHint(int64(len(a.buf))), sizeHint(a.zlen)
	a.buf = releaseBuf(a.buf)
	a.zbuf = releaseBuf(a.zbuf)
	if cap(a.frames) > keepFrames {
		a.frames = nil
	}
	if cap(a.anoms) > keepAnomalies {
		a.anoms = nil
	}
	a.reason = ""
	*m = Message{}
}

// Trim releases the message buffers of both directions that are not in use
// (no message in progress), e.g. for connections that have gone idle. The
// inflate history (up to 48 KiB per direction under context takeover) is
// kept: later messages need it.
func (c *Conn) Trim() {
	for d := range c.s {
		s := &c.s[d]
		for _, a := range []*assembly{&s.data, &s.ctrl} {
			if !a.active {
				putBuf(a.buf)
				putBuf(a.zbuf)
				a.buf, a.zbuf, a.frames, a.anoms = nil, nil, nil, nil
			}
		}
		s.scratch = nil
	}
}

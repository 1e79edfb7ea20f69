package wsdecode

import (
	"bytes"
	"compress/flate"
	"io"
	"sync"
)

// deflateTail ends a message's (or frame's) compressed bytes for inflation:
// the 00 00 ff ff the sender removed (RFC 7692 §7.2.2), then an empty final
// stored block so the inflater ends with io.EOF instead of
// io.ErrUnexpectedEOF.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflater is a flate reader with its input reader. Inflaters are shared by
// all Conns through inflaterPool and hold nothing of a Conn between uses:
// each is Reset with the input and, under context takeover, the
// direction's window (the only inflate state a direction keeps between
// messages is that ≤ 32 KiB history, see pushWindow).
type inflater struct {
	fr io.ReadCloser
	zr bytes.Reader
}

var inflaterPool = sync.Pool{New: func() any {
	z := &inflater{}
	z.fr = flate.NewReader(&z.zr)
	return z
}}

// Why inflation stopped before the end of the stream.
const (
	stopNone = iota
	stopTooLarge
	stopRatio
)

// inflate decompresses in (raw DEFLATE) and appends the output to a.buf, up
// to MaxMessageSize bytes of message payload. dict is the preset history
// (nil without context takeover). It returns the bytes produced, the
// inflater's error (nil at a clean end) and why it stopped early, if it did.
func (s *stream) inflate(a *assembly, in, dict []byte) (produced int64, err error, stop int) {
	limit := s.c.cfg.MaxMessageSize
	ratioLimit := s.c.cfg.MaxInflateRatio * int64(len(in))
	z := inflaterPool.Get().(*inflater)
	defer func() {
		z.zr.Reset(nil) // keep no reference to the input
		inflaterPool.Put(z)
	}()
	z.zr.Reset(in)
	fr := z.fr
	if e := fr.(flate.Resetter).Reset(&z.zr, dict); e != nil {
		return 0, e, stopNone
	}
	for {
		end := cap(a.buf)
		if int64(end) > limit {
			end = int(limit)
		}
		if len(a.buf) >= end {
			if int64(len(a.buf)) >= limit {
				// At the limit: is there more output?
				n, e := fr.Read(s.scratchBuf()[:1])
				if n > 0 {
					return produced, nil, stopTooLarge
				}
				if e == io.EOF {
					return produced, nil, stopNone
				}
				return produced, e, stopNone
			}
			grow := len(a.buf)
			if grow < 4096 {
				grow = 4096
			}
			if int64(len(a.buf)+grow) > limit {
				grow = int(limit) - len(a.buf)
			}
			a.buf = growBuf(a.buf, grow, limit, a.hint)
			continue
		}
		n, e := fr.Read(a.buf[len(a.buf):end])
		a.buf = a.buf[:len(a.buf)+n]
		produced += int64(n)
		if produced > inflateRatioFloor && produced > ratioLimit {
			return produced, nil, stopRatio
		}
		if e == io.EOF {
			return produced, nil, stopNone
		}
		if e != nil {
			return produced, e, stopNone
		}
	}
}

// pushWindow appends plaintext p to the direction's LZ77 history. The
// history buffer grows with use (from 1 KiB) up to windowCap (48 KiB); when
// full, the last 32 KiB (enough for any negotiated window bits) move to the
// front, so each plaintext byte is moved about twice instead of once per
// message.
func (s *stream) pushWindow(p []byte) {
	if len(p) >= windowSize {
		if cap(s.window) < windowSize {
			s.window = make([]byte, 0, windowCap)
		}
		s.window = append(s.window[:0], p[len(p)-windowSize:]...)
		return
	}
	if need := len(s.window) + len(p); need > cap(s.window) {
		if c := cap(s.window); c < windowCap {
			w := make([]byte, len(s.window), min(windowCap, max(2*c, need, 1<<10)))
			copy(w, s.window)
			s.window = w
		}
		if need > cap(s.window) {
			// Keep what, with p, makes the last windowSize bytes.
			keep := min(len(s.window), windowSize-len(p))
			n := copy(s.window, s.window[len(s.window)-keep:])
			s.window = s.window[:n]
		}
	}
	s.window = append(s.window, p...)
}

// history returns the last 32 KiB (or less) of the direction's history.
func (s *stream) history() []byte {
	if len(s.window) > windowSize {
		return s.window[len(s.window)-windowSize:]
	}
	return s.window
}

// takeover reports whether compressed data of this direction may refer to
// earlier messages (a deflate extension without no_context_takeover).
func (s *stream) takeover() bool {
	d := &s.c.cfg.Deflate
	if d.Mode == DeflateNone {
		return false
	}
	if s.dir == FromServer {
		return !d.ServerNoContextTakeover
	}
	return !d.ClientNoContextTakeover
}

// inflateData inflates the compressed bytes buffered in a.zbuf (a whole
// permessage-deflate message, or one deflate-frame frame) into a.buf and
// applies the limits, the context-takeover rules and UTF-8 validation.
// ctxOK says whether the direction's history was intact when the message
// (permessage-deflate) or frame (deflate-frame) started.
func (s *stream) inflateData(a *assembly, at Meta, ctxOK bool) {
	takeover := s.takeover()
	in := a.zbuf
	a.zbuf = a.zbuf[:0]
	switch {
	case a.zTooLarge:
		a.utf8Partial = true
		if takeover {
			s.ctxLost = true
		}
		return
	case takeover && !ctxOK:
		if !a.ctxReported {
			a.ctxReported = true
			s.addAnomaly(a, at, CodeContextLost, "compressed with context takeover after lost bytes in this direction: history unknown, not inflated")
		}
		a.incomplete = true
		a.utf8Partial = true
		return
	}
	complete := !a.holed
	if complete {
		in = append(growBuf(in, len(deflateTail), s.c.cfg.MaxMessageSize+int64(len(deflateTail)), 0), deflateTail...)
		a.zbuf = in[:0]
	}
	var dict []byte
	if takeover {
		dict = s.history()
	}
	start := len(a.buf)
	produced, err, stop := s.inflate(a, in, dict)
	a.total += produced
	switch {
	case stop == stopRatio:
		s.addAnomaly(a, at, CodeInflateRatio, "inflation stopped at %d bytes from %d compressed bytes (ratio limit %d)", produced, len(in), s.c.cfg.MaxInflateRatio)
		a.truncated = true
		a.utf8Partial = true
		if takeover {
			s.ctxLost = true
		}
	case stop == stopTooLarge:
		s.addAnomaly(a, at, CodeMessageTooLarge, "decompressed payload exceeds %d bytes; inflation stopped", s.c.cfg.MaxMessageSize)
		a.truncated = true
		a.utf8Partial = true
		if takeover {
			s.ctxLost = true
		}
	case err != nil && (complete || err != io.ErrUnexpectedEOF):
		s.addAnomaly(a, at, CodeInflateError, "inflate: %v", err)
		a.buf = a.buf[:start]
		a.total -= produced
		a.incomplete = true
		a.utf8Partial = true
		if takeover {
			s.ctxLost = true
		}
		return
	case err != nil:
		// The bytes before a gap: the output is a genuine prefix.
		a.utf8Partial = true
	default:
		if takeover {
			s.pushWindow(a.buf[start:])
		}
	}
	if a.text {
		a.utf8.write(a.buf[start:])
	}
}

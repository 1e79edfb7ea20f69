package wsdecode

// Gaps and resynchronisation (see Conn.Gap and plausible).

// gap handles n lost bytes.
func (s *stream) gap(n int64, at Meta) {
	s.viol++ // lost bytes break a chain confirming a guessed position
	// The inflate history survives only a gap known to lie inside the
	// payload of an uncompressed frame.
	inPlain := s.state == stPayload && uint64(n) <= s.remaining && !s.cur.compressed && !s.frameZ
	if s.takeover() && !inPlain {
		s.ctxLost = true
	}
	switch s.state {
	case stPayload:
		if uint64(n) <= s.remaining {
			s.markGap(s.cur, n, at)
			s.remaining -= uint64(n)
			s.phase = (s.phase + int(n&3)) & 3
			if s.remaining == 0 {
				s.endFrame(at)
			}
			return
		}
		cont := s.data.active
		s.abort(at, CodeGap, n)
		s.startResync(at, 0)
		s.resyncCont = cont
	case stHeader:
		partial := int64(s.hdrN)
		cont := s.data.active
		if !s.abort(at, CodeGap, n) {
			s.streamAnomaly(at, CodeGap, "%d bytes lost between frames; resynchronising", n)
		}
		s.startResync(at, partial)
		s.resyncCont = cont
	case stResync:
		// Still searching; the lost bytes are not counted as skipped.
	}
}

func (s *stream) startResync(at Meta, skipped int64) {
	s.state = stResync
	s.resyncCont = false
	s.skipped = skipped
	s.resyncAt = at
	s.carryN = 0
}

// endResync reports the bytes skipped and resumes header parsing.
func (s *stream) endResync() {
	if s.skipped > 0 {
		s.streamAnomaly(s.resyncAt, CodeResyncSkipped, "%d bytes skipped while searching for a frame header", s.skipped)
	}
	s.skipped = 0
	s.state = stHeader
	s.hdrN = 0
	s.startGuess()
}

// resync searches data for a plausible frame header and returns the bytes
// from it on (nil when none was found; trailing bytes that could still start
// one, at most carryMax, are kept in carry). final means the stream ended:
// the carried bytes are decided on their own.
func (s *stream) resync(data []byte, at Meta) []byte {
	return s.resyncFinal(data, at, false)
}

func (s *stream) resyncFinal(data []byte, at Meta, final bool) []byte {
	mode := s.c.cfg.Deflate.Mode
	maxLen := uint64(s.c.cfg.MaxMessageSize)
	if s.carryN > 0 {
		var tmp [2 * carryMax]byte
		n := copy(tmp[:], s.carry[:s.carryN])
		m := copy(tmp[n:], data)
		buf := tmp[:n+m]
		fin := final && m == len(data)
		for i := 0; i < n; i++ {
			ok, more := plausible(buf[i:], s.dir, mode, maxLen, s.resyncCont, fin)
			if more {
				// Not decidable yet: data is shorter than needed.
				s.skipped += int64(i)
				s.carryN = copy(s.carry[:], buf[i:])
				return nil
			}
			if ok {
				s.skipped += int64(i)
				s.carryN = 0
				s.endResync()
				var head [carryMax]byte
				k := copy(head[:], buf[i:n])
				s.feed(head[:k], s.carryMeta)
				return data
			}
		}
		s.skipped += int64(n)
		s.carryN = 0
	}
	for i := 0; i < len(data); i++ {
		ok, more := plausible(data[i:], s.dir, mode, maxLen, s.resyncCont, final)
		if more {
			s.skipped += int64(i)
			s.carryN = copy(s.carry[:], data[i:])
			s.carryMeta = at
			return nil
		}
		if ok {
			s.skipped += int64(i)
			s.endResync()
			return data[i:]
		}
	}
	s.skipped += int64(len(data))
	return nil
}

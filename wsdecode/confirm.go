package wsdecode

// Confirming a resynchronised position (see the package documentation,
// "Gaps and resynchronisation").
//
// After a gap that does not lie inside a payload of known length, the
// decoder resumes at a header found by search (see plausible). That position
// is a guess: a plausible header may lie inside a lost frame's payload. Every
// message with a frame decoded while the guess is unconfirmed carries a
// resync-guess anomaly. The guess is confirmed once resyncConfirmLinks frames
// in a row, starting with the guessed one, were each followed exactly at their
// end by a header, with every one of those frames a "link":
//
//   - its header and the next one raised no anomaly (no violation of any
//     kind: reserved opcode, RSV, mask, length encoding, control rules,
//     orphan continuation, interrupted message, data after close);
//   - nothing else was reported between them (invalid UTF-8, bad close body,
//     inflate error, limits, a gap); deflate-context-lost is a consequence
//     of the gap, not evidence, and does not count;
//   - its payload is not empty (an empty frame is two bytes that chain
//     trivially, e.g. runs of zero bytes as empty continuations);
//   - its wire bytes (header and payload) differ from the previous frame's
//     (periodic data such as repeated 82 01 xx also chains trivially).
//
// A frame that is not a link restarts the count. The frame whose header
// completes the count is the first one decoded as confirmed; messages
// started before it stay marked.
const resyncConfirmLinks = 4

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnv extends the FNV-1a hash h with b.
func fnv(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// startGuess is called when resynchronisation found a header: the frames
// from it on are unconfirmed.
func (s *stream) startGuess() {
	s.guess = true
	s.links = 0
	s.chainN = 0
}

// violation counts an anomaly as evidence against a guessed position.
func (s *stream) violation(code string) {
	if code != CodeResyncGuess && code != CodeContextLost {
		s.viol++
	}
}

// chainHeader is called by beginFrame once the header h of the current frame
// (going to assembly a, first byte at hm) has been checked; v0 is s.viol
// before beginFrame ran. While the position is a guess it updates the chain
// of links and marks a with resync-guess.
func (s *stream) chainHeader(h []byte, a *assembly, hm Meta, v0 uint64) {
	if !s.guess {
		return
	}
	hdrClean := s.viol == v0
	if s.chainN > 0 {
		// The previous frame ended exactly here: is it a link?
		if s.curOK && v0 == s.violMark && hdrClean && (s.chainN == 1 || s.curSum != s.lastSum) {
			s.links++
		} else {
			s.links = 0
		}
	}
	s.chainN++
	if s.links >= resyncConfirmLinks {
		s.guess = false
		return
	}
	s.lastSum = s.curSum
	s.curSum = fnv(fnvOffset, h)
	s.curOK = hdrClean && s.f.PayloadLen > 0
	if !a.guessed {
		a.guessed = true
		s.addAnomaly(a, hm, CodeResyncGuess, "decoded from a frame header found by searching after lost bytes; position not yet confirmed")
	}
	s.violMark = s.viol
}

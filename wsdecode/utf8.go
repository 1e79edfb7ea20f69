package wsdecode

import "unicode/utf8"

// utf8Validator validates a byte stream as UTF-8 incrementally: each byte is
// examined once, and a code point split across Write calls (fragments, TCP
// segments, inflate output chunks) is completed from the next call.
type utf8Validator struct {
	pend [utf8.UTFMax]byte // start of an incomplete code point
	n    int
	bad  bool
}

func (v *utf8Validator) reset() { *v = utf8Validator{} }

// write validates the next bytes of the stream.
func (v *utf8Validator) write(p []byte) {
	if v.bad || len(p) == 0 {
		return
	}
	// Complete a code point left over by the previous call.
	for v.n > 0 && len(p) > 0 {
		v.pend[v.n] = p[0]
		v.n++
		p = p[1:]
		if utf8.FullRune(v.pend[:v.n]) {
			r, size := utf8.DecodeRune(v.pend[:v.n])
			if (r == utf8.RuneError && size == 1) || size != v.n {
				v.bad = true
				return
			}
			v.n = 0
		}
	}
	if len(p) == 0 {
		return
	}
	// Keep back an incomplete code point at the end.
	lo := len(p) - (utf8.UTFMax - 1)
	if lo < 0 {
		lo = 0
	}
	for j := len(p) - 1; j >= lo; j-- {
		if p[j]&0xC0 != 0x80 { // not a continuation byte: start of the last code point
			if !utf8.FullRune(p[j:]) {
				v.n = copy(v.pend[:], p[j:])
				p = p[:j]
			}
			break
		}
	}
	if !utf8.Valid(p) {
		v.bad = true
	}
}

// valid reports whether everything written so far is valid UTF-8 and, when
// final, ends on a code point boundary.
func (v *utf8Validator) valid(final bool) bool {
	return !v.bad && (!final || v.n == 0)
}

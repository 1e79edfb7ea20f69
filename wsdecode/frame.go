package wsdecode

import "encoding/binary"

// Frame header layout (RFC 6455 §5.2).
const (
	finBit   = 0x80
	rsvMask  = 0x70
	rsv1Bit  = 0x40
	opMask   = 0x0F
	maskBit  = 0x80
	len7Mask = 0x7F

	maxHeaderLen      = 14
	maxControlPayload = 125
)

// headerLen is the length of a frame header given its first two bytes.
func headerLen(b0, b1 byte) int {
	n := 2
	switch b1 & len7Mask {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&maskBit != 0 {
		n += 4
	}
	return n
}

// isControl reports whether op is a control opcode (RFC 6455 §5.5): 0x8-0xF.
func isControl(op Opcode) bool { return op&0x8 != 0 }

// isKnownOpcode reports whether op is defined by RFC 6455.
func isKnownOpcode(op Opcode) bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return true
	}
	return false
}

// parseHeader decodes a complete header h (len(h) == headerLen(h[0], h[1]))
// into f. It reports whether the payload length was not minimally encoded.
func parseHeader(h []byte, f *Frame) (nonMinimal bool) {
	b0, b1 := h[0], h[1]
	f.Fin = b0&finBit != 0
	f.Rsv = (b0 & rsvMask) >> 4
	f.Opcode = Opcode(b0 & opMask)
	f.Masked = b1&maskBit != 0
	f.HeaderLen = len(h)
	p := 2
	switch l := b1 & len7Mask; l {
	case 126:
		f.PayloadLen = uint64(binary.BigEndian.Uint16(h[2:4]))
		nonMinimal = f.PayloadLen < 126
		p = 4
	case 127:
		f.PayloadLen = binary.BigEndian.Uint64(h[2:10])
		nonMinimal = f.PayloadLen <= 0xFFFF
		p = 10
	default:
		f.PayloadLen = uint64(l)
	}
	if f.Masked {
		copy(f.MaskKey[:], h[p:p+4])
	} else {
		f.MaskKey = [4]byte{}
	}
	return nonMinimal
}

// confirmMax is the largest payload of a resynchronisation candidate whose
// following header is always checked too (see plausible); carryMax bounds
// the bytes held back while that check waits for data.
const (
	confirmMax = maxControlPayload
	carryMax   = 6 + confirmMax + 2
)

// plausible decides whether b starts with a plausible frame header while
// resynchronising after a gap. more means b is too short to decide; final
// means no more bytes will come (the stream ended), so decide with b.
//
// A header is plausible when: the opcode is text, binary, close, ping or pong,
// or continuation when cont is set (a fragmented message was in progress when
// the bytes were lost; such frames are then reported as orphan
// continuations); RSV2 and RSV3 are clear; RSV1 is set only on a
// data frame and only when a deflate extension was negotiated; a control
// frame has FIN set and at most 125 bytes; the mask bit matches the direction
// (clients mask, servers don't); the length is minimally encoded, its top bit
// is clear and it is at most maxLen; and, for a payload of at most 125 bytes,
// the header that follows the frame passes the same first-two-byte checks
// (opcode, RSV, mask, control length; a continuation is allowed after a
// non-FIN data frame), unless the stream ends with the frame. The decision
// depends only on the bytes, never on how they were chunked.
func plausible(b []byte, dir Dir, mode DeflateMode, maxLen uint64, cont, final bool) (ok, more bool) {
	if len(b) < 2 {
		if len(b) == 0 || !plausibleFirst(b[0], mode, cont) || final {
			return false, false
		}
		return false, true
	}
	b0, b1 := b[0], b[1]
	if !plausibleFirst(b0, mode, cont) || !plausibleSecond(b0, b1, dir) {
		return false, false
	}
	need := headerLen(b0, b1)
	if len(b) < need {
		return false, !final
	}
	var f Frame
	if parseHeader(b[:need], &f) || f.PayloadLen>>63 != 0 || f.PayloadLen > maxLen {
		return false, false
	}
	if f.PayloadLen > confirmMax {
		return true, false
	}
	end := need + int(f.PayloadLen)
	contOK := !f.Fin && !isControl(f.Opcode)
	switch {
	case len(b) >= end+2:
		n0, n1 := b[end], b[end+1]
		return plausibleFirst(n0, mode, contOK) && plausibleSecond(n0, n1, dir), false
	case !final:
		return false, true
	case len(b) == end+1:
		return plausibleFirst(b[end], mode, contOK), false
	default:
		return len(b) == end, false
	}
}

func plausibleFirst(b0 byte, mode DeflateMode, contOK bool) bool {
	op := Opcode(b0 & opMask)
	switch op {
	case OpText, OpBinary:
	case OpContinuation:
		if !contOK {
			return false
		}
	case OpClose, OpPing, OpPong:
		if b0&finBit == 0 || b0&rsvMask != 0 {
			return false
		}
	default:
		return false
	}
	if b0&0x30 != 0 {
		return false
	}
	if b0&rsv1Bit != 0 && mode == DeflateNone {
		return false
	}
	if b0&rsv1Bit != 0 && op == OpContinuation && mode == PerMessageDeflate {
		return false
	}
	return true
}

func plausibleSecond(b0, b1 byte, dir Dir) bool {
	if (b1&maskBit != 0) != (dir == FromClient) {
		return false
	}
	if isControl(Opcode(b0&opMask)) && b1&len7Mask > maxControlPayload {
		return false
	}
	return true
}

package hostile

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	OpCont   = 0x0
	OpText   = 0x1
	OpBinary = 0x2
	OpClose  = 0x8
	OpPing   = 0x9
	OpPong   = 0xA
)

// Key and Accept are the sample nonce of RFC 6455 §1.3 and its accept value.
const (
	Key    = "dGhlIHNhbXBsZSBub25jZQ=="
	Accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// Request returns an upgrade request with extra header lines (each ending
// in \r\n) inserted before the blank line.
func Request(extra string) []byte {
	return []byte("GET /hostile HTTP/1.1\r\nHost: hostile.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + Key + "\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n")
}

// Response returns a 101 answer to Request with extra header lines.
func Response(extra string) []byte {
	return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + Accept + "\r\n" + extra + "\r\n")
}

// DeflateExt is the extension header line negotiating permessage-deflate
// with context takeover both ways.
const DeflateExt = "Sec-WebSocket-Extensions: permessage-deflate\r\n"

// Header returns a frame header declaring length n, whatever the payload
// that follows. rsv holds RSV1..RSV3 as 0x40, 0x20, 0x10 (the wire bits).
// A non-nil mask is appended after the length. Lengths are encoded
// minimally unless force64 is set.
func Header(fin bool, rsv, op byte, n uint64, mask []byte, force64 bool) []byte {
	b0 := rsv | op
	if fin {
		b0 |= 0x80
	}
	m := byte(0)
	if mask != nil {
		m = 0x80
	}
	b := []byte{b0}
	switch {
	case n < 126 && !force64:
		b = append(b, m|byte(n))
	case n < 1<<16 && !force64:
		b = append(b, m|126, byte(n>>8), byte(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, n)
	}
	return append(b, mask...)
}

// Frame returns a complete frame; client frames (mask non-nil) are masked.
func Frame(fin bool, op byte, payload, mask []byte) []byte {
	return AppendFrame(nil, fin, 0, op, payload, mask)
}

// AppendFrame appends a complete frame to b.
func AppendFrame(b []byte, fin bool, rsv, op byte, payload, mask []byte) []byte {
	b = append(b, Header(fin, rsv, op, uint64(len(payload)), mask, false)...)
	if mask == nil {
		return append(b, payload...)
	}
	for i, c := range payload {
		b = append(b, c^mask[i&3])
	}
	return b
}

// Mask is the masking key used for client frames.
var Mask = []byte{0x12, 0x34, 0x56, 0x78}

// CloseBody returns a close frame body with a code and a reason.
func CloseBody(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// deflater compresses permessage-deflate messages of one direction with
// context takeover (one flate stream, sync-flushed after each message, the
// trailing 00 00 ff ff removed as RFC 7692 §7.2.1 requires).
type deflater struct {
	buf bytes.Buffer
	fw  *flate.Writer
}

func newDeflater(level int) *deflater {
	d := &deflater{}
	d.fw, _ = flate.NewWriter(&d.buf, level)
	return d
}

func (d *deflater) message(p []byte) []byte {
	d.buf.Reset()
	d.fw.Write(p)
	d.fw.Flush()
	out := bytes.Clone(d.buf.Bytes())
	return bytes.TrimSuffix(out, []byte{0, 0, 0xff, 0xff})
}

// zeroChunk returns a sync-flushed deflate chunk (ending with the empty
// stored block 00 00 ff ff, so byte-aligned) inflating to n zero bytes whose
// back-references stay inside the chunk, so that the chunk may be repeated:
// k copies inflate to k·n zeros. The last copy of a message must have its
// 00 00 ff ff removed (RFC 7692 §7.2.1).
func zeroChunk(n int) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(make([]byte, n))
	fw.Flush()
	return buf.Bytes()
}

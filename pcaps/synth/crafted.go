package synth

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand/v2"
)

// SmallWindow returns a hand-crafted (not library-made) WebSocket
// connection that negotiates permessage-deflate with server_max_window_bits=9
// and client_max_window_bits=10, context takeover both ways.
//
// No Go library supports window bits, and compress/flate cannot limit its
// window, so each message is compressed by a fresh flate writer whose
// dictionary is the tail of the direction's previous plaintext, cut so that
// dictionary plus message fit in 2^bits bytes: no back-reference can reach
// further than the negotiated window, while references into earlier
// messages (context takeover) still occur. Messages are shorter than the
// window. Each compressed message ends with a sync flush whose trailing
// 00 00 ff ff is removed, as RFC 7692 requires. Client frames are masked
// with keys drawn from seed.
func SmallWindow(seed int64) *Recording {
	rng := rand.New(rand.NewPCG(uint64(seed), 9))
	rec := &Recording{Crafted: true}
	c := &Conn{}
	var off [2]int64
	var hist [2][]byte
	add := func(d Dir, b []byte) {
		c.Chunks = append(c.Chunks, Chunk{Dir: d, Data: b})
		off[d] += int64(len(b))
	}
	add(ClientToServer, []byte("GET /small HTTP/1.1\r\nHost: small.example:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10; server_max_window_bits=9\r\n\r\n"))
	add(ServerToClient, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"+
		"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9; client_max_window_bits=10\r\n\r\n"))
	window := [2]int{1 << 10, 1 << 9}
	send := func(d Dir, op int, payload []byte) {
		rsv1 := false
		body := payload
		if op == OpText || op == OpBinary {
			body = deflateWindow(hist[d], payload, window[d])
			hist[d] = append(hist[d], payload...)
			rsv1 = true
		}
		var mask *[4]byte
		if d == ClientToServer {
			var k [4]byte
			for i := range k {
				k[i] = byte(rng.Uint32())
			}
			mask = &k
		}
		f := appendFrame(nil, true, rsv1, op, body, mask)
		rec.Sent = append(rec.Sent, Sent{From: d, Opcode: op, Payload: append([]byte(nil), payload...), Offset: off[d], Len: int64(len(f))})
		add(d, f)
	}
	for i := range 8 {
		u := []string{"dora", "eve", "frank"}[i%3]
		send(ClientToServer, OpText, fmt.Appendf(nil, `{"type":"quote","symbol":"WS%d","user":%q,"bid":%d.25,"ask":%d.75,"note":"small window quote number %d from %s"}`, i%3, u, 100+i, 101+i, i, u))
		send(ServerToClient, OpText, fmt.Appendf(nil, `{"type":"ack","seq":%d,"symbol":"WS%d","status":"accepted","note":"acknowledged quote number %d"}`, i, i%3, i))
		if i == 4 {
			send(ClientToServer, OpPing, []byte("window?"))
			send(ServerToClient, OpPong, []byte("window?"))
		}
	}
	send(ClientToServer, OpClose, closePayload(1000, "done"))
	send(ServerToClient, OpClose, closePayload(1000, "done"))
	c.Client = mustAP("192.0.2.10:51000")
	c.Server = mustAP("192.0.2.1:8080")
	rec.Conns = []*Conn{c}
	rec.Notes = []string{"crafted: permessage-deflate server_max_window_bits=9, client_max_window_bits=10, context takeover"}
	return rec
}

// deflateWindow compresses msg as one permessage-deflate message whose
// back-references stay within window bytes, using the tail of hist.
func deflateWindow(hist, msg []byte, window int) []byte {
	if len(msg) >= window {
		panic("synth: deflateWindow: message not shorter than the window")
	}
	dict := hist[max(0, len(hist)-(window-len(msg))):]
	var b bytes.Buffer
	fw, err := flate.NewWriterDict(&b, flate.BestCompression, dict)
	if err != nil {
		panic(err)
	}
	fw.Write(msg)
	fw.Flush()
	out := b.Bytes()
	return bytes.TrimSuffix(out, []byte{0, 0, 0xff, 0xff})
}

// appendFrame appends one WebSocket frame (RFC 6455 section 5.2).
func appendFrame(dst []byte, fin, rsv1 bool, op int, payload []byte, mask *[4]byte) []byte {
	b0 := byte(op & 0x0f)
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	dst = append(dst, b0)
	var m byte
	if mask != nil {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, m|byte(n))
	case n < 1<<16:
		dst = append(dst, m|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, m|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	if mask == nil {
		return append(dst, payload...)
	}
	dst = append(dst, mask[:]...)
	for i, c := range payload {
		dst = append(dst, c^mask[i%4])
	}
	return dst
}

package hostile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strings"
)

// Case is one adversarial capture.
type Case struct {
	Name string
	Doc  string
	// Args are extra wsscope flags the case is meant to be run with
	// (e.g. a smaller limit, so that a limit is reached without writing
	// hundreds of megabytes).
	Args []string
	// Heavy cases write tens of megabytes or more and take seconds.
	Heavy bool
	// Compressed cases carry permessage-deflate data (work per input
	// byte is bounded by the inflate ratio limit, not by the size).
	Compressed bool
	// Write streams the capture to w.
	Write func(w io.Writer) error
}

// Cases returns every generated case, in a fixed order, at the sizes used
// by default in tests: the heavy ones are scaled down and run with smaller
// limits (--max-message, --max-conns) so that they still fill them.
func Cases() []Case { return cases(false) }

// FullCases returns the heavy cases at the sizes the issue asks for (a
// 4 GiB bomb, 80 MiB frames, 1,000,000 connections) with default limits.
func FullCases() []Case {
	var out []Case
	for _, c := range cases(true) {
		if c.Heavy {
			out = append(out, c)
		}
	}
	return out
}

func cases(full bool) []Case {
	mib, msgArgs, conns, connArgs := 20, []string{"--max-message", "8M"}, uint32(200_000), []string{"--max-conns", "16384"}
	nul := 12
	if full {
		mib, msgArgs, conns, connArgs, nul = 80, nil, 1_000_000, nil, 60
	}
	cs := []Case{
		{Name: "len-2^63-1", Doc: "frames of both directions declaring 2^63-1 bytes, followed by 256 KiB", Write: hugeLen(1<<63 - 1)},
		{Name: "len-2^64-1", Doc: "frames declaring 2^64-1 bytes (top bit set: invalid), then valid frames", Write: hugeLen(math.MaxUint64)},
		{Name: "len-2^62-split", Heavy: true, Args: msgArgs, Doc: fmt.Sprintf("a server frame declaring 2^62 bytes, %d MiB of it sent in 1448-byte segments", mib), Write: len62(mib)},
		{Name: "million-frames", Heavy: true, Doc: "one message made of 1,000,000 one-byte frames, then 10,000 one-frame messages", Write: millionFrames},
		{Name: "control-126", Doc: "ping of 126, pong of 200 and close of 70000 bytes (control frames must be ≤ 125), then a valid message", Write: bigControl},
		{Name: "endless-fragments", Heavy: true, Args: msgArgs, Doc: fmt.Sprintf("a text message of %d MiB of 64 KiB continuation frames that never sets FIN; the capture ends", mib), Write: endless(mib)},
		{Name: "deflate-bomb", Heavy: true, Compressed: true, Args: msgArgs, Doc: "permessage-deflate: one 4.5 MB compressed message that inflates to 4 GiB of zeros, then a normal message", Write: bomb},
		{Name: "bomb-train", Heavy: true, Compressed: true, Args: msgArgs, Doc: "permessage-deflate: 100 back-to-back ~8.6 KB messages each inflating to 8 MiB of zeros (800 MiB in a 0.9 MB capture)", Write: bombTrain},
		{Name: "deflate-1000x", Heavy: true, Compressed: true, Doc: "permessage-deflate with context takeover: 48 messages of 1 MiB each inflating ~1000× (and more with the shared window)", Write: takeover1000},
		{Name: "nul-text", Heavy: true, Compressed: true, Args: msgArgs, Doc: fmt.Sprintf("permessage-deflate: a small text message inflating to %d MiB of NUL bytes (JSON escapes each as \\u0000: 6×)", nul), Write: nulText(nul)},
		{Name: "syn-flood", Heavy: true, Args: connArgs, Doc: fmt.Sprintf("%d SYNs from distinct clients to port 80, then a valid WebSocket", conns), Write: synFlood(conns)},
		{Name: "idle-conns", Heavy: true, Args: connArgs, Doc: fmt.Sprintf("%d connections each holding a partial upgrade request (no SYN), then a valid WebSocket", conns), Write: idleConns(conns)},
		{Name: "handshake-hoard", Heavy: true, Args: []string{"--max-buffer", "32M"}, Doc: "1000 connections each holding 60 KiB of an unfinished header block (60 MB), run with --max-buffer 32M", Write: hoard},
		{Name: "ooo-never-closes", Heavy: true, Doc: "a WebSocket whose server sends 12 MiB after a hole that is never filled; the connection never closes", Write: oooNeverCloses},
		{Name: "ooo-global", Args: []string{"--max-buffer", "8M"}, Doc: "16 connections with 1 MiB each behind a hole, run with --max-buffer 8M", Write: oooGlobal},
		{Name: "retrans-conflict", Doc: "retransmissions whose bytes differ from the first copy, in order and out of order", Write: conflict},
		{Name: "h2c-upgrade", Doc: "HTTP/1.1 Upgrade: h2c answered 101, followed by HTTP/2 frames", Write: h2c},
		{Name: "tls-on-80", Doc: "a TLS ClientHello and ServerHello on port 80", Write: tlsOn80},
		{Name: "101-no-request", Doc: "a server 101 and frames with no request captured", Write: noRequest},
		{Name: "response-first", Doc: "the 101 response captured before the request", Write: responseFirst},
		{Name: "header-1mb", Doc: "upgrade request with a 1 MB header line; then a normal WebSocket", Write: header1MB},
		{Name: "bad-key", Doc: "invalid Sec-WebSocket-Key values, a wrong Accept, a missing Accept", Write: badKeys},
		{Name: "duplicate-headers", Doc: "duplicate Upgrade, Sec-WebSocket-Key, Sec-WebSocket-Accept and Extensions headers", Write: dupHeaders},
		{Name: "evil-payloads", Doc: "terminal escape sequences, invalid UTF-8, NUL and bidi controls in payloads, close reasons, headers and the URI", Write: evilPayloads},
		{Name: "snaplen-65", Doc: "a valid WebSocket captured with snaplen 65", Write: snaplen65},
		{Name: "unknown-link", Doc: "a capture whose link type is 147 (USER0)", Write: unknownLink},
		{Name: "zero-length-records", Doc: "records of length 0 between valid packets", Write: zeroRecords},
		{Name: "enormous-record", Doc: "a record header claiming 4 GiB after valid packets", Write: enormousRecord},
		{Name: "record-over-snaplen", Doc: "a record of 300000 bytes in a file whose snaplen is 262144", Write: overSnaplen},
		{Name: "truncated-mid-record", Doc: "a valid capture cut in the middle of a record", Write: func(w io.Writer) error { return Truncate(w, Valid(), 0.6) }},
	}
	for _, k := range NgBogusKinds {
		cs = append(cs, Case{Name: "pcapng-" + k, Doc: "pcapng with " + ngDocs[k], Write: func(w io.Writer) error { return PcapngBogus(w, k) }})
	}
	return cs
}

// upgraded opens a flow and writes a valid upgrade exchange.
func upgraded(w *Writer, client, server netip.AddrPort, isn uint32, reqExtra, respExtra string) *Flow {
	f := w.Open(client, server, isn, isn^0x5a5a5a5a)
	f.Send(C2S, Request(reqExtra))
	f.Send(S2C, Response(respExtra))
	return f
}

// normal writes a short valid conversation on a flow and closes it.
func normal(f *Flow) error {
	f.Send(C2S, Frame(true, OpText, []byte("hello after the storm"), Mask))
	f.Send(S2C, Frame(true, OpText, []byte("still alive"), nil))
	f.Send(C2S, Frame(true, OpClose, CloseBody(1000, "bye"), Mask))
	f.Send(S2C, Frame(true, OpClose, CloseBody(1000, "bye"), nil))
	return f.Close()
}

// finishWithNormal writes a separate valid WebSocket connection after the
// hostile part, so tests can check the analysis went on.
func finishWithNormal(w *Writer) error {
	f := upgraded(w, netip.MustParseAddrPort("198.51.100.7:50000"), netip.MustParseAddrPort("198.51.100.1:8080"), 77, "", "")
	normal(f)
	return w.Flush()
}

func fill(n int, c byte) []byte { return bytes.Repeat([]byte{c}, n) }

func hugeLen(n uint64) func(io.Writer) error {
	return func(out io.Writer) error {
		w := NewWriter(out)
		f := upgraded(w, clientAP, serverAP, 1000, "", "")
		f.Send(C2S, append(Header(true, 0, OpBinary, n, Mask, false), fill(256<<10, 'c')...))
		f.Send(S2C, append(Header(true, 0, OpText, n, nil, false), fill(256<<10, 's')...))
		f.Send(S2C, Frame(true, OpText, []byte("after the huge frame"), nil))
		f.Close()
		return finishWithNormal(w)
	}
}

func len62(mib int) func(io.Writer) error {
	return func(out io.Writer) error {
		w := NewWriter(out)
		f := upgraded(w, clientAP, serverAP, 1000, "", "")
		f.Send(S2C, Header(true, 0, OpBinary, 1<<62, nil, false))
		chunk := fill(1<<20, 'x')
		for range mib {
			f.Send(S2C, chunk)
		}
		f.Close()
		return finishWithNormal(w)
	}
}

func millionFrames(out io.Writer) error {
	w := NewWriter(out)
	f := upgraded(w, clientAP, serverAP, 1000, "", "")
	var b []byte
	flush := func() {
		f.Send(S2C, b)
		b = b[:0]
	}
	for i := range 1_000_000 {
		op := byte(OpCont)
		if i == 0 {
			op = OpText
		}
		b = AppendFrame(b, i == 999_999, 0, op, []byte{'a' + byte(i%26)}, nil)
		if len(b) >= 1<<16 {
			flush()
		}
	}
	for i := range 10_000 {
		b = AppendFrame(b, true, 0, OpBinary, []byte{byte(i)}, nil)
		if len(b) >= 1<<16 {
			flush()
		}
	}
	flush()
	f.Close()
	return finishWithNormal(w)
}

func bigControl(out io.Writer) error {
	w := NewWriter(out)
	f := upgraded(w, clientAP, serverAP, 1000, "", "")
	f.Send(C2S, Frame(true, OpPing, fill(126, 'p'), Mask))
	f.Send(S2C, Frame(true, OpPong, fill(200, 'q'), nil))
	f.Send(S2C, Frame(true, OpText, []byte("valid between"), nil))
	f.Send(C2S, Frame(true, OpClose, append(CloseBody(1000, ""), fill(70000-2, 'r')...), Mask))
	f.Send(S2C, Frame(true, OpClose, CloseBody(1000, "ok"), nil))
	f.Close()
	return finishWithNormal(w)
}

func endless(mib int) func(io.Writer) error {
	return func(out io.Writer) error {
		w := NewWriter(out)
		f := upgraded(w, clientAP, serverAP, 1000, "", "")
		chunk := fill(64<<10, 'e')
		f.Send(C2S, Frame(false, OpText, chunk, Mask))
		var b []byte
		for range mib*16 - 1 {
			b = AppendFrame(b[:0], false, 0, OpCont, chunk, Mask)
			f.Send(C2S, b)
		}
		// No FIN frame, no TCP close: the capture ends.
		return finishWithNormal(w)
	}
}

func bomb(out io.Writer) error {
	w := NewWriter(out)
	f := upgraded(w, clientAP, serverAP, 1000, DeflateExt, DeflateExt)
	chunk := zeroChunk(1 << 20)
	const copies = 4096 // 4 GiB inflated
	n := uint64(copies*len(chunk) - 4)
	f.Send(S2C, Header(true, 0x40, OpBinary, n, nil, false))
	for i := range copies {
		c := chunk
		if i == copies-1 {
			c = c[:len(c)-4]
		}
		f.Send(S2C, c)
	}
	d := newDeflater(6)
	f.Send(S2C, AppendFrame(nil, true, 0x40, OpText, d.message([]byte("after the bomb")), nil))
	f.Close()
	return finishWithNormal(w)
}

func bombTrain(out io.Writer) error {
	w := NewWriter(out)
	f := upgraded(w, clientAP, serverAP, 1000, DeflateExt, DeflateExt)
	chunk := zeroChunk(1 << 20)
	msg := bytes.Repeat(chunk, 8)
	msg = msg[:len(msg)-4]
	for range 100 {
		f.Send(S2C, AppendFrame(nil, true, 0x40, OpBinary, msg, nil))
	}
	f.Close()
	return finishWithNormal(w)
}

func takeover1000(out io.Writer) error {
	w := NewWriter(out)
	f := upgraded(w, clientAP, serverAP, 1000, DeflateExt, DeflateExt)
	d := newDeflater(9)
	msg := make([]byte, 1<<20)
	for i := range 48 {
		for j := range msg {
			msg[j] = 'a' + byte((j/4096+i)%26)
		}
		f.Send(S2C, AppendFrame(nil, true, 0x40, OpText, d.message(msg), nil))
	}
	f.Close()
	return finishWithNormal(w)
}

func nulText(mib int) func(io.Writer) error {
	return func(out io.Writer) error {
		w := NewWriter(out)
		f := upgraded(w, clientAP, serverAP, 1000, DeflateExt, DeflateExt)
		d := newDeflater(9)
		f.Send(S2C, AppendFrame(nil, true, 0x40, OpText, d.message(make([]byte, mib<<20)), nil))
		f.Send(S2C, AppendFrame(nil, true, 0x40, OpText, d.message([]byte("after the NULs")), nil))
		f.Close()
		return finishWithNormal(w)
	}
}

func synFlood(n uint32) func(io.Writer) error {
	return func(out io.Writer) error {
		w := NewWriter(out)
		for i := range n {
			w.Packet(addr(i, uint16(1024+i%60000)), serverAP, i*7919, 0, SYN, nil)
		}
		return finishWithNormal(w)
	}
}

func idleConns(n uint32) func(io.Writer) error {
	return func(out io.Writer) error {
		w := NewWriter(out)
		req := []byte("GET /idle HTTP/1.1\r\nHost: idle.example\r\nUpgrade: websocket\r\n")
		for i := range n {
			w.Packet(addr(i, uint16(1024+i%60000)), serverAP, i*7919, 1, ACK|PSH, req)
		}
		return finishWithNormal(w)
	}
}

func hoard(out io.Writer) error {
	w := NewWriter(out)
	line := "X-Filler: " + strings.Repeat("h", 1000) + "\r\n"
	head := "GET /hoard HTTP/1.1\r\nHost: hoard.example\r\nUpgrade: websocket\r\n" + strings.Repeat(line, 60)
	for i := range uint32(1000) {
		f := w.Open(addr(i, uint16(2000+i)), serverAP, i*104729, i)
		f.Send(C2S, []byte(head))
	}
	return finishWithNormal(w)
}

func oooNeverCloses(out io.Writer) error {
	w := NewWriter(out)
	f := upgraded(w, clientAP, serverAP, 1000, "", "")
	f.Send(S2C, Frame(true, OpText, []byte("before the hole"), nil))
	f.Skip(S2C, 1448)
	var b []byte
	for range 12 * 16 {
		b = AppendFrame(b[:0], true, 0, OpBinary, fill(64<<10-4, 'o'), nil)
		f.Send(S2C, b)
	}
	f.Send(C2S, Frame(true, OpText, []byte("client still talking"), Mask))
	return finishWithNormal(w) // the hostile connection is never closed
}

func oooGlobal(out io.Writer) error { return bulk(out, true) }

// Bulk writes valid traffic of the size and shape of the ooo-global case
// (16 interleaved connections, 1 MiB of 64 KiB binary frames each, in
// order): a baseline for the memory the pipeline needs without any limit
// being filled.
func Bulk(out io.Writer) error { return bulk(out, false) }

func bulk(out io.Writer, holes bool) error {
	w := NewWriter(out)
	var fs []*Flow
	for i := range uint32(16) {
		f := upgraded(w, addr(i, uint16(3000+i)), serverAP, i*7777, "", "")
		if holes {
			f.Skip(S2C, 100)
		}
		fs = append(fs, f)
	}
	b := AppendFrame(nil, true, 0, OpBinary, fill(64<<10-4, 'g'), nil)
	for range 16 {
		for _, f := range fs {
			f.Send(S2C, b)
		}
	}
	for _, f := range fs {
		f.Close()
	}
	return finishWithNormal(w)
}

// Conflict texts: the first copy is what a test must find in the output.
const (
	ConflictFirst  = "first copy of the message, kept"
	ConflictSecond = "SECOND COPY OF THE MESSAGE, LIE"
	ConflictOOO1   = "out-of-order first copy, kept!!"
	ConflictOOO2   = "OUT-OF-ORDER SECOND COPY, LIE!!"
)

func conflict(out io.Writer) error {
	w := NewWriter(out)
	f := upgraded(w, clientAP, serverAP, 1000, "", "")
	// In order: the segment, then a "retransmission" with other bytes.
	a := Frame(true, OpText, []byte(ConflictFirst), nil)
	b := Frame(true, OpText, []byte(ConflictSecond), nil)
	seq := f.Next[S2C]
	f.Send(S2C, a)
	f.Segment(S2C, seq, b)
	// Partial overlap of the tail of the previous frame and a new one.
	seq = f.Next[S2C]
	c := Frame(true, OpText, []byte("third message"), nil)
	f.Send(S2C, c)
	f.Segment(S2C, seq-5, append([]byte("XXXXX"), Frame(true, OpText, []byte("third MESSAGE"), nil)...))
	// Out of order: a hole, two different copies of what follows it, then
	// the hole is filled.
	hole := Frame(true, OpText, []byte("fills the hole"), nil)
	holeSeq := f.Next[S2C]
	f.Skip(S2C, uint32(len(hole)))
	x := Frame(true, OpText, []byte(ConflictOOO1), nil)
	y := Frame(true, OpText, []byte(ConflictOOO2), nil)
	seq = f.Next[S2C]
	f.Segment(S2C, seq, x)
	f.Segment(S2C, seq, y)
	f.Next[S2C] += uint32(len(x))
	f.Segment(S2C, holeSeq, hole)
	f.Send(S2C, Frame(true, OpText, []byte("last"), nil))
	f.Close()
	return w.Flush()
}

func h2c(out io.Writer) error {
	w := NewWriter(out)
	f := w.Open(clientAP, serverAP, 1, 2)
	f.Send(C2S, []byte("GET / HTTP/1.1\r\nHost: h2c.example\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"))
	f.Send(S2C, []byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"))
	f.Send(C2S, []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64\x00\x04\x40\x00\x00\x00\x00\x02\x00\x00\x00\x00"))
	f.Send(S2C, []byte("\x00\x00\x00\x04\x01\x00\x00\x00\x00\x00\x00\x08\x01\x04\x00\x00\x00\x01\x88\x1b\x1b\x1b\x1b\x1b\x1b\x1b"))
	f.Close()
	return finishWithNormal(w)
}

func tlsOn80(out io.Writer) error {
	w := NewWriter(out)
	f := w.Open(clientAP, serverAP, 1, 2)
	hello := []byte{0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03}
	hello = append(hello, fill(32, 0x1b)...)
	hello = append(hello, []byte("\r\nGET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")...)
	f.Send(C2S, hello)
	f.Send(S2C, append([]byte{0x16, 0x03, 0x03, 0x00, 0x5a, 0x02}, fill(90, 0x9b)...))
	f.Send(C2S, append([]byte{0x17, 0x03, 0x03, 0x01, 0x00}, fill(256, 0x00)...))
	f.Close()
	return finishWithNormal(w)
}

func noRequest(out io.Writer) error {
	w := NewWriter(out)
	f := w.Open(clientAP, serverAP, 1, 2)
	f.Send(S2C, Response(""))
	f.Send(S2C, Frame(true, OpText, []byte("from a server nobody asked"), nil))
	f.Send(C2S, Frame(true, OpText, []byte("client frame"), Mask))
	f.Close()
	return finishWithNormal(w)
}

func responseFirst(out io.Writer) error {
	w := NewWriter(out)
	f := w.Open(clientAP, serverAP, 1, 2)
	// The response's segment comes first in the capture, but its ACK
	// number does not cover the request yet.
	f.Send(S2C, Response(""))
	f.Send(C2S, Request(""))
	f.Send(S2C, Frame(true, OpText, []byte("server after"), nil))
	f.Send(C2S, Frame(true, OpText, []byte("client after"), Mask))
	f.Close()
	return finishWithNormal(w)
}

func header1MB(out io.Writer) error {
	w := NewWriter(out)
	f := w.Open(clientAP, serverAP, 1, 2)
	f.Send(C2S, Request("X-Huge: "+strings.Repeat("A\x1b", 500_000)+"\r\n"))
	f.Send(S2C, Response(""))
	f.Send(S2C, Frame(true, OpText, []byte("after the huge header"), nil))
	f.Close()
	g := w.Open(netip.MustParseAddrPort("192.0.2.11:40001"), serverAP, 5, 6)
	g.Send(C2S, Request(""))
	g.Send(S2C, Response("X-Huge: "+strings.Repeat("B", 1_000_000)+"\r\n"))
	g.Send(S2C, Frame(true, OpText, []byte("after the huge response header"), nil))
	g.Close()
	return finishWithNormal(w)
}

func badKeys(out io.Writer) error {
	w := NewWriter(out)
	reqs := []string{
		"GET /k1 HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: not base64!!\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"GET /k2 HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"GET /k3 HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"GET /k4 HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + Key + "\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"GET /k5 HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + Key + "\r\nSec-WebSocket-Version: 13\r\n\r\n",
	}
	resps := []string{
		string(Response("")),
		string(Response("")),
		string(Response("")),
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	}
	for i := range reqs {
		f := w.Open(addr(uint32(i), uint16(41000+i)), serverAP, uint32(i*1000), uint32(i*2000))
		f.Send(C2S, []byte(reqs[i]))
		f.Send(S2C, []byte(resps[i]))
		f.Send(S2C, Frame(true, OpText, []byte("message after a bad handshake"), nil))
		f.Close()
	}
	return finishWithNormal(w)
}

func dupHeaders(out io.Writer) error {
	w := NewWriter(out)
	f := w.Open(clientAP, serverAP, 1, 2)
	f.Send(C2S, Request("Upgrade: h2c\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"))
	f.Send(S2C, Response("Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\nSec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\nSec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n"))
	f.Send(S2C, Frame(true, OpText, []byte("after duplicates"), nil))
	f.Send(C2S, Frame(true, OpText, []byte("client after duplicates"), Mask))
	f.Close()
	return finishWithNormal(w)
}

// EvilPayloads are sent as text and binary messages both ways by the
// evil-payloads case.
var EvilPayloads = []string{
	"\x1b[2J\x1b[H\x1b[31mcleared\x1b[0m",
	"\x1b]0;title\x07\x1b]52;c;Y2xpcA==\x07\x1bP+q\x1b\\",
	"nul\x00byte\x00",
	"invalid \xff\xfe\xc0\x80 \xed\xa0\x80 utf8 \xf4\x90\x80\x80",
	"\u202eevil\u202c \u2028 \u2029 \u009b2J \x7f\x08\x08\r\n\t\v\f",
	strings.Repeat("\x1b[1m", 300),
}

func evilPayloads(out io.Writer) error {
	w := NewWriter(out)
	f := w.Open(clientAP, serverAP, 1, 2)
	f.Send(C2S, []byte("GET /\x1b[2J\x00evil?q=\xff HTTP/1.1\r\nHost: \x1b]0;h\x07\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+Key+"\r\nSec-WebSocket-Version: 13\r\nOrigin: \x1b[31m\xff\r\nSec-WebSocket-Protocol: \x1b[5m, \x00\r\n\r\n"))
	f.Send(S2C, Response("Sec-WebSocket-Protocol: \x1b[5m\r\nX-Evil: \x00\x1b[8m\u202e\r\n"))
	for _, p := range EvilPayloads {
		f.Send(C2S, Frame(true, OpText, []byte(p), Mask))
		f.Send(S2C, Frame(true, OpText, []byte(p), nil))
		f.Send(S2C, Frame(true, OpBinary, []byte(p), nil))
		f.Send(C2S, Frame(true, OpPing, []byte(p[:min(len(p), 125)]), Mask))
	}
	f.Send(C2S, Frame(true, OpClose, CloseBody(1000, "\x1b[2Jbye\x00\xff"), Mask))
	f.Send(S2C, Frame(true, OpClose, CloseBody(4000, "\u202e\x1b]0;x\x07"), nil))
	f.Close()
	return finishWithNormal(w)
}

// Valid returns a small valid capture: two WebSocket connections with a
// few messages each way, a ping and a close.
func Valid() []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	f := upgraded(w, clientAP, serverAP, 1000, "", "")
	for i := range 5 {
		f.Send(C2S, Frame(true, OpText, []byte(strings.Repeat("client message ", i*40+1)), Mask))
		f.Send(S2C, Frame(true, OpBinary, fill(i*700+3, byte('0'+i)), nil))
	}
	f.Send(C2S, Frame(true, OpPing, []byte("ping"), Mask))
	f.Send(S2C, Frame(true, OpPong, []byte("ping"), nil))
	normal(f)
	finishWithNormal(w)
	return buf.Bytes()
}

func snaplen65(out io.Writer) error {
	var buf bytes.Buffer
	w := NewWriterLink(&buf, LinkEthernet, 65)
	f := upgraded(w, clientAP, serverAP, 1000, "", "")
	f.Send(C2S, Frame(true, OpText, []byte(strings.Repeat("cut by the snaplen ", 20)), Mask))
	f.Send(S2C, Frame(true, OpText, []byte("short"), nil))
	normal(f)
	w.Flush()
	_, err := out.Write(buf.Bytes())
	return err
}

func unknownLink(out io.Writer) error {
	data := Valid()
	binary.LittleEndian.PutUint32(data[20:], 147)
	_, err := out.Write(data)
	return err
}

// records splits a classic pcap (little-endian) into its header and
// records (header included in each).
func records(data []byte) (hdr []byte, recs [][]byte) {
	hdr, data = data[:24], data[24:]
	for len(data) >= 16 {
		n := int(binary.LittleEndian.Uint32(data[8:]))
		if 16+n > len(data) {
			break
		}
		recs = append(recs, data[:16+n])
		data = data[16+n:]
	}
	return hdr, recs
}

func zeroRecords(out io.Writer) error {
	hdr, recs := records(Valid())
	var b []byte
	b = append(b, hdr...)
	for i, r := range recs {
		b = append(b, r...)
		if i%3 == 1 {
			var z [16]byte
			copy(z[:8], r[:8])
			b = append(b, z[:]...)
		}
	}
	_, err := out.Write(b)
	return err
}

func enormousRecord(out io.Writer) error {
	hdr, recs := records(Valid())
	var b []byte
	b = append(b, hdr...)
	for _, r := range recs[:len(recs)/2] {
		b = append(b, r...)
	}
	var h [16]byte
	copy(h[:8], recs[0][:8])
	binary.LittleEndian.PutUint32(h[8:], 0xffffffff)
	binary.LittleEndian.PutUint32(h[12:], 0xffffffff)
	b = append(b, h[:]...)
	b = append(b, fill(1000, 0xee)...)
	_, err := out.Write(b)
	return err
}

func overSnaplen(out io.Writer) error {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	f := upgraded(w, clientAP, serverAP, 1000, "", "")
	f.Send(S2C, Frame(true, OpText, []byte("before"), nil))
	big := AppendPacket(nil, serverAP, clientAP, f.Next[S2C], f.Next[C2S], ACK, fill(300000, 'b'))
	w.Record(big, 0)
	w.Flush()
	_, err := out.Write(buf.Bytes())
	return err
}

// Truncate writes data cut at the given fraction of its length, moved to
// the middle of the record found there.
func Truncate(out io.Writer, data []byte, frac float64) error {
	hdr, recs := records(data)
	cut := int(float64(len(data)) * frac)
	off := len(hdr)
	for _, r := range recs {
		if off+len(r) > cut && len(r) > 20 {
			cut = off + 16 + (len(r)-16)/2
			break
		}
		off += len(r)
	}
	_, err := out.Write(data[:cut])
	return err
}

package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/wsscope/wsscope/reassembly"
)

const (
	c2s = 0
	s2c = 1
)

// connection states, in order
const (
	stNew = iota
	stRequest
	stResponse
	stData
	stCloseReply
	stFin
	stDone
)

// conn is one generated TCP connection carrying a WebSocket session.
type conn struct {
	id      int
	ep      [2]endpoint // ep[c2s] is the client, ep[s2c] the server
	seq     [2]uint32   // next sequence number sent by each side
	state   int
	left    int // writes left before the client closes
	profile int // mix: traffic profile
	key     string

	dir int    // direction of the write in progress
	buf []byte // bytes of the write in progress
	off int    // bytes of buf already sent

	deflate bool
	zw      [2]*flate.Writer
	zb      [2]*bytes.Buffer

	pongDue  int // mix: direction owing a pong (-1: none)
	pingData []byte
	nextSeq  int
}

// meta is what the generator wrote, for the benchmark script to check
// against what the analyzers found.
type meta struct {
	Kind        string           `json:"kind"`
	Seed        uint64           `json:"seed"`
	TargetBytes int64            `json:"target_bytes"`
	Bytes       int64            `json:"bytes"`
	Packets     int64            `json:"packets"`
	Connections int              `json:"connections"`
	MaxOpen     int              `json:"max_concurrent_connections"`
	Messages    int64            `json:"messages"`      // data messages + control frames: one JSON "message" record each
	Data        int64            `json:"data_messages"` // text + binary messages
	Control     int64            `json:"control_frames"`
	Frames      int64            `json:"frames"` // WebSocket frames, fragments counted one by one
	ByOpcode    map[string]int64 `json:"by_opcode"`
	Fragmented  int64            `json:"fragmented_messages"`
	Compressed  int64            `json:"compressed_messages"`
	ZPlain      int64            `json:"compressed_plain_bytes"` // payload bytes of compressed messages, inflated
	PayloadLen  int64            `json:"payload_bytes"`          // message payload bytes after decompression
	WireLen     int64            `json:"wire_payload_bytes"`
	ServerPorts []int            `json:"server_ports"`
}

var opNames = map[byte]string{opText: "text", opBinary: "binary", opClose: "close", opPing: "ping", opPong: "pong"}

// gen holds the generator's state.
type gen struct {
	kind  string
	rng   *rand.Rand
	pw    *pcapWriter
	m     meta
	open  []*conn
	conns int // connections started
	stop  bool
	pool  []byte // random bytes for binary payloads
	zfree []*flate.Writer
	nDefl int // open deflate connections
	tmp   []byte
	zout  *bufio.Writer // -zout: compressed payloads, for bench/inflate
}

// newConn starts connection number g.conns.
func (g *gen) newConn() *conn {
	i := g.conns
	g.conns++
	c := &conn{id: i, pongDue: -1}
	// Client 10.a.b.c, one address per 65536 connections... spread over
	// addresses so 4-tuples never repeat.
	ci := uint32(i)
	c.ep[c2s] = endpoint{mac: [6]byte{0x02, 0, 0, 0, byte(ci >> 8), byte(ci)},
		ip: [4]byte{10, byte(ci >> 16), byte(ci >> 8), byte(ci)}, port: uint16(32768 + g.rng.IntN(28000))}
	if c.ep[c2s].ip[3] == 0 || c.ep[c2s].ip[3] == 255 {
		c.ep[c2s].ip[3] = 1 + byte(ci>>24)
	}
	ports := g.m.ServerPorts
	si := g.rng.IntN(len(ports))
	c.ep[s2c] = endpoint{mac: [6]byte{0x02, 0, 0, 0, 0xff, byte(si)}, ip: [4]byte{192, 0, 2, byte(1 + si)}, port: uint16(ports[si])}
	c.seq[c2s] = g.rng.Uint32()
	c.seq[s2c] = g.rng.Uint32()
	var k [16]byte
	for j := range k {
		k[j] = byte(g.rng.Uint32())
	}
	c.key = base64.StdEncoding.EncodeToString(k[:])
	g.plan(c)
	if c.deflate {
		g.nDefl++
		for d := range 2 {
			c.zb[d] = new(bytes.Buffer)
			if n := len(g.zfree); n > 0 {
				c.zw[d] = g.zfree[n-1]
				g.zfree = g.zfree[:n-1]
				c.zw[d].Reset(c.zb[d])
			} else {
				c.zw[d], _ = flate.NewWriter(c.zb[d], flate.BestSpeed)
			}
		}
	}
	g.m.Connections++
	return c
}

// release returns a closed connection's compressors to the pool.
func (g *gen) release(c *conn) {
	if c.deflate {
		g.nDefl--
		g.zfree = append(g.zfree, c.zw[0], c.zw[1])
		c.zw = [2]*flate.Writer{}
	}
}

// step sends the next packet(s) of c. It returns false when c is finished.
func (g *gen) step(c *conn) (bool, error) {
	if c.off < len(c.buf) {
		return true, g.segment(c)
	}
	cl, sv := &c.ep[c2s], &c.ep[s2c]
	switch c.state {
	case stNew:
		// three-way handshake
		g.pw.advance(1 + g.rng.Int64N(20))
		if err := g.pw.packet(cl, sv, c.seq[c2s], 0, flagSYN, nil); err != nil {
			return false, err
		}
		c.seq[c2s]++
		g.pw.advance(1 + g.rng.Int64N(20))
		if err := g.pw.packet(sv, cl, c.seq[s2c], c.seq[c2s], flagSYN|flagACK, nil); err != nil {
			return false, err
		}
		c.seq[s2c]++
		g.pw.advance(1 + g.rng.Int64N(20))
		if err := g.pw.packet(cl, sv, c.seq[c2s], c.seq[s2c], flagACK, nil); err != nil {
			return false, err
		}
		c.state = stRequest
		return true, nil
	case stRequest:
		c.dir, c.off = c2s, 0
		ext := ""
		if c.deflate {
			ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
		}
		c.buf = fmt.Appendf(c.buf[:0], "GET /ws/%d HTTP/1.1\r\nHost: bench%d.example:%d\r\nUser-Agent: wsscope-gencap\r\n"+
			"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
			c.id, c.ep[s2c].ip[3], c.ep[s2c].port, c.key, ext)
		c.state = stResponse
	case stResponse:
		c.dir, c.off = s2c, 0
		ext := ""
		if c.deflate {
			ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		}
		c.buf = fmt.Appendf(c.buf[:0], "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: %s\r\n%s\r\n", reassembly.AcceptFor(c.key), ext)
		c.state = stData
	case stData:
		if c.pongDue >= 0 {
			c.dir, c.off = c.pongDue, 0
			c.buf = g.control(c.buf[:0], c, c.pongDue, opPong, c.pingData)
			c.pongDue = -1
			return true, nil
		}
		if c.left <= 0 || g.stop {
			// the client closes; the server echoes the close
			c.dir, c.off = c2s, 0
			c.buf = g.control(c.buf[:0], c, c2s, opClose, []byte{0x03, 0xe8, 'b', 'y', 'e'})
			c.state = stCloseReply
			return true, nil
		}
		c.left--
		c.off = 0
		c.buf = c.buf[:0]
		g.write(c)
	case stCloseReply:
		c.dir, c.off = s2c, 0
		c.buf = g.control(c.buf[:0], c, s2c, opClose, []byte{0x03, 0xe8})
		c.state = stFin
	case stFin:
		g.pw.advance(1 + g.rng.Int64N(20))
		if err := g.pw.packet(cl, sv, c.seq[c2s], c.seq[s2c], flagFIN|flagACK, nil); err != nil {
			return false, err
		}
		c.seq[c2s]++
		g.pw.advance(1 + g.rng.Int64N(20))
		if err := g.pw.packet(sv, cl, c.seq[s2c], c.seq[c2s], flagFIN|flagACK, nil); err != nil {
			return false, err
		}
		c.seq[s2c]++
		g.pw.advance(1 + g.rng.Int64N(20))
		if err := g.pw.packet(cl, sv, c.seq[c2s], c.seq[s2c], flagACK, nil); err != nil {
			return false, err
		}
		c.state = stDone
		return false, nil
	}
	return true, nil
}

// segment sends the next segment (at most MSS bytes) of c's current write.
func (g *gen) segment(c *conn) error {
	n := min(len(c.buf)-c.off, MSS)
	flags := byte(flagACK)
	if c.off+n == len(c.buf) {
		flags |= flagPSH
	}
	d := c.dir
	g.pw.advance(1 + g.rng.Int64N(8))
	if err := g.pw.packet(&c.ep[d], &c.ep[1-d], c.seq[d], c.seq[1-d], flags, c.buf[c.off:c.off+n]); err != nil {
		return err
	}
	c.seq[d] += uint32(n)
	c.off += n
	// The receiver acknowledges every other full segment and each write's
	// end, as delayed ACK does (mix only: it costs packets, not data).
	if g.kind == "mix" && (flags&flagPSH != 0 || g.rng.IntN(2) == 0) {
		g.pw.advance(1 + g.rng.Int64N(8))
		return g.pw.packet(&c.ep[1-d], &c.ep[d], c.seq[1-d], c.seq[d], flagACK, nil)
	}
	return nil
}

// keyFor returns a fresh masking key for a frame sent by side d, or nil for
// server frames.
func (g *gen) keyFor(d int) *[4]byte {
	if d != c2s {
		return nil
	}
	v := g.rng.Uint32()
	return &[4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
}

// control appends a control frame sent by side d and counts it.
func (g *gen) control(dst []byte, c *conn, d int, op byte, payload []byte) []byte {
	g.count(op, len(payload), len(payload), 1, false)
	return appendFrame(dst, true, false, op, payload, g.keyFor(d))
}

// message appends a data message sent by side d to c.buf, compressed when
// the connection negotiated permessage-deflate, split into frags frames
// (>= 1). A ping from the same side is put between the first two fragments
// when pingMid is set (the peer's pong is then due).
func (g *gen) message(c *conn, d int, op byte, payload []byte, frags int, pingMid bool) {
	wire := payload
	compressed := false
	if c.deflate {
		zb := c.zb[d]
		zb.Reset()
		c.zw[d].Write(payload)
		c.zw[d].Flush()
		z := zb.Bytes()
		if len(z) >= 4 && string(z[len(z)-4:]) == "\x00\x00\xff\xff" {
			z = z[:len(z)-4]
		}
		wire, compressed = z, true
		if g.zout != nil {
			// record: stream id (connection*2+direction), length, bytes
			var h [8]byte
			binary.LittleEndian.PutUint32(h[0:], uint32(c.id*2+d))
			binary.LittleEndian.PutUint32(h[4:], uint32(len(z)))
			g.zout.Write(h[:])
			g.zout.Write(z)
		}
	}
	if frags > len(wire) {
		frags = max(1, len(wire))
	}
	g.count(op, len(payload), len(wire), frags, compressed)
	if frags == 1 {
		c.buf = appendFrame(c.buf, true, compressed, op, wire, g.keyFor(d))
		return
	}
	g.m.Fragmented++
	per := len(wire) / frags
	for i := range frags {
		part := wire[i*per : (i+1)*per]
		if i == frags-1 {
			part = wire[i*per:]
		}
		fop := byte(opCont)
		if i == 0 {
			fop = op
		}
		c.buf = appendFrame(c.buf, i == frags-1, i == 0 && compressed, fop, part, g.keyFor(d))
		if i == 0 && pingMid && c.pongDue < 0 {
			c.pingData = strconv.AppendInt(c.pingData[:0], int64(c.nextSeq), 10)
			c.buf = g.control(c.buf, c, d, opPing, c.pingData)
			c.pongDue = 1 - d
		}
	}
}

// count records one message (or control frame) of frames frames.
func (g *gen) count(op byte, plen, wlen, frames int, compressed bool) {
	g.m.Messages++
	g.m.ByOpcode[opNames[op]]++
	g.m.Frames += int64(frames)
	g.m.PayloadLen += int64(plen)
	g.m.WireLen += int64(wlen)
	if op >= opClose {
		g.m.Control++
	} else {
		g.m.Data++
	}
	if compressed {
		g.m.Compressed++
		g.m.ZPlain += int64(plen)
	}
}

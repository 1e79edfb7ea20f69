package wsdecode

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"
)

// rec is a Handler that copies everything it receives.
type rec struct {
	msgs  []Message
	anoms []Anomaly
}

func (r *rec) Message(m *Message) {
	c := *m
	c.Payload = bytes.Clone(m.Payload)
	c.Frames = append([]Frame(nil), m.Frames...)
	c.Anomalies = append([]Anomaly(nil), m.Anomalies...)
	r.msgs = append(r.msgs, c)
}

func (r *rec) Anomaly(a *Anomaly) { r.anoms = append(r.anoms, *a) }

// codes lists every anomaly code seen, message-level and stream-level.
func (r *rec) codes() []string {
	var cs []string
	for _, m := range r.msgs {
		for _, a := range m.Anomalies {
			cs = append(cs, a.Code)
		}
	}
	for _, a := range r.anoms {
		cs = append(cs, a.Code)
	}
	return cs
}

func (r *rec) has(code string) bool {
	for _, c := range r.codes() {
		if c == code {
			return true
		}
	}
	return false
}

// summary renders the decoder output for comparisons across chunkings.
func (r *rec) summary() string {
	var b strings.Builder
	for _, m := range r.msgs {
		fmt.Fprintf(&b, "M %v op=%d len=%d wire=%d pl=%x c=%v m=%v inc=%v tr=%v close=%v/%d/%q frames=%d\n",
			m.Dir, m.Opcode, m.Len, m.WireLen, m.Payload, m.Compressed, m.Masked, m.Incomplete, m.Truncated,
			m.HasCloseCode, m.CloseCode, m.CloseReason, len(m.Frames))
		for _, f := range m.Frames {
			fmt.Fprintf(&b, "  F fin=%v rsv=%d op=%d mask=%v key=%x len=%d hl=%d\n", f.Fin, f.Rsv, f.Opcode, f.Masked, f.MaskKey, f.PayloadLen, f.HeaderLen)
		}
		for _, a := range m.Anomalies {
			fmt.Fprintf(&b, "  A %s %s\n", a.Code, a.Detail)
		}
	}
	for _, a := range r.anoms {
		fmt.Fprintf(&b, "S %v %s %s\n", a.Dir, a.Code, a.Detail)
	}
	return b.String()
}

// fr describes a frame to encode.
type fr struct {
	fin     bool
	rsv     uint8
	op      Opcode
	mask    bool
	key     [4]byte
	payload []byte
	lenEnc  int    // 0: minimal; 7, 16 or 64: force that encoding
	declLen uint64 // when non-zero, the declared length (payload not appended beyond it)
	rawLen  bool   // use declLen even if zero
}

var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// enc encodes a frame header and (masked) payload.
func enc(f fr) []byte {
	var b []byte
	b0 := byte(f.op&0xF) | f.rsv<<4
	if f.fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	n := uint64(len(f.payload))
	if f.declLen != 0 || f.rawLen {
		n = f.declLen
	}
	var mb byte
	if f.mask {
		mb = 0x80
	}
	le := f.lenEnc
	if le == 0 {
		switch {
		case n <= 125:
			le = 7
		case n <= 0xFFFF:
			le = 16
		default:
			le = 64
		}
	}
	switch le {
	case 7:
		b = append(b, mb|byte(n))
	case 16:
		b = append(b, mb|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	case 64:
		b = append(b, mb|127)
		b = binary.BigEndian.AppendUint64(b, n)
	}
	if f.mask {
		b = append(b, f.key[:]...)
	}
	start := len(b)
	b = append(b, f.payload...)
	if f.mask {
		for i := range f.payload {
			b[start+i] ^= f.key[i&3]
		}
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// deflateMsgs compresses messages as a permessage-deflate sender would: one
// flate writer (context takeover) or a fresh one per message, Flush, and the
// trailing 00 00 ff ff removed.
func deflateMsgs(t testing.TB, msgs [][]byte, takeover bool) [][]byte {
	var out [][]byte
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if !takeover {
			w.Reset(&buf)
		}
		buf.Reset()
		w.Write(m)
		w.Flush()
		b := bytes.Clone(buf.Bytes())
		if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
			t.Fatalf("flush did not end with 00 00 ff ff")
		}
		out = append(out, b[:len(b)-4])
	}
	return out
}

// feedChunks feeds b to dir in chunks of size n (0: whole), packet numbers
// counting from pkt.
func feedChunks(c *Conn, dir Dir, b []byte, n int, pkt *uint64) {
	if n <= 0 {
		n = len(b)
	}
	for len(b) > 0 {
		k := min(n, len(b))
		*pkt++
		c.Feed(dir, b[:k], Meta{Time: time.Unix(0, int64(*pkt)), Packet: *pkt})
		b = b[k:]
	}
}

// decode runs a whole stream of one direction through a fresh Conn in
// chunks of n bytes (0: whole; -1: halves) and returns the recorder.
func decode(cfg Config, dir Dir, stream []byte, n int) *rec {
	r := &rec{}
	c := NewConn(cfg, r)
	var pkt uint64
	if n == -1 {
		h := len(stream) / 2
		feedChunks(c, dir, stream[:h], 0, &pkt)
		feedChunks(c, dir, stream[h:], 0, &pkt)
	} else {
		feedChunks(c, dir, stream, n, &pkt)
	}
	c.Close(Meta{Packet: pkt + 1})
	return r
}

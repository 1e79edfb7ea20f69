package wsdecode

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"sync"
	"testing"
	"unicode/utf8"
)

// checkInvariants checks what must hold for any input.
func checkInvariants(t *testing.T, r *rec, cfg Config) {
	t.Helper()
	for i, m := range r.msgs {
		if int64(len(m.Payload)) > cfg.MaxMessageSize {
			t.Fatalf("message %d: payload %d > limit %d", i, len(m.Payload), cfg.MaxMessageSize)
		}
		if m.Len < int64(len(m.Payload)) {
			t.Fatalf("message %d: Len %d < payload %d", i, m.Len, len(m.Payload))
		}
		if (m.Incomplete || m.Truncated) && len(m.Anomalies) == 0 {
			t.Fatalf("message %d: incomplete/truncated without anomaly", i)
		}
		if m.Truncated != (m.Len > int64(len(m.Payload))) && !m.Compressed && !m.Incomplete {
			t.Fatalf("message %d: truncated=%v Len=%d payload=%d", i, m.Truncated, m.Len, len(m.Payload))
		}
		if len(m.Frames) == 0 {
			t.Fatalf("message %d without frames", i)
		}
		if len(m.Anomalies) > maxAnomalies+1 || len(m.Frames) > cfg.MaxFramesPerMessage {
			t.Fatalf("message %d: unbounded lists", i)
		}
		if m.Opcode == OpText && !m.Incomplete && !m.Truncated && !utf8.Valid(m.Payload) {
			flagged := false
			for _, a := range m.Anomalies {
				flagged = flagged || a.Code == CodeInvalidUTF8
			}
			if !flagged {
				t.Fatalf("message %d: invalid UTF-8 not flagged", i)
			}
		}
	}
}

// genStream builds a valid stream of one direction from fuzz data, returning
// the wire bytes and the payloads a decoder must return (data messages and
// pings, in order).
func genStream(t *testing.T, data []byte, dir Dir, mode DeflateMode, takeover bool) (wire []byte, want [][]byte, ops []Opcode) {
	var zw *flate.Writer
	var zbuf bytes.Buffer
	if mode != DeflateNone {
		zw, _ = flate.NewWriter(&zbuf, flate.BestSpeed)
	}
	compress := func(p []byte) []byte {
		if !takeover {
			zw.Reset(&zbuf)
		}
		zbuf.Reset()
		zw.Write(p)
		zw.Flush()
		b := bytes.Clone(zbuf.Bytes())
		return b[:len(b)-4]
	}
	key := [4]byte{0x5a, 0x01, 0xc3, 0x7e}
	frame := func(fin bool, rsv uint8, op Opcode, p []byte) {
		key[0]++
		wire = append(wire, enc(fr{fin: fin, rsv: rsv, op: op, mask: dir == FromClient, key: key, payload: p})...)
	}
	for len(data) > 0 {
		ctl := data[0]
		data = data[1:]
		n := int(ctl>>3) * 3
		n = min(n, len(data))
		p := data[:n]
		data = data[n:]
		op := OpBinary
		if utf8.Valid(p) {
			op = OpText
		}
		want = append(want, p)
		ops = append(ops, op)
		comp := mode != DeflateNone && ctl&1 != 0
		nfrag := int(ctl>>1&3) + 1
		if mode == PerMessageDeflate && comp {
			z := compress(p)
			for i := 0; i < nfrag; i++ {
				part := z[len(z)*i/nfrag : len(z)*(i+1)/nfrag]
				var rsv uint8
				fop := OpContinuation
				if i == 0 {
					rsv, fop = 4, op
				}
				frame(i == nfrag-1, rsv, fop, part)
				if i == 0 && nfrag > 1 {
					frame(true, 0, OpPing, []byte("pi"))
					want = append(want[:len(want)-1], []byte("pi"), p)
					ops = append(ops[:len(ops)-1], OpPing, op)
				}
			}
			continue
		}
		for i := 0; i < nfrag; i++ {
			part := p[len(p)*i/nfrag : len(p)*(i+1)/nfrag]
			var rsv uint8
			if comp { // deflate-frame: every frame compressed
				part = compress(part)
				rsv = 4
			}
			fop := OpContinuation
			if i == 0 {
				fop = op
			}
			frame(i == nfrag-1, rsv, fop, part)
		}
	}
	return wire, want, ops
}

func addSeeds(f *testing.F) {
	for _, c := range boundaryCases(f) {
		if len(c.in) < 4096 {
			f.Add(c.in, uint8(c.dir)|uint8(c.cfg.Deflate.Mode)<<1, uint8(7))
		}
	}
	f.Add([]byte("hello, world: \x00\x01\x02 some data to build frames from"), uint8(0), uint8(1))
	f.Add([]byte("compressed compressed compressed \xff\x0f\x17 more"), uint8(0x0b), uint8(3))
}

// FuzzDecoder feeds arbitrary bytes (must not panic, must stay bounded,
// must give the same output whatever the chunking), then a valid stream
// generated from the same bytes (must decode to exactly its payloads).
func FuzzDecoder(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, opts uint8, chunk uint8) {
		dir := Dir(opts & 1)
		mode := DeflateMode(opts >> 1 & 3 % 3)
		takeover := opts&8 != 0
		cfg := Config{MaxMessageSize: 4096, MaxFramesPerMessage: 16,
			Deflate: Deflate{Mode: mode, ServerNoContextTakeover: !takeover, ClientNoContextTakeover: !takeover}}
		full := cfg.withDefaults()

		// Arbitrary bytes, optionally with a gap, whole and in chunks.
		gapN := int64(chunk) + 1
		run := func(chunk int) (*rec, *Conn) {
			r := &rec{}
			c := NewConn(cfg, r)
			var pkt uint64
			feedChunks(c, dir, data, chunk, &pkt)
			if opts&16 != 0 && len(data) > 0 {
				c.Gap(dir, gapN, Meta{})
				feedChunks(c, dir, data[len(data)/2:], chunk, &pkt)
			}
			return r, c
		}
		whole, wc := run(0)
		wc.Close(Meta{})
		checkInvariants(t, whole, full)
		r, c := run(int(chunk) + 1)
		for d := range c.s {
			s := &c.s[d]
			if cap(s.data.buf) > 2*4096 || cap(s.ctrl.buf) > 2*4096 || cap(s.data.zbuf) > 2*4096+64 {
				t.Fatalf("buffers grew past the limit: %d %d %d", cap(s.data.buf), cap(s.ctrl.buf), cap(s.data.zbuf))
			}
		}
		c.Close(Meta{})
		checkInvariants(t, r, full)
		if r.summary() != whole.summary() {
			t.Fatalf("chunks of %d decode differently:\n%s\nvs whole:\n%s", int(chunk)+1, r.summary(), whole.summary())
		}

		// A valid stream generated from the bytes.
		wire, want, ops := genStream(t, data, dir, mode, takeover)
		cfg.MaxMessageSize = 0
		g := decode(cfg, dir, wire, int(chunk)+1)
		if len(g.anoms) > 0 || len(g.msgs) != len(want) {
			t.Fatalf("generated stream: %d messages (want %d), anomalies %v\n%.2000s", len(g.msgs), len(want), g.anoms, g.summary())
		}
		for i, m := range g.msgs {
			if !bytes.Equal(m.Payload, want[i]) || m.Opcode != ops[i] || len(m.Anomalies) > 0 || m.Incomplete || m.Truncated {
				t.Fatalf("generated message %d: op %d %q %v, want op %d %q", i, m.Opcode, m.Payload, m.Anomalies, ops[i], want[i])
			}
		}

		// The same stream with bytes lost somewhere: every message without
		// a mark is one that was sent, in order (a resynchronised position
		// is marked resync-guess until confirmed).
		if len(wire) < 2 {
			return
		}
		at := int(binary.BigEndian.Uint16(append([]byte{0, 0}, data...)[:2])) % len(wire)
		lost := min(int(chunk)%40+1, len(wire)-at)
		for _, n := range []int{0, 1} {
			r := &rec{}
			c := NewConn(cfg, r)
			var pkt uint64
			feedChunks(c, dir, wire[:at], n, &pkt)
			c.Gap(dir, int64(lost), Meta{})
			feedChunks(c, dir, wire[at+lost:], n, &pkt)
			c.Close(Meta{})
			checkInvariants(t, r, cfg.withDefaults())
			j := 0
			for i, m := range r.msgs {
				if len(m.Anomalies) > 0 || m.Incomplete || m.Truncated {
					continue
				}
				for j < len(want) && !(bytes.Equal(m.Payload, want[j]) && m.Opcode == ops[j]) {
					j++
				}
				if j == len(want) {
					t.Fatalf("gap of %d at %d: unmarked message %d was not sent: op %d %q\n%.3000s", lost, at, i, m.Opcode, m.Payload, r.summary())
				}
				j++
			}
		}
	})
}

// FuzzUnmask compares maskCopy with a byte-by-byte reference for any key,
// key phase and split point.
func FuzzUnmask(f *testing.F) {
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), uint32(0x37fa213d), uint8(1), uint16(5))
	f.Add(bytes.Repeat([]byte{0xff}, 100), uint32(0), uint8(3), uint16(64))
	f.Fuzz(func(t *testing.T, data []byte, k uint32, pos uint8, split uint16) {
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], k)
		p := int(pos & 3)
		want := refMask(data, key, p)
		got := make([]byte, len(data))
		cut := int(split) % (len(data) + 1)
		ph := maskCopy(got[:cut], data[:cut], key, p)
		ph = maskCopy(got[cut:], data[cut:], key, ph)
		if !bytes.Equal(got, want) || ph != (p+len(data))&3 {
			t.Fatalf("mask mismatch (key %x pos %d cut %d)", key, p, cut)
		}
		inplace := bytes.Clone(data)
		maskCopy(inplace, inplace, key, p)
		if !bytes.Equal(inplace, want) {
			t.Fatalf("in-place mismatch")
		}
	})
}

// fuzzWriters caches one flate writer per level across fuzz executions (a
// new writer allocates about 1 MB); fuzzMu serialises their use.
var (
	fuzzMu      sync.Mutex
	fuzzWriters [11]*flate.Writer
)

// FuzzInflate round-trips data through compress/flate (as a permessage-
// deflate sender) and the decoder, split into messages, with and without
// context takeover; the raw bytes are also inflated as a compressed payload
// (must not panic, must stay within the limits).
func FuzzInflate(f *testing.F) {
	f.Add([]byte("hello hello hello hello"), uint8(1), uint8(3))
	f.Add(bytes.Repeat([]byte("abc"), 5000), uint8(9), uint8(0x80|2))
	f.Add([]byte{0x00, 0x00, 0xff, 0xff}, uint8(0), uint8(1))
	f.Fuzz(probeInflate)
}

func probeInflate(t *testing.T, data []byte, level uint8, opts uint8) {
	{
		if len(data) > 16<<10 { // keeps executions fast; size is not what is tested here
			data = data[:16<<10]
		}
		lvl := int(level%11) - 2 // -2..8 (HuffmanOnly .. 8)
		takeover := opts&0x80 != 0
		nmsg := int(opts&3) + 1
		var plain [][]byte
		for i := 0; i < nmsg; i++ {
			plain = append(plain, data[len(data)*i/nmsg:len(data)*(i+1)/nmsg])
		}
		var zbuf bytes.Buffer
		fuzzMu.Lock()
		defer fuzzMu.Unlock()
		if fuzzWriters[lvl+2] == nil {
			fuzzWriters[lvl+2], _ = flate.NewWriter(io.Discard, lvl)
		}
		zw := fuzzWriters[lvl+2]
		zw.Reset(&zbuf)
		var wire []byte
		for _, p := range plain {
			if !takeover {
				zw.Reset(&zbuf)
			}
			zbuf.Reset()
			zw.Write(p)
			zw.Flush()
			z := zbuf.Bytes()
			wire = append(wire, enc(fr{fin: true, rsv: 4, op: OpBinary, payload: z[:len(z)-4]})...)
		}
		cfg := Config{Deflate: Deflate{Mode: PerMessageDeflate, ServerNoContextTakeover: !takeover}}
		r := decode(cfg, FromServer, wire, int(opts>>2&15)+1)
		if len(r.msgs) != nmsg || len(r.anoms) > 0 {
			t.Fatalf("%d messages, want %d; %v", len(r.msgs), nmsg, r.anoms)
		}
		for i, m := range r.msgs {
			if !bytes.Equal(m.Payload, plain[i]) || len(m.Anomalies) > 0 || !m.Compressed {
				t.Fatalf("message %d: %d bytes %v, want %d", i, len(m.Payload), m.Anomalies, len(plain[i]))
			}
		}
		// Raw bytes as a compressed payload.
		small := Config{MaxMessageSize: 1 << 16, Deflate: cfg.Deflate}
		r = decode(small, FromServer, enc(fr{fin: true, rsv: 4, op: OpText, payload: data}), 0)
		checkInvariants(t, r, small.withDefaults())
	}
}

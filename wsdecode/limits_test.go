package wsdecode

import (
	"bytes"
	"testing"
)

func TestLimits(t *testing.T) {
	zeros := make([]byte, 3<<20)
	zz := deflateMsgs(t, [][]byte{zeros}, false)[0]
	pmdNo := Deflate{Mode: PerMessageDeflate, ServerNoContextTakeover: true}
	pmd := Deflate{Mode: PerMessageDeflate}
	text := bytes.Repeat([]byte(`{"a":"b"} `), 40)
	zt := deflateMsgs(t, [][]byte{text, text}, true)

	t.Run("inflate-ratio", func(t *testing.T) {
		r := decode(Config{Deflate: pmdNo, MaxInflateRatio: 10}, FromServer, enc(fr{fin: true, rsv: 4, op: OpBinary, payload: zz}), 0)
		m := r.msgs[0]
		if len(r.msgs) != 1 || !m.Truncated || !r.has(CodeInflateRatio) || len(m.Payload) > 2<<20 || len(m.Payload) < 1<<20 || !bytes.Equal(m.Payload, zeros[:len(m.Payload)]) {
			t.Fatalf("%d msgs, truncated=%v len=%d %v", len(r.msgs), m.Truncated, len(m.Payload), m.Anomalies)
		}
	})
	t.Run("default-ratio-allows-3MiB-of-zeros", func(t *testing.T) {
		r := decode(Config{Deflate: pmdNo}, FromServer, enc(fr{fin: true, rsv: 4, op: OpBinary, payload: zz}), 0)
		if len(r.msgs) != 1 || r.msgs[0].Truncated || !bytes.Equal(r.msgs[0].Payload, zeros) {
			t.Fatalf("%v", r.codes())
		}
	})
	t.Run("size-after-decompression", func(t *testing.T) {
		// 3 MiB inflated from a few KiB: the limit applies to the output.
		r := decode(Config{Deflate: pmd, MaxMessageSize: 1 << 20}, FromServer, cat(
			enc(fr{fin: true, rsv: 4, op: OpBinary, payload: zz}),
			enc(fr{fin: true, op: OpText, payload: []byte("plain")})), 0)
		m := r.msgs[0]
		if len(r.msgs) != 2 || !m.Truncated || len(m.Payload) != 1<<20 || !r.has(CodeMessageTooLarge) || string(r.msgs[1].Payload) != "plain" {
			t.Fatalf("%d msgs, truncated=%v len=%d %v", len(r.msgs), m.Truncated, len(m.Payload), r.codes())
		}
	})
	t.Run("truncation-loses-takeover-context", func(t *testing.T) {
		r := decode(Config{Deflate: pmd, MaxMessageSize: 100}, FromServer, cat(
			enc(fr{fin: true, rsv: 4, op: OpText, payload: zt[0]}),
			enc(fr{fin: true, rsv: 4, op: OpText, payload: zt[1]})), 0)
		if len(r.msgs) != 2 || !r.msgs[0].Truncated || string(r.msgs[0].Payload) != string(text[:100]) ||
			!r.msgs[1].Incomplete || len(r.msgs[1].Payload) != 0 || r.msgs[1].Anomalies[0].Code != CodeContextLost {
			t.Fatalf("%s", r.summary())
		}
	})
	t.Run("compressed-too-large", func(t *testing.T) {
		r := decode(Config{Deflate: pmdNo, MaxMessageSize: 16}, FromServer, enc(fr{fin: true, rsv: 4, op: OpBinary, payload: zt[0]}), 3)
		if len(r.msgs) != 1 || !r.msgs[0].Truncated || !r.has(CodeCompressedTooLarge) || len(r.msgs[0].Payload) != 0 {
			t.Fatalf("%s", r.summary())
		}
	})
	t.Run("too-many-frames", func(t *testing.T) {
		var in []byte
		for i := 0; i < 10; i++ {
			op := OpContinuation
			if i == 0 {
				op = OpBinary
			}
			in = append(in, enc(fr{fin: i == 9, op: op, payload: []byte{byte(i)}})...)
		}
		r := decode(Config{MaxFramesPerMessage: 4}, FromServer, in, 0)
		m := r.msgs[0]
		if len(m.Frames) != 4 || !r.has(CodeTooManyFrames) || !bytes.Equal(m.Payload, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) || m.WireLen != int64(len(in)) {
			t.Fatalf("%s", r.summary())
		}
	})
	t.Run("too-many-anomalies", func(t *testing.T) {
		var in []byte
		for i := 0; i < 50; i++ {
			op := OpContinuation
			if i == 0 {
				op = OpBinary
			}
			in = append(in, enc(fr{fin: i == 49, rsv: 3, op: op})...)
		}
		r := decode(Config{}, FromServer, in, 0)
		m := r.msgs[0]
		if len(m.Anomalies) != maxAnomalies+1 || m.Anomalies[maxAnomalies].Code != CodeTooManyAnomalies {
			t.Fatalf("%d anomalies", len(m.Anomalies))
		}
	})
}

func TestBufferRetention(t *testing.T) {
	r := &rec{}
	c := NewConn(Config{}, r)
	big := enc(fr{fin: true, op: OpBinary, payload: dataOf(1 << 20)})
	small := enc(fr{fin: true, op: OpBinary, payload: dataOf(100)})
	// A big message in progress holds its buffer; once emitted, the
	// buffer goes back to the pool.
	c.Feed(FromServer, big[:len(big)/2], Meta{})
	if cap(c.s[FromServer].data.buf) < len(big)/2-16 {
		t.Fatalf("buffer of the message in progress: cap %d", cap(c.s[FromServer].data.buf))
	}
	c.Feed(FromServer, big[len(big)/2:], Meta{})
	if c.s[FromServer].data.buf != nil {
		t.Errorf("1 MiB buffer kept after its message (%d)", cap(c.s[FromServer].data.buf))
	}
	// Small buffers are kept for the next message, up to keepBuffer.
	c.Feed(FromServer, small, Meta{})
	if got := cap(c.s[FromServer].data.buf); got == 0 || got > keepBuffer {
		t.Errorf("small buffer: cap %d, want 1..%d", got, keepBuffer)
	}
	c.Trim()
	if c.s[FromServer].data.buf != nil {
		t.Errorf("Trim kept the buffer")
	}
	c.Feed(FromServer, small, Meta{})
	c.Feed(FromServer, big, Meta{})
	if len(r.msgs) != 4 || string(r.msgs[2].Payload) != string(dataOf(100)) {
		t.Errorf("decoding after Trim: %d messages", len(r.msgs))
	}
	for i, m := range r.msgs {
		want := dataOf(100)
		if len(m.Payload) > 100 {
			want = dataOf(1 << 20)
		}
		if string(m.Payload) != string(want) {
			t.Errorf("message %d: payload differs", i)
		}
	}
}

// TestBufferPool: pooled buffers are powers of two in the pooled range,
// grow by doubling up to the limit, and are reused.
func TestBufferPool(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 4097, 1 << 22} {
		b := getBuf(n)
		if c := cap(b); c < n || c&(c-1) != 0 || len(b) != 0 {
			t.Errorf("getBuf(%d): len %d cap %d", n, len(b), c)
		}
		putBuf(b)
	}
	if b := getBuf(1<<22 + 1); cap(b) != 1<<22+1 {
		t.Errorf("unpooled size: cap %d", cap(b))
	}
	b := growBuf(nil, 10, 1<<20, 0)
	b = append(b, "0123456789"...)
	for len(b) < 1<<20 {
		n := min(1000, 1<<20-len(b))
		b = growBuf(b, n, 1<<20, 0)
		b = append(b, make([]byte, n)...)
	}
	if cap(b) != 1<<20 || string(b[:10]) != "0123456789" {
		t.Errorf("grown to cap %d, want the limit %d; prefix %q", cap(b), 1<<20, b[:10])
	}
	// The limit caps growth (rounded up to the pool size).
	if b := growBuf(make([]byte, 600, 1024), 500, 1100, 0); cap(b) != 2048 || len(b) != 600 {
		t.Errorf("growth past a limit of 1100: len %d cap %d", len(b), cap(b))
	}
}

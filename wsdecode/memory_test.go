package wsdecode

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestWindowHistory: the inflate history is always the last 32 KiB of the
// plaintext pushed, whatever the sizes, in a buffer of at most windowCap.
func TestWindowHistory(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s stream
	var all []byte
	sizes := []int{0, 1, 100, 1000, 5000, 16 << 10, windowSize - 1, windowSize, windowSize + 1, 100 << 10}
	for i := range 3000 {
		n := sizes[rng.IntN(len(sizes))]
		if i%3 == 0 {
			n = rng.IntN(3000)
		}
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		s.pushWindow(p)
		all = append(all, p...)
		want := all[max(0, len(all)-windowSize):]
		if !bytes.Equal(s.history(), want) {
			t.Fatalf("push %d (%d bytes): history of %d bytes differs from the last %d", i, n, len(s.history()), len(want))
		}
		if cap(s.window) > windowCap {
			t.Fatalf("window buffer cap %d > %d", cap(s.window), windowCap)
		}
		if len(all) > 1<<20 {
			all = bytes.Clone(all[len(all)-windowSize:])
		}
	}
}

// TestIdleConnMemory: a connection between messages holds its small fixed
// state only — message buffers above keepBuffer, frame lists and anomaly
// lists go back once the message is emitted.
func TestIdleConnMemory(t *testing.T) {
	const conns = 2000
	cs := make([]*Conn, conns)
	payload := bytes.Repeat([]byte("x"), 20000)
	base := heapInUse()
	for i := range cs {
		c := NewConn(Config{}, nil)
		// A fragmented text message of 20 KB with an unmasked-client
		// anomaly on every frame, and a ping, in both directions.
		for d := Dir(0); d < 2; d++ {
			var in []byte
			for k := 0; k < len(payload); k += 2000 {
				op := OpContinuation
				if k == 0 {
					op = OpText
				}
				in = append(in, enc(fr{fin: k+2000 >= len(payload), op: op, payload: payload[k : k+2000]})...)
			}
			in = append(in, enc(fr{fin: true, op: OpPing, payload: []byte("p")})...)
			c.Feed(d, in, Meta{})
		}
		cs[i] = c
	}
	per := (heapInUse() - base) / conns
	t.Logf("%d bytes per idle connection", per)
	// The Conn struct itself (~3 KiB) plus small retained buffers.
	if per > 5<<10 {
		t.Errorf("%d bytes held per idle connection, want ≤ 5 KiB", per)
	}
	for _, c := range cs {
		c.Close(Meta{})
	}
}

// TestSizeHint: a message that outgrows the kept buffer grows at once to
// its direction's previous message size (at most maxSizeHint), not by
// doubling from 512 B; small messages are not affected.
func TestSizeHint(t *testing.T) {
	for _, tc := range []struct {
		prev, next int
		wantCap    int // after the first 1448-byte chunk of next
	}{
		{prev: 64 << 10, next: 64 << 10, wantCap: 64 << 10},
		{prev: 3 << 20, next: 3 << 20, wantCap: maxSizeHint},
		{prev: 100, next: 64 << 10, wantCap: 2048},
	} {
		c := NewConn(Config{}, nil)
		c.Feed(FromServer, enc(fr{fin: true, op: OpBinary, payload: dataOf(tc.prev)}), Meta{})
		in := enc(fr{fin: true, op: OpBinary, payload: dataOf(tc.next)})
		c.Feed(FromServer, in[:1448], Meta{})
		if got := cap(c.s[FromServer].data.buf); got != tc.wantCap {
			t.Errorf("after a %d-byte message, the next one's buffer: cap %d, want %d", tc.prev, got, tc.wantCap)
		}
		c.Feed(FromServer, in[1448:], Meta{})
		// A small message after a large one keeps using a small buffer.
		c.Feed(FromServer, enc(fr{fin: true, op: OpBinary, payload: dataOf(100)}), Meta{})
		if got := cap(c.s[FromServer].data.buf); got > keepBuffer {
			t.Errorf("small message after a %d-byte one: buffer cap %d", tc.next, got)
		}
	}
}

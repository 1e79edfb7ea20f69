package wsdecode

import (
	"bytes"
	"compress/flate"
	"runtime"
	"testing"
)

// Decompression bombs and endless messages (issue 7): the decoder's memory
// must stay within its documented limits (MaxMessageSize, MaxInflateRatio,
// MaxFramesPerMessage, the 32 KiB inflate window) whatever the input.

// zeroChunks returns raw DEFLATE data (sync-flushed, as permessage-deflate
// senders write it) for 1 MiB of zeros from an empty history (first), and
// for 1 MiB of zeros following at least 32 KiB of zeros (next). Any number
// of copies of next may follow first: each inflates to 1 MiB more zeros
// (about 1000:1, the most DEFLATE allows).
func zeroChunks(t testing.TB) (first, next []byte) {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	w.Write(zeros)
	w.Flush()
	first = bytes.Clone(buf.Bytes())
	buf.Reset()
	w.Write(zeros)
	w.Flush()
	next = bytes.Clone(buf.Bytes())
	for _, c := range [][]byte{first, next} {
		if !bytes.HasSuffix(c, []byte{0, 0, 0xff, 0xff}) {
			t.Fatalf("flush did not end in 00 00 ff ff")
		}
	}
	return first, next
}

// bomb returns the payload of one permessage-deflate message (trailing
// 00 00 ff ff removed) that inflates to mib MiB of zeros.
func bomb(t testing.TB, mib int) []byte {
	first, next := zeroChunks(t)
	b := make([]byte, 0, len(first)+(mib-1)*len(next))
	b = append(b, first...)
	for range mib - 1 {
		b = append(b, next...)
	}
	return b[:len(b)-4]
}

// heapInUse returns the live heap after a full collection (sync.Pool
// contents dropped too).
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// allocated returns the bytes allocated so far.
func allocated() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.TotalAlloc)
}

// sizeRec is a Handler that keeps only the shape of each message.
type sizeRec struct {
	msgs  []Message // Payload, Frames and Anomalies dropped
	codes map[string]int
	zero  bool // every payload byte seen was zero
	plain []string
}

func (r *sizeRec) Message(m *Message) {
	c := *m
	c.Payload, c.Frames, c.Anomalies = nil, nil, nil
	r.msgs = append(r.msgs, c)
	if r.codes == nil {
		r.codes = map[string]int{}
	}
	for _, a := range m.Anomalies {
		r.codes[a.Code]++
	}
	if len(m.Payload) > 0 && m.Payload[0] != 0 {
		r.plain = append(r.plain, string(m.Payload))
	}
}

func (r *sizeRec) Anomaly(a *Anomaly) {
	if r.codes == nil {
		r.codes = map[string]int{}
	}
	r.codes[a.Code]++
}

// TestBombOneMessage: a 4 MB compressed message that inflates to 4 GiB is
// inflated only up to MaxMessageSize, emitted Truncated with
// message-too-large, and costs memory in proportion to the limit, not to
// the 4 GiB; under context takeover the next message is reported
// deflate-context-lost (its history is unknown), without it the next
// message decodes.
func TestBombOneMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 64 MiB")
	}
	for _, tc := range []struct {
		name     string
		mib      int // inflated size
		cfg      Config
		limit    int64
		takeover bool
	}{
		{"4GiB-default-limit", 4096, Config{Deflate: Deflate{Mode: PerMessageDeflate}}, DefaultMaxMessageSize, true},
		// 512 MiB from ~500 KB: the compressed bytes fit the 1 MiB limit.
		{"512MiB-1MiB-limit-no-takeover", 512, Config{Deflate: Deflate{Mode: PerMessageDeflate, ServerNoContextTakeover: true}, MaxMessageSize: 1 << 20}, 1 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z := bomb(t, tc.mib)
			after := deflateMsgs(t, [][]byte{[]byte("after the bomb")}, false)[0]
			in := cat(enc(fr{fin: true, rsv: 4, op: OpBinary, payload: z}), enc(fr{fin: true, rsv: 4, op: OpText, payload: after}))
			r := &sizeRec{}
			c := NewConn(tc.cfg, r)
			base := heapInUse()
			a0 := allocated()
			for p := in; len(p) > 0; {
				n := min(len(p), 1448)
				c.Feed(FromServer, p[:n], Meta{Packet: 1})
				p = p[n:]
			}
			alloc := allocated() - a0
			c.Close(Meta{Packet: 2})
			if len(r.msgs) != 2 {
				t.Fatalf("%d messages, want 2", len(r.msgs))
			}
			m := r.msgs[0]
			if !m.Truncated || m.Len != tc.limit || r.codes[CodeMessageTooLarge] != 1 {
				t.Errorf("bomb: truncated=%v len=%d codes %v; want truncated at %d with %s", m.Truncated, m.Len, r.codes, tc.limit, CodeMessageTooLarge)
			}
			// The compressed input is buffered (≤ MaxMessageSize) and the
			// output grows by doubling up to the limit.
			if max := 2*int64(len(z)) + 3*tc.limit + 1<<20; alloc > max {
				t.Errorf("decoding the bomb allocated %d MiB, want ≤ %d MiB", alloc>>20, max>>20)
			}
			live := heapInUse() - base
			if live > 1<<20 {
				t.Errorf("%d KiB still held after the bomb", live>>10)
			}
			if tc.takeover {
				if !r.msgs[1].Incomplete || r.codes[CodeContextLost] != 1 {
					t.Errorf("message after the bomb: incomplete=%v codes %v; want %s", r.msgs[1].Incomplete, r.codes, CodeContextLost)
				}
			} else if len(r.plain) != 1 || r.plain[0] != "after the bomb" || r.msgs[1].Incomplete {
				t.Errorf("message after the bomb: %q incomplete=%v", r.plain, r.msgs[1].Incomplete)
			}
			runtime.KeepAlive(c)
		})
	}
}

// TestBombRatio: with a limit larger than the bomb's output would reach,
// the inflate ratio stops it: output ≤ MaxInflateRatio × input (past the
// 1 MiB floor).
func TestBombRatio(t *testing.T) {
	z := bomb(t, 64) // 64 MiB from ~64 KB
	r := &sizeRec{}
	c := NewConn(Config{Deflate: Deflate{Mode: PerMessageDeflate}, MaxInflateRatio: 100}, r)
	c.Feed(FromServer, enc(fr{fin: true, rsv: 4, op: OpBinary, payload: z}), Meta{Packet: 1})
	c.Close(Meta{Packet: 2})
	if len(r.msgs) != 1 {
		t.Fatalf("%d messages", len(r.msgs))
	}
	m := r.msgs[0]
	lim := 100 * int64(len(z)+len(deflateTail))
	if !m.Truncated || r.codes[CodeInflateRatio] != 1 || m.Len > lim+scratchSize+1<<16 || m.Len < 1<<20 {
		t.Errorf("truncated=%v len=%d (ratio limit %d) codes %v", m.Truncated, m.Len, lim, r.codes)
	}
}

// TestBombTakeoverStream: a context-takeover stream whose every message
// inflates about 1000× (1 KiB → 1 MiB, within the default ratio): every
// message is emitted whole, and the decoder allocates next to nothing per
// message and holds no more than its inflate window between messages.
func TestBombTakeoverStream(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 200 MiB")
	}
	first, next := zeroChunks(t)
	const n = 200
	var msgs [][]byte
	msgs = append(msgs, enc(fr{fin: true, rsv: 4, op: OpBinary, payload: first[:len(first)-4]}))
	for range n - 1 {
		msgs = append(msgs, enc(fr{fin: true, rsv: 4, op: OpBinary, payload: next[:len(next)-4]}))
	}
	r := &sizeRec{}
	c := NewConn(Config{Deflate: Deflate{Mode: PerMessageDeflate}}, r)
	base := heapInUse()
	var a0 int64
	for i, m := range msgs {
		if i == 10 {
			a0 = allocated()
		}
		c.Feed(FromServer, m, Meta{Packet: uint64(i + 1)})
	}
	perMsg := (allocated() - a0) / (n - 10)
	live := heapInUse() - base
	c.Close(Meta{Packet: n + 1})
	if len(r.msgs) != n {
		t.Fatalf("%d messages, want %d", len(r.msgs), n)
	}
	for i, m := range r.msgs {
		if m.Len != 1<<20 || m.Truncated || m.Incomplete {
			t.Fatalf("message %d: len %d truncated=%v incomplete=%v codes %v", i, m.Len, m.Truncated, m.Incomplete, r.codes)
		}
	}
	if len(r.plain) != 0 {
		t.Errorf("non-zero payloads")
	}
	if perMsg > 64<<10 {
		t.Errorf("%d KiB allocated per 1 MiB message: buffers are not reused", perMsg>>10)
	}
	// Between messages: the inflate window (≤ 64 KiB per direction), no
	// message buffer.
	if live > 256<<10 {
		t.Errorf("%d KiB held between messages", live>>10)
	}
	runtime.KeepAlive(c)
}

// TestEndlessFragments: a message of continuation frames that never sets
// FIN holds at most MaxMessageSize payload bytes and MaxFramesPerMessage
// frame headers however long it runs; it is emitted at Close, Incomplete
// and Truncated, with its full length counted.
func TestEndlessFragments(t *testing.T) {
	for _, dir := range []Dir{FromClient, FromServer} {
		t.Run(dir.String(), func(t *testing.T) {
			const limit = 4 << 20
			const frames = 2048 // 128 MiB
			chunk := bytes.Repeat([]byte("e"), 64<<10)
			masked := dir == FromClient
			r := &sizeRec{}
			c := NewConn(Config{MaxMessageSize: limit}, r)
			base := heapInUse()
			var peak int64
			var buf []byte
			for i := range frames {
				op := OpContinuation
				if i == 0 {
					op = OpText
				}
				buf = append(buf[:0], enc(fr{op: op, mask: masked, key: testKey, payload: chunk})...)
				c.Feed(dir, buf, Meta{Packet: uint64(i + 1)})
				if i%512 == 511 {
					peak = max(peak, heapInUse()-base)
				}
			}
			c.Close(Meta{Packet: frames + 1})
			if len(r.msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(r.msgs))
			}
			m := r.msgs[0]
			if !m.Incomplete || !m.Truncated || m.Len != frames*int64(len(chunk)) {
				t.Errorf("incomplete=%v truncated=%v len=%d", m.Incomplete, m.Truncated, m.Len)
			}
			for _, code := range []string{CodeMessageTooLarge, CodeTooManyFrames, CodeTruncated} {
				if r.codes[code] != 1 {
					t.Errorf("codes %v: want one %s", r.codes, code)
				}
			}
			// The payload buffer (≤ 2× the limit while growing... it stops
			// at the limit), 1024 frame headers, a 4 KiB scratch buffer.
			if max := int64(limit + DefaultMaxFramesPerMessage*128 + 1<<20); peak > max {
				t.Errorf("live heap %d KiB while the message ran, want ≤ %d KiB", peak>>10, max>>10)
			}
			runtime.KeepAlive(c)
		})
	}
}

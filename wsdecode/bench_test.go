package wsdecode

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand"
	"testing"
	"time"
)

type countHandler struct {
	msgs  int
	bytes int64
}

func (h *countHandler) Message(m *Message) { h.msgs++; h.bytes += int64(len(m.Payload)) }
func (h *countHandler) Anomaly(*Anomaly)   {}

func benchFrames(b *testing.B, frame []byte, chunk int, cfg Config, dir Dir) {
	h := &countHandler{}
	c := NewConn(cfg, h)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if chunk == 0 {
			c.Feed(dir, frame, Meta{Packet: uint64(i)})
			continue
		}
		for p := frame; len(p) > 0; {
			k := min(chunk, len(p))
			c.Feed(dir, p[:k], Meta{Packet: uint64(i)})
			p = p[k:]
		}
	}
	b.StopTimer()
	if h.msgs != b.N {
		b.Fatalf("%d messages for %d frames", h.msgs, b.N)
	}
}

func BenchmarkLargeFrame(b *testing.B) {
	for _, n := range []int{64 << 10, 1 << 20} {
		p := make([]byte, n)
		rand.New(rand.NewSource(1)).Read(p)
		frame := enc(fr{fin: true, op: OpBinary, mask: true, key: testKey, payload: p})
		b.Run(fmt.Sprintf("masked-%dK-whole", n>>10), func(b *testing.B) { benchFrames(b, frame, 0, Config{}, FromClient) })
		b.Run(fmt.Sprintf("masked-%dK-1448B-chunks", n>>10), func(b *testing.B) { benchFrames(b, frame, 1448, Config{}, FromClient) })
	}
}

func BenchmarkSmallFrame(b *testing.B) {
	p := bytes.Repeat([]byte("0123456789"), 10)
	b.Run("masked-text-100B", func(b *testing.B) {
		benchFrames(b, enc(fr{fin: true, op: OpText, mask: true, key: testKey, payload: p}), 0, Config{}, FromClient)
	})
	b.Run("unmasked-binary-100B", func(b *testing.B) {
		benchFrames(b, enc(fr{fin: true, op: OpBinary, payload: p}), 0, Config{}, FromServer)
	})
}

// jsonMessages makes n JSON-like messages of about size bytes each, similar
// to each other, as chat or market-data traffic is.
func jsonMessages(n, size int) [][]byte {
	rnd := rand.New(rand.NewSource(7))
	var out [][]byte
	for i := 0; i < n; i++ {
		var bb bytes.Buffer
		bb.WriteString(`{"type":"update","items":[`)
		for bb.Len() < size {
			fmt.Fprintf(&bb, `{"id":%d,"symbol":"SYM%d","price":%d.%02d,"qty":%d,"side":"%s"},`,
				rnd.Intn(100000), rnd.Intn(50), rnd.Intn(1000), rnd.Intn(100), rnd.Intn(500), []string{"buy", "sell"}[rnd.Intn(2)])
		}
		bb.WriteString(`{}]}`)
		out = append(out, bb.Bytes())
	}
	return out
}

// compressedCorpus returns plaintexts, their permessage-deflate payloads (with
// context takeover) and the server frames carrying them.
func compressedCorpus(tb testing.TB, n, size int) (plain, z, frames [][]byte) {
	plain = jsonMessages(n, size)
	z = deflateMsgs(tb, plain, true)
	for _, p := range z {
		frames = append(frames, enc(fr{fin: true, rsv: 4, op: OpText, payload: p}))
	}
	return plain, z, frames
}

func BenchmarkInflate(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		plain, z, frames := compressedCorpus(b, 256, size)
		var total int64
		for _, p := range plain {
			total += int64(len(p))
		}
		// wsdecode: frames of one direction with context takeover.
		b.Run(fmt.Sprintf("wsdecode-takeover-%dK", size>>10), func(b *testing.B) {
			h := &countHandler{}
			b.SetBytes(total / int64(len(plain)))
			b.ReportAllocs()
			var c *Conn
			for i := 0; i < b.N; i++ {
				j := i % len(frames)
				if j == 0 {
					c = NewConn(Config{Deflate: Deflate{Mode: PerMessageDeflate}}, h)
				}
				c.Feed(FromServer, frames[j], Meta{})
			}
		})
		// Baseline: stdlib compress/flate on the same compressed messages,
		// one Reset per message with the previous plaintext as dictionary.
		b.Run(fmt.Sprintf("flate-baseline-dict-%dK", size>>10), func(b *testing.B) {
			in := make([][]byte, len(z))
			dicts := make([][]byte, len(z))
			var hist []byte
			for i, p := range z {
				in[i] = append(bytes.Clone(p), deflateTail...)
				dicts[i] = bytes.Clone(hist[max(0, len(hist)-windowSize):])
				hist = append(hist, plain[i]...)
			}
			fr := flate.NewReader(bytes.NewReader(nil))
			var br bytes.Reader
			out := make([]byte, 0, 64<<10)
			b.SetBytes(total / int64(len(plain)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				j := i % len(in)
				br.Reset(in[j])
				fr.(flate.Resetter).Reset(&br, dicts[j])
				out = out[:0]
				for {
					if len(out) == cap(out) {
						out = append(out, 0)[:len(out)]
					}
					n, err := fr.Read(out[len(out):cap(out)])
					out = out[:len(out)+n]
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if len(out) != len(plain[j]) {
					b.Fatalf("baseline inflated %d bytes, want %d", len(out), len(plain[j]))
				}
			}
		})
		// Baseline: one continuous flate stream over all messages (the
		// sender's view; no per-message reset at all).
		b.Run(fmt.Sprintf("flate-baseline-stream-%dK", size>>10), func(b *testing.B) {
			var stream []byte
			for _, p := range z {
				stream = append(stream, p...)
				stream = append(stream, 0, 0, 0xff, 0xff)
			}
			stream = append(stream, 1, 0, 0, 0xff, 0xff)
			fr := flate.NewReader(bytes.NewReader(nil))
			var br bytes.Reader
			buf := make([]byte, 32<<10)
			b.SetBytes(total)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				br.Reset(stream)
				fr.(flate.Resetter).Reset(&br, nil)
				var n int64
				for {
					k, err := fr.Read(buf)
					n += int64(k)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if n != total {
					b.Fatalf("stream inflated %d, want %d", n, total)
				}
			}
		})
	}
}

// BenchmarkInflateVsFlate alternates wsdecode and the stdlib baseline (same
// compressed messages, Reset with the previous plaintext as dictionary) in
// small batches, so that load from other processes hits both equally, and
// reports wsdecode's time relative to the baseline as x-flate.
func BenchmarkInflateVsFlate(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		b.Run(fmt.Sprintf("%dK", size>>10), func(b *testing.B) {
			plain, z, frames := compressedCorpus(b, 256, size)
			in := make([][]byte, len(z))
			dicts := make([][]byte, len(z))
			var hist []byte
			var total int64
			for i, p := range z {
				in[i] = append(bytes.Clone(p), deflateTail...)
				dicts[i] = bytes.Clone(hist[max(0, len(hist)-windowSize):])
				hist = append(hist, plain[i]...)
				total += int64(len(plain[i]))
			}
			fr := flate.NewReader(bytes.NewReader(nil))
			var br bytes.Reader
			out := make([]byte, 0, 64<<10)
			baseline := func(j int) {
				br.Reset(in[j])
				fr.(flate.Resetter).Reset(&br, dicts[j])
				out = out[:0]
				for {
					n, err := fr.Read(out[len(out):cap(out)])
					out = out[:len(out)+n]
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			h := &countHandler{}
			var c *Conn
			var tw, tb time.Duration
			b.SetBytes(total)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c = NewConn(Config{Deflate: Deflate{Mode: PerMessageDeflate}}, h)
				for k := 0; k < len(frames); k += 16 {
					t0 := time.Now()
					for j := k; j < k+16; j++ {
						c.Feed(FromServer, frames[j], Meta{})
					}
					t1 := time.Now()
					for j := k; j < k+16; j++ {
						baseline(j)
					}
					t2 := time.Now()
					tw += t1.Sub(t0)
					tb += t2.Sub(t1)
				}
			}
			b.ReportMetric(float64(tw)/float64(tb), "x-flate")
			b.ReportMetric(float64(total*int64(b.N))/tw.Seconds()/1e6, "wsdecode-MB/s")
			b.ReportMetric(float64(total*int64(b.N))/tb.Seconds()/1e6, "flate-MB/s")
		})
	}
}

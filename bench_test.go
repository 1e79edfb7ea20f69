package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/export"
	"github.com/wsscope/wsscope/pcaps/synth"
	"github.com/wsscope/wsscope/pipeline"
)

// benchCapture synthesises a capture of conns connections exchanging n
// small JSON text messages each way, perChunk frames per write (a write
// never shares a TCP segment with another).
func benchCapture(b *testing.B, conns, n, perChunk int) ([]byte, int) {
	b.Helper()
	var cs []*synth.Conn
	key := []byte{1, 2, 3, 4}
	total := 0
	for ci := 0; ci < conns; ci++ {
		c := &synth.Conn{
			Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + ci)}), uint16(40000+ci)),
			Server: netip.MustParseAddrPort("192.0.2.1:8080"),
		}
		c.Chunks = append(c.Chunks,
			synth.Chunk{Dir: synth.ClientToServer, Data: []byte("GET /bench HTTP/1.1\r\nHost: bench.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")},
			synth.Chunk{Dir: synth.ServerToClient, Data: []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")})
		for i := 0; i < n; i += perChunk {
			var cl, sv []byte
			for j := i; j < i+perChunk && j < n; j++ {
				p := fmt.Sprintf(`{"type":"tick","symbol":"WS%d","seq":%d,"bid":101.25,"ask":101.5}`, ci, j)
				cl = append(cl, wsFrame(1, []byte(p), key)...)
				sv = append(sv, wsFrame(1, []byte(p), nil)...)
				total += 2
			}
			c.Chunks = append(c.Chunks, synth.Chunk{Dir: synth.ClientToServer, Data: cl}, synth.Chunk{Dir: synth.ServerToClient, Data: sv})
		}
		cs = append(cs, c)
	}
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, cs, synth.Options{Seed: 1, Interleave: synth.RoundRobin}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), total
}

// benchExport measures capture → pipeline → JSON Lines writer on an
// in-memory capture, in messages per second.
func benchExport(b *testing.B, perChunk int, mk func(io.Writer) export.Writer) {
	data, msgs := benchCapture(b, 8, 10000, perChunk)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		src, err := capture.OpenReader(bytes.NewReader(data), "bench", capture.Options{})
		if err != nil {
			b.Fatal(err)
		}
		w := mk(io.Discard)
		st, err := pipeline.Run(context.Background(), src, pipeline.Options{}, w)
		if err != nil {
			b.Fatal(err)
		}
		if int(st.Messages) != msgs {
			b.Fatalf("%d messages decoded, want %d", st.Messages, msgs)
		}
		w.Close()
	}
	b.ReportMetric(float64(msgs)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	// Messages per second of CPU time used by this process: meaningful on
	// a machine shared with other work, where wall time is not.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(msgs)*float64(b.N)/cpu.Seconds(), "msgs/cpu-s")
	}
}

// cpuTime returns the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func jsonW(w io.Writer) export.Writer { return export.NewJSONWriter(w) }
func textW(w io.Writer) export.Writer { return export.NewTextWriter(w) }

func BenchmarkExportJSON1PerPacket(b *testing.B) { benchExport(b, 1, jsonW) }
func BenchmarkExportJSON16PerWrite(b *testing.B) { benchExport(b, 16, jsonW) }
func BenchmarkExportText16PerWrite(b *testing.B) { benchExport(b, 16, textW) }

package pipeline

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/pcaps/synth"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// frame builds one WebSocket frame; masked frames use a fixed key.
func frame(fin bool, op byte, masked bool, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var mbit byte
	if masked {
		mbit = 0x80
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, mbit|byte(n))
	case n < 1<<16:
		out = append(out, mbit|126, byte(n>>8), byte(n))
	default:
		out = append(out, mbit|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	if !masked {
		return append(out, payload...)
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	out = append(out, key[:]...)
	for i, c := range payload {
		out = append(out, c^key[i&3])
	}
	return out
}

func accept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// craftConn is a hand-made WebSocket connection: handshake, then nmsg text
// messages of size bytes each way, then a close each way.
func craftConn(i, nmsg, size int) (*synth.Conn, [][2]string) {
	key := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("key-%011d", i)))
	req := "GET /ws/" + fmt.Sprint(i) + " HTTP/1.1\r\nHost: bench.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(key) + "\r\n\r\n"
	c := &synth.Conn{
		Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(40000+i%20000)),
		Server: netip.MustParseAddrPort("10.0.0.1:8080"),
	}
	c.Chunks = append(c.Chunks, synth.Chunk{Dir: synth.ClientToServer, Data: []byte(req)}, synth.Chunk{Dir: synth.ServerToClient, Data: []byte(resp)})
	var msgs [][2]string
	for m := 0; m < nmsg; m++ {
		unit := fmt.Sprintf("conn %d message %d; ", i, m)
		p := []byte(strings.Repeat(unit, size/len(unit)+1)[:size])
		c.Chunks = append(c.Chunks, synth.Chunk{Dir: synth.ClientToServer, Data: frame(true, 1, true, p)})
		q := bytes.ToUpper(p)
		c.Chunks = append(c.Chunks, synth.Chunk{Dir: synth.ServerToClient, Data: frame(true, 1, false, q)})
		msgs = append(msgs, [2]string{string(p), string(q)})
	}
	c.Chunks = append(c.Chunks, synth.Chunk{Dir: synth.ClientToServer, Data: frame(true, 8, true, []byte{3, 232})},
		synth.Chunk{Dir: synth.ServerToClient, Data: frame(true, 8, false, []byte{3, 232})})
	return c, msgs
}

func craftCapture(t testing.TB, conns, nmsg, size int, opts synth.Options) ([]byte, [][][2]string) {
	var cs []*synth.Conn
	var all [][][2]string
	for i := 0; i < conns; i++ {
		c, m := craftConn(i, nmsg, size)
		cs = append(cs, c)
		all = append(all, m)
	}
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, cs, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), all
}

func packetsOf(t testing.TB, data []byte) []*capture.Packet {
	src, err := capture.OpenReader(bytes.NewReader(data), "x", capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*capture.Packet
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		cp := *p
		cp.Payload = bytes.Clone(p.Payload)
		out = append(out, &cp)
	}
	return out
}

func TestCraftedMessages(t *testing.T) {
	data, want := craftCapture(t, 3, 5, 3000, synth.Options{Link: synth.LinkSLL})
	sink, st, err := runBytes(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.conns) != 3 || st.WebSockets != 3 || st.Conns != 3 {
		t.Fatalf("conns %d stats %+v", len(sink.conns), st)
	}
	for _, c := range sink.conns {
		i := int(c.ID - 1)
		var got [2][]string
		for _, m := range sink.msgs {
			if m.conn == c && m.op == wsdecode.OpText {
				if m.marked() {
					t.Errorf("marked message %+v", m.anoms)
				}
				got[m.dir] = append(got[m.dir], string(m.payload))
			}
		}
		for d := 0; d < 2; d++ {
			if len(got[d]) != len(want[i]) {
				t.Fatalf("conn %d dir %d: %d messages, want %d", i, d, len(got[d]), len(want[i]))
			}
			for k := range want[i] {
				if got[d][k] != want[i][k][d] {
					t.Errorf("conn %d dir %d msg %d differs", i, d, k)
				}
			}
		}
		s := c.Summary
		if s.Messages != [2]uint64{6, 6} || s.CloseCodes != [2]int{1000, 1000} || !s.Ended || s.EndReason != reassembly.EndFIN ||
			s.Bytes[0] != 5*3000+2 || s.WireBytes[0] <= s.Bytes[0] {
			t.Errorf("summary %+v", s)
		}
		if c.Handshake == nil || c.Handshake.URI != fmt.Sprintf("/ws/%d", i) || c.Start.IsZero() {
			t.Errorf("conn %+v", c)
		}
	}
	if st.Messages != 36 || st.Packets == 0 || st.Capture.TCP != st.Packets || st.Reassembly.WebSockets != 3 {
		t.Errorf("stats %+v", st)
	}
}

// TestSourceError: the source's error is returned after everything before it
// was delivered and every connection ended.
func TestSourceError(t *testing.T) {
	data, _ := craftCapture(t, 1, 3, 100, synth.Options{})
	pk := packetsOf(t, data)
	ferr := &capture.FormatError{Path: "x", Offset: 1234, Err: errors.New("bad record")}
	sink, st, err := runShards(t, Options{}, func() capture.Source { return &sliceSource{pkts: pk, err: ferr} })
	var fe *capture.FormatError
	if !errors.As(err, &fe) || fe.Offset != 1234 {
		t.Fatalf("err %v", err)
	}
	if st.Messages != 8 || len(sink.open) != 0 || len(sink.conns) != 1 {
		t.Errorf("stats %+v open %d", st, len(sink.open))
	}
	// Truncated stream (connection still open): ended with capture-end.
	sink, _, err = runShards(t, Options{}, func() capture.Source { return &sliceSource{pkts: pk[:len(pk)/2], err: ferr} })
	if !errors.Is(err, ferr) || len(sink.open) != 0 || sink.conns[0].Summary.EndReason != reassembly.EndCapture {
		t.Errorf("err %v, summary %+v", err, sink.conns[0].Summary)
	}
}

// TestCancel: the serial run stops within ctxCheckEvery packets of a
// cancellation (TestShardsCancel: sharded runs, which read a few batches
// ahead).
func TestCancel(t *testing.T) {
	data, _ := craftCapture(t, 4, 200, 100, synth.Options{})
	pk := packetsOf(t, data)
	ctx, cancel := context.WithCancel(context.Background())
	sink := &cancelSink{recSink: newRecSink(t), cancel: cancel, after: 3}
	st, err := Run(ctx, &sliceSource{pkts: pk}, Options{Shards: 1}, sink)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if st.Packets >= uint64(len(pk)) || len(sink.open) != 0 {
		t.Errorf("processed %d of %d packets, %d conns open", st.Packets, len(pk), len(sink.open))
	}
}

type cancelSink struct {
	*recSink
	cancel func()
	after  int
}

func (s *cancelSink) Message(c *Conn, m *wsdecode.Message) {
	s.recSink.Message(c, m)
	if len(s.msgs) == s.after {
		s.cancel()
	}
}

// TestDeterministic: the same capture gives the same Sink call sequence.
func TestDeterministic(t *testing.T) {
	data, _ := craftCapture(t, 20, 5, 700, synth.Options{Interleave: synth.Random, Seed: 7, Reorder: 0.2, Duplicate: 0.2, DropProb: 0.02})
	var traces [3][]string
	for i := range traces {
		sink, _, err := runBytes(t, data)
		if err != nil {
			t.Fatal(err)
		}
		traces[i] = sink.calls
	}
	if !slices.Equal(traces[0], traces[1]) || !slices.Equal(traces[0], traces[2]) {
		t.Fatal("Sink call sequence differs between runs")
	}
	if len(traces[0]) < 100 {
		t.Fatalf("only %d calls", len(traces[0]))
	}
}

// discardSink counts calls.
type discardSink struct{ msgs, bytes int64 }

func (d *discardSink) ConnOpen(*Conn) {}
func (d *discardSink) Message(_ *Conn, m *wsdecode.Message) {
	d.msgs++
	d.bytes += int64(len(m.Payload))
}
func (d *discardSink) Anomaly(*Conn, *Anomaly) {}
func (d *discardSink) ConnEnd(*Conn)           {}

// BenchmarkRun measures the whole pipeline (pcap parsing, reassembly,
// decoding) on an in-memory capture of 64 interleaved connections with 1 KiB
// and 16 KiB messages, serial (shards-1) and sharded.
func BenchmarkRun(b *testing.B) {
	for _, bc := range []struct {
		name       string
		nmsg, size int
	}{{"1KiB-msgs", 400, 1024}, {"16KiB-msgs", 40, 16384}} {
		for _, shards := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("%s/shards-%d", bc.name, shards), func(b *testing.B) { benchRun(b, bc.nmsg, bc.size, shards) })
		}
	}
}

func benchRun(b *testing.B, nmsg, size, shards int) {
	data, _ := craftCapture(b, 64, nmsg, size, synth.Options{})
	var pkts uint64
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src, err := capture.OpenReader(bytes.NewReader(data), "bench", capture.Options{})
		if err != nil {
			b.Fatal(err)
		}
		sink := &discardSink{}
		st, err := Run(context.Background(), src, Options{Shards: shards}, sink)
		if err != nil || sink.msgs != int64(64*(2*nmsg+2)) {
			b.Fatalf("err %v msgs %d", err, sink.msgs)
		}
		pkts = st.Packets
	}
	b.StopTimer()
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(pkts)*float64(b.N)/sec, "packets/s")
	b.ReportMetric(float64(pkts), "packets/op")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		// CPU time of the whole process per op: what sharding costs
		// beyond the serial run, less disturbed by other load than wall
		// time.
		b.ReportMetric(cpu.Seconds()/float64(b.N)*1e3, "cpu-ms/op")
	}
}

// TestEvictionReported: connections evicted from a full flow table are
// reported once as a capture-level anomaly.
func TestEvictionReported(t *testing.T) {
	data, _ := craftCapture(t, 6, 2, 50, synth.Options{})
	src, err := capture.OpenReader(bytes.NewReader(data), "x", capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sink := newRecSink(t)
	st, err := Run(context.Background(), src, Options{Reassembly: reassembly.Config{MaxConns: 2}}, sink)
	if err != nil || st.Reassembly.Evicted == 0 {
		t.Fatalf("err %v stats %+v", err, st.Reassembly)
	}
	found := false
	for i, a := range sink.anoms {
		if a.Code == reassembly.CodeLimit && strings.Contains(a.Detail, "evicted because") {
			found = true
			if !strings.HasPrefix(sink.calls[len(sink.calls)-1], "anom 0 limit") || i != len(sink.anoms)-1 {
				t.Errorf("capture-level anomaly not last")
			}
		}
	}
	if !found || len(sink.open) != 0 {
		t.Errorf("no capture-level eviction anomaly; open %d", len(sink.open))
	}
}

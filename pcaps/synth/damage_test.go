package synth

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// holesOf returns the missing ranges of each direction after naive
// reassembly, in Damage form (a missing tail is not visible and not listed).
func holesOf(have map[[2]int][]bool, nconns int) []Damage {
	var out []Damage
	for ci := range nconns {
		for d := range Dir(2) {
			for i, ok := range have[[2]int{ci, int(d)}] {
				if ok {
					continue
				}
				if n := len(out); n > 0 && out[n-1].Conn == ci && out[n-1].Dir == d && out[n-1].Offset+out[n-1].Len == int64(i) {
					out[n-1].Len++
				} else {
					out = append(out, Damage{Conn: ci, Dir: d, Offset: int64(i), Len: 1})
				}
			}
		}
	}
	return out
}

func writeRead(t *testing.T, conns []*Conn, o Options) (Result, map[[2]int][]byte, map[[2]int][]bool, []*layers.TCP) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Write(&buf, conns, o)
	if err != nil {
		t.Fatal(err)
	}
	pkts := readPackets(t, buf.Bytes())
	var tcps []*layers.TCP
	for _, p := range pkts {
		_, tcp, ok := endpoints(p)
		if !ok {
			t.Fatal("undecodable packet")
		}
		tcps = append(tcps, tcp)
	}
	s, h := reassemble(t, pkts, conns, res)
	return res, s, h, tcps
}

func dataPackets(tcps []*layers.TCP) int {
	n := 0
	for _, tcp := range tcps {
		if len(tcp.Payload) > 0 {
			n++
		}
	}
	return n
}

func TestDamageDrop(t *testing.T) {
	conns := testConns(3, true)
	base, _, _, baseTCP := writeRead(t, conns, Options{})
	ref := SegRef{Conn: 1, Dir: ClientToServer, Index: 2}
	res, _, have, tcps := writeRead(t, conns, Options{Drop: []SegRef{ref}})
	if res.Packets != base.Packets-1 || dataPackets(tcps) != dataPackets(baseTCP)-1 {
		t.Fatalf("dropping one segment: %d packets, undamaged %d", res.Packets, base.Packets)
	}
	if len(res.Damage) != 1 || res.Damage[0].Conn != 1 || res.Damage[0].Dir != ClientToServer {
		t.Fatalf("damage %v", res.Damage)
	}
	// The dropped range is the third segment of conn 1's client data.
	d := res.Damage[0]
	if got := SegmentIndex(conns[1], ClientToServer, d.Offset, 0); got != 2 {
		t.Fatalf("damage at offset %d is in segment %d, want 2", d.Offset, got)
	}
	if got := SegmentIndex(conns[1], ClientToServer, d.Offset+d.Len-1, 0); got != 2 {
		t.Fatalf("damage end is in segment %d, want 2", got)
	}
	if holes := holesOf(have, len(conns)); len(holes) != 1 || holes[0] != d {
		t.Fatalf("holes %v, damage %v", holes, res.Damage)
	}
	sent := []Sent{
		{Conn: 1, From: ClientToServer, Offset: d.Offset - 10, Len: 10},   // just before
		{Conn: 1, From: ClientToServer, Offset: d.Offset - 5, Len: 10},    // straddles the start
		{Conn: 1, From: ClientToServer, Offset: d.Offset + d.Len, Len: 3}, // just after
		{Conn: 1, From: ServerToClient, Offset: d.Offset, Len: 10},        // other direction
		{Conn: 0, From: ClientToServer, Offset: d.Offset, Len: 10},        // other connection
		{Conn: 1, From: ClientToServer, Offset: d.Offset + d.Len - 1, Len: 1},
	}
	if aff := res.Affected(sent); len(aff) != 2 || aff[0].Offset != sent[1].Offset || aff[1].Offset != sent[5].Offset {
		t.Fatalf("Affected = %+v", aff)
	}

	res, _, have, _ = writeRead(t, conns, Options{DropProb: 0.2, Seed: 3})
	if len(res.Damage) == 0 {
		t.Fatal("DropProb 0.2 dropped nothing")
	}
	holes := holesOf(have, len(conns))
	// Damage at the very end of a direction is not a visible hole.
	var visible []Damage
	for _, d := range res.Damage {
		if d.Offset+d.Len < int64(len(conns[d.Conn].Bytes(d.Dir))) {
			visible = append(visible, d)
		}
	}
	if len(holes) != len(visible) {
		t.Fatalf("holes %v, damage %v", holes, visible)
	}
	for i := range holes {
		if holes[i] != visible[i] {
			t.Fatalf("holes %v, damage %v", holes, visible)
		}
	}
}

func TestDamageReorderDuplicate(t *testing.T) {
	conns := testConns(3, false)
	base, _, _, baseTCP := writeRead(t, conns, Options{})
	for _, o := range []Options{{Reorder: 1}, {Duplicate: 1}, {Reorder: 0.5, Duplicate: 0.5, Seed: 9, Interleave: Random}} {
		res, streams, have, tcps := writeRead(t, conns, o)
		if len(res.Damage) != 0 {
			t.Fatalf("%+v: reported damage %v", o, res.Damage)
		}
		for i, c := range conns {
			for d := range Dir(2) {
				if !bytes.Equal(streams[[2]int{i, int(d)}], c.Bytes(d)) {
					t.Fatalf("%+v: conn %d %v differs", o, i, d)
				}
			}
		}
		if len(holesOf(have, len(conns))) != 0 {
			t.Fatalf("%+v: holes", o)
		}
		// Sequence numbers going backwards in a flow = reordered or
		// retransmitted.
		last := map[[2]layers.TCPPort]uint32{}
		back := 0
		for _, tcp := range tcps {
			k := [2]layers.TCPPort{tcp.SrcPort, tcp.DstPort}
			if len(tcp.Payload) == 0 {
				continue
			}
			if prev, ok := last[k]; ok && int32(tcp.Seq-prev) <= 0 {
				back++
			}
			last[k] = tcp.Seq
		}
		if back == 0 {
			t.Fatalf("%+v: no segment out of order or repeated", o)
		}
		if o.Duplicate == 1 && dataPackets(tcps) != 2*dataPackets(baseTCP) {
			t.Fatalf("Duplicate 1: %d data packets, want %d", dataPackets(tcps), 2*dataPackets(baseTCP))
		}
		if o.Reorder == 1 && res.Packets != base.Packets {
			t.Fatalf("Reorder changed the packet count")
		}
	}
}

func TestDamageSnaplenAndMidstream(t *testing.T) {
	conns := testConns(2, true)
	var buf bytes.Buffer
	res, err := Write(&buf, conns, Options{Snaplen: 200, Link: LinkVLAN})
	if err != nil {
		t.Fatal(err)
	}
	pkts := readPackets(t, buf.Bytes())
	for i, p := range pkts {
		ci := p.Metadata().CaptureInfo
		if ci.CaptureLength > 200 || len(p.Data()) != ci.CaptureLength || ci.Length < ci.CaptureLength {
			t.Fatalf("packet %d: caplen %d len %d data %d", i, ci.CaptureLength, ci.Length, len(p.Data()))
		}
	}
	_, have := reassemble(t, pkts, conns, res)
	holes := holesOf(have, len(conns))
	var visible []Damage
	for _, d := range res.Damage {
		if d.Offset+d.Len < int64(len(conns[d.Conn].Bytes(d.Dir))) {
			visible = append(visible, d)
		}
	}
	if len(holes) == 0 || len(holes) != len(visible) {
		t.Fatalf("%d holes, %d damage ranges", len(holes), len(visible))
	}
	for i := range holes {
		if holes[i] != visible[i] {
			t.Fatalf("hole %v, damage %v", holes[i], visible[i])
		}
	}

	res, streams, _, tcps := writeRead(t, conns, Options{OmitHandshakeSYN: true})
	for _, tcp := range tcps {
		if tcp.SYN {
			t.Fatal("OmitHandshakeSYN wrote a SYN")
		}
	}
	if tcps[0].ACK != true || len(tcps) != res.Packets {
		t.Fatal("unexpected first packet")
	}
	for i, c := range conns {
		if !bytes.Equal(streams[[2]int{i, 0}], c.Bytes(0)) {
			t.Fatalf("conn %d data differs without handshake", i)
		}
	}
}

func TestSequenceWrapAndDeterminism(t *testing.T) {
	conns := testConns(2, false)
	var a, b, c bytes.Buffer
	res, err := Write(&a, conns, Options{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(&b, conns, Options{Seed: 42}); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(&c, conns, Options{Seed: 43}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different output")
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("different seed, same output")
	}
	// Connection 0 starts near 2^32: its data must wrap.
	isn := res.ISN[0][ClientToServer]
	if isn < 1<<32-4097 {
		t.Fatalf("conn 0 ISN %d not near 2^32", isn)
	}
	wrapped := false
	for _, p := range readPackets(t, a.Bytes()) {
		_, tcp, _ := endpoints(p)
		if uint16(tcp.SrcPort) == conns[0].Client.Port() && len(tcp.Payload) > 0 && tcp.Seq < isn {
			wrapped = true
		}
	}
	if !wrapped {
		t.Fatal("no data segment after sequence wrap-around")
	}
}

func TestWriteErrors(t *testing.T) {
	bad := []*Conn{{Client: netip.MustParseAddrPort("10.0.0.1:1"), Server: netip.MustParseAddrPort("[::1]:2")}}
	if _, err := Write(io.Discard, bad, Options{}); err == nil {
		t.Fatal("mixed IPv4/IPv6 accepted")
	}
	seg := []*Conn{{Client: netip.MustParseAddrPort("10.0.0.1:1"), Server: netip.MustParseAddrPort("10.0.0.2:2"),
		Chunks: []Chunk{{Data: []byte("abc"), Segments: []int{0}}}}}
	if _, err := Write(io.Discard, seg, Options{}); err == nil {
		t.Fatal("segment size 0 accepted")
	}
}

func TestExplicitSegments(t *testing.T) {
	c := &Conn{Client: netip.MustParseAddrPort("10.0.0.1:1000"), Server: netip.MustParseAddrPort("10.0.0.2:80"),
		Chunks: []Chunk{{Dir: ClientToServer, Data: bytes.Repeat([]byte("x"), 3000), Segments: []int{1, 2, 3}}}}
	_, streams, _, tcps := writeRead(t, []*Conn{c}, Options{MSS: 1000})
	var sizes []int
	for _, tcp := range tcps {
		if len(tcp.Payload) > 0 {
			sizes = append(sizes, len(tcp.Payload))
		}
	}
	want := []int{1, 2, 3, 1000, 1000, 994}
	if len(sizes) != len(want) {
		t.Fatalf("segment sizes %v, want %v", sizes, want)
	}
	for i := range want {
		if sizes[i] != want[i] {
			t.Fatalf("segment sizes %v, want %v", sizes, want)
		}
	}
	if !bytes.Equal(streams[[2]int{0, 0}], c.Bytes(0)) {
		t.Fatal("data differs")
	}
}

func TestRecorderPipe(t *testing.T) {
	a, b := net.Pipe()
	r := NewRecorder(netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:80"))
	ca := r.WrapClient(a)
	go func() {
		buf := make([]byte, 5)
		io.ReadFull(b, buf)
		b.Write([]byte("world!"))
		b.Close()
	}()
	ca.Write([]byte("hello"))
	got, _ := io.ReadAll(ca)
	if string(got) != "world!" {
		t.Fatalf("read %q", got)
	}
	c := r.Conn()
	if string(c.Bytes(ClientToServer)) != "hello" || string(c.Bytes(ServerToClient)) != "world!" {
		t.Fatalf("recorded %q / %q", c.Bytes(0), c.Bytes(1))
	}
	if c.Chunks[0].Dir != ClientToServer || r.Offset(ServerToClient) != 6 {
		t.Fatalf("chunks %+v", c.Chunks)
	}
}

func BenchmarkWrite(b *testing.B) {
	conns := testConns(4, true)
	var n int64
	for _, c := range conns {
		n += int64(len(c.Bytes(0)) + len(c.Bytes(1)))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Write(io.Discard, conns, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTimestamps(t *testing.T) {
	conns := testConns(2, false)
	start := time.Date(2030, 5, 6, 7, 8, 9, 123456789, time.UTC)
	for _, f := range []Format{PcapNano, PcapNG} {
		var buf bytes.Buffer
		if _, err := Write(&buf, conns, Options{Format: f, Start: start, Step: 7 * time.Microsecond}); err != nil {
			t.Fatal(err)
		}
		for i, p := range readPackets(t, buf.Bytes()) {
			if want := start.Add(time.Duration(i) * 7 * time.Microsecond); !p.Metadata().Timestamp.Equal(want) {
				t.Fatalf("format %d packet %d: %v, want %v", f, i, p.Metadata().Timestamp, want)
			}
		}
	}
}

package reassembly

import (
	"net/netip"
	"testing"

	"github.com/wsscope/wsscope/capture"
)

type nopHandler struct{ n int64 }

func (h *nopHandler) Handshake(*Conn, *Handshake)           {}
func (h *nopHandler) Data(_ *Conn, _ Dir, d []byte, _ Meta) { h.n += int64(len(d)) }
func (h *nopHandler) Gap(*Conn, Dir, int64, Meta)           {}
func (h *nopHandler) Anomaly(*Conn, Anomaly)                {}
func (h *nopHandler) End(*Conn, EndReason, Meta)            {}

// BenchmarkAssemblerInOrder: 16 interleaved WebSocket connections, 1448-byte
// in-order segments with ACKs. In-order data is delivered from the packet
// buffer: no allocation per packet.
func BenchmarkAssemblerInOrder(b *testing.B) {
	benchAssembler(b, false)
}

// BenchmarkAssemblerReordered: the same with every pair of data segments
// swapped (half the segments are buffered, copied).
func BenchmarkAssemblerReordered(b *testing.B) {
	benchAssembler(b, true)
}

func benchAssembler(b *testing.B, swap bool) {
	const conns, segs, size = 16, 2000, 1448
	payload := make([]byte, size)
	var pk []*capture.Packet
	var flows []*flow
	req, resp := upgradeReq(""), upgradeResp("")
	for i := 0; i < conns; i++ {
		f := newFlow(uint32(i)*7919, uint32(i)*104729)
		for k := 0; k < i; k++ {
			f.cli = netipNext(f.cli)
		}
		flows = append(flows, f)
		pk = append(pk, f.handshake()...)
		pk = append(pk, f.c(0, req), f.s(0, resp))
	}
	start := len(pk)
	var bytes int64
	for k := 0; k < segs; k++ {
		for i, f := range flows {
			_ = i
			p := f.c(len(req)+k*size, "")
			p.Payload = payload
			pk = append(pk, p)
			pk = append(pk, ackC(f, len(resp), len(req)+(k+1)*size))
			bytes += size
		}
	}
	if swap {
		for i := start; i+2*2*conns <= len(pk); i += 2 * 2 * conns {
			for j := 0; j < 2*conns; j++ {
				pk[i+j], pk[i+2*conns+j] = pk[i+2*conns+j], pk[i+j]
			}
		}
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := &nopHandler{}
		a := New(Config{}, h)
		for _, p := range pk {
			a.Add(p)
		}
		a.Close(Meta{})
		if h.n != bytes {
			b.Fatalf("delivered %d of %d", h.n, bytes)
		}
	}
	b.ReportMetric(float64(len(pk))*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// TestInOrderNoAlloc: in-order WebSocket data is handed on from the packet
// buffer without allocating.
func TestInOrderNoAlloc(t *testing.T) {
	req, resp := upgradeReq(""), upgradeResp("")
	f := newFlow(1, 2)
	h := &nopHandler{}
	a := New(Config{}, h)
	for _, p := range append(f.handshake(), f.c(0, req), f.s(0, resp)) {
		a.Add(p)
	}
	p := f.c(len(req), "")
	p.Payload = make([]byte, 1448)
	ack := ackC(f, len(resp), len(req))
	allocs := testing.AllocsPerRun(1000, func() {
		a.Add(p)
		ack.Ack = p.Seq + uint32(len(p.Payload))
		a.Add(ack)
		p.Seq += uint32(len(p.Payload))
		p.Num += 2
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per in-order packet", allocs)
	}
	if h.n < 1000*1448 {
		t.Errorf("delivered %d", h.n)
	}
}

// BenchmarkAssemblerIgnored: 256 interleaved TLS-like (non-HTTP) connections
// are recognised after their first bytes and then cost only a table lookup.
func BenchmarkAssemblerIgnored(b *testing.B) {
	const conns, segs, size = 256, 100, 1448
	payload := make([]byte, size)
	payload[0], payload[1] = 0x16, 0x03
	var pk []*capture.Packet
	var flows []*flow
	for i := 0; i < conns; i++ {
		f := newFlow(uint32(i)*7919, uint32(i)*104729)
		f.cli = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), 443)
		flows = append(flows, f)
		pk = append(pk, f.handshake()...)
	}
	for k := 0; k < segs; k++ {
		for _, f := range flows {
			p := f.s(k*size, "")
			p.Payload = payload
			pk = append(pk, p, ackC(f, 0, 0))
		}
	}
	b.SetBytes(int64(conns * segs * size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := &nopHandler{}
		a := New(Config{}, h)
		for _, p := range pk {
			a.Add(p)
		}
		a.Close(Meta{})
		if a.Stats().Ignored != conns || a.Stats().MaxBufferedObs != 0 {
			b.Fatalf("stats %+v", a.Stats())
		}
	}
	b.ReportMetric(float64(len(pk))*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

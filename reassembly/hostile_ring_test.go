package reassembly

import (
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/capture"
)

// TestHostileIdleConnMemory: a table full of connections that each sent a
// few bytes of a request (a flood of idle or half-open connections) must not
// cost ConflictWindow bytes per direction each. Before the conflict ring
// grew with the delivered data, every such connection held 4 KiB, and
// 262144 of them (the default MaxConns) 1 GiB and more (found by the
// binary-level idle-conns case: 2.7 GB RSS).
func TestHostileIdleConnMemory(t *testing.T) {
	const n = 20000
	r := newRecorder(t)
	a := New(Config{}, r)
	req := "GET /idle HTTP/1.1\r\nHost: idle.example\r\nUpgrade: websocket\r\n"
	srv := netip.MustParseAddrPort("10.0.0.2:80")
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for i := range n {
		cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(1024+i))
		a.Add(&capture.Packet{Num: uint64(i + 1), Src: cli, Dst: srv, Seq: uint32(i) * 7919, Ack: 1,
			Flags: capture.FlagACK | capture.FlagPSH, Payload: []byte(req)})
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	per := (int64(ms1.HeapAlloc) - int64(ms0.HeapAlloc)) / n
	t.Logf("%d bytes of heap per idle connection (%d flows)", per, a.Stats().Flows)
	if per > 2048 {
		t.Errorf("%d bytes of heap per idle connection holding %d request bytes; want < 2048", per, len(req))
	}
	runtime.KeepAlive(a)
}

// TestHostileRingGrowth: conflicting retransmissions are still found in
// the ConflictWindow after the ring grew in steps, and identical ones are
// not reported.
func TestHostileRingGrowth(t *testing.T) {
	f := newFlow(1000, 5000)
	pkts := f.handshake()
	pkts = append(pkts, f.c(0, upgradeReq("")), f.s(0, upgradeResp("")))
	base := len(upgradeResp(""))
	var sent strings.Builder
	for i := range 300 {
		sent.WriteByte(byte('a' + i%26))
	}
	data := sent.String()
	// Delivered in growing pieces: the ring grows 64 → 128 → 256 → 512.
	off := 0
	for k := 1; off < len(data); k *= 2 {
		end := min(off+k, len(data))
		pkts = append(pkts, f.s(base+off, data[off:end]))
		off = end
	}
	// Identical retransmissions of old and recent bytes: no conflict.
	pkts = append(pkts, f.s(base, data[:40]), f.s(base+250, data[250:]))
	r, _ := run(t, Config{}, pkts)
	if r.has(CodeConflict) {
		t.Fatalf("identical retransmissions reported: %v", r.codes())
	}
	if got := r.data(1, FromServer); got != data {
		t.Fatalf("server stream %q, want %q", got, data)
	}
	for _, at := range []int{0, 63, 64, 130, 297} {
		bad := []byte(data[at : at+2])
		bad[0] ^= 0x20
		p := append(append([]*capture.Packet(nil), pkts...), f.s(base+at, string(bad)))
		r, _ := run(t, Config{}, p)
		if !r.has(CodeConflict) {
			t.Errorf("conflicting byte at offset %d after ring growth not reported: %v", at, r.codes())
		}
		if got := r.data(1, FromServer); got != data {
			t.Errorf("offset %d: server stream changed to %q (first copy must be kept)", at, got)
		}
	}
}

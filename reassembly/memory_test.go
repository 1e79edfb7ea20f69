package reassembly

import (
	"net/netip"
	"testing"

	"github.com/wsscope/wsscope/capture"
)

// closedConn sends one whole WebSocket connection (handshake, a few bytes
// each way, FIN both ways) on client port port, starting at t.
func closedConn(f *flow, port uint16) []*capture.Packet {
	f.cli = netip.AddrPortFrom(f.cli.Addr(), port)
	req, resp := upgradeReq(""), upgradeResp("")
	ps := f.handshake()
	ps = append(ps, f.c(0, req), f.s(0, resp), f.c(len(req), "\x81\x00"), f.s(len(resp), "\x81\x00"))
	ps = append(ps,
		f.pkt(true, f.isnC+1+uint32(len(req)+2), f.isnS+1+uint32(len(resp)+2), capture.FlagFIN|capture.FlagACK, "", 0),
		f.pkt(false, f.isnS+1+uint32(len(resp)+2), f.isnC+2+uint32(len(req)+2), capture.FlagFIN|capture.FlagACK, "", 0),
		f.pkt(true, f.isnC+2+uint32(len(req)+2), f.isnS+2+uint32(len(resp)+2), capture.FlagACK, "", 0))
	return ps
}

// TestClosedTombstones checks that ended connections keep no buffers or
// handshakes, absorb late packets, and leave the flow table after
// ClosedTimeout of capture time, so that memory follows the connections
// open at once rather than the length of the capture.
func TestClosedTombstones(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{}, r)
	f := newFlow(1000, 5000)
	const n = 50
	for i := range n {
		for _, p := range closedConn(f, uint16(40000+i)) {
			a.Add(p)
		}
	}
	if len(r.ends) != n {
		t.Fatalf("%d ends, want %d", len(r.ends), n)
	}
	for id, why := range r.ends {
		if why != EndFIN {
			t.Errorf("conn %d ended %s, want fin", id, why)
		}
	}
	if len(a.conns) != n {
		t.Fatalf("flow table holds %d, want %d tombstones", len(a.conns), n)
	}
	for _, c := range a.conns {
		if c.state != csClosed || c.ups != nil || c.cur != nil || c.http != nil || c.half[0].ring != nil || c.half[1].ring != nil {
			t.Fatalf("closed connection keeps state: state %d ups %d http %v", c.state, len(c.ups), c.http != nil)
		}
	}
	if a.lru.head != nil {
		t.Errorf("closed connections left in the LRU list")
	}
	// A late retransmitted FIN is absorbed: no new flow.
	flows := a.stats.Flows
	last := closedConn(f, 40000+n-1)
	late := last[len(last)-2]
	late.Time = f.t
	a.Add(late)
	if a.stats.Flows != flows {
		t.Errorf("late packet started a flow")
	}
	// ClosedTimeout later (capture time), the tombstones are gone.
	a.Tick(f.t.Add(DefaultClosedTimeout))
	if len(a.conns) != 0 || a.closed.head != nil {
		t.Errorf("after ClosedTimeout the flow table holds %d", len(a.conns))
	}
}

// TestTombstonesEvictedFirst checks that a full flow table drops tombstones
// before evicting a live connection.
func TestTombstonesEvictedFirst(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{MaxConns: 4}, r)
	f := newFlow(1000, 5000)
	for i := range 3 {
		for _, p := range closedConn(f, uint16(40000+i)) {
			a.Add(p)
		}
	}
	// Two live connections: the second needs a tombstone's slot.
	for i := range 2 {
		f.cli = netip.AddrPortFrom(f.cli.Addr(), uint16(41000+i))
		for _, p := range f.handshake() {
			a.Add(p)
		}
	}
	if a.stats.Evicted != 0 {
		t.Errorf("%d live connections evicted while tombstones were there", a.stats.Evicted)
	}
	if len(a.conns) != 4 {
		t.Errorf("flow table holds %d, want 4", len(a.conns))
	}
	live := 0
	for c := a.lru.head; c != nil; c = c.next {
		live++
	}
	if live != 2 {
		t.Errorf("%d live connections, want 2", live)
	}
}

// TestConflictRingAcked checks that the conflict ring keeps only bytes the
// peer has not acknowledged: released once everything is acknowledged,
// still catching a conflicting retransmission of unacknowledged bytes.
func TestConflictRingAcked(t *testing.T) {
	req, resp := upgradeReq(""), upgradeResp("")
	b := len(req)
	f := newFlow(1000, 5000)
	r := newRecorder(t)
	a := New(Config{}, r)
	for _, p := range append(f.handshake(), f.c(0, req), f.s(0, resp)) {
		a.Add(p)
	}
	var c *conn
	for _, x := range a.conns {
		c = x
	}
	cs := int(c.clientSide)
	h := &c.half[cs]
	a.Add(cseg(f, b, 0, 20))
	if h.ring == nil || h.ringLen == 0 {
		t.Fatalf("no ring for unacknowledged bytes")
	}
	a.Add(ackC(f, len(resp), b+20))
	if h.ring != nil || h.ringLen != 0 {
		t.Errorf("ring kept after everything was acknowledged (%d bytes)", h.ringLen)
	}
	a.Add(cseg(f, b, 20, 36))
	a.Add(ackC(f, len(resp), b+24)) // bytes 24..36 unacknowledged
	if h.ringLen != 12 {
		t.Errorf("ring holds %d bytes, want the 12 unacknowledged", h.ringLen)
	}
	if r.has(CodeConflict) {
		t.Fatalf("conflict before any")
	}
	a.Add(alt(f, b, 24, 30))
	if !r.has(CodeConflict) {
		t.Errorf("conflicting retransmission of unacknowledged bytes not reported")
	}
	a.Close(Meta{})
	if got := r.data(1, FromClient); got != clean {
		t.Errorf("stream %q, want the first copy %q", got, clean)
	}
}

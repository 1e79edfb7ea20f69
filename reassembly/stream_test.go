package reassembly

import (
	"slices"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/capture"
)

const clean = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

type streamCase struct {
	name  string
	isnC  uint32
	cfg   Config
	pkts  func(f *flow, b int) []*capture.Packet // b: stream offset of the first WebSocket byte
	want  string                                 // client→server stream, gaps as <gN>
	codes []string                               // anomalies that must be reported
	end   EndReason
}

func cseg(f *flow, b, from, to int) *capture.Packet { return f.c(b+from, clean[from:to]) }

func alt(f *flow, b, from, to int) *capture.Packet {
	return f.c(b+from, strings.ToLower(clean[from:to])+strings.Repeat("!", max(0, to-from-len(strings.ToLower(clean[from:to])))))
}

func fin(f *flow, b, off int) *capture.Packet {
	return f.pkt(true, f.isnC+1+uint32(b+off), f.isnS+1, capture.FlagACK|capture.FlagFIN, "", 0)
}

func srvFin(f *flow, off int) *capture.Packet {
	return f.pkt(false, f.isnS+1+uint32(off), f.isnC+1, capture.FlagACK|capture.FlagFIN, "", 0)
}

// ackC is a pure ACK from the server acknowledging client offset off.
func ackC(f *flow, srvOff, off int) *capture.Packet {
	return f.pkt(false, f.isnS+1+uint32(srvOff), f.isnC+1+uint32(off), capture.FlagACK, "", 0)
}

func TestStreams(t *testing.T) {
	req, resp := upgradeReq(""), upgradeResp("")
	r0 := len(resp)
	cases := []streamCase{
		{name: "in order", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 10), cseg(f, b, 10, 36)}
		}, want: clean},
		{name: "reordered", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 20, 36), cseg(f, b, 10, 20), cseg(f, b, 0, 10)}
		}, want: clean},
		{name: "duplicated", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 10), cseg(f, b, 0, 10), cseg(f, b, 10, 36), cseg(f, b, 10, 36), cseg(f, b, 5, 15)}
		}, want: clean},
		{name: "overlaps", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 12, 20), cseg(f, b, 16, 30), cseg(f, b, 0, 14), cseg(f, b, 28, 36), cseg(f, b, 2, 33)}
		}, want: clean},
		{name: "conflicting retransmission of delivered bytes", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 10), alt(f, b, 5, 15), cseg(f, b, 15, 36)}
		}, want: clean[:10] + strings.ToLower(clean[10:15]) + clean[15:], codes: []string{CodeConflict}},
		{name: "keep-alive probes are not conflicts", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 10), f.c(b+9, "\x00"), cseg(f, b, 10, 36), f.c(b+35, "\x00")}
		}, want: clean},
		{name: "conflicting overlap with buffered", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 10, 20), alt(f, b, 10, 20), cseg(f, b, 0, 10), cseg(f, b, 20, 36)}
		}, want: clean, codes: []string{CodeConflict}},
		{name: "in-order segment overlapping buffered conflicts", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 10, 20), alt(f, b, 0, 15), cseg(f, b, 20, 36)}
		}, want: strings.ToLower(clean[:10]) + clean[10:], codes: []string{CodeConflict}},
		{name: "hole acked by peer is given up", pkts: func(f *flow, b int) []*capture.Packet {
			p := []*capture.Packet{cseg(f, b, 0, 10), cseg(f, b, 20, 36), ackC(f, r0, b+36)}
			for i := 0; i < DefaultReorderWindow; i++ {
				p = append(p, ackC(f, r0, b+36))
			}
			// the lost segment arrives too late: old data, ignored
			return append(p, cseg(f, b, 10, 20))
		}, want: clean[:10] + "<g10>" + clean[20:]},
		{name: "ack before reordered data waits", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 10), ackC(f, r0, b+36), cseg(f, b, 20, 36), cseg(f, b, 10, 20)}
		}, want: clean},
		{name: "tail acked but never captured", pkts: func(f *flow, b int) []*capture.Packet {
			p := []*capture.Packet{cseg(f, b, 0, 10)}
			for i := 0; i <= DefaultReorderWindow; i++ {
				p = append(p, ackC(f, r0, b+36))
			}
			return p
		}, want: clean[:10] + "<g26>"},
		{name: "hole before FIN", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 10), cseg(f, b, 20, 36), fin(f, b, 36), srvFin(f, r0)}
		}, want: clean[:10] + "<g10>" + clean[20:], end: EndCapture},
		{name: "FIN both ways", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 36), fin(f, b, 36), srvFin(f, r0)}
		}, want: clean, end: EndFIN},
		{name: "FIN before last segment", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 20), fin(f, b, 36), cseg(f, b, 20, 36), srvFin(f, r0)}
		}, want: clean, end: EndFIN},
		{name: "RST gives up holes", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 10), cseg(f, b, 20, 36),
				f.pkt(false, f.isnS+1+uint32(r0), 0, capture.FlagRST, "", 0), cseg(f, b, 10, 20)}
		}, want: clean[:10] + "<g10>" + clean[20:], end: EndRST},
		{name: "stale RST ignored", pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 10),
				f.pkt(false, f.isnS+1+uint32(r0)+1<<30, 0, capture.FlagRST, "", 0), cseg(f, b, 10, 36), fin(f, b, 36), srvFin(f, r0)}
		}, want: clean, end: EndFIN},
		{name: "sequence wrap-around", isnC: 0xFFFFFFFF - 200, pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 20, 36), cseg(f, b, 0, 10), cseg(f, b, 10, 20)}
		}, want: clean},
		{name: "wrap inside a segment", isnC: 0xFFFFFFFF - uint32(len(req)) - 5, pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 3), cseg(f, b, 12, 36), cseg(f, b, 2, 14)}
		}, want: clean},
		{name: "snaplen missing bytes", pkts: func(f *flow, b int) []*capture.Packet {
			p := cseg(f, b, 0, 20)
			p.Payload, p.Missing = p.Payload[:8], 12
			return []*capture.Packet{p, cseg(f, b, 20, 36)}
		}, want: clean[:8] + "<g12>" + clean[20:]},
		{name: "snaplen missing bytes out of order", pkts: func(f *flow, b int) []*capture.Packet {
			p := cseg(f, b, 10, 20)
			p.Payload, p.Missing = p.Payload[:4], 6
			return []*capture.Packet{p, cseg(f, b, 20, 36), cseg(f, b, 0, 10)}
		}, want: clean[:14] + "<g6>" + clean[20:]},
		{name: "buffer limit gives up hole", cfg: Config{MaxBufferedPerConn: 8}, pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 10), cseg(f, b, 20, 25), cseg(f, b, 25, 36), cseg(f, b, 10, 20)}
		}, want: clean[:10] + "<g10>" + clean[20:], codes: []string{CodeLimit}},
		{name: "total buffer limit", cfg: Config{MaxBufferedTotal: 4}, pkts: func(f *flow, b int) []*capture.Packet {
			return []*capture.Packet{cseg(f, b, 0, 10), cseg(f, b, 12, 36), cseg(f, b, 10, 12)}
		}, want: clean[:10] + "<g2>" + clean[12:], codes: []string{CodeLimit}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isnC := tc.isnC
			if isnC == 0 {
				isnC = 1000
			}
			f := newFlow(isnC, 5000)
			pk := f.handshake()
			pk = append(pk, f.c(0, req), f.s(0, resp))
			pk = append(pk, tc.pkts(f, len(req))...)
			r, a := run(t, tc.cfg, pk)
			if len(r.conns) != 1 {
				t.Fatalf("conns %d, want 1 (events %v)", len(r.conns), r.events)
			}
			if got := r.data(1, FromClient); got != tc.want {
				t.Errorf("client stream\n got %q\nwant %q", got, tc.want)
			}
			for _, code := range tc.codes {
				if !r.has(code) {
					t.Errorf("missing anomaly %s; got %v", code, r.codes())
				}
			}
			if len(tc.codes) == 0 {
				for _, an := range r.anoms {
					if an.Severity != "info" {
						t.Errorf("unexpected anomaly %+v", an)
					}
				}
			}
			if tc.end != "" && r.ends[1] != tc.end {
				t.Errorf("end %q, want %q", r.ends[1], tc.end)
			}
			if st := a.Stats(); st.BufferedBytes != 0 {
				t.Errorf("buffered bytes after Close: %d", st.BufferedBytes)
			}
		})
	}
}

// TestChunking feeds the same exchange whole, in halves and one byte per
// segment, in order and reversed.
func TestChunking(t *testing.T) {
	req, resp := upgradeReq(""), upgradeResp("")
	cs := req + clean
	ss := resp + "\x81\x05hello" + clean
	for _, size := range []int{1 << 20, len(cs)/2 + 1, 7, 1} {
		for _, reverse := range []bool{false, true} {
			f := newFlow(77, 99)
			pk := f.handshake()
			var cp, sp []*capture.Packet
			for i := 0; i < len(cs); i += size {
				cp = append(cp, f.c(i, cs[i:min(len(cs), i+size)]))
			}
			for i := 0; i < len(ss); i += size {
				sp = append(sp, f.s(i, ss[i:min(len(ss), i+size)]))
			}
			if reverse {
				slices.Reverse(cp)
				slices.Reverse(sp)
			}
			// interleave: request first when in order
			for i := 0; i < max(len(cp), len(sp)); i++ {
				if i < len(cp) {
					pk = append(pk, cp[i])
				}
				if i < len(sp) {
					pk = append(pk, sp[i])
				}
			}
			r, _ := run(t, Config{}, pk)
			if len(r.conns) != 1 || !r.hs[1].Upgraded {
				t.Fatalf("size %d reverse %v: no upgrade: %v", size, reverse, r.events)
			}
			if got := r.data(1, FromClient); got != clean {
				t.Errorf("size %d reverse %v: client %q", size, reverse, got)
			}
			if got := r.data(1, FromServer); got != "\x81\x05hello"+clean {
				t.Errorf("size %d reverse %v: server %q", size, reverse, got)
			}
			if hs := r.hs[1]; hs.URI != "/chat" || hs.Host != "server.example.com" || !hs.AcceptValid {
				t.Errorf("handshake %+v", hs)
			}
		}
	}
}

func TestMidStreamStart(t *testing.T) {
	req, resp := upgradeReq(""), upgradeResp("")
	f := newFlow(1000, 5000)
	// No SYN: the capture starts with the request.
	pk := []*capture.Packet{f.c(0, req), f.s(0, resp), f.c(len(req), clean), f.s(len(resp), "xyz")}
	r, _ := run(t, Config{}, pk)
	if len(r.conns) != 1 || !r.hs[1].Upgraded || r.data(1, FromClient) != clean || r.data(1, FromServer) != "xyz" {
		t.Fatalf("events %v client %q", r.events, r.data(1, FromClient))
	}
	if r.conns[0].Client != f.cli {
		t.Errorf("client %v", r.conns[0].Client)
	}

	// Server packets seen first (client's request comes later in the capture).
	f = newFlow(1000, 5000)
	pk = []*capture.Packet{f.s(0, resp), f.c(0, req), f.c(len(req), clean)}
	r, _ = run(t, Config{}, pk)
	if len(r.conns) != 1 || !r.hs[1].Upgraded || r.data(1, FromClient) != clean {
		t.Fatalf("server first: events %v client %q", r.events, r.data(1, FromClient))
	}
	if r.conns[0].Client != f.cli || r.hs[1].Method != "GET" && !r.has(CodeNoRequest) {
		t.Errorf("server first: client %v, hs %+v", r.conns[0].Client, r.hs[1])
	}

	// Only the 101 and later was captured: infer the client from it.
	f = newFlow(1000, 5000)
	pk = []*capture.Packet{f.c(len(req), "\x81\x85abcd"), f.s(0, resp), f.s(len(resp), "\x81\x00")}
	r, _ = run(t, Config{}, pk)
	if len(r.conns) != 1 || !r.hs[1].Upgraded || !r.has(CodeNoRequest) {
		t.Fatalf("response only: events %v", r.events)
	}
	if r.conns[0].Client != f.cli || r.data(1, FromClient) != "\x81\x85abcd" || r.data(1, FromServer) != "\x81\x00" {
		t.Errorf("response only: client %v data %q %q", r.conns[0].Client, r.data(1, FromClient), r.data(1, FromServer))
	}

	// Mid-stream WebSocket without handshake: ignored (cheap).
	f = newFlow(1000, 5000)
	pk = []*capture.Packet{f.c(0, "\x81\x85abcdefghi"), f.s(0, "\x81\x02hi")}
	r, a := run(t, Config{}, pk)
	if len(r.conns) != 0 || a.Stats().Ignored != 1 {
		t.Errorf("no handshake: events %v stats %+v", r.events, a.Stats())
	}
}

func TestNonHTTPIgnored(t *testing.T) {
	f := newFlow(1, 2)
	pk := f.handshake()
	pk = append(pk, f.c(0, "\x16\x03\x01\x02\x00"), f.s(0, "\x16\x03\x03"), f.c(5, strings.Repeat("x", 5000)))
	r, a := run(t, Config{}, pk)
	if len(r.events) != 0 || a.Stats().Ignored != 1 || a.Stats().MaxBufferedObs != 0 {
		t.Errorf("events %v stats %+v", r.events, a.Stats())
	}
	// SSH: server speaks first.
	f = newFlow(1, 2)
	pk = f.handshake()
	pk = append(pk, f.s(0, "SSH-2.0-OpenSSH\r\n"), f.c(0, "SSH-2.0-x\r\n"))
	r, a = run(t, Config{}, pk)
	if len(r.events) != 0 || a.Stats().Ignored != 1 {
		t.Errorf("ssh: events %v stats %+v", r.events, a.Stats())
	}
}

func TestPortReuse(t *testing.T) {
	req, resp := upgradeReq(""), upgradeResp("")
	var pk []*capture.Packet
	f := newFlow(1000, 5000)
	pk = append(pk, f.handshake()...)
	pk = append(pk, f.c(0, req), f.s(0, resp), f.c(len(req), "first"), fin(f, len(req), 5), srvFin(f, len(resp)))
	g := newFlow(90000, 7000)
	g.num, g.t = f.num, f.t
	pk = append(pk, g.handshake()...)
	pk = append(pk, g.c(0, req), g.s(0, resp), g.c(len(req), "second"))
	// A new SYN with another ISN while open: reuse.
	h := newFlow(3, 4)
	h.num, h.t = g.num, g.t
	pk = append(pk, h.handshake()...)
	pk = append(pk, h.c(0, req), h.s(0, resp), h.c(len(req), "third"))
	r, _ := run(t, Config{}, pk)
	if len(r.conns) != 3 {
		t.Fatalf("conns %d: %v", len(r.conns), r.events)
	}
	for i, want := range []string{"first", "second", "third"} {
		if got := r.data(uint64(i+1), FromClient); got != want {
			t.Errorf("conn %d: %q want %q", i+1, got, want)
		}
	}
	if r.ends[1] != EndFIN || r.ends[2] != EndReuse || r.ends[3] != EndCapture {
		t.Errorf("ends %v", r.ends)
	}
}

func TestIdleTimeoutAndTableLimit(t *testing.T) {
	req, resp := upgradeReq(""), upgradeResp("")
	f := newFlow(1000, 5000)
	pk := append(f.handshake(), f.c(0, req), f.s(0, resp))
	r := newRecorder(t)
	a := New(Config{IdleTimeout: 10e9, WebSocketIdleTimeout: 10e9}, r)
	for _, p := range pk {
		a.Add(p)
	}
	a.Flush(f.t.Add(11e9))
	if r.ends[1] != EndTimeout {
		t.Errorf("ends %v", r.ends)
	}

	// An upgraded connection gets WebSocketIdleTimeout.
	r = newRecorder(t)
	a = New(Config{IdleTimeout: 10e9, WebSocketIdleTimeout: 100e9}, r)
	f = newFlow(1000, 5000)
	for _, p := range append(f.handshake(), f.c(0, req), f.s(0, resp)) {
		a.Add(p)
	}
	a.Flush(f.t.Add(50e9))
	if len(r.ends) != 0 {
		t.Errorf("quiet WebSocket ended early: %v", r.ends)
	}
	f.t = f.t.Add(60e9)
	a.Add(f.c(len(req), "late"))
	a.Flush(f.t.Add(101e9))
	if r.ends[1] != EndTimeout || r.data(1, FromClient) != "late" {
		t.Errorf("ends %v data %q", r.ends, r.data(1, FromClient))
	}

	// Flushed from packet time alone: a later packet of another flow.
	r = newRecorder(t)
	a = New(Config{IdleTimeout: 10e9, WebSocketIdleTimeout: 10e9}, r)
	f = newFlow(1000, 5000)
	for _, p := range append(f.handshake(), f.c(0, req), f.s(0, resp)) {
		a.Add(p)
	}
	g := newFlow(1, 2)
	g.cli = netipNext(g.cli)
	g.t = f.t.Add(30e9)
	for _, p := range g.handshake() {
		a.Add(p)
	}
	if r.ends[1] != EndTimeout {
		t.Errorf("not flushed by packet time: ends %v", r.ends)
	}

	// Table of 2: a third connection evicts the least recently active.
	r = newRecorder(t)
	a = New(Config{MaxConns: 2}, r)
	for i := 0; i < 3; i++ {
		f := newFlow(1000, 5000)
		for k := 0; k < i; k++ { // distinct 4-tuples
			f.cli = netipNext(f.cli)
		}
		for _, p := range append(f.handshake(), f.c(0, req), f.s(0, resp)) {
			a.Add(p)
		}
	}
	a.Close(Meta{})
	if r.ends[1] != EndLimit || a.Stats().Evicted != 1 || !r.has(CodeLimit) {
		t.Errorf("ends %v stats %+v", r.ends, a.Stats())
	}
}

// TestHeldBytesBounded: bytes held while the server's answer is awaited
// (mid-stream, no SYN) count against MaxBufferedTotal.
func TestHeldBytesBounded(t *testing.T) {
	r := newRecorder(t)
	a := New(Config{MaxBufferedTotal: 10000, MaxHandshakeBytes: 4096}, r)
	for i := 0; i < 10; i++ {
		f := newFlow(uint32(i), 0)
		for k := 0; k < i; k++ {
			f.cli = netipNext(f.cli)
		}
		a.Add(f.c(0, strings.Repeat("\x82", 3000)))
		if st := a.Stats(); st.BufferedBytes > 10000 {
			t.Fatalf("buffered %d", st.BufferedBytes)
		}
	}
	if st := a.Stats(); st.MaxBufferedObs < 9000 || st.Ignored == 0 {
		t.Errorf("stats %+v", st)
	}
	a.Close(Meta{})
	if st := a.Stats(); st.BufferedBytes != 0 {
		t.Errorf("buffered %d after Close", st.BufferedBytes)
	}
}

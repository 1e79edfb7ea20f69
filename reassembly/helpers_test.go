package reassembly

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsscope/wsscope/capture"
)

// recorder is a Handler that logs calls and collects the streams.
type recorder struct {
	t      testing.TB
	events []string
	hs     map[uint64]*Handshake
	stream map[uint64]*[2]strings.Builder // data with gaps as <gN>
	anoms  []Anomaly
	ends   map[uint64]EndReason
	conns  []*Conn
}

func newRecorder(t testing.TB) *recorder {
	return &recorder{t: t, hs: map[uint64]*Handshake{}, stream: map[uint64]*[2]strings.Builder{}, ends: map[uint64]EndReason{}}
}

func (r *recorder) Handshake(c *Conn, hs *Handshake) {
	if _, dup := r.hs[c.ID]; dup {
		r.t.Errorf("Handshake called twice for conn %d", c.ID)
	}
	cp := *hs
	r.hs[c.ID] = &cp
	r.stream[c.ID] = new([2]strings.Builder)
	r.conns = append(r.conns, c)
	r.events = append(r.events, fmt.Sprintf("hs %d %v %d", c.ID, hs.Upgraded, hs.Status))
}

func (r *recorder) check(c *Conn, what string) {
	if _, ok := r.hs[c.ID]; !ok {
		r.t.Errorf("%s before Handshake on conn %d", what, c.ID)
		r.stream[c.ID] = new([2]strings.Builder)
	}
	if _, ok := r.ends[c.ID]; ok {
		r.t.Errorf("%s after End on conn %d", what, c.ID)
	}
}

func (r *recorder) Data(c *Conn, d Dir, data []byte, at Meta) {
	r.check(c, "Data")
	if len(data) == 0 {
		r.t.Errorf("empty Data call")
	}
	r.stream[c.ID][d].Write(data)
}

func (r *recorder) Gap(c *Conn, d Dir, n int64, at Meta) {
	r.check(c, "Gap")
	if n <= 0 {
		r.t.Errorf("Gap(%d)", n)
	}
	fmt.Fprintf(&r.stream[c.ID][d], "<g%d>", n)
}

func (r *recorder) Anomaly(c *Conn, a Anomaly) {
	r.check(c, "Anomaly")
	r.anoms = append(r.anoms, a)
	r.events = append(r.events, "anomaly "+a.Code)
}

func (r *recorder) End(c *Conn, why EndReason, at Meta) {
	r.check(c, "End")
	r.ends[c.ID] = why
	r.events = append(r.events, fmt.Sprintf("end %d %s", c.ID, why))
}

func (r *recorder) has(code string) bool {
	for _, a := range r.anoms {
		if a.Code == code {
			return true
		}
	}
	return false
}

func (r *recorder) codes() []string {
	var s []string
	for _, a := range r.anoms {
		s = append(s, a.Code)
	}
	return s
}

func (r *recorder) data(id uint64, d Dir) string {
	if s := r.stream[id]; s != nil {
		return s[d].String()
	}
	return ""
}

// flow builds packets of one TCP connection.
type flow struct {
	cli, srv   netip.AddrPort
	isnC, isnS uint32
	num        uint64
	t          time.Time
}

func newFlow(isnC, isnS uint32) *flow {
	return &flow{
		cli:  netip.MustParseAddrPort("10.0.0.1:40000"),
		srv:  netip.MustParseAddrPort("10.0.0.2:8080"),
		isnC: isnC, isnS: isnS,
		t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func (f *flow) pkt(fromClient bool, seq, ack uint32, flags capture.TCPFlags, data string, missing int) *capture.Packet {
	f.num++
	f.t = f.t.Add(time.Millisecond)
	p := &capture.Packet{Num: f.num, Time: f.t, Seq: seq, Ack: ack, Flags: flags, Payload: []byte(data), Missing: missing}
	if fromClient {
		p.Src, p.Dst = f.cli, f.srv
	} else {
		p.Src, p.Dst = f.srv, f.cli
	}
	return p
}

// c is client data at stream offset off (0 = first byte after the SYN).
func (f *flow) c(off int, data string) *capture.Packet {
	return f.pkt(true, f.isnC+1+uint32(off), f.isnS+1, capture.FlagACK|capture.FlagPSH, data, 0)
}

func (f *flow) s(off int, data string) *capture.Packet {
	return f.pkt(false, f.isnS+1+uint32(off), f.isnC+1, capture.FlagACK|capture.FlagPSH, data, 0)
}

func (f *flow) handshake() []*capture.Packet {
	return []*capture.Packet{
		f.pkt(true, f.isnC, 0, capture.FlagSYN, "", 0),
		f.pkt(false, f.isnS, f.isnC+1, capture.FlagSYN|capture.FlagACK, "", 0),
		f.pkt(true, f.isnC+1, f.isnS+1, capture.FlagACK, "", 0),
	}
}

const (
	testKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	testAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

func upgradeReq(extra string) string {
	return "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n" +
		"Sec-WebSocket-Version: 13\r\n" + extra + "\r\n"
}

func upgradeResp(extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + testAccept + "\r\n" + extra + "\r\n"
}

func run(t testing.TB, cfg Config, pkts []*capture.Packet) (*recorder, *Assembler) {
	r := newRecorder(t)
	a := New(cfg, r)
	var last Meta
	for _, p := range pkts {
		a.Add(p)
		last = Meta{Time: p.Time, Packet: p.Num}
	}
	a.Close(last)
	return r, a
}

func netipNext(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Next(), ap.Port())
}

package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/pcaps/synth"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

func TestKeyReuse(t *testing.T) {
	conn := func(id uint64, key string) *Conn {
		return &Conn{ID: id, Handshake: &reassembly.Handshake{Key: key, KeyValid: key != "bad",
			RequestAt: reassembly.Meta{Packet: id * 10}}}
	}
	var k keyReuse
	if _, ok := k.check(conn(1, "x3JJHMbDL1EzLkh9GBhXDw==")); ok {
		t.Fatal("first use reported")
	}
	if _, ok := k.check(conn(2, "AQIDBAUGBwgJCgsMDQ4PEA==")); ok {
		t.Fatal("other key reported")
	}
	a, ok := k.check(conn(3, " x3JJHMbDL1EzLkh9GBhXDw== "))
	if !ok || a.Code != reassembly.CodeKeyReused || a.From != "client" || a.Packet != 30 || !strings.Contains(a.Detail, "connection #1") {
		t.Errorf("reuse: %v %+v", ok, a)
	}
	if _, ok := k.check(conn(4, "bad")); ok {
		t.Error("invalid key reported")
	}
	if _, ok := k.check(&Conn{ID: 5}); ok {
		t.Error("connection without handshake reported")
	}
}

// TestSecurityRiskConsistent checks that every security code has a risk and
// that the severity the producers give the new codes follows it.
func TestSecurityRiskConsistent(t *testing.T) {
	cases := map[string]string{ // code → severity given by its producer
		reassembly.CodeCSWSHCrossOrigin:          "error",
		reassembly.CodeCSWSHNoOrigin:             "warning",
		reassembly.CodeCSWSHCrossOriginToken:     "info",
		reassembly.CodeCleartextAuth:             "error",
		reassembly.CodeCleartextCookie:           "warning",
		reassembly.CodeCleartextQueryToken:       "warning",
		reassembly.CodeCleartextSubprotocolToken: "warning",
		reassembly.CodeKeyReused:                 "info",
		wsdecode.CodeMaskKeyZero:                 Severity(wsdecode.CodeMaskKeyZero),
		wsdecode.CodeMaskKeyRepeated:             Severity(wsdecode.CodeMaskKeyRepeated),
	}
	for code, sev := range cases {
		r := SecurityRisk(code)
		if r == "" {
			t.Errorf("%s: no risk", code)
		}
		if RiskSeverity(r) != sev {
			t.Errorf("%s: severity %s, but risk %s maps to %s", code, sev, r, RiskSeverity(r))
		}
	}
	// Findings produced by reassembly carry those severities.
	hs := &reassembly.Handshake{Method: "GET", URI: "/?token=x", Host: "a.example", Origin: "http://b.example", Status: 101, Upgraded: true,
		Key: reassembly.SampleKey, RequestHeaders: []reassembly.Header{{Name: "Cookie", Value: "a=1"}, {Name: "Authorization", Value: "Bearer x"}}}
	for _, f := range reassembly.Findings(hs) {
		if want, ok := cases[f.Code]; !ok || f.Severity != want {
			t.Errorf("%s: severity %q, want %q", f.Code, f.Severity, want)
		}
	}
	// Existing protocol codes keep their severity and get a risk.
	for _, code := range []string{reassembly.CodeBadKey, reassembly.CodeWrongAccept, wsdecode.CodeUnmaskedClient} {
		if SecurityRisk(code) == "" {
			t.Errorf("%s: no risk", code)
		}
	}
	for _, code := range []string{wsdecode.CodeGap, reassembly.CodeRefused, "", "nonsense"} {
		if SecurityRisk(code) != "" {
			t.Errorf("%s: risk %q", code, SecurityRisk(code))
		}
	}
}

// anomSink keeps the anomaly records and connection IDs it is given.
type anomSink struct{ lines []string }

func (s *anomSink) ConnOpen(c *Conn)                     {}
func (s *anomSink) Message(c *Conn, m *wsdecode.Message) {}
func (s *anomSink) ConnEnd(c *Conn)                      {}
func (s *anomSink) Anomaly(c *Conn, a *Anomaly) {
	id := uint64(0)
	if c != nil {
		id = c.ID
	}
	s.lines = append(s.lines, fmt.Sprintf("#%d %s %s %d: %s", id, a.Code, a.From, a.Packet, a.Detail))
}

// TestKeyReuseAcrossShards runs a capture where connections 1 and 4 send the
// same Sec-WebSocket-Key (and 2 and 3 others) with 1, 2 and 4 shards: the
// reuse is found on connection 4, naming 1, whatever the split.
func TestKeyReuseAcrossShards(t *testing.T) {
	keys := []string{"x3JJHMbDL1EzLkh9GBhXDw==", "AQIDBAUGBwgJCgsMDQ4PEA==", "EBESExQVFhcYGRobHB0eHw==", "x3JJHMbDL1EzLkh9GBhXDw=="}
	var conns []*synth.Conn
	for i, k := range keys {
		c := &synth.Conn{
			Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)}), uint16(40000+i*7)),
			Server: netip.MustParseAddrPort("192.0.2.1:8080"),
		}
		c.Chunks = append(c.Chunks,
			synth.Chunk{Dir: synth.ClientToServer, Data: []byte("GET /ws HTTP/1.1\r\nHost: a.example:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: " + k + "\r\nSec-WebSocket-Version: 13\r\n\r\n")},
			synth.Chunk{Dir: synth.ServerToClient, Data: []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + reassembly.AcceptFor(k) + "\r\n\r\n")},
			synth.Chunk{Dir: synth.ServerToClient, Data: []byte{0x88, 0x02, 0x03, 0xe8}})
		conns = append(conns, c)
	}
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, conns, synth.Options{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	var first []string
	for _, n := range []int{1, 2, 4} {
		src, err := capture.OpenReader(bytes.NewReader(buf.Bytes()), "keys.pcap", capture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s := &anomSink{}
		if _, err := Run(context.Background(), src, Options{Shards: n}, s); err != nil {
			t.Fatal(err)
		}
		var reuse []string
		for _, l := range s.lines {
			if strings.Contains(l, reassembly.CodeKeyReused) {
				reuse = append(reuse, l)
			}
		}
		if len(reuse) != 1 || !strings.HasPrefix(reuse[0], "#4 handshake-key-reused client") || !strings.Contains(reuse[0], "connection #1") {
			t.Errorf("shards %d: key reuse findings %q, want one on #4 naming #1", n, reuse)
		}
		if first == nil {
			first = s.lines
		} else if strings.Join(s.lines, "\n") != strings.Join(first, "\n") {
			t.Errorf("shards %d: anomalies differ from 1 shard:\n%s\nwant\n%s", n, strings.Join(s.lines, "\n"), strings.Join(first, "\n"))
		}
	}
}

package export

import (
	"regexp"
	"testing"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

type recordSink struct{ events []string }

func (r *recordSink) ConnOpen(c *pipeline.Conn) { r.events = append(r.events, "open") }
func (r *recordSink) Message(c *pipeline.Conn, m *wsdecode.Message) {
	r.events = append(r.events, string(m.Payload))
}
func (r *recordSink) Anomaly(c *pipeline.Conn, a *pipeline.Anomaly) {
	r.events = append(r.events, "anomaly")
}
func (r *recordSink) ConnEnd(c *pipeline.Conn) { r.events = append(r.events, "end") }

func TestSelect(t *testing.T) {
	ping := textMsg(wsdecode.FromClient, "ping!")
	ping.Opcode = wsdecode.OpPing
	bin := textMsg(wsdecode.FromServer, "bin hello")
	bin.Opcode = wsdecode.OpBinary
	msgs := []*wsdecode.Message{textMsg(wsdecode.FromClient, "hello client"), textMsg(wsdecode.FromServer, "hello server 42"), ping, bin}
	other := testConn(9)
	other.Handshake.Host, other.Handshake.URI = "other.org", "/feed"

	tests := []struct {
		name string
		sel  Selection
		want string
	}{
		{"all", Selection{}, "open|hello client|hello server 42|ping!|bin hello|anomaly|end|open|hello client|hello server 42|ping!|bin hello|anomaly|end|anomaly"},
		{"conn", Selection{Conns: []uint64{9}}, "open|hello client|hello server 42|ping!|bin hello|anomaly|end"},
		{"from", Selection{From: "server"}, "open|hello server 42|bin hello|anomaly|end|open|hello server 42|bin hello|anomaly|end|anomaly"},
		{"opcode", Selection{Opcodes: []wsdecode.Opcode{wsdecode.OpBinary, wsdecode.OpPing}}, "open|ping!|bin hello|anomaly|end|open|ping!|bin hello|anomaly|end|anomaly"},
		{"host", Selection{Host: "example"}, "open|hello client|hello server 42|ping!|bin hello|anomaly|end"},
		{"host-addr", Selection{Host: "2001:db8"}, "open|hello client|hello server 42|ping!|bin hello|anomaly|end|open|hello client|hello server 42|ping!|bin hello|anomaly|end"},
		{"path", Selection{Path: "feed"}, "open|hello client|hello server 42|ping!|bin hello|anomaly|end"},
		{"grep", Selection{Grep: []byte("hello")}, "open|hello client|hello server 42|bin hello|anomaly|end|open|hello client|hello server 42|bin hello|anomaly|end|anomaly"},
		{"regex", Selection{Regex: regexp.MustCompile(`\d+$`)}, "open|hello server 42|anomaly|end|open|hello server 42|anomaly|end|anomaly"},
		{"nocontrol", Selection{HideControl: true, Conns: []uint64{1}}, "open|hello client|hello server 42|bin hello|anomaly|end"},
		// No message selected: no open/end records, anomalies still shown.
		{"nomatch", Selection{Grep: []byte("nothing like this")}, "anomaly|anomaly|anomaly"},
		{"nomatch-conn", Selection{Grep: []byte("nothing"), Conns: []uint64{9}}, "anomaly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordSink{}
			s := Select(tt.sel, rec)
			for _, c := range []*pipeline.Conn{testConn(1), other} {
				s.ConnOpen(c)
				for _, m := range msgs {
					s.Message(c, m)
				}
				s.Anomaly(c, &pipeline.Anomaly{Code: "x"})
				s.ConnEnd(c)
			}
			s.Anomaly(nil, &pipeline.Anomaly{Code: "capture"})
			got := ""
			for i, e := range rec.events {
				if i > 0 {
					got += "|"
				}
				got += e
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParseOpcodes(t *testing.T) {
	ops, err := ParseOpcodes("text, Binary,ping,11")
	if err != nil || len(ops) != 4 || ops[0] != wsdecode.OpText || ops[1] != wsdecode.OpBinary || ops[2] != wsdecode.OpPing || ops[3] != 11 {
		t.Errorf("ParseOpcodes = %v, %v", ops, err)
	}
	for _, bad := range []string{"", "txt", "16", "-1", "1x"} {
		if _, err := ParseOpcodes(bad); err == nil {
			t.Errorf("ParseOpcodes(%q) accepted", bad)
		}
	}
}

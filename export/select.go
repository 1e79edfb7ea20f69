package export

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

// Selection chooses what is displayed or written. The zero value selects
// everything. Connection criteria (Conns, Host, Path) apply to every record
// of a connection; message criteria (From, Opcodes, Grep, Regex,
// HideControl) apply to messages only. When message criteria are set, a
// connection's open and end records are passed on only if at least one of
// its messages is selected (the open just before that message); its
// anomalies are always passed on. Capture-level anomalies (no connection)
// pass unless a connection criterion is set.
type Selection struct {
	Conns       []uint64          // connection ids; empty: all
	From        string            // "client", "server" or "" for both
	Opcodes     []wsdecode.Opcode // empty: all
	Host        string            // substring of the Host header or the server address
	Path        string            // substring of the request URI
	Grep        []byte            // substring of the payload (after decompression)
	Regex       *regexp.Regexp    // RE2 over the payload (after decompression)
	HideControl bool              // drop close, ping and pong frames
}

// ParseOpcodes parses a comma-separated list of opcode names ("text",
// "binary", "close", "ping", "pong", "continuation") or numbers 0–15.
func ParseOpcodes(s string) ([]wsdecode.Opcode, error) {
	var ops []wsdecode.Opcode
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		if f == "" {
			continue
		}
		found := false
		for op := wsdecode.Opcode(0); op < 16; op++ {
			if OpcodeName(op) == f {
				ops = append(ops, op)
				found = true
				break
			}
		}
		if found {
			continue
		}
		var n uint
		if _, err := fmt.Sscanf(f, "%d", &n); err != nil || n > 15 || fmt.Sprint(n) != f {
			return nil, fmt.Errorf("export: unknown opcode %q (want text, binary, close, ping, pong, continuation or 0-15)", f)
		}
		ops = append(ops, wsdecode.Opcode(n))
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("export: empty opcode list")
	}
	return ops, nil
}

// hasMessageCriteria reports whether some messages may be dropped.
func (s *Selection) hasMessageCriteria() bool {
	return s.From != "" || len(s.Opcodes) > 0 || len(s.Grep) > 0 || s.Regex != nil || s.HideControl
}

// IsZero reports whether s selects everything.
func (s *Selection) IsZero() bool {
	return len(s.Conns) == 0 && s.From == "" && len(s.Opcodes) == 0 && s.Host == "" &&
		s.Path == "" && len(s.Grep) == 0 && s.Regex == nil && !s.HideControl
}

// MatchConn reports whether the connection criteria select c.
func (s *Selection) MatchConn(c *pipeline.Conn) bool {
	if c == nil {
		return len(s.Conns) == 0 && s.Host == "" && s.Path == ""
	}
	if len(s.Conns) > 0 {
		ok := false
		for _, id := range s.Conns {
			if id == c.ID {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if s.Host != "" {
		host := ""
		if c.Handshake != nil {
			host = c.Handshake.Host
		}
		if !strings.Contains(host, s.Host) && !strings.Contains(c.Server.String(), s.Host) {
			return false
		}
	}
	if s.Path != "" {
		if c.Handshake == nil || !strings.Contains(c.Handshake.URI, s.Path) {
			return false
		}
	}
	return true
}

// IsControl reports whether op is a control opcode (RFC 6455 §5.5: 0x8–0xF).
func IsControl(op wsdecode.Opcode) bool { return op >= 0x8 }

// MatchMessage reports whether the message criteria select m (connection
// criteria are not checked).
func (s *Selection) MatchMessage(m *wsdecode.Message) bool {
	if s.From != "" && s.From != dirName(m.Dir) {
		return false
	}
	if s.HideControl && IsControl(m.Opcode) {
		return false
	}
	if len(s.Opcodes) > 0 {
		ok := false
		for _, op := range s.Opcodes {
			if op == m.Opcode {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(s.Grep) > 0 && !bytes.Contains(m.Payload, s.Grep) {
		return false
	}
	if s.Regex != nil && !s.Regex.Match(m.Payload) {
		return false
	}
	return true
}

// Select returns a Sink that passes to next only what s selects. With a zero
// Selection it returns next itself.
func Select(s Selection, next pipeline.Sink) pipeline.Sink {
	if s.IsZero() {
		return next
	}
	return &selectSink{sel: s, next: next, conns: make(map[uint64]bool), lazy: s.hasMessageCriteria(), shown: make(map[uint64]bool)}
}

type selectSink struct {
	sel   Selection
	next  pipeline.Sink
	conns map[uint64]bool // id → selected, for open connections
	lazy  bool            // open records wait for the first selected message
	shown map[uint64]bool // lazy: connections whose open was passed on
}

func (f *selectSink) match(c *pipeline.Conn) bool {
	if c == nil {
		return f.sel.MatchConn(nil)
	}
	ok, seen := f.conns[c.ID]
	if !seen {
		ok = f.sel.MatchConn(c)
		f.conns[c.ID] = ok
	}
	return ok
}

func (f *selectSink) ConnOpen(c *pipeline.Conn) {
	if f.match(c) && !f.lazy {
		f.next.ConnOpen(c)
	}
}

func (f *selectSink) Message(c *pipeline.Conn, m *wsdecode.Message) {
	if f.match(c) && f.sel.MatchMessage(m) {
		if f.lazy && !f.shown[c.ID] {
			f.shown[c.ID] = true
			f.next.ConnOpen(c)
		}
		f.next.Message(c, m)
	}
}

func (f *selectSink) Anomaly(c *pipeline.Conn, a *pipeline.Anomaly) {
	if f.match(c) {
		f.next.Anomaly(c, a)
	}
}

func (f *selectSink) ConnEnd(c *pipeline.Conn) {
	ok := f.match(c)
	delete(f.conns, c.ID)
	if f.lazy {
		ok = ok && f.shown[c.ID]
		delete(f.shown, c.ID)
	}
	if ok {
		f.next.ConnEnd(c)
	}
}

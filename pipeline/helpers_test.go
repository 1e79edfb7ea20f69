package pipeline

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/wsdecode"
)

// sliceSource is a capture.Source over packets in memory.
type sliceSource struct {
	pkts []*capture.Packet
	i    int
	err  error // returned after the packets (default io.EOF)
}

func (s *sliceSource) Next() (*capture.Packet, error) {
	if s.i >= len(s.pkts) {
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	s.i++
	return s.pkts[s.i-1], nil
}

func (s *sliceSource) Stats() capture.Stats {
	return capture.Stats{Packets: uint64(s.i), TCP: uint64(s.i)}
}
func (s *sliceSource) Close() error { return nil }

// msgRec is a copy of a delivered message.
type msgRec struct {
	conn       *Conn
	dir        wsdecode.Dir
	op         wsdecode.Opcode
	payload    []byte
	incomplete bool
	truncated  bool
	anoms      []string
	closeCode  int
	// afterResync: the decoder skipped bytes to resynchronise earlier in
	// this direction (its later frames are guesses).
	afterResync bool
}

func (m msgRec) marked() bool { return m.incomplete || m.truncated || len(m.anoms) > 0 }

// recSink records Sink calls.
type recSink struct {
	t      testing.TB
	calls  []string // trace for determinism checks
	full   []string // every field of every call, for shard-count equivalence
	conns  []*Conn
	open   map[*Conn]bool
	msgs   []msgRec
	anoms  []Anomaly
	canoms map[*Conn][]string
	resync map[*Conn][2]bool
}

func newRecSink(t testing.TB) *recSink {
	return &recSink{t: t, open: map[*Conn]bool{}, canoms: map[*Conn][]string{}, resync: map[*Conn][2]bool{}}
}

func (s *recSink) ConnOpen(c *Conn) {
	if s.open[c] {
		s.t.Errorf("ConnOpen twice for %d", c.ID)
	}
	s.open[c] = true
	s.conns = append(s.conns, c)
	s.calls = append(s.calls, fmt.Sprintf("open %d %v->%v up=%v", c.ID, c.Client, c.Server, c.Handshake.Upgraded))
	cc := *c
	cc.Handshake = nil // a pointer: compared by value below
	s.full = append(s.full, fmt.Sprintf("open %+v %+v", cc, *c.Handshake))
}

func (s *recSink) Message(c *Conn, m *wsdecode.Message) {
	if !s.open[c] {
		s.t.Errorf("Message on conn %d not open", c.ID)
	}
	r := msgRec{conn: c, dir: m.Dir, op: m.Opcode, payload: bytes.Clone(m.Payload), incomplete: m.Incomplete, truncated: m.Truncated, closeCode: -1,
		afterResync: s.resync[c][m.Dir&1]}
	if m.HasCloseCode {
		r.closeCode = int(m.CloseCode)
	}
	for _, a := range m.Anomalies {
		r.anoms = append(r.anoms, a.Code)
	}
	s.msgs = append(s.msgs, r)
	s.calls = append(s.calls, fmt.Sprintf("msg %d %v %v %d %q %v %v", c.ID, m.Dir, m.Opcode, m.Len, m.Payload, m.Incomplete, r.anoms))
	s.full = append(s.full, fmt.Sprintf("msg %d %+v nil=%v,%v,%v %+v", c.ID, *m, m.Payload == nil, m.Frames == nil, m.Anomalies == nil, c.Summary))
}

func (s *recSink) Anomaly(c *Conn, a *Anomaly) {
	if c != nil && !s.open[c] {
		s.t.Errorf("Anomaly on conn %d not open", c.ID)
	}
	s.anoms = append(s.anoms, *a)
	if c != nil {
		s.canoms[c] = append(s.canoms[c], a.Code)
		if a.Code == wsdecode.CodeResyncSkipped {
			r := s.resync[c]
			r[b2i(a.From == "server")] = true
			s.resync[c] = r
		}
	}
	id := uint64(0)
	if c != nil {
		id = c.ID
	}
	s.calls = append(s.calls, fmt.Sprintf("anom %d %s %s %d", id, a.Code, a.From, a.Packet))
	s.full = append(s.full, fmt.Sprintf("anom %d %+v", id, *a))
}

func (s *recSink) ConnEnd(c *Conn) {
	if !s.open[c] {
		s.t.Errorf("ConnEnd on conn %d not open", c.ID)
	}
	if !c.Summary.Ended {
		s.t.Errorf("ConnEnd with Summary.Ended false")
	}
	delete(s.open, c)
	s.calls = append(s.calls, fmt.Sprintf("end %d %s %+v", c.ID, c.Summary.EndReason, c.Summary.Messages))
	s.full = append(s.full, fmt.Sprintf("end %d %+v", c.ID, c.Summary))
}

func (s *recSink) hasAnomaly(code string) bool {
	for _, a := range s.anoms {
		if a.Code == code {
			return true
		}
	}
	for _, m := range s.msgs {
		for _, a := range m.anoms {
			if a == code {
				return true
			}
		}
	}
	return false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

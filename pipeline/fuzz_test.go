package pipeline

import (
	"bytes"
	"context"
	"testing"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/pcaps/synth"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// FuzzPipeline runs whole capture files through the pipeline with small
// limits: no panic, every opened connection ended once, messages within the
// configured size, buffers released.
func FuzzPipeline(f *testing.F) {
	for _, o := range []synth.Options{
		{},
		{Format: synth.PcapNG, Link: synth.LinkSLL2, MSS: 50},
		{Reorder: 0.5, Duplicate: 0.3, Seed: 1, MSS: 40},
		{Snaplen: 90, OmitHandshakeSYN: true},
	} {
		data, _ := craftCapture(f, 2, 2, 60, o)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		src, err := capture.OpenReader(bytes.NewReader(data), "fuzz", capture.Options{})
		if err != nil {
			return
		}
		defer src.Close()
		sink := &checkSink{t: t, open: map[*Conn]bool{}}
		opts := Options{
			Reassembly: reassembly.Config{MaxConns: 8, MaxBufferedPerConn: 4096, MaxBufferedTotal: 16384, MaxHandshakeBytes: 2048},
			Decode:     wsdecode.Config{MaxMessageSize: 4096},
		}
		st, _ := Run(context.Background(), src, opts, sink)
		if len(sink.open) != 0 {
			t.Fatalf("%d connections not ended", len(sink.open))
		}
		if st.Reassembly.BufferedBytes != 0 || st.Reassembly.MaxBufferedObs > 16384 {
			t.Fatalf("buffers: %+v", st.Reassembly)
		}
	})
}

type checkSink struct {
	t    *testing.T
	open map[*Conn]bool
	seen map[*Conn]bool
}

func (s *checkSink) ConnOpen(c *Conn) {
	if s.seen == nil {
		s.seen = map[*Conn]bool{}
	}
	if s.seen[c] {
		s.t.Fatalf("conn %d opened twice", c.ID)
	}
	s.seen[c], s.open[c] = true, true
}

func (s *checkSink) Message(c *Conn, m *wsdecode.Message) {
	if !s.open[c] {
		s.t.Fatalf("message on conn not open")
	}
	if len(m.Payload) > 4096 || (int64(len(m.Payload)) != m.Len && !m.Truncated && !m.Incomplete) {
		s.t.Fatalf("payload %d, Len %d, truncated %v", len(m.Payload), m.Len, m.Truncated)
	}
}

func (s *checkSink) Anomaly(c *Conn, a *Anomaly) {
	if c != nil && !s.open[c] {
		s.t.Fatalf("anomaly %s on conn not open", a.Code)
	}
}

func (s *checkSink) ConnEnd(c *Conn) {
	if !s.open[c] || !c.Summary.Ended {
		s.t.Fatalf("ConnEnd on conn not open")
	}
	delete(s.open, c)
}

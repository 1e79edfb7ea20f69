package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

const corpusDir = "/work/shared/corpus/public"

// runFile runs a capture file with 1 shard and checks that every other
// shard count gives the same Sink calls (runShards).
func runFile(t *testing.T, path string) (*recSink, Stats, error) {
	t.Helper()
	return runShards(t, Options{}, func() capture.Source {
		src, err := capture.OpenFile(path, capture.Options{})
		if err != nil {
			t.Fatalf("OpenFile: %v", err)
		}
		return src
	})
}

// TestCorpus runs the pipeline over real captures of other projects (read in
// place; skipped when absent) and checks what each is known to hold.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.pcap*"))
	if len(files) == 0 {
		t.Skipf("no captures in %s", corpusDir)
	}
	count := func(s *recSink, op wsdecode.Opcode, dir int) int {
		n := 0
		for _, m := range s.msgs {
			if m.op == op && (dir < 0 || int(m.dir) == dir) {
				n++
			}
		}
		return n
	}
	checks := map[string]func(t *testing.T, s *recSink){
		"arkime-websocket.pcap": func(t *testing.T, s *recSink) {
			if n := count(s, wsdecode.OpText, -1); n != 5 {
				t.Errorf("%d text messages, want 5", n)
			}
		},
		"zeek-wrong-accept-header.pcap": func(t *testing.T, s *recSink) {
			if !s.hasAnomaly(reassembly.CodeWrongAccept) {
				t.Errorf("no %s anomaly", reassembly.CodeWrongAccept)
			}
		},
		"zeek-oversized-close-frame.pcapng": func(t *testing.T, s *recSink) {
			if !s.hasAnomaly(wsdecode.CodeControlTooLong) {
				t.Errorf("no %s anomaly", wsdecode.CodeControlTooLong)
			}
		},
		"zeek-broker-websocket.pcap": func(t *testing.T, s *recSink) {
			if n := count(s, wsdecode.OpText, -1); n != 8 {
				t.Errorf("%d text messages, want 8", n)
			}
			if count(s, wsdecode.OpClose, -1) == 0 {
				t.Error("no close")
			}
			if s.conns[0].Deflate.Mode != wsdecode.DeflateNone {
				t.Error("deflate negotiated though the server declined")
			}
		},
		"zeek-jupyter-websocket.pcap": func(t *testing.T, s *recSink) {
			if n := count(s, wsdecode.OpBinary, -1); n < 12 {
				t.Errorf("%d binary messages, want ≥ 12", n)
			}
		},
		"zeek-message-too-big-status.pcap": func(t *testing.T, s *recSink) {
			found := false
			for _, m := range s.msgs {
				found = found || m.op == wsdecode.OpClose && m.closeCode == 1009
			}
			if !found || count(s, wsdecode.OpPing, -1) == 0 {
				t.Error("no close 1009 or no ping")
			}
		},
		"zeek-reply-ping-coalesced.pcap": func(t *testing.T, s *recSink) {
			if count(s, wsdecode.OpPing, int(wsdecode.FromServer)) == 0 {
				t.Error("the ping in the 101's segment was not decoded")
			}
		},
		"zeek-reply-ping-separate.pcap": func(t *testing.T, s *recSink) {
			if count(s, wsdecode.OpPing, int(wsdecode.FromServer)) == 0 {
				t.Error("no server ping")
			}
		},
		"zeek-two-binary-fragments.pcap": func(t *testing.T, s *recSink) {
			if count(s, wsdecode.OpBinary, -1) == 0 || count(s, wsdecode.OpPing, -1) == 0 || count(s, wsdecode.OpPong, -1) == 0 {
				t.Error("want binary, ping and pong")
			}
		},
		"zeek-fragmented-http-reply.pcap": func(t *testing.T, s *recSink) {
			if s.conns[0].Handshake.Subprotocol != "v1" || count(s, wsdecode.OpBinary, -1) == 0 {
				t.Errorf("subprotocol %q", s.conns[0].Handshake.Subprotocol)
			}
		},
		"spang-websocket_simple.pcap": func(t *testing.T, s *recSink) {
			if count(s, wsdecode.OpText, -1) != 2 || count(s, wsdecode.OpClose, -1) != 2 {
				t.Errorf("want 2 texts and 2 closes")
			}
		},
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(path); err != nil {
				t.Skip(err)
			}
			sink, st, err := runFile(t, path)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(sink.conns) == 0 {
				t.Fatalf("no WebSocket connection found (stats %+v)", st.Reassembly)
			}
			if len(sink.open) != 0 {
				t.Errorf("%d connections not ended", len(sink.open))
			}
			up := 0
			for _, c := range sink.conns {
				if c.Handshake.Upgraded {
					up++
				}
			}
			if up == 0 {
				t.Error("no upgraded connection")
			}
			if f := checks[name]; f != nil {
				f(t, sink)
			}
			marked := 0
			for _, m := range sink.msgs {
				if m.marked() {
					marked++
				}
			}
			t.Logf("%d conns (%d upgraded), %d messages (%d marked), %d anomalies: %v", len(sink.conns), up, len(sink.msgs), marked, st.Anomalies, anomalyCodes(sink))
		})
	}
}

func anomalyCodes(s *recSink) map[string]int {
	m := map[string]int{}
	for _, a := range s.anoms {
		m[a.Code]++
	}
	for _, msg := range s.msgs {
		for _, a := range msg.anoms {
			m[a]++
		}
	}
	return m
}

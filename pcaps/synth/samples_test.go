package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSampleCaptures checks every committed capture in pcaps/ against its
// NAME.sent.json: the capture's TCP payload, naively reassembled, decodes
// (with a minimal reference decoder) to exactly the listed messages, and
// the bytes missing from the capture are exactly the listed damage.
func TestSampleCaptures(t *testing.T) {
	files, err := filepath.Glob("../*.sent.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no sample captures in pcaps/ (run go run ./pcaps/gen)")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sent.json")
		t.Run(name, func(t *testing.T) {
			truth, err := ReadTruth(f)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join("..", name))
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) > 400<<10 {
				t.Errorf("%s is %d bytes; sample captures must stay small", name, len(raw))
			}
			var conns []*Conn
			var res Result
			for _, c := range truth.Conns {
				conns = append(conns, &Conn{Client: netip.MustParseAddrPort(c.Client), Server: netip.MustParseAddrPort(c.Server)})
				res.ISN = append(res.ISN, [2]uint32{c.ClientISN, c.ServerISN})
			}
			streams, have := reassemble(t, readPackets(t, raw), conns, res)
			// Holes must be exactly the declared damage.
			for ci := range conns {
				for d := range Dir(2) {
					var holes []Damage
					for i, ok := range have[[2]int{ci, int(d)}] {
						if ok {
							continue
						}
						if n := len(holes); n > 0 && holes[n-1].Offset+holes[n-1].Len == int64(i) {
							holes[n-1].Len++
						} else {
							holes = append(holes, Damage{Conn: ci, Dir: d, Offset: int64(i), Len: 1})
						}
					}
					var want []Damage
					for _, td := range truth.Damage {
						if td.Conn == ci && td.From == side(d) {
							want = append(want, Damage{Conn: ci, Dir: d, Offset: td.Offset, Len: td.Len})
						}
					}
					// A hole at the very end is invisible to this naive
					// reassembly (the stream just ends earlier).
					if n := len(want); n > 0 && want[n-1].Offset+want[n-1].Len > int64(len(streams[[2]int{ci, int(d)}])) {
						want = want[:n-1]
					}
					if len(holes) != len(want) {
						t.Fatalf("conn %d %v: holes %v, declared damage %v", ci, d, holes, want)
					}
					for i := range holes {
						if holes[i] != want[i] {
							t.Fatalf("conn %d %v: holes %v, declared damage %v", ci, d, holes, want)
						}
					}
				}
			}
			if len(truth.Damage) > 0 {
				return
			}
			for ci := range conns {
				s2c := streams[[2]int{ci, 1}]
				var ext string
				if i := bytes.Index(s2c, []byte("\r\n\r\n")); i > 0 {
					for _, l := range strings.Split(strings.ToLower(string(s2c[:i])), "\r\n") {
						if strings.HasPrefix(l, "sec-websocket-extensions:") {
							ext = l
						}
					}
				}
				for d := range Dir(2) {
					takeover := !strings.Contains(ext, []string{"client_no_context_takeover", "server_no_context_takeover"}[d])
					got, err := miniDecode(streams[[2]int{ci, int(d)}], d == ClientToServer, takeover, 0)
					if err != nil {
						t.Fatalf("conn %d %v: %v", ci, d, err)
					}
					var want []TruthMessage
					for _, m := range truth.Messages {
						if m.Conn == ci && m.From == side(d) {
							want = append(want, m)
						}
					}
					if len(got) != len(want) {
						t.Fatalf("conn %d %v: decoded %d messages, truth lists %d", ci, d, len(got), len(want))
					}
					for i, g := range got {
						w := want[i]
						sum := sha256.Sum256(g.payload)
						if g.opcode != w.Opcode || hex.EncodeToString(sum[:]) != w.SHA256 || len(g.payload) != w.Len {
							t.Fatalf("conn %d %v msg %d: decoded op %d len %d, truth op %d len %d", ci, d, i, g.opcode, len(g.payload), w.Opcode, w.Len)
						}
						if p, ok := w.Payload(); ok && !bytes.Equal(p, g.payload) {
							t.Fatalf("conn %d %v msg %d: inline payload differs", ci, d, i)
						}
						if g.end != w.StreamOffset+w.StreamLen {
							t.Fatalf("conn %d %v msg %d: frames end at %d, truth range ends at %d", ci, d, i, g.end, w.StreamOffset+w.StreamLen)
						}
					}
				}
			}
		})
	}
}

package capture

import (
	"bytes"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/pcaps/hostile"
)

// TestHostileSnaplenWarning: a capture whose snapshot length cut the TCP
// payloads (snaplen 65: 11 payload bytes per Ethernet/IPv4 packet) or the
// headers (snaplen 40) says so. Before, wsscope printed nothing at all for
// the snaplen-65 hostile case: the cut handshake was never detected and
// the run ended silently with exit 0.
func TestHostileSnaplenWarning(t *testing.T) {
	for _, tt := range []struct {
		snap uint32
		want string
	}{
		{65, "TCP packets cut by the snapshot length"},
		{40, "headers cut by the snapshot length"},
		{262144, ""},
	} {
		var buf bytes.Buffer
		w := hostile.NewWriterLink(&buf, hostile.LinkEthernet, tt.snap)
		f := w.Open(netip.MustParseAddrPort("192.0.2.10:40000"), netip.MustParseAddrPort("192.0.2.1:80"), 1, 2)
		f.Send(hostile.C2S, hostile.Request(""))
		f.Send(hostile.S2C, hostile.Response(""))
		w.Flush()
		src, err := OpenReader(&buf, "s.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readAll(t, src); err != io.EOF {
			t.Fatal(err)
		}
		ws := strings.Join(src.(Warner).Warnings(), "\n")
		if tt.want == "" && ws != "" || !strings.Contains(ws, tt.want) {
			t.Errorf("snaplen %d: warnings %q, want %q", tt.snap, ws, tt.want)
		}
	}
}

package reassembly

import (
	"strings"
	"testing"
)

// TestHostileDuplicateHeaders: Sec-WebSocket-Key, -Version, -Accept and a
// response's -Protocol may appear once (RFC 6455 §11.3); a copy is reported
// (a browser would fail such a handshake), and the first value is the one
// used. Before, a second, wrong Accept after the right one passed silently.
func TestHostileDuplicateHeaders(t *testing.T) {
	tests := []struct {
		name       string
		req, resp  string
		dups       int
		acceptGood bool
	}{
		{"none", upgradeReq(""), upgradeResp("Sec-WebSocket-Protocol: chat\r\n"), 0, true},
		{"second accept", upgradeReq(""), upgradeResp("Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n"), 1, true},
		{"second key", upgradeReq("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"), upgradeResp(""), 1, true},
		{"key version accept protocol", upgradeReq("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 8\r\n"),
			upgradeResp("Sec-WebSocket-Accept: x\r\nSec-WebSocket-Protocol: chat\r\nsec-websocket-protocol: superchat\r\n"), 4, true},
		{"request protocols may repeat", upgradeReq("Sec-WebSocket-Protocol: other\r\n"), upgradeResp(""), 0, true},
	}
	for _, tt := range tests {
		f := newFlow(100, 200)
		pkts := append(f.handshake(), f.c(0, tt.req), f.s(0, tt.resp))
		r, _ := run(t, Config{}, pkts)
		n := 0
		for _, a := range r.anoms {
			if a.Code == CodeDuplicateHeader {
				n++
				if a.Severity != "error" || !strings.Contains(a.Detail, "is used") {
					t.Errorf("%s: %+v", tt.name, a)
				}
			}
		}
		if n != tt.dups {
			t.Errorf("%s: %d %s anomalies, want %d (%v)", tt.name, n, CodeDuplicateHeader, tt.dups, r.codes())
		}
		hs := r.hs[1]
		if hs == nil || !hs.Upgraded || hs.Key != testKey || hs.AcceptValid != tt.acceptGood {
			t.Errorf("%s: handshake %+v", tt.name, hs)
		}
	}
}

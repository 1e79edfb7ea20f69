package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/internal/inetsum"
	"github.com/wsscope/wsscope/pcaps/hostile"
)

// TestHostileChecksum: a segment whose TCP checksum is wrong (a bit flipped
// in the capture or on the wire; its receiver dropped it) is skipped and
// counted, so that its bytes become a gap instead of being taken for what
// was sent; checksums left for offloading (0, or the pseudo-header sum) are
// accepted; segments not captured whole are not checked. Found by
// pipeline's TestHostileBitFlips: payload flips came out as unmarked
// messages that differed from what was sent.
func TestHostileChecksum(t *testing.T) {
	cli := netip.MustParseAddrPort("192.0.2.10:40000")
	srv := netip.MustParseAddrPort("192.0.2.1:80")
	payload := []byte("a WebSocket frame, or any payload")
	good := hostile.AppendPacket(nil, cli, srv, 1000, 2000, hostile.ACK|hostile.PSH, payload)
	const tcpOff = 14 + 20
	mod := func(f func(p []byte)) []byte {
		p := bytes.Clone(good)
		f(p)
		return p
	}
	setCsum := func(v uint16) func(p []byte) {
		return func(p []byte) { binary.BigEndian.PutUint16(p[tcpOff+16:], v) }
	}
	// Pseudo-header sum of this packet, for the offload forms.
	var ps uint64
	ps = inetsum.Add(ps, good[14+12:14+16])
	ps = inetsum.Add(ps, good[14+16:14+20])
	ps += 6 + uint64(len(good)-tcpOff)
	partial := inetsum.Fold(ps)
	tests := []struct {
		name    string
		pkt     []byte
		snap    uint32
		skipped bool
	}{
		{"valid", good, 0, false},
		{"payload bit flipped", mod(func(p []byte) { p[len(p)-3] ^= 0x04 }), 0, true},
		{"port bit flipped", mod(func(p []byte) { p[tcpOff+1] ^= 0x01 }), 0, true},
		{"address bit flipped", mod(func(p []byte) { p[14+15] ^= 0x80 }), 0, true},
		{"checksum 0 (offload)", mod(setCsum(0)), 0, false},
		{"pseudo-header sum (CHECKSUM_PARTIAL)", mod(setCsum(partial)), 0, false},
		{"complemented pseudo-header sum", mod(setCsum(^partial)), 0, false},
		{"flipped but cut by snaplen: not checkable", mod(func(p []byte) { p[len(p)-3] ^= 0x04 }), uint32(len(good) - 5), false},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		snap := tt.snap
		if snap == 0 {
			snap = 262144
		}
		w := hostile.NewWriterLink(&buf, hostile.LinkEthernet, snap)
		data := tt.pkt
		if len(data) > int(snap) {
			data = data[:snap]
		}
		w.Record(data, uint32(len(tt.pkt)))
		w.Flush()
		src, err := OpenReader(&buf, "c.pcap", Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := src.Next()
		if tt.skipped {
			if err != io.EOF || src.Stats().Skipped != 1 {
				t.Errorf("%s: want skipped, got %+v, %v (stats %+v)", tt.name, p, err, src.Stats())
			}
			ws := src.(Warner).Warnings()
			if len(ws) != 1 || !strings.Contains(ws[0], "1 packet with a wrong TCP checksum skipped") {
				t.Errorf("%s: warnings %q", tt.name, ws)
			}
			continue
		}
		if err != nil || p == nil || !bytes.HasPrefix(payload, p.Payload) {
			t.Errorf("%s: want decoded, got %+v, %v (stats %+v)", tt.name, p, err, src.Stats())
		}
	}
}

func BenchmarkChecksum(b *testing.B) {
	seg := make([]byte, 1460)
	for i := range seg {
		seg[i] = byte(i * 7)
	}
	src, dst := []byte{192, 0, 2, 1}, []byte{192, 0, 2, 2}
	b.SetBytes(int64(len(seg)))
	b.ReportAllocs()
	for b.Loop() {
		tcpChecksumOK(src, dst, seg)
	}
}

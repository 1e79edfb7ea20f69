package synth

import (
	"bytes"
	"net/netip"
	"testing"
)

// FuzzWrite: for any chunk layout and options without data loss, the
// written capture reads back, every checksum is valid, and naive
// reassembly gives back exactly the recorded bytes of both directions.
func FuzzWrite(f *testing.F) {
	f.Add([]byte("hello world, a few chunks"), uint16(1448), uint8(0), uint8(0), uint8(0), int64(1))
	f.Add(bytes.Repeat([]byte{0xff, 7, 200}, 300), uint16(1), uint8(3), uint8(2), uint8(0x33), int64(7))
	f.Add([]byte{}, uint16(65535), uint8(6), uint8(3), uint8(0xff), int64(-3))
	f.Fuzz(func(t *testing.T, data []byte, mss uint16, link, format, damage uint8, seed int64) {
		// Keep each execution fast: at most ~2000 data segments.
		if len(data) > 1<<12 || (mss != 0 && len(data)/int(mss) > 2000) {
			return
		}
		// Split data into chunks: each byte's low bits pick a direction and
		// a chunk length.
		c4 := &Conn{Client: netip.MustParseAddrPort("10.1.1.1:1234"), Server: netip.MustParseAddrPort("10.1.1.2:80")}
		c6 := &Conn{Client: netip.MustParseAddrPort("[fd00::1]:1234"), Server: netip.MustParseAddrPort("[fd00::2]:443"), Close: Close(seed & 3)}
		for i, rest := 0, data; len(rest) > 0; i++ {
			n := min(len(rest), 1+int(rest[0])*3)
			ch := Chunk{Dir: Dir(rest[0] & 1), Data: rest[:n]}
			if rest[0]&4 != 0 {
				ch.Segments = []int{1 + int(rest[0]>>3)}
			}
			if i%2 == 0 {
				c4.Chunks = append(c4.Chunks, ch)
			} else {
				c6.Chunks = append(c6.Chunks, ch)
			}
			rest = rest[n:]
		}
		conns := []*Conn{c4, c6}
		o := Options{MSS: int(mss), Link: Link(link % 7), Format: Format(format % 4), Seed: seed,
			Interleave: Interleave(damage % 3), OmitHandshakeSYN: damage&8 != 0, Gzip: damage&16 != 0}
		if damage&32 != 0 {
			o.Reorder = 0.5
		}
		if damage&64 != 0 {
			o.Duplicate = 0.5
		}
		var buf bytes.Buffer
		res, err := Write(&buf, conns, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Damage) != 0 {
			t.Fatalf("damage without drop/snaplen: %v", res.Damage)
		}
		pkts := readPackets(t, buf.Bytes())
		if len(pkts) != res.Packets {
			t.Fatalf("read %d packets, wrote %d", len(pkts), res.Packets)
		}
		for i, p := range pkts {
			if err := checksumOK(p); err != nil {
				t.Fatalf("packet %d: %v", i, err)
			}
		}
		streams, have := reassemble(t, pkts, conns, res)
		for i, c := range conns {
			for d := range Dir(2) {
				if !bytes.Equal(streams[[2]int{i, int(d)}], c.Bytes(d)) {
					t.Fatalf("conn %d %v: reassembled bytes differ", i, d)
				}
			}
		}
		if h := holesOf(have, len(conns)); len(h) != 0 {
			t.Fatalf("holes %v", h)
		}
	})
}

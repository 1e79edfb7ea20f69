package capture

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// gopacketDecode decodes a frame with gopacket (the reference) and returns
// the TCP packet it finds, if any.
func gopacketDecode(lt uint16, data []byte) (Packet, bool) {
	var first gopacket.Decoder
	switch lt {
	case LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case LinkTypeLinuxSLL2:
		first = layers.LayerTypeLinuxSLL2
	case LinkTypeNull:
		first = layers.LayerTypeLoopback
	case LinkTypeRaw, LinkTypeRawAlt12, LinkTypeRawAlt14:
		if len(data) > 0 && data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		} else {
			first = layers.LayerTypeIPv4
		}
	case LinkTypeIPv4:
		first = layers.LayerTypeIPv4
	case LinkTypeIPv6:
		first = layers.LayerTypeIPv6
	default:
		return Packet{}, false
	}
	pkt := gopacket.NewPacket(data, first, gopacket.DecodeOptions{NoCopy: true})
	tl, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if tl == nil || pkt.ErrorLayer() != nil {
		return Packet{}, false
	}
	var p Packet
	switch ip := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			return Packet{}, false
		}
		src, _ := netip.AddrFromSlice(ip.SrcIP)
		dst, _ := netip.AddrFromSlice(ip.DstIP)
		p.Src, p.Dst = netip.AddrPortFrom(src, uint16(tl.SrcPort)), netip.AddrPortFrom(dst, uint16(tl.DstPort))
	case *layers.IPv6:
		src, _ := netip.AddrFromSlice(ip.SrcIP)
		dst, _ := netip.AddrFromSlice(ip.DstIP)
		p.Src, p.Dst = netip.AddrPortFrom(src, uint16(tl.SrcPort)), netip.AddrPortFrom(dst, uint16(tl.DstPort))
	default:
		return Packet{}, false
	}
	p.Seq, p.Ack = tl.Seq, tl.Ack
	for _, f := range []struct {
		set  bool
		flag TCPFlags
	}{{tl.FIN, FlagFIN}, {tl.SYN, FlagSYN}, {tl.RST, FlagRST}, {tl.PSH, FlagPSH}, {tl.ACK, FlagACK}} {
		if f.set {
			p.Flags |= f.flag
		}
	}
	p.Payload = tl.Payload
	return p, true
}

func samePacket(a, b *Packet) bool {
	return a.Src == b.Src && a.Dst == b.Dst && a.Seq == b.Seq && a.Ack == b.Ack &&
		a.Flags == b.Flags && bytes.Equal(a.Payload, b.Payload)
}

// TestCrossCheckGopacket compares the hand-written decoder with gopacket's
// layers: exactly on the generated test frames (whole and cut at every
// length), and on randomly mutated frames wherever gopacket decodes TCP
// without error.
func TestCrossCheckGopacket(t *testing.T) {
	var p Packet
	cases := linkCases(t)
	agree, compared := 0, 0
	for _, c := range cases {
		if c.link == LinkTypeLoop || c.name == "null/be/inet" || c.name == "null/be/inet6 freebsd" {
			continue // gopacket's Loopback reads the family in host (little-endian) order only
		}
		frame := c.frame
		if c.snap > 0 {
			frame = frame[:c.snap]
		}
		ref, refOK := gopacketDecode(c.link, frame)
		r := decodePacket(&p, c.link, frame, len(c.frame))
		if _, supported := map[uint16]bool{0: true, 1: true, 12: true, 14: true, 101: true, 113: true, 228: true, 229: true, 276: true}[c.link]; !supported {
			continue
		}
		switch {
		case refOK && r == decoded:
			if !samePacket(&p, &ref) {
				t.Errorf("%s: mine %+v, gopacket %+v", c.name, p, ref)
			}
		case refOK != (r == decoded):
			// Known, intended differences: we decode TSO frames (IPv4 total
			// length 0), and we reject TCP data offsets pointing past the
			// segment, which gopacket accepts; we decode past IPv6 atomic
			// fragments (offset 0, no more fragments; RFC 6946), gopacket stops.
			if c.name != "ethernet/ipv4 TSO zero length" && c.name != "ethernet/tcp data offset beyond segment" &&
				c.name != "ethernet/ipv6 hbh+routing+dstopts+atomic fragment" {
				t.Errorf("%s: mine %v, gopacket decoded=%v", c.name, r, refOK)
			}
		}
	}
	// Random mutations of the header bytes.
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 2048)
	for i := 0; i < 200000; i++ {
		c := cases[rng.IntN(len(cases))]
		if c.link == LinkTypeLoop || c.link == LinkTypeNull || c.link == 105 {
			continue
		}
		buf = append(buf[:0], c.frame...)
		for n := rng.IntN(3) + 1; n > 0; n-- {
			buf[rng.IntN(min(len(buf), 100))] = byte(rng.Uint32())
		}
		if rng.IntN(4) == 0 {
			buf = buf[:rng.IntN(len(buf)+1)]
		}
		ref, refOK := gopacketDecode(c.link, buf)
		r := decodePacket(&p, c.link, buf, len(c.frame))
		if refOK && r == decoded {
			compared++
			if samePacket(&p, &ref) {
				agree++
			} else if len(buf) == len(c.frame) {
				// Same bytes, both decoded: must agree (payload may differ only
				// when our wire-length bound applies to a cut frame).
				t.Errorf("%s mutated %x:\nmine     %+v\ngopacket %+v", c.name, buf, p, ref)
			}
		}
	}
	t.Logf("mutations: %d decoded by both, %d identical", compared, agree)
	if compared < 10000 {
		t.Errorf("only %d mutated frames decoded by both", compared)
	}
}

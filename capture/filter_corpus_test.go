package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"net/netip"
)

// A corpus of crafted packets for comparing filter programs: IPv4/IPv6,
// TCP/UDP/SCTP/ICMP, fragments, IP options, ARP/RARP, other ethertypes and
// VLAN tags, wrapped in each supported link type.

type l3pkt struct {
	name  string
	et    uint16 // ethertype of the payload
	data  []byte
	vlans []uint16 // VLAN IDs (Ethernet only); empty = untagged
}

func ip4(s string) [4]byte  { return netip.MustParseAddr(s).As4() }
func ip6(s string) [16]byte { return netip.MustParseAddr(s).As16() }

func l4hdr(proto uint8, sport, dport uint16, flags uint8) []byte {
	switch proto {
	case 6:
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], sport)
		binary.BigEndian.PutUint16(h[2:], dport)
		binary.BigEndian.PutUint32(h[4:], 1000)
		h[12] = 5 << 4
		h[13] = flags
		binary.BigEndian.PutUint16(h[14:], 65535)
		return append(h, "GET / HTTP/1.1\r\n"...)
	case 17, 132:
		h := make([]byte, 8)
		binary.BigEndian.PutUint16(h[0:], sport)
		binary.BigEndian.PutUint16(h[2:], dport)
		binary.BigEndian.PutUint16(h[4:], 8+4)
		return append(h, 1, 2, 3, 4)
	case 1, 58:
		return []byte{byte(sport), byte(dport), 0, 0, 0, 1, 0, 1, 'p', 'i', 'n', 'g'}
	}
	return []byte{0xde, 0xad, 0xbe, 0xef, 0, 80, 0, 80}
}

// v4 builds an IPv4 packet; fragOff is in 8-byte units, mf sets More Fragments,
// optWords adds IP option words (NOPs).
func v4(src, dst string, proto uint8, sport, dport uint16, flags uint8, fragOff uint16, mf bool, optWords int) []byte {
	l4 := l4hdr(proto, sport, dport, flags)
	ihl := 5 + optWords
	h := make([]byte, ihl*4)
	h[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(l4)))
	binary.BigEndian.PutUint16(h[4:], 0x1234)
	fo := fragOff & 0x1fff
	if mf {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], fo)
	h[8] = 64
	h[9] = proto
	s, d := ip4(src), ip4(dst)
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	for i := 20; i < len(h); i++ {
		h[i] = 1 // NOP
	}
	return append(h, l4...)
}

// v6 builds an IPv6 packet; with frag, a fragment header precedes the L4 header.
func v6(src, dst string, proto uint8, sport, dport uint16, flags uint8, frag bool) []byte {
	l4 := l4hdr(proto, sport, dport, flags)
	h := make([]byte, 40)
	h[0] = 0x60
	nh := proto
	if frag {
		nh = 44
		l4 = append([]byte{proto, 0, 0, 0, 0, 0, 0, 1}, l4...)
	}
	binary.BigEndian.PutUint16(h[4:], uint16(len(l4)))
	h[6] = nh
	h[7] = 64
	s, d := ip6(src), ip6(dst)
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, l4...)
}

func arpPkt(op uint16, spa, tpa string) []byte {
	b := make([]byte, 28)
	binary.BigEndian.PutUint16(b[0:], 1)
	binary.BigEndian.PutUint16(b[2:], 0x0800)
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:], op)
	copy(b[8:], []byte{0x02, 0, 0, 0, 0, 0x01})
	s, t := ip4(spa), ip4(tpa)
	copy(b[14:], s[:])
	copy(b[24:], t[:])
	return b
}

func corpusL3() []l3pkt {
	var out []l3pkt
	add := func(name string, et uint16, data []byte, vlans ...uint16) {
		out = append(out, l3pkt{name: name, et: et, data: data, vlans: vlans})
	}
	hosts4 := [][2]string{{"10.0.0.1", "192.168.1.1"}, {"192.168.1.1", "10.1.2.3"}, {"127.0.0.1", "127.0.0.1"}, {"1.2.3.4", "8.8.8.8"}, {"10.1.2.200", "172.16.0.9"}}
	ports := [][2]uint16{{80, 40000}, {40000, 80}, {443, 443}, {53, 5353}, {85, 1024}, {1024, 90}, {8080, 22}, {65535, 0}, {91, 79}}
	for _, h := range hosts4 {
		for _, pp := range ports {
			for _, proto := range []uint8{6, 17} {
				add(fmt.Sprintf("v4/%d %s:%d>%s:%d", proto, h[0], pp[0], h[1], pp[1]), etIP, v4(h[0], h[1], proto, pp[0], pp[1], 0x18, 0, false, 0))
			}
		}
		add("v4/sctp "+h[0], etIP, v4(h[0], h[1], 132, 80, 9999, 0, 0, false, 0))
		add("v4/icmp echo "+h[0], etIP, v4(h[0], h[1], 1, 8, 0, 0, 0, false, 0))
		add("v4/icmp reply "+h[0], etIP, v4(h[1], h[0], 1, 0, 0, 0, 0, false, 0))
		add("v4/igmp "+h[0], etIP, v4(h[0], h[1], 2, 0, 0, 0, 0, false, 0))
	}
	for _, fl := range []uint8{0x02, 0x12, 0x10, 0x11, 0x04, 0x18, 0x00, 0xff} {
		add(fmt.Sprintf("v4/tcp flags %#x", fl), etIP, v4("10.0.0.1", "10.0.0.2", 6, 80, 40000, fl, 0, false, 0))
		add(fmt.Sprintf("v6/tcp flags %#x", fl), etIP6, v6("2001:db8::1", "2001:db8::2", 6, 80, 40000, fl, false))
	}
	// fragments: first (offset 0, MF), middle, last; options
	add("v4/frag first", etIP, v4("10.0.0.1", "10.0.0.2", 6, 80, 80, 2, 0, true, 0))
	add("v4/frag middle", etIP, v4("10.0.0.1", "10.0.0.2", 6, 80, 80, 2, 185, true, 0))
	add("v4/frag last", etIP, v4("10.0.0.1", "10.0.0.2", 6, 80, 80, 2, 370, false, 0))
	add("v4/frag udp middle", etIP, v4("10.0.0.1", "10.0.0.2", 17, 53, 53, 0, 1, true, 0))
	add("v4/options tcp", etIP, v4("10.0.0.1", "10.0.0.2", 6, 80, 443, 0x02, 0, false, 2))
	add("v4/options udp", etIP, v4("10.0.0.1", "10.0.0.2", 17, 53, 9999, 0, 0, false, 1))
	add("v4/options tcp 10 words", etIP, v4("192.168.1.1", "10.0.0.2", 6, 22, 80, 0x12, 0, false, 10))
	hosts6 := [][2]string{{"::1", "::1"}, {"2001:db8::1", "2001:db8:1::2"}, {"fe80::1", "ff02::1"}, {"2001:db8:0:0:1::5", "2001:db9::1"}}
	for _, h := range hosts6 {
		for _, pp := range ports {
			for _, proto := range []uint8{6, 17} {
				add(fmt.Sprintf("v6/%d [%s]:%d>[%s]:%d", proto, h[0], pp[0], h[1], pp[1]), etIP6, v6(h[0], h[1], proto, pp[0], pp[1], 0x18, false))
			}
		}
		add("v6/icmp6 "+h[0], etIP6, v6(h[0], h[1], 58, 128, 0, 0, false))
		add("v6/sctp "+h[0], etIP6, v6(h[0], h[1], 132, 443, 80, 0, false))
		add("v6/frag tcp "+h[0], etIP6, v6(h[0], h[1], 6, 80, 443, 0x02, true))
		add("v6/frag udp "+h[0], etIP6, v6(h[0], h[1], 17, 53, 53, 0, true))
	}
	add("arp request", etARP, arpPkt(1, "10.0.0.1", "10.0.0.2"))
	add("arp reply", etARP, arpPkt(2, "192.168.1.1", "10.1.2.3"))
	add("rarp", etRARP, arpPkt(3, "1.2.3.4", "10.0.0.1"))
	add("lldp", 0x88cc, []byte{0x02, 0x07, 0x04, 0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	add("vlan10 v4 tcp", etIP, v4("10.0.0.1", "10.0.0.2", 6, 80, 40000, 0x18, 0, false, 0), 10)
	add("vlan20 v4 udp", etIP, v4("10.0.0.1", "192.168.1.1", 17, 53, 40000, 0, 0, false, 0), 20)
	add("vlan10 v6 tcp", etIP6, v6("2001:db8::1", "::1", 6, 443, 80, 0x02, false), 10)
	add("vlan10+20 v4 tcp", etIP, v4("10.0.0.1", "10.0.0.2", 6, 80, 40000, 0x18, 0, false, 0), 10, 20)
	// truncated packets
	add("v4 truncated in tcp", etIP, v4("10.0.0.1", "10.0.0.2", 6, 80, 40000, 0x18, 0, false, 0)[:22])
	add("v4 truncated header", etIP, v4("10.0.0.1", "10.0.0.2", 6, 80, 40000, 0x18, 0, false, 0)[:10])
	add("v6 truncated", etIP6, v6("2001:db8::1", "::1", 6, 443, 80, 0x02, false)[:30])
	return out
}

type corpusPkt struct {
	name string
	data []byte
}

// wrapLink returns p with the link-layer header of lt, or nil if p cannot be
// represented on that link type.
func wrapLink(lt uint16, p l3pkt) []byte {
	if len(p.vlans) > 0 && lt != linkEthernet {
		return nil
	}
	switch lt {
	case linkEthernet:
		b := []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x02, 0, 0, 0, 0, 0x01}
		if p.name[len(p.name)-1]%2 == 0 { // vary MACs
			b = []byte{0x02, 0, 0, 0, 0, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06}
		}
		for _, v := range p.vlans {
			b = binary.BigEndian.AppendUint16(b, 0x8100)
			b = binary.BigEndian.AppendUint16(b, v)
		}
		b = binary.BigEndian.AppendUint16(b, p.et)
		return append(b, p.data...)
	case linkLinuxSLL:
		b := []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}
		b = binary.BigEndian.AppendUint16(b, p.et)
		return append(b, p.data...)
	case linkLinuxSLL2:
		b := binary.BigEndian.AppendUint16(nil, p.et)
		b = append(b, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0)
		return append(b, p.data...)
	case linkRaw, linkIPv4, linkIPv6:
		if p.et != etIP && p.et != etIP6 {
			return nil
		}
		return append([]byte(nil), p.data...)
	case linkNull, linkLoop:
		var af uint32
		switch p.et {
		case etIP:
			af = afINET
		case etIP6:
			af = afINET6
		default:
			return nil
		}
		var b []byte
		if lt == linkNull {
			b = binary.LittleEndian.AppendUint32(nil, af)
		} else {
			b = binary.BigEndian.AppendUint32(nil, af)
		}
		return append(b, p.data...)
	}
	return nil
}

func corpusFor(lt uint16) []corpusPkt {
	var out []corpusPkt
	for _, p := range corpusL3() {
		if b := wrapLink(lt, p); b != nil {
			out = append(out, corpusPkt{p.name, b})
		}
	}
	return out
}

// mutatedCorpus returns variants of the corpus with random header bytes
// changed (deterministic). Truncations are left out: on a packet cut inside
// the headers a filter reads, BPF rejects at the first out-of-bounds load,
// and tcpdump's optimizer reorders loads (it tests both "port 80" and
// "port 443" on the source port before loading the destination port), so
// results can legitimately differ there.
func mutatedCorpus(lt uint16, perPacket int) []corpusPkt {
	rng := rand.New(rand.NewSource(int64(lt) + 1))
	var out []corpusPkt
	for _, p := range corpusFor(lt) {
		for i := 0; i < perPacket; i++ {
			b := bytes.Clone(p.data)
			for n := 1 + rng.Intn(3); n > 0; n-- {
				j := rng.Intn(min(len(b), 80)) // header bytes
				b[j] = byte(rng.Intn(256))
			}
			out = append(out, corpusPkt{fmt.Sprintf("%s mutated %d % x", p.name, i, b), b})
		}
	}
	return out
}

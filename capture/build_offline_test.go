package capture

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Test packet builders. Headers are serialized with gopacket's layers where
// it can; link headers gopacket cannot serialize (Linux cooked v1/v2, the
// loopback families in both byte orders) and IPv6 extension headers are
// written by hand following their specifications.

var (
	v4a = netip.MustParseAddr("192.0.2.1")
	v4b = netip.MustParseAddr("198.51.100.7")
	v6a = netip.MustParseAddr("2001:db8::1")
	v6b = netip.MustParseAddr("2001:db8:ffff::2")
)

// seg describes the TCP segment to build.
type seg struct {
	src, dst netip.AddrPort
	seq, ack uint32
	flags    TCPFlags
	payload  []byte
	tcpOpts  bool // add MSS, SACK-permitted, timestamps, window scale (20 option bytes)
}

func (s seg) tcp() *layers.TCP {
	t := &layers.TCP{
		SrcPort: layers.TCPPort(s.src.Port()), DstPort: layers.TCPPort(s.dst.Port()),
		Seq: s.seq, Ack: s.ack, Window: 65535,
		FIN: s.flags&FlagFIN != 0, SYN: s.flags&FlagSYN != 0, RST: s.flags&FlagRST != 0,
		PSH: s.flags&FlagPSH != 0, ACK: s.flags&FlagACK != 0,
	}
	if s.tcpOpts {
		ts := make([]byte, 8)
		binary.BigEndian.PutUint32(ts, 12345)
		t.Options = []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
			{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: ts},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
		}
	}
	return t
}

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// ipOpts tweaks the network layer.
type ipOpts struct {
	v4Options bool   // IPv4 record-route option (IHL 8)
	v4Frag    uint16 // IPv4 flags+fragment offset field
	v6Ext     []byte // IPv6 extension header chain (hand-written), its first next-header in v6ExtNH
	v6ExtNH   layers.IPProtocol
	proto     layers.IPProtocol // not TCP: protocol number, payload is s.payload
}

// ipPacket builds the IPv4 or IPv6 packet (by the address family of s.src).
func ipPacket(t testing.TB, s seg, o ipOpts) []byte {
	t.Helper()
	tcp := s.tcp()
	if s.src.Addr().Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, Id: 0x1234,
			SrcIP: net.IP(s.src.Addr().AsSlice()), DstIP: net.IP(s.dst.Addr().AsSlice())}
		if o.v4Options {
			ip.Options = []layers.IPv4Option{{OptionType: 7, OptionLength: 11, OptionData: []byte{4, 0, 0, 0, 0, 0, 0, 0, 0}}}
		}
		if o.proto != 0 {
			ip.Protocol = o.proto
			return serialize(t, ip, gopacket.Payload(s.payload))
		}
		tcp.SetNetworkLayerForChecksum(ip)
		b := serialize(t, ip, tcp, gopacket.Payload(s.payload))
		if o.v4Frag != 0 {
			binary.BigEndian.PutUint16(b[6:], o.v4Frag)
		}
		return b
	}
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
		SrcIP: net.IP(s.src.Addr().AsSlice()), DstIP: net.IP(s.dst.Addr().AsSlice())}
	tcp.SetNetworkLayerForChecksum(ip)
	var l4 []byte
	if o.proto != 0 {
		ip.NextHeader = o.proto
		l4 = s.payload
	} else {
		l4 = serialize(t, tcp, gopacket.Payload(s.payload))
	}
	if o.v6Ext != nil {
		ip.NextHeader = o.v6ExtNH
		l4 = append(append([]byte(nil), o.v6Ext...), l4...)
	}
	return serialize(t, ip, gopacket.Payload(l4))
}

// v6ext builds one extension header: next header, then body padded so the
// header is a multiple of 8 bytes (fragment header: exactly 8).
func v6ext(typ, next byte, bodyLen int) []byte {
	if typ == 44 {
		return []byte{next, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef}
	}
	n := (2 + bodyLen + 7) &^ 7
	if typ == 51 { // AH: length in 4-byte units minus 2, at least 12 bytes (IPv6: 16)
		n = max(n, 16)
		b := make([]byte, n)
		b[0], b[1] = next, byte(n/4-2)
		return b
	}
	b := make([]byte, n)
	b[0], b[1] = next, byte(n/8-1)
	if typ == 0 || typ == 60 { // PadN option filling the body
		b[2], b[3] = 1, byte(n-4)
	}
	return b
}

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

func ethType(ip []byte) layers.EthernetType {
	if ip[0]>>4 == 6 {
		return layers.EthernetTypeIPv6
	}
	return layers.EthernetTypeIPv4
}

// ethernet frames ip with the given VLAN tags (outermost first); tpids[i] is
// the TPID announcing tag i.
func ethernet(t testing.TB, ip []byte, tpids []layers.EthernetType, vids []uint16) []byte {
	t.Helper()
	ls := []gopacket.SerializableLayer{}
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: ethType(ip)}
	ls = append(ls, eth)
	if len(tpids) > 0 {
		eth.EthernetType = tpids[0]
		for i, vid := range vids {
			next := ethType(ip)
			if i+1 < len(tpids) {
				next = tpids[i+1]
			}
			ls = append(ls, &layers.Dot1Q{VLANIdentifier: vid, Priority: 3, Type: next})
		}
	}
	ls = append(ls, gopacket.Payload(ip))
	return serialize(t, ls...)
}

// sll builds a Linux cooked v1 header around ip.
func sll(ip []byte) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:], 0) // packet to us
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], macA)
	binary.BigEndian.PutUint16(h[14:], uint16(ethType(ip)))
	return append(h, ip...)
}

// sll2 builds a Linux cooked v2 header around ip.
func sll2(ip []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], uint16(ethType(ip)))
	binary.BigEndian.PutUint32(h[4:], 3) // ifindex
	binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
	h[10] = 4                            // outgoing
	h[11] = 6
	copy(h[12:], macA)
	return append(h, ip...)
}

// loopback builds a BSD NULL/LOOP header with the address family in order.
func loopback(ip []byte, family uint32, order binary.ByteOrder) []byte {
	h := make([]byte, 4)
	order.PutUint32(h, family)
	return append(h, ip...)
}

// pcapFile writes frames (all of link type lt) with pcapgo's microsecond writer.
// snap > 0 truncates the captured data of each frame (the original length is kept).
func pcapFile(t testing.TB, lt uint16, snap int, frames ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	fs := uint32(65535)
	if snap > 0 {
		fs = uint32(snap)
	}
	if err := w.WriteFileHeader(fs, layers.LinkType(lt)); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		data := f
		if snap > 0 && len(data) > snap {
			data = data[:snap]
		}
		ci := gopacket.CaptureInfo{Timestamp: testTime(i), CaptureLength: len(data), Length: len(f)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// testTime is the timestamp of the i-th test packet (microsecond precision).
func testTime(i int) time.Time {
	return time.Unix(1700000000+int64(i), int64(i)*1000+123000).UTC()
}

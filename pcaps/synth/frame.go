package synth

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	clientMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	serverMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

// VLANID is the 802.1Q VLAN identifier used by LinkVLAN.
const VLANID = 100

// framer serialises pkts into link-layer frames.
type framer struct {
	conns []*Conn
	opts  *Options
	ipID  map[[2]int]uint16
	buf   gopacket.SerializeBuffer
}

func newFramer(conns []*Conn, o *Options) *framer {
	return &framer{conns: conns, opts: o, ipID: make(map[[2]int]uint16), buf: gopacket.NewSerializeBuffer()}
}

func (f *framer) linkOf(c *Conn) Link {
	if f.opts.Format == PcapNG && len(f.opts.NgLinks) > 0 {
		if c.Interface >= 0 && c.Interface < len(f.opts.NgLinks) {
			return f.opts.NgLinks[c.Interface]
		}
		return f.opts.NgLinks[0]
	}
	return f.opts.Link
}

// frame returns a freshly allocated frame for p.
func (f *framer) frame(p *pkt) ([]byte, error) {
	c := f.conns[p.conn]
	src, dst := c.Client, c.Server
	if p.dir == ServerToClient {
		src, dst = dst, src
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: p.seq, Ack: p.ack, SYN: p.syn, ACK: p.ackf, FIN: p.fin, RST: p.rst, PSH: p.psh,
		Window: 65535,
	}
	if p.syn {
		mss := uint16(min(f.opts.mss(), 65535))
		tcp.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4,
			OptionData: []byte{byte(mss >> 8), byte(mss)}}}
	}
	v4 := src.Addr().Unmap().Is4()
	var ip gopacket.SerializableLayer
	ethType := layers.EthernetTypeIPv4
	if v4 {
		key := [2]int{p.conn, int(p.dir)}
		f.ipID[key]++
		ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Flags: layers.IPv4DontFragment,
			Id: f.ipID[key], Protocol: layers.IPProtocolTCP,
			SrcIP: net.IP(src.Addr().Unmap().AsSlice()), DstIP: net.IP(dst.Addr().Unmap().AsSlice())}
		if err := tcp.SetNetworkLayerForChecksum(ip4); err != nil {
			return nil, err
		}
		ip = ip4
	} else {
		ethType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		if err := tcp.SetNetworkLayerForChecksum(ip6); err != nil {
			return nil, err
		}
		ip = ip6
	}
	smac, dmac := clientMAC, serverMAC
	if p.dir == ServerToClient {
		smac, dmac = dmac, smac
	}
	ls := []gopacket.SerializableLayer{ip, tcp, gopacket.Payload(p.payload)}
	link := f.linkOf(c)
	switch link {
	case LinkEthernet:
		ls = append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: smac, DstMAC: dmac, EthernetType: ethType}}, ls...)
	case LinkVLAN:
		ls = append([]gopacket.SerializableLayer{
			&layers.Ethernet{SrcMAC: smac, DstMAC: dmac, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: VLANID, Type: ethType}}, ls...)
	case LinkSLL, LinkSLL2, LinkRaw, LinkNull, LinkLoop:
	default:
		return nil, fmt.Errorf("synth: unknown link type %d", link)
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(f.buf, opts, ls...); err != nil {
		return nil, fmt.Errorf("synth: serialising packet: %w", err)
	}
	body := f.buf.Bytes()
	var hdr []byte
	// Outgoing from the capturing host (the client) or incoming to it.
	outgoing := p.dir == ClientToServer
	switch link {
	case LinkSLL:
		hdr = make([]byte, 16)
		if outgoing {
			binary.BigEndian.PutUint16(hdr[0:], 4) // LINUX_SLL_OUTGOING
		}
		binary.BigEndian.PutUint16(hdr[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(hdr[4:], 6)
		copy(hdr[6:], smac)
		binary.BigEndian.PutUint16(hdr[14:], uint16(ethType))
	case LinkSLL2:
		hdr = make([]byte, 20)
		binary.BigEndian.PutUint16(hdr[0:], uint16(ethType))
		binary.BigEndian.PutUint32(hdr[4:], 2) // interface index
		binary.BigEndian.PutUint16(hdr[8:], 1) // ARPHRD_ETHER
		if outgoing {
			hdr[10] = 4
		}
		hdr[11] = 6
		copy(hdr[12:], smac)
	case LinkNull:
		hdr = make([]byte, 4)
		fam := uint32(layers.ProtocolFamilyIPv4)
		if !v4 {
			fam = uint32(layers.ProtocolFamilyIPv6BSD)
		}
		binary.LittleEndian.PutUint32(hdr, fam)
	case LinkLoop:
		hdr = make([]byte, 4)
		fam := uint32(layers.ProtocolFamilyIPv4)
		if !v4 {
			fam = uint32(layers.ProtocolFamilyIPv6BSD)
		}
		binary.BigEndian.PutUint32(hdr, fam)
	}
	out := make([]byte, 0, len(hdr)+len(body))
	out = append(append(out, hdr...), body...)
	return out, nil
}

// LinkType returns the pcap link type number of l.
func (l Link) LinkType() layers.LinkType {
	switch l {
	case LinkSLL:
		return layers.LinkTypeLinuxSLL
	case LinkSLL2:
		return layers.LinkTypeLinuxSLL2
	case LinkRaw:
		return layers.LinkTypeRaw
	case LinkNull:
		return layers.LinkTypeNull
	case LinkLoop:
		return layers.LinkTypeLoop
	default:
		return layers.LinkTypeEthernet
	}
}

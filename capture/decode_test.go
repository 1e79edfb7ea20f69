package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// want is what a test expects from one record: a packet, or a skip.
type want struct {
	skip    skipReason // decoded: a packet is expected
	src     netip.AddrPort
	dst     netip.AddrPort
	seq     uint32
	ack     uint32
	flags   TCPFlags
	payload []byte
	missing int
}

type linkCase struct {
	name  string
	link  uint16
	frame []byte
	snap  int // > 0: captured length of the record
	want  want
}

var (
	pv4 = seg{src: netip.AddrPortFrom(v4a, 51000), dst: netip.AddrPortFrom(v4b, 8080), seq: 0xfffffff0, ack: 77,
		flags: FlagPSH | FlagACK, payload: []byte("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")}
	pv6 = seg{src: netip.AddrPortFrom(v6a, 443), dst: netip.AddrPortFrom(v6b, 61000), seq: 1, ack: 0x80000000,
		flags: FlagSYN | FlagACK, payload: nil, tcpOpts: true}
	pv6data = seg{src: netip.AddrPortFrom(v6b, 40000), dst: netip.AddrPortFrom(v6a, 80), seq: 1000, ack: 2000,
		flags: FlagACK | FlagFIN, payload: bytes.Repeat([]byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}, 30), tcpOpts: true}
)

func wantOf(s seg) want {
	return want{src: s.src, dst: s.dst, seq: s.seq, ack: s.ack, flags: s.flags, payload: s.payload}
}

func linkCases(t testing.TB) []linkCase {
	ip4 := ipPacket(t, pv4, ipOpts{})
	ip6 := ipPacket(t, pv6, ipOpts{})
	ip6d := ipPacket(t, pv6data, ipOpts{})
	dot1q, qinq := layers.EthernetTypeDot1Q, layers.EthernetTypeQinQ
	w4, w6, w6d := wantOf(pv4), wantOf(pv6), wantOf(pv6data)
	trunc := func(w want, payloadKept int) want {
		w.missing = len(w.payload) - payloadKept
		w.payload = w.payload[:payloadKept]
		return w
	}
	skip := func(r skipReason) want { return want{skip: r} }
	// Extension header chains (hop-by-hop must come first).
	ext := func(chain ...byte) ([]byte, layers.IPProtocol) {
		var b []byte
		for i, typ := range chain {
			next := byte(6)
			if i+1 < len(chain) {
				next = chain[i+1]
			}
			b = append(b, v6ext(typ, next, 4+8*i)...)
		}
		return b, layers.IPProtocol(chain[0])
	}
	hbh, hbhNH := ext(0, 43, 60, 44)
	hbh3, hbh3NH := ext(0, 43, 60)
	ah, ahNH := ext(51, 60)
	fragMid := v6ext(44, 6, 0)
	binary.BigEndian.PutUint16(fragMid[2:], 185<<3) // offset 1480
	fragFirst := v6ext(44, 6, 0)
	fragFirst[3] = 1 // M flag
	udp4 := ipPacket(t, pv4, ipOpts{proto: layers.IPProtocolUDP})
	udp6 := ipPacket(t, pv6data, ipOpts{proto: layers.IPProtocolUDP})
	noNext, _ := ext(60)
	noNext[0] = 59

	// Ethernet padding: a short segment padded to the 60-byte minimum.
	short := pv4
	short.payload = []byte("x")
	padded := append(ethernet(t, ipPacket(t, short, ipOpts{}), nil, nil), make([]byte, 5)...)

	badOff := ipPacket(t, pv4, ipOpts{})
	badOff[20+12] = 4 << 4 // TCP data offset 16 bytes
	hugeOff := ipPacket(t, short, ipOpts{})
	hugeOff[20+12] = 15 << 4 // 60 bytes > segment

	tso := ipPacket(t, pv4, ipOpts{})
	binary.BigEndian.PutUint16(tso[2:], 0) // total length 0: TSO

	arp := ethernet(t, make([]byte, 28), nil, nil)
	binary.BigEndian.PutUint16(arp[12:], 0x0806)

	return []linkCase{
		{"ethernet/ipv4", 1, ethernet(t, ip4, nil, nil), 0, w4},
		{"ethernet/ipv6", 1, ethernet(t, ip6, nil, nil), 0, w6},
		{"ethernet/802.1q/ipv4", 1, ethernet(t, ip4, []layers.EthernetType{dot1q}, []uint16{100}), 0, w4},
		{"ethernet/802.1ad+802.1q/ipv6", 1, ethernet(t, ip6d, []layers.EthernetType{qinq, dot1q}, []uint16{10, 20}), 0, w6d},
		{"ethernet/3 tags/ipv4", 1, ethernet(t, ip4, []layers.EthernetType{qinq, dot1q, dot1q}, []uint16{1, 2, 3}), 0, w4},
		{"ethernet/padding", 1, padded, 0, wantOf(short)},
		{"ethernet/arp", 1, arp, 0, skip(skipNotIP)},
		{"ethernet/ipv4 options", 1, ethernet(t, ipPacket(t, pv4, ipOpts{v4Options: true}), nil, nil), 0, w4},
		{"ethernet/ipv4 fragment MF", 1, ethernet(t, ipPacket(t, pv4, ipOpts{v4Frag: 0x2000}), nil, nil), 0, skip(skipFragment)},
		{"ethernet/ipv4 fragment offset", 1, ethernet(t, ipPacket(t, pv4, ipOpts{v4Frag: 0x00b9}), nil, nil), 0, skip(skipFragment)},
		{"ethernet/ipv4 DF", 1, ethernet(t, ipPacket(t, pv4, ipOpts{v4Frag: 0x4000}), nil, nil), 0, w4},
		{"ethernet/ipv4 udp", 1, ethernet(t, udp4, nil, nil), 0, skip(skipNotTCP)},
		{"ethernet/ipv4 TSO zero length", 1, ethernet(t, tso, nil, nil), 0, w4},
		{"ethernet/tcp bad data offset", 1, ethernet(t, badOff, nil, nil), 0, skip(skipMalformed)},
		{"ethernet/tcp data offset beyond segment", 1, ethernet(t, hugeOff, nil, nil), 0, skip(skipMalformed)},
		{"ethernet/ipv6 hbh+routing+dstopts+atomic fragment", 1,
			ethernet(t, ipPacket(t, pv6data, ipOpts{v6Ext: hbh, v6ExtNH: hbhNH}), nil, nil), 0, w6d},
		{"ethernet/ipv6 hbh+routing+dstopts", 1,
			ethernet(t, ipPacket(t, pv6data, ipOpts{v6Ext: hbh3, v6ExtNH: hbh3NH}), nil, nil), 0, w6d},
		{"sll/ipv6 hbh+routing+dstopts snaplen", 113, sll(ipPacket(t, pv6data, ipOpts{v6Ext: hbh3, v6ExtNH: hbh3NH})),
			16 + 40 + len(hbh3) + 40 + 2, trunc(w6d, 2)},
		{"ethernet/ipv6 AH+dstopts", 1, ethernet(t, ipPacket(t, pv6data, ipOpts{v6Ext: ah, v6ExtNH: ahNH}), nil, nil), 0, w6d},
		{"ethernet/ipv6 fragment offset", 1, ethernet(t, ipPacket(t, pv6data, ipOpts{v6Ext: fragMid, v6ExtNH: 44}), nil, nil), 0, skip(skipFragment)},
		{"ethernet/ipv6 first fragment", 1, ethernet(t, ipPacket(t, pv6data, ipOpts{v6Ext: fragFirst, v6ExtNH: 44}), nil, nil), 0, skip(skipFragment)},
		{"ethernet/ipv6 no next header", 1, ethernet(t, ipPacket(t, pv6data, ipOpts{v6Ext: noNext, v6ExtNH: 60}), nil, nil), 0, skip(skipNotTCP)},
		{"ethernet/ipv6 udp", 1, ethernet(t, udp6, nil, nil), 0, skip(skipNotTCP)},
		{"ethernet/snaplen cuts payload", 1, ethernet(t, ip4, nil, nil), 14 + 20 + 20 + 10, trunc(w4, 10)},
		{"ethernet/snaplen cuts ipv6 payload", 1, ethernet(t, ip6d, nil, nil), 14 + 40 + 40 + 1, trunc(w6d, 1)},
		{"ethernet/snaplen at end of tcp header", 1, ethernet(t, ip4, nil, nil), 14 + 20 + 20, trunc(w4, 0)},
		{"ethernet/snaplen cuts tcp header", 1, ethernet(t, ip6, nil, nil), 14 + 40 + 30, skip(skipTruncated)},
		{"ethernet/snaplen cuts ip header", 1, ethernet(t, ip4, nil, nil), 14 + 10, skip(skipTruncated)},
		{"ethernet/snaplen cuts ethernet header", 1, ethernet(t, ip4, nil, nil), 10, skip(skipTruncated)},
		{"sll/ipv4", 113, sll(ip4), 0, w4},
		{"sll/ipv6 snaplen", 113, sll(ip6d), 16 + 40 + 40 + 3, trunc(w6d, 3)},
		{"sll2/ipv4", 276, sll2(ip4), 0, w4},
		{"sll2/ipv6", 276, sll2(ip6d), 0, w6d},
		{"raw101/ipv4", 101, ip4, 0, w4},
		{"raw101/ipv6", 101, ip6, 0, w6},
		{"raw12/ipv4", 12, ip4, 0, w4},
		{"raw14/ipv6", 14, ip6d, 0, w6d},
		{"ipv4-228", 228, ip4, 0, w4},
		{"ipv6-229", 229, ip6d, 0, w6d},
		{"ipv4-228 given ipv6", 228, ip6, 0, skip(skipMalformed)},
		{"null/le/inet", 0, loopback(ip4, 2, binary.LittleEndian), 0, w4},
		{"null/be/inet", 0, loopback(ip4, 2, binary.BigEndian), 0, w4},
		{"null/le/inet6 darwin", 0, loopback(ip6, 30, binary.LittleEndian), 0, w6},
		{"null/be/inet6 freebsd", 0, loopback(ip6d, 28, binary.BigEndian), 0, w6d},
		{"null/le/inet6 netbsd", 0, loopback(ip6d, 24, binary.LittleEndian), 0, w6d},
		{"null/unknown family", 0, loopback(ip4, 17, binary.LittleEndian), 0, skip(skipNotIP)},
		{"loop/be/inet", 108, loopback(ip4, 2, binary.BigEndian), 0, w4},
		{"loop/le/inet6", 108, loopback(ip6d, 24, binary.LittleEndian), 0, w6d},
		{"loop/be/inet6 darwin", 108, loopback(ip6, 30, binary.BigEndian), 0, w6},
		{"ieee802.11 unsupported", 105, ethernet(t, ip4, nil, nil), 0, skip(skipLinkType)},
	}
}

// TestLinkTypes writes every case as a one-packet pcap file with pcapgo's
// writer and checks every field read back, or the skip.
func TestLinkTypes(t *testing.T) {
	for _, c := range linkCases(t) {
		t.Run(c.name, func(t *testing.T) {
			file := pcapFile(t, c.link, c.snap, c.frame)
			src, err := OpenReader(bytes.NewReader(file), c.name, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			p, err := src.Next()
			if c.want.skip != decoded {
				if err != io.EOF {
					t.Fatalf("want skip (%v), got %+v, %v", c.want.skip, p, err)
				}
				st := src.Stats()
				if st.Skipped != 1 || st.Packets != 1 || st.TCP != 0 {
					t.Errorf("stats %+v", st)
				}
				if got := src.(*fileSource).skips[c.want.skip]; got != 1 {
					t.Errorf("skip reasons %v, want %v", src.(*fileSource).SkipCounts(), c.want.skip)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkPacket(t, p, 1, testTime(0), c.want)
			if _, err := src.Next(); err != io.EOF {
				t.Fatalf("second Next: %v", err)
			}
			if st := src.Stats(); st.Packets != 1 || st.TCP != 1 || st.Skipped != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func checkPacket(t *testing.T, p *Packet, num uint64, ts interface{ UnixNano() int64 }, w want) {
	t.Helper()
	if p.Num != num {
		t.Errorf("Num %d, want %d", p.Num, num)
	}
	if ts != nil && p.Time.UnixNano() != ts.UnixNano() {
		t.Errorf("Time %v, want %v", p.Time, ts)
	}
	if p.Src != w.src || p.Dst != w.dst {
		t.Errorf("addresses %v -> %v, want %v -> %v", p.Src, p.Dst, w.src, w.dst)
	}
	if p.Seq != w.seq || p.Ack != w.ack || p.Flags != w.flags {
		t.Errorf("seq %d ack %d flags %#x, want %d %d %#x", p.Seq, p.Ack, p.Flags, w.seq, w.ack, w.flags)
	}
	if !bytes.Equal(p.Payload, w.payload) || p.Missing != w.missing {
		t.Errorf("payload %q missing %d, want %q missing %d", p.Payload, p.Missing, w.payload, w.missing)
	}
}

package synth

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// readPackets reads every packet of a capture written by Write (any format).
func readPackets(t *testing.T, file []byte) []gopacket.Packet {
	t.Helper()
	var r io.Reader = bytes.NewReader(file)
	if len(file) > 2 && file[0] == 0x1f && file[1] == 0x8b {
		gz, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	br := &bytes.Buffer{}
	if _, err := io.Copy(br, r); err != nil {
		t.Fatal(err)
	}
	raw := br.Bytes()
	var out []gopacket.Packet
	if binary.LittleEndian.Uint32(raw) == 0x0a0d0d0a {
		ng, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, ci, err := ng.ReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			intf, err := ng.Interface(ci.InterfaceIndex)
			if err != nil {
				t.Fatal(err)
			}
			p := gopacket.NewPacket(data, intf.LinkType, gopacket.Default)
			p.Metadata().CaptureInfo = ci
			out = append(out, p)
		}
		return out
	}
	pr, err := pcapgo.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := pr.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(data, pr.LinkType(), gopacket.Default)
		p.Metadata().CaptureInfo = ci
		out = append(out, p)
	}
	return out
}

type flowKey struct {
	src, dst netip.AddrPort
}

func endpoints(p gopacket.Packet) (flowKey, *layers.TCP, bool) {
	var src, dst netip.Addr
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
	case *layers.IPv6:
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
	default:
		return flowKey{}, nil, false
	}
	tcp, ok := p.TransportLayer().(*layers.TCP)
	if !ok {
		return flowKey{}, nil, false
	}
	return flowKey{netip.AddrPortFrom(src.Unmap(), uint16(tcp.SrcPort)), netip.AddrPortFrom(dst.Unmap(), uint16(tcp.DstPort))}, tcp, true
}

// reassemble naively rebuilds each direction's bytes from the captured
// packets using the ISNs reported by Write: payload at seq s goes to offset
// s-(isn+1) (mod 2^32). Missing bytes are left as holes (reported).
func reassemble(t *testing.T, pkts []gopacket.Packet, conns []*Conn, res Result) (streams map[[2]int][]byte, have map[[2]int][]bool) {
	t.Helper()
	streams = map[[2]int][]byte{}
	have = map[[2]int][]bool{}
	idx := map[flowKey][2]int{}
	for i, c := range conns {
		cl, sv := netip.AddrPortFrom(c.Client.Addr().Unmap(), c.Client.Port()), netip.AddrPortFrom(c.Server.Addr().Unmap(), c.Server.Port())
		idx[flowKey{cl, sv}] = [2]int{i, 0}
		idx[flowKey{sv, cl}] = [2]int{i, 1}
	}
	for _, p := range pkts {
		k, tcp, ok := endpoints(p)
		if !ok {
			t.Fatalf("undecodable packet: %v", p)
		}
		id, ok := idx[k]
		if !ok {
			t.Fatalf("packet of unknown flow %v", k)
		}
		if len(tcp.Payload) == 0 {
			continue
		}
		off := int64(tcp.Seq - (res.ISN[id[0]][id[1]] + 1))
		end := off + int64(len(tcp.Payload))
		for int64(len(streams[id])) < end {
			streams[id] = append(streams[id], 0)
			have[id] = append(have[id], false)
		}
		copy(streams[id][off:], tcp.Payload)
		for i := off; i < end; i++ {
			have[id][i] = true
		}
	}
	return streams, have
}

// checksumOK verifies the IP header and TCP checksums of a fully captured
// packet.
func checksumOK(p gopacket.Packet) error {
	var pseudo []byte
	var tcpBytes []byte
	tcp := p.TransportLayer().(*layers.TCP)
	tcpBytes = append(append([]byte(nil), tcp.Contents...), tcp.Payload...)
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		if sum(ip.Contents) != 0xffff {
			return fmt.Errorf("bad IPv4 header checksum")
		}
		pseudo = append(append(append([]byte(nil), ip.SrcIP.To4()...), ip.DstIP.To4()...), 0, 6, byte(len(tcpBytes)>>8), byte(len(tcpBytes)))
	case *layers.IPv6:
		pseudo = append(append(append([]byte(nil), ip.SrcIP...), ip.DstIP...), 0, 0, byte(len(tcpBytes)>>8), byte(len(tcpBytes)), 0, 0, 0, 6)
	}
	if s := sum(append(pseudo, tcpBytes...)); s != 0xffff {
		return fmt.Errorf("bad TCP checksum (sum %#x)", s)
	}
	return nil
}

func sum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// testConns builds n connections with pseudo-random chunks of various sizes
// in both directions; half IPv6 if v6.
func testConns(n int, v6 bool) []*Conn {
	rng := rand.New(rand.NewPCG(1, 2))
	var conns []*Conn
	for i := range n {
		c := &Conn{
			Client: netip.MustParseAddrPort(fmt.Sprintf("10.0.0.%d:%d", 2+i, 40000+i)),
			Server: netip.MustParseAddrPort("10.0.0.1:8080"),
		}
		if v6 && i%2 == 1 {
			c.Client = netip.MustParseAddrPort(fmt.Sprintf("[fd00::%x]:%d", 2+i, 40000+i))
			c.Server = netip.MustParseAddrPort("[fd00::1]:9001")
		}
		for k := range 12 {
			size := []int{1, 10, 1447, 1448, 1449, 5000, 70000}[rng.IntN(7)]
			data := make([]byte, size)
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			c.Chunks = append(c.Chunks, Chunk{Dir: Dir(k % 2 * rng.IntN(2)), Data: data})
		}
		c.Close = Close(i % 4)
		conns = append(conns, c)
	}
	return conns
}

func TestRoundTripFormatsAndLinks(t *testing.T) {
	conns := testConns(4, true)
	type tc struct {
		name string
		opts Options
	}
	var cases []tc
	for _, f := range []Format{PcapMicro, PcapNano, PcapBigEndian, PcapNG} {
		for _, l := range []Link{LinkEthernet, LinkVLAN, LinkSLL, LinkSLL2, LinkRaw, LinkNull, LinkLoop} {
			cases = append(cases, tc{fmt.Sprintf("f%d-l%d", f, l), Options{Format: f, Link: l, Seed: int64(f)*10 + int64(l)}})
		}
	}
	cases = append(cases,
		tc{"ng-two-interfaces", Options{Format: PcapNG, NgLinks: []Link{LinkEthernet, LinkSLL2}}},
		tc{"gzip", Options{Gzip: true}},
		tc{"mss-100-random", Options{MSS: 100, Interleave: Random, Seed: 7}},
		tc{"sequential", Options{Interleave: Sequential}},
	)
	conns[1].Interface = 1
	conns[3].Interface = 1
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			res, err := Write(&buf, conns, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Damage) != 0 {
				t.Fatalf("undamaged write reported damage %v", res.Damage)
			}
			pkts := readPackets(t, buf.Bytes())
			if len(pkts) != res.Packets {
				t.Fatalf("read %d packets, Write reported %d", len(pkts), res.Packets)
			}
			mss := c.opts.mss()
			for i, p := range pkts {
				if err := checksumOK(p); err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				_, tcp, _ := endpoints(p)
				if len(tcp.Payload) > mss {
					t.Fatalf("packet %d: payload %d > MSS %d", i, len(tcp.Payload), mss)
				}
				want := BaseTime.Add(c.opts.step() * time_(i))
				if got := p.Metadata().Timestamp; !got.Equal(want) {
					t.Fatalf("packet %d: timestamp %v, want %v", i, got, want)
				}
			}
			streams, have := reassemble(t, pkts, conns, res)
			for i, conn := range conns {
				for d := range Dir(2) {
					want := conn.Bytes(d)
					got := streams[[2]int{i, int(d)}]
					if !bytes.Equal(got, want) {
						t.Fatalf("conn %d %v: reassembled %d bytes, want %d (equal prefix %d)", i, d, len(got), len(want), commonPrefix(got, want))
					}
					for j, ok := range have[[2]int{i, int(d)}] {
						if !ok {
							t.Fatalf("conn %d %v: hole at %d", i, d, j)
						}
					}
				}
			}
		})
	}
}

func time_(i int) time.Duration { return time.Duration(i) }

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

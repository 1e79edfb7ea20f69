package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// benchFiles holds the generated ~100 MB captures (pcap and pcapng), built once.
var benchFiles struct {
	once       sync.Once
	pcap, ng   []byte
	packets    int
	tcpPackets int
}

// makeBenchFiles generates a capture of WebSocket-like traffic: full-size
// segments, small frames and pure ACKs, over IPv4, IPv6 and VLAN-tagged
// Ethernet, about 100 MB in all.
func makeBenchFiles(b *testing.B) {
	benchFiles.once.Do(func() {
		var tmpl [][]byte
		for i, size := range []int{1448, 1448, 1448, 1448, 200, 0, 60, 1448, 0, 512} {
			s := seg{src: netip.AddrPortFrom(v4a, 50000), dst: netip.AddrPortFrom(v4b, 443), seq: uint32(i) * 1448, ack: 1,
				flags: FlagACK | FlagPSH, payload: bytes.Repeat([]byte{byte(i)}, size), tcpOpts: true}
			if i%3 == 1 {
				s.src, s.dst = netip.AddrPortFrom(v6a, 50000), netip.AddrPortFrom(v6b, 443)
			}
			ip := ipPacket(b, s, ipOpts{})
			if i%4 == 2 {
				tmpl = append(tmpl, ethernet(b, ip, []layers.EthernetType{layers.EthernetTypeDot1Q}, []uint16{7}))
			} else {
				tmpl = append(tmpl, ethernet(b, ip, nil, nil))
			}
		}
		const target = 100 << 20
		var p, n bytes.Buffer
		p.Grow(target + 64<<10)
		n.Grow(target + target/4)
		p.Write(handPcap(binary.LittleEndian, false, 1))
		le := binary.LittleEndian
		n.Write(ngSHB(le))
		n.Write(ngIDB(le, 1, 0, 9, 0))
		t0 := time.Unix(1700000000, 0)
		var hdr [16]byte
		for i := 0; p.Len() < target; i++ {
			f := tmpl[i%len(tmpl)]
			ts := t0.Add(time.Duration(i) * time.Microsecond)
			le.PutUint32(hdr[0:], uint32(ts.Unix()))
			le.PutUint32(hdr[4:], uint32(ts.Nanosecond()/1000))
			le.PutUint32(hdr[8:], uint32(len(f)))
			le.PutUint32(hdr[12:], uint32(len(f)))
			p.Write(hdr[:])
			p.Write(f)
			n.Write(ngEPB(le, 0, uint64(ts.UnixNano()), f, len(f)))
			benchFiles.packets++
		}
		benchFiles.pcap, benchFiles.ng = p.Bytes(), n.Bytes()
	})
}

func benchRead(b *testing.B, file []byte, opts Options) {
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	b.ResetTimer()
	var pkts uint64
	cpu0 := processCPU()
	for b.Loop() {
		src, err := OpenReader(bytes.NewReader(file), "bench", opts)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		st := src.Stats()
		if st.Packets != uint64(benchFiles.packets) || st.TCP != st.Packets && opts.Filter == "" {
			b.Fatalf("stats %+v, want %d packets", st, benchFiles.packets)
		}
		pkts += st.Packets
	}
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
	reportCPU(b, len(file), cpu0)
}

// reportCPU reports the throughput per CPU second of this process since
// cpu0: on a shared machine wall time overstates the cost.
func reportCPU(b *testing.B, size int, cpu0 time.Duration) {
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkReadPcap measures reading + decoding a ~100 MB pcap held in memory.
func BenchmarkReadPcap(b *testing.B) {
	makeBenchFiles(b)
	benchRead(b, benchFiles.pcap, Options{})
}

// BenchmarkReadPcapng is BenchmarkReadPcap for the same packets in pcapng.
func BenchmarkReadPcapng(b *testing.B) {
	makeBenchFiles(b)
	benchRead(b, benchFiles.ng, Options{})
}

// BenchmarkReadPcapFiltered adds a userspace BPF filter (see vmfilter.go).
func BenchmarkReadPcapFiltered(b *testing.B) {
	makeBenchFiles(b)
	benchRead(b, benchFiles.pcap, Options{Filter: "tcp port 443"})
}

// BenchmarkReadPcapFile reads the same capture through OpenFile from a
// temporary file (page cache after the first pass).
func BenchmarkReadPcapFile(b *testing.B) {
	makeBenchFiles(b)
	path := filepath.Join(b.TempDir(), "bench.pcap")
	if err := os.WriteFile(path, benchFiles.pcap, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchFiles.pcap)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		src, err := OpenFile(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := src.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		if st := src.Stats(); st.TCP != uint64(benchFiles.packets) {
			b.Fatalf("stats %+v", st)
		}
		src.Close()
	}
	reportCPU(b, len(benchFiles.pcap), cpu0)
}

// BenchmarkReadPcapgoReference is the same work done with pcapgo and
// gopacket's DecodingLayerParser (preallocated layers), for comparison.
func BenchmarkReadPcapgoReference(b *testing.B) {
	makeBenchFiles(b)
	b.SetBytes(int64(len(benchFiles.pcap)))
	b.ReportAllocs()
	var (
		eth     layers.Ethernet
		dot1q   layers.Dot1Q
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		payload gopacket.Payload
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcp, &payload)
	decoded := make([]gopacket.LayerType, 0, 8)
	cpu0 := processCPU()
	for b.Loop() {
		r, err := pcapgo.NewReader(bytes.NewReader(benchFiles.pcap))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			data, _, err := r.ZeroCopyReadPacketData()
			if err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			parser.DecodeLayers(data, &decoded)
			for _, lt := range decoded {
				if lt == layers.LayerTypeTCP {
					n++
				}
			}
		}
		if n != benchFiles.packets {
			b.Fatalf("%d TCP packets, want %d", n, benchFiles.packets)
		}
	}
	reportCPU(b, len(benchFiles.pcap), cpu0)
}

package hostile

import (
	"bytes"
	"io"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestValidParses checks the generator's packets with gopacket: the file
// reads, every packet decodes to Ethernet/IPv4/TCP with correct checksums,
// and the streams carry the handshake.
func TestValidParses(t *testing.T) {
	for name, data := range map[string][]byte{"pcap": Valid(), "pcapng": ValidNg()} {
		var src interface {
			ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
		}
		var err error
		if name == "pcap" {
			src, err = pcapgo.NewReader(bytes.NewReader(data))
		} else {
			src, err = pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var n int
		var payload bytes.Buffer
		for {
			b, _, err := src.ReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: packet %d: %v", name, n+1, err)
			}
			n++
			p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
			ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if ip == nil || tcp == nil {
				t.Fatalf("%s: packet %d does not decode as IPv4/TCP: %v", name, n, p)
			}
			tcp.SetNetworkLayerForChecksum(ip)
			if err, res := tcp.VerifyChecksum(); err != nil || !res.Valid {
				t.Fatalf("%s: packet %d: bad TCP checksum (%v %+v)", name, n, err, res)
			}
			payload.Write(tcp.Payload)
		}
		if n < 20 || !bytes.Contains(payload.Bytes(), []byte("Sec-WebSocket-Accept: "+Accept)) {
			t.Errorf("%s: %d packets, handshake present: %v", name, n, bytes.Contains(payload.Bytes(), []byte(Accept)))
		}
	}
}

// TestCasesWrite writes every light case and checks it produced a capture.
func TestCasesWrite(t *testing.T) {
	for _, c := range Cases() {
		if c.Heavy {
			continue
		}
		var buf bytes.Buffer
		if err := c.Write(&buf); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		if buf.Len() < 24 {
			t.Errorf("%s: %d bytes", c.Name, buf.Len())
		}
	}
}

func TestFlipBits(t *testing.T) {
	data := Valid()
	a, b := FlipBits(data, 1, 10, 24), FlipBits(data, 1, 10, 24)
	if !bytes.Equal(a, b) || bytes.Equal(a, data) || !bytes.Equal(a[:24], data[:24]) {
		t.Error("FlipBits is not deterministic, changed nothing, or touched the header")
	}
}

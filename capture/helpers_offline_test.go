package capture

import (
	"bufio"
	"io"

	"github.com/gopacket/gopacket/pcapgo"
)

// pcapgoCount counts the packet records of a pcap or pcapng stream with pcapgo.
func pcapgoCount(r io.Reader) (int, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return 0, err
	}
	n := 0
	if string(magic) == "\x0a\x0d\x0d\x0a" {
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return 0, err
		}
		for {
			if _, _, err := ng.ZeroCopyReadPacketData(); err != nil {
				return n, err
			}
			n++
		}
	}
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return 0, err
	}
	for {
		if _, _, err := pr.ZeroCopyReadPacketData(); err != nil {
			return n, err
		}
		n++
	}
}

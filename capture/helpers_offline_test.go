package capture

import (
	"bufio"
	"io"

	"github.com/gopacket/gopacket/pcapgo"
)

// pcapgoCount counts the packet records of a pcap or pcapng stream with pcapgo.
func pcapgoCount(r io.Reader) (int, error) {
	return pcapgoEach(r, func(uint16, []byte) {})
}

// pcapgoEach calls fn with the link type and data of every packet record of
// a pcap or pcapng stream, read with pcapgo, and returns the count.
func pcapgoEach(r io.Reader, fn func(lt uint16, data []byte)) (int, error) {
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
			data, ci, err := ng.ZeroCopyReadPacketData()
			if err != nil {
				return n, err
			}
			intf, err := ng.Interface(ci.InterfaceIndex)
			if err != nil {
				return n, err
			}
			fn(uint16(intf.LinkType), data)
			n++
		}
	}
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return 0, err
	}
	for {
		data, _, err := pr.ZeroCopyReadPacketData()
		if err != nil {
			return n, err
		}
		fn(uint16(pr.LinkType()), data)
		n++
	}
}

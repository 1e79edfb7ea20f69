package synth

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// fileWriter writes packet records in one of the supported formats.
type fileWriter struct {
	pcap *pcapgo.Writer
	ng   *pcapgo.NgWriter
	be   *bufio.Writer // big-endian pcap, written by hand
	bw   *bufio.Writer
	nIf  int
}

func newFileWriter(w io.Writer, conns []*Conn, o *Options) (*fileWriter, error) {
	snap := uint32(262144)
	if o.Snaplen > 0 {
		snap = uint32(o.Snaplen)
	}
	fw := &fileWriter{}
	switch o.Format {
	case PcapMicro, PcapNano:
		fw.bw = bufio.NewWriter(w)
		if o.Format == PcapNano {
			fw.pcap = pcapgo.NewWriterNanos(fw.bw)
		} else {
			fw.pcap = pcapgo.NewWriter(fw.bw)
		}
		if err := fw.pcap.WriteFileHeader(snap, o.Link.LinkType()); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	case PcapBigEndian:
		fw.be = bufio.NewWriter(w)
		var h [24]byte
		binary.BigEndian.PutUint32(h[0:], 0xa1b2c3d4)
		binary.BigEndian.PutUint16(h[4:], 2)
		binary.BigEndian.PutUint16(h[6:], 4)
		binary.BigEndian.PutUint32(h[16:], snap)
		binary.BigEndian.PutUint32(h[20:], uint32(o.Link.LinkType()))
		if _, err := fw.be.Write(h[:]); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	case PcapNG:
		links := o.NgLinks
		if len(links) == 0 {
			links = []Link{o.Link}
		}
		mk := func(i int) pcapgo.NgInterface {
			intf := pcapgo.DefaultNgInterface
			intf.Name = fmt.Sprintf("synth%d", i)
			intf.OS = "synth"
			intf.LinkType = links[i].LinkType()
			intf.SnapLength = snap
			return intf
		}
		wopts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "wsscope pcaps/synth"}}
		ng, err := pcapgo.NewNgWriterInterface(w, mk(0), wopts)
		if err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
		for i := 1; i < len(links); i++ {
			if _, err := ng.AddInterface(mk(i)); err != nil {
				return nil, fmt.Errorf("synth: %w", err)
			}
		}
		fw.ng = ng
		fw.nIf = len(links)
	default:
		return nil, fmt.Errorf("synth: unknown format %d", o.Format)
	}
	return fw, nil
}

func (fw *fileWriter) write(ci gopacket.CaptureInfo, data []byte, intf int) error {
	switch {
	case fw.pcap != nil:
		return fw.pcap.WritePacket(ci, data)
	case fw.ng != nil:
		if intf < 0 || intf >= fw.nIf {
			intf = 0
		}
		ci.InterfaceIndex = intf
		return fw.ng.WritePacket(ci, data)
	default:
		var h [16]byte
		binary.BigEndian.PutUint32(h[0:], uint32(ci.Timestamp.Unix()))
		binary.BigEndian.PutUint32(h[4:], uint32(ci.Timestamp.Nanosecond()/1000))
		binary.BigEndian.PutUint32(h[8:], uint32(ci.CaptureLength))
		binary.BigEndian.PutUint32(h[12:], uint32(ci.Length))
		if _, err := fw.be.Write(h[:]); err != nil {
			return err
		}
		_, err := fw.be.Write(data)
		return err
	}
}

func (fw *fileWriter) flush() error {
	switch {
	case fw.ng != nil:
		return fw.ng.Flush()
	case fw.be != nil:
		return fw.be.Flush()
	default:
		return fw.bw.Flush()
	}
}

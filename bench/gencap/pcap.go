package main

import (
	"bufio"
	"encoding/binary"
	"io"

	"github.com/wsscope/wsscope/internal/inetsum"
)

// MSS is the largest TCP payload of a generated packet (Ethernet MTU 1500
// minus 20 bytes of IPv4 and 20 of TCP header, minus 12 bytes of timestamp
// option as real stacks send it: 1448).
const MSS = 1448

const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagPSH = 0x08
	flagACK = 0x10
)

// pcapWriter writes Ethernet/IPv4/TCP packets to a classic pcap file
// (microsecond timestamps, little-endian), building each packet in a
// reusable buffer. It counts packets and bytes written.
type pcapWriter struct {
	w       *bufio.Writer
	pkt     []byte // reused packet buffer: 16-byte record header + frame
	usec    int64  // current timestamp, microseconds since the Unix epoch
	ipID    uint16
	Packets int64
	Bytes   int64 // file bytes written, headers included
}

func newPcapWriter(w io.Writer, startUsec int64) (*pcapWriter, error) {
	pw := &pcapWriter{w: bufio.NewWriterSize(w, 1<<20), pkt: make([]byte, 16+14+20+20+MSS), usec: startUsec}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535) // snaplen
	binary.LittleEndian.PutUint32(h[20:], 1)     // LINKTYPE_ETHERNET
	_, err := pw.w.Write(h[:])
	pw.Bytes = 24
	return pw, err
}

// endpoint is one side of a TCP connection.
type endpoint struct {
	mac  [6]byte
	ip   [4]byte
	port uint16
}

// advance moves the clock forward by d microseconds.
func (pw *pcapWriter) advance(d int64) { pw.usec += d }

// packet writes one TCP segment from src to dst carrying payload
// (len(payload) <= MSS) with the given sequence/ack numbers and flags. IPv4
// and TCP checksums are computed.
func (pw *pcapWriter) packet(src, dst *endpoint, seq, ack uint32, flags byte, payload []byte) error {
	const l2, l3, l4 = 14, 20, 20
	n := l2 + l3 + l4 + len(payload)
	b := pw.pkt[:16+n]
	binary.LittleEndian.PutUint32(b[0:], uint32(pw.usec/1e6))
	binary.LittleEndian.PutUint32(b[4:], uint32(pw.usec%1e6))
	binary.LittleEndian.PutUint32(b[8:], uint32(n))
	binary.LittleEndian.PutUint32(b[12:], uint32(n))
	e := b[16:]
	copy(e[0:6], dst.mac[:])
	copy(e[6:12], src.mac[:])
	e[12], e[13] = 0x08, 0x00
	ip := e[l2:]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:], uint16(l3+l4+len(payload)))
	pw.ipID++
	binary.BigEndian.PutUint16(ip[4:], pw.ipID)
	ip[6], ip[7] = 0x40, 0 // DF
	ip[8], ip[9] = 64, 6
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], src.ip[:])
	copy(ip[16:20], dst.ip[:])
	binary.BigEndian.PutUint16(ip[10:], ^inetsum.Fold(inetsum.Add(0, ip[:l3])))
	tcp := ip[l3:]
	binary.BigEndian.PutUint16(tcp[0:], src.port)
	binary.BigEndian.PutUint16(tcp[2:], dst.port)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12] = 5 << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 65535) // window
	tcp[16], tcp[17], tcp[18], tcp[19] = 0, 0, 0, 0
	copy(tcp[l4:], payload)
	// pseudo-header: addresses, protocol, TCP length
	s := inetsum.Add(0, ip[12:20]) + 6 + uint64(l4+len(payload))
	s = inetsum.Add(s, tcp[:l4+len(payload)])
	binary.BigEndian.PutUint16(tcp[16:], ^inetsum.Fold(s))
	_, err := pw.w.Write(b)
	pw.Packets++
	pw.Bytes += int64(len(b))
	return err
}

func (pw *pcapWriter) flush() error { return pw.w.Flush() }

// Package hostile generates adversarial and damaged captures for wsscope's
// robustness tests: absurd frame lengths, decompression bombs, flow-table
// floods, conflicting retransmissions, damaged capture files, malicious
// handshakes and payloads.
//
// It is test infrastructure (never linked into the wsscope binary). Captures
// are streamed to an io.Writer as they are generated, so a case of hundreds
// of megabytes needs no more memory than one packet; tests write them into
// t.TempDir() rather than committing them.
package hostile

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/wsscope/wsscope/internal/inetsum"
)

// Link types used by the generator (LINKTYPE_* values).
const (
	LinkEthernet = 1
	LinkRaw      = 101
)

// TCP flags.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
)

// Base is the timestamp of the first packet.
var Base = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// Writer streams a classic little-endian microsecond pcap file of Ethernet
// (or another link type's) frames carrying IPv4/TCP. It is not safe for
// concurrent use.
type Writer struct {
	bw      *bufio.Writer
	n       uint64
	step    time.Duration
	now     time.Time
	snaplen uint32
	buf     []byte
	err     error
}

// NewWriter writes a pcap file header (Ethernet, snaplen 262144) to w.
func NewWriter(w io.Writer) *Writer { return NewWriterLink(w, LinkEthernet, 262144) }

// NewWriterLink writes a pcap file header with the given link type and
// snapshot length. Packets longer than snaplen are cut, with their original
// length recorded.
func NewWriterLink(w io.Writer, link, snaplen uint32) *Writer {
	hw := &Writer{bw: bufio.NewWriterSize(w, 1<<16), step: time.Microsecond, now: Base, snaplen: snaplen}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], link)
	_, hw.err = hw.bw.Write(h[:])
	return hw
}

// Packets returns the number of records written.
func (w *Writer) Packets() uint64 { return w.n }

// Record writes one raw record: data as captured, origLen as the length on
// the wire (0: len(data)). The record header's lengths are taken as given,
// not checked against the snapshot length.
func (w *Writer) Record(data []byte, origLen uint32) error {
	if origLen == 0 {
		origLen = uint32(len(data))
	}
	return w.RecordHeader(uint32(len(data)), origLen, data)
}

// RecordHeader writes a record header claiming capLen and origLen, followed
// by data (which may be shorter or longer than capLen: damaged files).
func (w *Writer) RecordHeader(capLen, origLen uint32, data []byte) error {
	if w.err != nil {
		return w.err
	}
	w.n++
	var h [16]byte
	us := w.now.UnixMicro()
	binary.LittleEndian.PutUint32(h[0:], uint32(us/1e6))
	binary.LittleEndian.PutUint32(h[4:], uint32(us%1e6))
	binary.LittleEndian.PutUint32(h[8:], capLen)
	binary.LittleEndian.PutUint32(h[12:], origLen)
	w.now = w.now.Add(w.step)
	if _, err := w.bw.Write(h[:]); err != nil {
		w.err = err
		return err
	}
	_, w.err = w.bw.Write(data)
	return w.err
}

// Packet writes one Ethernet/IPv4/TCP packet with correct checksums. The
// record is cut to the file's snapshot length.
func (w *Writer) Packet(src, dst netip.AddrPort, seq, ack uint32, flags uint8, payload []byte) error {
	b := AppendPacket(w.buf[:0], src, dst, seq, ack, flags, payload)
	w.buf = b
	orig := uint32(len(b))
	if orig > w.snaplen {
		b = b[:w.snaplen]
	}
	return w.Record(b, orig)
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.bw.Flush()
}

// AppendPacket appends an Ethernet II frame carrying an IPv4 packet with a
// TCP segment (checksums computed) to dst. Addresses must be IPv4.
func AppendPacket(b []byte, src, dst netip.AddrPort, seq, ack uint32, flags uint8, payload []byte) []byte {
	b = append(b, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00)
	return AppendIPv4(b, src, dst, seq, ack, flags, payload)
}

// AppendIPv4 appends an IPv4 packet carrying a TCP segment (checksums
// computed) to b.
func AppendIPv4(b []byte, src, dst netip.AddrPort, seq, ack uint32, flags uint8, payload []byte) []byte {
	ipStart := len(b)
	total := 20 + 20 + len(payload)
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	b = append(b, 0x45, 0, byte(total>>8), byte(total), 0, 1, 0x40, 0, 64, 6, 0, 0)
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	binary.BigEndian.PutUint16(b[ipStart+10:], ^inetsum.Fold(inetsum.Add(0, b[ipStart:ipStart+20])))
	tcpStart := len(b)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint32(b, ack)
	b = append(b, 5<<4, flags, 0xff, 0xff, 0, 0, 0, 0)
	b = append(b, payload...)
	// Pseudo-header: addresses, protocol, TCP length.
	ps := inetsum.Add(0, s4[:])
	ps = inetsum.Add(ps, d4[:])
	ps += 6 + uint64(20+len(payload))
	binary.BigEndian.PutUint16(b[tcpStart+16:], ^inetsum.Fold(inetsum.Add(ps, b[tcpStart:])))
	return b
}

// Dir is a direction of a Flow.
type Dir uint8

const (
	C2S Dir = 0 // client → server
	S2C Dir = 1 // server → client
)

// Flow is one TCP connection being written: it tracks both directions'
// next sequence numbers.
type Flow struct {
	w              *Writer
	Client, Server netip.AddrPort
	// Next holds the next sequence number of each direction.
	Next [2]uint32
	// MSS is the segment size used by Send (default 1448).
	MSS int
}

// NewFlow returns a flow with the given endpoints and initial sequence
// numbers; nothing is written.
func (w *Writer) NewFlow(client, server netip.AddrPort, isnC, isnS uint32) *Flow {
	return &Flow{w: w, Client: client, Server: server, Next: [2]uint32{isnC + 1, isnS + 1}, MSS: 1448}
}

// Open writes the three-way handshake of a new flow.
func (w *Writer) Open(client, server netip.AddrPort, isnC, isnS uint32) *Flow {
	f := w.NewFlow(client, server, isnC, isnS)
	w.Packet(client, server, isnC, 0, SYN, nil)
	w.Packet(server, client, isnS, isnC+1, SYN|ACK, nil)
	w.Packet(client, server, isnC+1, isnS+1, ACK, nil)
	return f
}

func (f *Flow) ends(d Dir) (netip.AddrPort, netip.AddrPort) {
	if d == C2S {
		return f.Client, f.Server
	}
	return f.Server, f.Client
}

// Send writes data in direction d in segments of at most MSS bytes.
func (f *Flow) Send(d Dir, data []byte) error {
	for len(data) > 0 {
		n := min(len(data), f.MSS)
		if err := f.Segment(d, f.Next[d], data[:n]); err != nil {
			return err
		}
		f.Next[d] += uint32(n)
		data = data[n:]
	}
	return nil
}

// Segment writes one segment of direction d at sequence number seq without
// advancing Next (for out-of-order data and retransmissions).
func (f *Flow) Segment(d Dir, seq uint32, data []byte) error {
	src, dst := f.ends(d)
	return f.w.Packet(src, dst, seq, f.Next[1-d], ACK|PSH, data)
}

// Skip advances direction d by n bytes that are never written (a hole).
func (f *Flow) Skip(d Dir, n uint32) { f.Next[d] += n }

// Close writes FIN from the client, FIN+ACK from the server, and the final
// ACK.
func (f *Flow) Close() error {
	f.w.Packet(f.Client, f.Server, f.Next[C2S], f.Next[S2C], FIN|ACK, nil)
	f.Next[C2S]++
	f.w.Packet(f.Server, f.Client, f.Next[S2C], f.Next[C2S], FIN|ACK, nil)
	f.Next[S2C]++
	return f.w.Packet(f.Client, f.Server, f.Next[C2S], f.Next[S2C], ACK, nil)
}

// addr returns an IPv4 address:port made of a 32-bit host number in
// 10.0.0.0/8 (wrapping) and a port.
func addr(host uint32, port uint16) netip.AddrPort {
	h := host % (1 << 24)
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(h >> 16), byte(h >> 8), byte(h)}), port)
}

var (
	clientAP = netip.MustParseAddrPort("192.0.2.10:40000")
	serverAP = netip.MustParseAddrPort("192.0.2.1:80")
)

func errf(format string, args ...any) error { return fmt.Errorf("hostile: "+format, args...) }

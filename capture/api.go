// Package capture reads packets from capture files (pcap, pcapng, gzip, stdin)
// or a live interface and decodes them down to TCP segments.
package capture

import (
	"net/netip"
	"time"
)

// TCPFlags are the TCP header flags wsscope uses.
type TCPFlags uint8

const (
	FlagFIN TCPFlags = 1 << 0
	FlagSYN TCPFlags = 1 << 1
	FlagRST TCPFlags = 1 << 2
	FlagPSH TCPFlags = 1 << 3
	FlagACK TCPFlags = 1 << 4
)

// Packet is one captured TCP segment.
type Packet struct {
	Num      uint64 // 1-based number among all packets of the capture, like Wireshark's frame number
	Time     time.Time
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    TCPFlags
	// Payload is the TCP payload as captured. It is owned by the Source and
	// valid only until the next call to Next.
	Payload []byte
	// Missing counts payload bytes that were on the wire but not captured
	// (snaplen); they follow Payload in sequence space.
	Missing int
}

// Stats counts what a Source has read.
type Stats struct {
	Packets     uint64 // all packet records read
	Bytes       uint64 // captured bytes of all records
	TCP         uint64 // packets returned by Next
	Skipped     uint64 // non-TCP, fragments, unknown link types, undecodable
	KernelDrops uint64 // live capture: packets the kernel dropped
}

// Source yields TCP packets. Implementations are not safe for concurrent use.
type Source interface {
	// Next returns the next TCP packet, io.EOF at the end, or an error (a
	// *FormatError for damaged files) after delivering everything before it.
	// The returned *Packet and its Payload are owned by the Source and valid
	// only until the next call to Next: callers that keep them must copy.
	Next() (*Packet, error)
	Stats() Stats
	Close() error
}

package synth

import (
	"time"
)

// BaseTime is the timestamp of the first packet written by Write.
var BaseTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Format is the capture file format.
type Format uint8

const (
	// PcapMicro is classic pcap, little-endian, microsecond timestamps.
	PcapMicro Format = iota
	// PcapNano is classic pcap, little-endian, nanosecond timestamps.
	PcapNano
	// PcapBigEndian is classic pcap, big-endian, microsecond timestamps.
	PcapBigEndian
	// PcapNG is pcapng (one section; one interface per Options.NgLinks entry).
	PcapNG
)

// Link is the link-layer framing of each packet.
type Link uint8

const (
	// LinkEthernet is Ethernet II (DLT_EN10MB).
	LinkEthernet Link = iota
	// LinkVLAN is Ethernet with one 802.1Q tag (VLAN 100).
	LinkVLAN
	// LinkSLL is Linux cooked capture v1 (DLT_LINUX_SLL, 113).
	LinkSLL
	// LinkSLL2 is Linux cooked capture v2 (DLT_LINUX_SLL2, 276).
	LinkSLL2
	// LinkRaw is raw IPv4/IPv6 (DLT_RAW as LINKTYPE_RAW, 101).
	LinkRaw
	// LinkNull is BSD loopback with a host-order (here little-endian)
	// address family (DLT_NULL, 0).
	LinkNull
	// LinkLoop is OpenBSD loopback with a network-order address family
	// (DLT_LOOP, 108).
	LinkLoop
)

// Interleave says how packets of several connections are mixed.
type Interleave uint8

const (
	// RoundRobin (default) takes one packet of each open connection in turn.
	RoundRobin Interleave = iota
	// Sequential writes each connection completely before the next.
	Sequential
	// Random picks the connection of each next packet at random (seeded).
	Random
)

// SegRef names one data segment: the Index-th data segment (0-based, in the
// order of sending, before any damage) that connection Conn sent in
// direction Dir.
type SegRef struct {
	Conn  int
	Dir   Dir
	Index int
}

// Options controls Write. The zero value writes a little-endian µs pcap of
// Ethernet frames with MSS 1448, round-robin interleaving, packets 1 ms
// apart from BaseTime, seed 0 and no damage.
type Options struct {
	Format Format
	Link   Link
	// NgLinks, for PcapNG only, lists one link type per interface; a
	// connection is written on interface Conn.Interface (out of range
	// means 0). Empty means a single interface of type Link.
	NgLinks []Link

	// MSS is the largest TCP payload per segment (default 1448).
	MSS int
	// Start is the timestamp of the first packet (zero: BaseTime).
	Start time.Time
	// Step is the time between consecutive packets (default 1ms).
	Step time.Duration
	// Interleave mixes packets of different connections.
	Interleave Interleave
	// Seed seeds every random choice (ISNs, interleaving, damage).
	Seed int64

	// Reorder is the probability of swapping a data segment with the next
	// data segment of the same direction of the same connection.
	Reorder float64
	// Duplicate is the probability of retransmitting a data segment (the
	// copy follows the original after at most one other packet).
	Duplicate float64
	// Drop lists data segments that are not written; their bytes are
	// reported as Damage.
	Drop []SegRef
	// DropProb is the probability of dropping any data segment (reported).
	DropProb float64
	// Snaplen truncates every packet's captured bytes (0 = no limit);
	// payload bytes cut off are reported as Damage.
	Snaplen int
	// OmitHandshakeSYN leaves out the SYN, SYN-ACK and handshake ACK of every
	// connection, as if the capture started after they were open.
	OmitHandshakeSYN bool
	// Gzip compresses the whole output file.
	Gzip bool
}

func (o *Options) mss() int {
	if o.MSS <= 0 {
		return 1448
	}
	return o.MSS
}

func (o *Options) step() time.Duration {
	if o.Step <= 0 {
		return time.Millisecond
	}
	return o.Step
}

// Result describes what Write wrote.
type Result struct {
	// Packets is the number of packet records written.
	Packets int
	// Damage lists byte ranges missing from the capture (dropped segments,
	// payload cut by Snaplen), in order of writing.
	Damage []Damage
	// ISN holds each connection's initial sequence numbers (client, server):
	// the first data byte of direction d has sequence number ISN[i][d]+1.
	ISN [][2]uint32
}

// Affected returns the messages of sent that lost bytes in the capture
// (see Damaged).
func (r Result) Affected(sent []Sent) []Sent {
	var out []Sent
	for _, s := range sent {
		if Damaged(s, r.Damage) {
			out = append(out, s)
		}
	}
	return out
}

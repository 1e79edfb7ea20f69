package synth

import (
	"net/netip"
)

// Dir is the direction of a chunk of bytes on a TCP connection.
type Dir uint8

const (
	// ClientToServer is data sent by the endpoint that opened the connection.
	ClientToServer Dir = 0
	// ServerToClient is data sent by the endpoint that accepted the connection.
	ServerToClient Dir = 1
)

// String returns "c2s" or "s2c".
func (d Dir) String() string {
	if d == ClientToServer {
		return "c2s"
	}
	return "s2c"
}

// Chunk is one write on a connection: Data was sent in direction Dir.
//
// Segments, if non-empty, gives explicit TCP payload sizes for this chunk's
// segments (each must be > 0); bytes left over after the listed sizes are
// segmented at the MSS. A chunk never shares a segment with another chunk.
type Chunk struct {
	Dir      Dir
	Data     []byte
	Segments []int
}

// Close says how a synthesised connection ends.
type Close uint8

const (
	// CloseFIN (default): client FIN, server FIN+ACK, client ACK.
	CloseFIN Close = iota
	// CloseServerFIN: server FIN, client FIN+ACK, server ACK.
	CloseServerFIN
	// CloseRST: the client resets the connection.
	CloseRST
	// CloseNone: the capture ends with the connection still open.
	CloseNone
)

// Conn is one TCP connection: its endpoints and the bytes each side sent, in
// order of sending. Client and Server must both be IPv4 or both IPv6.
type Conn struct {
	Client, Server netip.AddrPort
	Chunks         []Chunk
	Close          Close
	// Interface selects the pcapng interface (index into Options.NgLinks)
	// this connection's packets are written on; ignored otherwise.
	Interface int
}

// Bytes returns the concatenation of all data sent in direction d.
func (c *Conn) Bytes(d Dir) []byte {
	var out []byte
	for _, ch := range c.Chunks {
		if ch.Dir == d {
			out = append(out, ch.Data...)
		}
	}
	return out
}

// Sent is one application-level message a library was asked to send.
// Offset and Len locate the bytes that carried it (frame headers included)
// in direction From's byte stream, counted from the first byte that side
// wrote on the connection (the HTTP handshake included). Control frames
// written in the middle of a fragmented message fall inside its range.
type Sent struct {
	From    Dir
	Opcode  int
	Payload []byte
	Offset  int64
	Len     int64
	// Conn is the index of the connection in the scenario's Conns.
	Conn int
	// Auto marks a control frame the library sent on its own (a pong
	// answering a ping, a close echo) rather than one it was asked to send.
	Auto bool
}

// Damage is a byte range of direction Dir of connection Conn (index into
// the conns passed to Write) that is missing or truncated in the capture.
// Offset counts from the first data byte of that direction.
type Damage struct {
	Conn   int
	Dir    Dir
	Offset int64
	Len    int64
}

// Overlaps reports whether the damaged range intersects [off, off+n) of the
// same connection and direction.
func (d Damage) Overlaps(conn int, dir Dir, off, n int64) bool {
	return d.Conn == conn && d.Dir == dir && off < d.Offset+d.Len && d.Offset < off+n
}

// Damaged reports whether message s is affected by any of the damages.
// A message with Len 0 (location unknown) is never reported damaged.
func Damaged(s Sent, damages []Damage) bool {
	if s.Len <= 0 {
		return false
	}
	for _, d := range damages {
		if d.Overlaps(s.Conn, s.From, s.Offset, s.Len) {
			return true
		}
	}
	return false
}

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// Package reassembly rebuilds the two byte streams of each TCP connection,
// detects WebSocket connections by their HTTP Upgrade handshake (RFC 6455 §4)
// on any port, and hands the WebSocket bytes of both directions to a Handler
// with timestamps, packet numbers and explicit gap notices.
package reassembly

import (
	"net/netip"
	"time"
)

// Dir is the direction of a stream, named by its sender. The values match
// wsdecode.Dir.
type Dir uint8

const (
	FromClient Dir = 0
	FromServer Dir = 1
)

// Meta locates a byte in the capture.
type Meta struct {
	Time   time.Time
	Packet uint64 // 1-based
}

// Anomaly is a finding of the transport or handshake layer (gap, conflicting
// retransmission, limit hit, wrong Accept, ...).
type Anomaly struct {
	Code     string
	Detail   string
	Severity string // "info", "warning", "error"
	Dir      Dir
	At       Meta
	// Both is set for findings about the connection rather than one
	// direction (e.g. a missing response, an eviction); Dir is then 0.
	Both bool
}

// Header is one HTTP header line as sent (name case preserved).
type Header struct{ Name, Value string }

// Handshake is a parsed HTTP Upgrade exchange (RFC 6455 §4).
type Handshake struct {
	Method, URI, Proto string // request line
	RequestHeaders     []Header
	Status             int    // response status code, 0 if no response seen
	Reason             string // response reason phrase
	ResponseProto      string
	ResponseHeaders    []Header
	RequestAt          Meta
	ResponseAt         Meta

	Host, Origin       string
	Key                string   // Sec-WebSocket-Key
	KeyValid           bool     // base64 of 16 bytes
	Version            string   // Sec-WebSocket-Version as sent ("13"; "7"/"8" are hybi-07/-10)
	Protocols          []string // requested subprotocols
	Extensions         []string // requested Sec-WebSocket-Extensions values
	Accept             string   // Sec-WebSocket-Accept
	AcceptValid        bool
	Subprotocol        string   // accepted
	AcceptedExtensions []string // response Sec-WebSocket-Extensions values (authoritative)
	Upgraded           bool     // 101 with a valid upgrade: the rest is WebSocket
	// RequestCut is set when the end of the request's headers was not
	// captured (handshake-gap): a header missing from RequestHeaders may
	// have been sent.
	RequestCut bool
}

// Conn identifies one TCP connection that carried an HTTP Upgrade.
type Conn struct {
	ID     uint64 // 1-based, in order of detection, stable within a run
	Client netip.AddrPort
	Server netip.AddrPort
	// User is free for the Handler (e.g. its decoder state).
	User any
	// Born and Last are the numbers of the packets that created the TCP
	// connection and that touched it last, set before each End call (and,
	// for upgrades it already had, when the connection starts ending: the
	// Data, Gap and Anomaly calls that flush it see them). They
	// order ends the way one Assembler does (Close: by Born; idle Flush:
	// least recently active first, by Last), so the output of several
	// Assemblers that each see some of a capture's connections (sharding by
	// flow) can be merged into the order of one that sees them all.
	Born, Last uint64
}

// EndReason tells how a connection ended.
type EndReason string

const (
	EndFIN     EndReason = "fin"     // both sides closed
	EndRST     EndReason = "rst"     // reset
	EndTimeout EndReason = "timeout" // idle timeout
	EndCapture EndReason = "capture-end"
	EndLimit   EndReason = "limit" // evicted by a memory/table limit
)

// Handler receives the reassembled streams. All calls are made from the
// goroutine that calls Assembler.Add/Flush/Close. For each Conn, Handshake
// comes first and End last (exactly once each); Data and Gap only follow a
// Handshake with Upgraded set; Anomaly may follow Handshake any time before
// End.
type Handler interface {
	// Handshake is called once the handshake's outcome is known: a 101
	// (hs.Upgraded) or a refused upgrade.
	Handshake(c *Conn, hs *Handshake)
	// Data delivers WebSocket bytes of one direction in stream order. data
	// is only valid during the call.
	Data(c *Conn, d Dir, data []byte, at Meta)
	// Gap says n bytes of direction d were lost at this point of the stream.
	Gap(c *Conn, d Dir, n int64, at Meta)
	// Anomaly reports a transport or handshake finding.
	Anomaly(c *Conn, a Anomaly)
	// End is called once when the connection is over.
	End(c *Conn, why EndReason, at Meta)
}

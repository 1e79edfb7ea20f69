// Package pipeline wires capture → reassembly → wsdecode and delivers
// connections, messages and anomalies to a Sink (export writers, the TUI).
package pipeline

import (
	"net/netip"
	"time"

	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// Conn is one WebSocket connection (or refused upgrade) as seen so far.
type Conn struct {
	ID             uint64
	Client, Server netip.AddrPort
	Handshake      *reassembly.Handshake
	Deflate        wsdecode.Deflate
	Start          time.Time // time of the upgrade request
	Summary        Summary   // updated as messages arrive; final at ConnEnd
}

// Summary counts a connection's traffic. Index 0 is client→server, 1 is
// server→client (wsdecode.Dir).
type Summary struct {
	Messages   [2]uint64
	Bytes      [2]uint64 // payload bytes after decompression
	WireBytes  [2]uint64
	CloseCodes [2]int // -1 when no close was seen, 0 for an empty close body
	Anomalies  uint64
	Ended      bool
	EndReason  reassembly.EndReason
	End        time.Time
}

// Anomaly is a connection-level finding from any layer.
type Anomaly struct {
	Code     string
	Detail   string
	Severity string // "info", "warning", "error"
	From     string // "client", "server" or "" for the connection
	Packet   uint64
	Time     time.Time
}

// Sink receives the pipeline's output. Calls are made from one goroutine, in
// an order that depends only on the input (same capture → same sequence).
// Pointers passed in are only valid during the call, except *Conn, which
// stays valid for the run and must not be modified.
type Sink interface {
	ConnOpen(c *Conn)                     // handshake outcome known
	Message(c *Conn, m *wsdecode.Message) // one message or control frame
	Anomaly(c *Conn, a *Anomaly)          // c is nil for capture-level findings
	ConnEnd(c *Conn)                      // connection over; Summary final
}

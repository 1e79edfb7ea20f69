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

// MessageFormatter is an optional interface of a Sink whose rendering of a
// message can be done ahead, off the Sink's goroutine. A sharded Run (see
// Options.Shards) then renders each message on the shard that decoded it,
// in parallel, and delivers it with MessageFormatted instead of Message
// (huge messages, over 1 MiB of payload, still go to Message). Both must
// give the same result.
type MessageFormatter interface {
	Sink
	// NewMessageFormatter returns a function rendering m as the Sink would
	// in Message, less what depends on the connection (its ID is not known
	// yet), appended to dst; or nil when the Sink does not preformat (a
	// wrapper whose next Sink does not). Run calls it once per shard and
	// calls the function only from that shard's goroutine, concurrently
	// with other shards and with the Sink's own calls: the function may
	// keep state of its own but must not share any with the Sink.
	NewMessageFormatter() func(dst []byte, m *wsdecode.Message) []byte
	// MessageFormatted replaces Message(c, m) for a message rendered by such
	// a function; pre is what it returned. m has every field but Payload
	// and Frames, which are nil (what the Sink needs of them is in pre).
	// Like m, pre is valid only during the call.
	MessageFormatted(c *Conn, m *wsdecode.Message, pre []byte)
}

package reassembly

import "time"

// Config bounds the Assembler. Zero values take the documented defaults; the
// Assembler never buffers more than these limits allow. When a limit is hit
// the affected stream is reported with an Anomaly of code "limit" and the
// bytes that could not be kept are handed on as a Gap, never corrupted.
type Config struct {
	// MaxConns bounds the flow table (default 262144). When it is full the
	// least recently active connection is ended with EndLimit.
	MaxConns int
	// MaxBufferedPerConn bounds the out-of-order bytes buffered for one
	// connection, both directions together (default 4 MiB). Past it the
	// oldest hole is given up as a Gap.
	MaxBufferedPerConn int
	// MaxBufferedTotal bounds the bytes buffered for all connections
	// together: out-of-order segments and bytes held during the handshake
	// (default 256 MiB).
	MaxBufferedTotal int64
	// IdleTimeout ends connections without packets for this long, in
	// capture time (default 5 minutes).
	IdleTimeout time.Duration
	// WebSocketIdleTimeout replaces IdleTimeout once a connection was
	// upgraded: WebSockets are often quiet for long (default 1 hour, never
	// less than IdleTimeout).
	WebSocketIdleTimeout time.Duration
	// MaxHandshakeBytes bounds the HTTP bytes buffered per direction while
	// looking for the Upgrade handshake: a header block, or bytes held back
	// while waiting for the other side (default 64 KiB).
	MaxHandshakeBytes int
	// ClosedTimeout is how long, in capture time, a closed connection (FIN
	// both ways, RST, or ended otherwise) is remembered as a small
	// tombstone (no buffers, no handshake) so that late packets of it —
	// a last ACK, a retransmitted FIN — are absorbed rather than taken for
	// a new connection (default 10 s). Tombstones count against MaxConns
	// and are dropped first when the table is full.
	ClosedTimeout time.Duration
	// ReorderWindow is how many further packets of a connection are waited
	// for after the peer acknowledged data that was not captured, before
	// the hole is given up as a Gap (default 16). It tolerates packets
	// reordered in the capture.
	ReorderWindow int
	// ConflictWindow is how many of the most recently delivered bytes of
	// each direction of a WebSocket (or handshaking) connection are kept to
	// detect retransmissions whose bytes differ (default 4096; rounded up
	// to a power of two; negative disables the check for delivered data —
	// overlaps with buffered out-of-order data are always checked). Only
	// bytes the peer has not acknowledged yet are kept: a receiver
	// discards retransmitted bytes it acknowledged, so they cannot change
	// what it has; a direction with everything acknowledged keeps none.
	ConflictWindow int
}

// Defaults of Config.
const (
	DefaultMaxConns           = 262144
	DefaultMaxBufferedPerConn = 4 << 20
	DefaultMaxBufferedTotal   = 256 << 20
	DefaultIdleTimeout        = 5 * time.Minute
	DefaultWebSocketIdle      = time.Hour
	DefaultMaxHandshakeBytes  = 64 << 10
	DefaultClosedTimeout      = 10 * time.Second
	DefaultReorderWindow      = 16
	DefaultConflictWindow     = 4096
)

func (c Config) withDefaults() Config {
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxBufferedPerConn <= 0 {
		c.MaxBufferedPerConn = DefaultMaxBufferedPerConn
	}
	if c.MaxBufferedTotal <= 0 {
		c.MaxBufferedTotal = DefaultMaxBufferedTotal
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.WebSocketIdleTimeout <= 0 {
		c.WebSocketIdleTimeout = DefaultWebSocketIdle
	}
	c.WebSocketIdleTimeout = max(c.WebSocketIdleTimeout, c.IdleTimeout)
	if c.MaxHandshakeBytes <= 0 {
		c.MaxHandshakeBytes = DefaultMaxHandshakeBytes
	}
	if c.ClosedTimeout <= 0 {
		c.ClosedTimeout = DefaultClosedTimeout
	}
	if c.ReorderWindow <= 0 {
		c.ReorderWindow = DefaultReorderWindow
	}
	if c.ConflictWindow == 0 {
		c.ConflictWindow = DefaultConflictWindow
	}
	if c.ConflictWindow > 0 {
		w := 1
		for w < c.ConflictWindow {
			w <<= 1
		}
		c.ConflictWindow = w
	}
	return c
}

// Stats counts what an Assembler has seen.
type Stats struct {
	Packets        uint64 // packets given to Add
	Flows          uint64 // TCP connections tracked
	Ignored        uint64 // connections found not to be HTTP/WebSocket
	Upgrades       uint64 // HTTP Upgrade exchanges detected (Conn values created)
	WebSockets     uint64 // of those, upgraded to WebSocket
	Gaps           uint64 // gaps handed on (lost or uncaptured bytes)
	GapBytes       uint64
	Conflicts      uint64 // retransmissions with different bytes
	Limits         uint64 // limit hits of any kind
	Evicted        uint64 // connections ended because the flow table was full
	Stray          uint64 // packets of no tracked connection that started none (pure ACK/FIN/RST)
	BufferedBytes  int64  // bytes buffered now (out-of-order and handshake)
	MaxBufferedObs int64  // highest BufferedBytes observed
}

package wsdecode

import "time"

// Dir is the direction of one byte stream of a connection, named by its sender.
type Dir uint8

const (
	FromClient Dir = 0 // client → server; frames must be masked (RFC 6455 §5.3)
	FromServer Dir = 1 // server → client; frames must not be masked
)

// String returns "client" or "server" (the sender), as used in JSON output.
func (d Dir) String() string {
	if d == FromServer {
		return "server"
	}
	return "client"
}

// Opcode is a frame opcode (RFC 6455 §5.2).
type Opcode uint8

const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// Meta locates a byte in the capture: the timestamp and 1-based packet number
// of the packet that carried it.
type Meta struct {
	Time   time.Time
	Packet uint64
}

// Anomaly is a protocol violation, damage or limit found in the traffic. For a
// passive analyzer a violation is data to report, never a reason to stop.
type Anomaly struct {
	Code   string // short stable code, e.g. "unmasked-client-frame"
	Detail string // human-readable detail
	Dir    Dir
	At     Meta // where it was seen
}

// Frame describes one frame header as it appeared on the wire (RFC 6455 §5.2).
type Frame struct {
	Fin        bool
	Rsv        uint8 // RSV1..RSV3 as bits 0x4, 0x2, 0x1
	Opcode     Opcode
	Masked     bool
	MaskKey    [4]byte
	PayloadLen uint64 // as declared in the header
	HeaderLen  int    // 2..14
	First      Meta   // packet carrying the first header byte
	Last       Meta   // packet carrying the last payload byte (or the gap that ended it)
}

// Message is one complete (or, when marked, incomplete) WebSocket message:
// a data message reassembled from its fragments, or one control frame.
type Message struct {
	Dir    Dir
	Opcode Opcode // the first frame's opcode (never OpContinuation unless orphaned)

	// Payload is the unmasked, decompressed payload. It is owned by the
	// decoder and valid only during the Handler call; copy it to keep it.
	// When Truncated, it holds the first MaxMessageSize bytes.
	Payload []byte
	Len     int64 // payload length after decompression (≥ len(Payload) when Truncated)
	WireLen int64 // bytes on the wire: all frame headers and payloads

	// Frames are the headers of the frames the message was made of, in
	// order. Owned by the decoder, valid only during the Handler call.
	Frames []Frame

	Compressed bool // permessage-deflate (RSV1 on the first frame) or deflate-frame
	Masked     bool // every frame masked

	// Close frames (RFC 6455 §5.5.1, §7.4): HasCloseCode is false for an
	// empty close body.
	HasCloseCode bool
	CloseCode    uint16
	CloseReason  string

	First Meta // first byte of the first frame
	Last  Meta // last byte of the last frame

	// Incomplete means the message was not seen whole: bytes of it were lost
	// (a gap), the stream ended inside it, its final frame never came
	// (interrupted-message), or it could not be inflated (inflate-error,
	// deflate-context-lost). Payload holds only what was genuinely decoded
	// (possibly nothing) and must not be taken for what was sent.
	Incomplete bool
	// Truncated means the message exceeded a limit (MaxMessageSize, inflate
	// ratio); Payload holds its first bytes only.
	Truncated bool
	// Anomalies found in this message (violations, invalid UTF-8, inflate
	// failure, gap, limit). Owned by the decoder, valid during the call.
	Anomalies []Anomaly
}

// Handler receives the decoder's output. Calls happen synchronously from
// Feed, Gap and Close, in stream order per direction.
type Handler interface {
	// Message is called for every data message once it is complete (its
	// FIN frame was seen, it hit a gap, or the stream ended), and for every
	// control frame.
	Message(m *Message)
	// Anomaly is called for findings not tied to one message (e.g. bytes
	// skipped while resynchronising, data after close).
	Anomaly(a *Anomaly)
}

// DeflateMode is the compression extension negotiated in the handshake.
type DeflateMode uint8

const (
	DeflateNone       DeflateMode = iota
	PerMessageDeflate             // RFC 7692 permessage-deflate
	PerFrameDeflate               // x-webkit-deflate-frame / deflate-frame
)

// Deflate holds the compression parameters the server accepted (the 101
// response is authoritative). server_* parameters govern server→client
// messages, client_* govern client→server messages (RFC 7692 §7.1).
type Deflate struct {
	Mode                    DeflateMode
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int // 8..15; 0 means 15
	ClientMaxWindowBits     int // 8..15; 0 means 15
}

// Config configures a Conn. Zero values take the documented defaults.
type Config struct {
	Deflate Deflate
	// MaxMessageSize bounds a message's payload after decompression
	// (default 64 MiB). Larger messages are emitted Truncated.
	MaxMessageSize int64
	// MaxInflateRatio bounds decompressed/compressed size per message
	// (decompression bombs; default 1000, applied only past 1 MiB of output).
	MaxInflateRatio int64
	// MaxFramesPerMessage bounds the frame headers kept in Message.Frames
	// (default 1024); further frames are still decoded, and counted by a
	// too-many-frames anomaly.
	MaxFramesPerMessage int
}

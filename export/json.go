package export

import (
	"bufio"
	"io"
	"net/netip"
	"unicode/utf8"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// Writer is a pipeline.Sink that writes a format to an io.Writer. Write
// errors are sticky: after the first one nothing more is written, Err
// reports it, and Flush returns it.
type Writer interface {
	pipeline.Sink
	// Flush writes buffered output to the underlying writer.
	Flush() error
	// Err returns the first write error, or nil.
	Err() error
	// Close completes the output (HAR closes its document) and flushes it.
	// It does not close the underlying io.Writer.
	Close() error
}

// JSONWriter writes JSON Lines: one JSON object per line for every
// connection (at open and at end), message and anomaly. The schema is
// documented in README.md ("JSON Lines schema"). Message records are encoded
// by hand into a reused buffer: no allocation per message in steady state.
type JSONWriter struct {
	out       io.Writer // what w writes to
	w         *bufio.Writer
	buf       []byte
	tc        timeCache
	err       error
	autoFlush bool
	conns     map[uint64][]byte // conn ID → `"conn":1,"client":"…","server":"…","ts":`

	// Last conn looked up, to skip the map for runs of the same connection.
	lastID     uint64
	lastPrefix []byte
}

// NewJSONWriter returns a JSON Lines writer on w. Call Flush when done.
func NewJSONWriter(w io.Writer) *JSONWriter {
	return &JSONWriter{
		out:   w,
		w:     bufio.NewWriterSize(w, 64<<10),
		buf:   make([]byte, 0, 4096),
		conns: make(map[uint64][]byte),
	}
}

// Flush implements Writer.
func (j *JSONWriter) Flush() error {
	if j.err != nil {
		return j.err
	}
	j.err = j.w.Flush()
	return j.err
}

// Err implements Writer.
func (j *JSONWriter) Err() error { return j.err }

// Close implements Writer (same as Flush).
func (j *JSONWriter) Close() error { return j.Flush() }

// AutoFlush makes the writer flush after every record (live capture, so
// that a reader of a pipe sees records as they happen).
func (j *JSONWriter) AutoFlush(on bool) { j.autoFlush = on }

func (j *JSONWriter) emit() {
	if j.err != nil {
		return
	}
	j.buf = append(j.buf, '\n')
	_, j.err = j.w.Write(j.buf)
	if j.autoFlush && j.err == nil {
		j.err = j.w.Flush()
	}
}

// connPrefix returns the cached `"conn":…,"client":…,"server":…,"ts":` bytes.
func (j *JSONWriter) connPrefix(c *pipeline.Conn) []byte {
	if c.ID == j.lastID && j.lastPrefix != nil {
		return j.lastPrefix
	}
	p, ok := j.conns[c.ID]
	if !ok {
		p = appendConnFields(nil, c)
		p = append(p, `,"ts":`...)
		j.conns[c.ID] = p
	}
	j.lastID, j.lastPrefix = c.ID, p
	return p
}

func appendConnFields(dst []byte, c *pipeline.Conn) []byte {
	dst = append(dst, `"conn":`...)
	dst = appendUint(dst, c.ID)
	dst = append(dst, `,"client":`...)
	dst = appendAddrPort(dst, c.Client)
	dst = append(dst, `,"server":`...)
	return appendAddrPort(dst, c.Server)
}

// appendAddrPort writes "ip:port" ("[ip]:port" for IPv6) or null.
func appendAddrPort(dst []byte, ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = ap.AppendTo(dst)
	return append(dst, '"')
}

// OpcodeName returns "text", "binary", "close", "ping", "pong",
// "continuation", or "" for reserved opcodes.
func OpcodeName(op wsdecode.Opcode) string {
	switch op {
	case wsdecode.OpText:
		return "text"
	case wsdecode.OpBinary:
		return "binary"
	case wsdecode.OpClose:
		return "close"
	case wsdecode.OpPing:
		return "ping"
	case wsdecode.OpPong:
		return "pong"
	case wsdecode.OpContinuation:
		return "continuation"
	}
	return ""
}

func dirName(d wsdecode.Dir) string {
	if d == wsdecode.FromServer {
		return "server"
	}
	return "client"
}

// Message implements pipeline.Sink.
func (j *JSONWriter) Message(c *pipeline.Conn, m *wsdecode.Message) {
	if j.err != nil {
		return
	}
	if len(m.Payload) > streamPayload {
		j.streamMessage(c, m)
		return
	}
	b := append(j.buf[:0], `{"record":"message",`...)
	b = append(b, j.connPrefix(c)...)
	j.buf = appendMessage(b, &j.tc, m)
	j.emit()
	j.shrink()
}

// NewMessageFormatter implements pipeline.MessageFormatter: the function
// renders a message record from its timestamp on (everything after the
// connection's fields) and its newline, with a time cache of its own, so
// that a sharded pipeline renders messages in parallel.
func (j *JSONWriter) NewMessageFormatter() func(dst []byte, m *wsdecode.Message) []byte {
	var tc timeCache
	return func(dst []byte, m *wsdecode.Message) []byte { return append(appendMessage(dst, &tc, m), '\n') }
}

// MessageFormatted implements pipeline.MessageFormatter: the record is
// the one Message writes, with pre rendered by NewMessageFormatter's
// function. pre goes to the output as it is (not through j.buf).
func (j *JSONWriter) MessageFormatted(c *pipeline.Conn, m *wsdecode.Message, pre []byte) {
	if j.err != nil {
		return
	}
	b := append(j.buf[:0], `{"record":"message",`...)
	j.buf = append(b, j.connPrefix(c)...)
	if _, j.err = j.w.Write(j.buf); j.err != nil {
		return
	}
	if len(pre) >= directWrite {
		// Large (base64 of big binary frames): written as it is rather
		// than copied through the buffer.
		if j.err = j.w.Flush(); j.err == nil {
			_, j.err = j.out.Write(pre)
		}
		return
	}
	_, j.err = j.w.Write(pre)
	if j.autoFlush && j.err == nil {
		j.err = j.w.Flush()
	}
}

// directWrite is the size from which MessageFormatted writes a pre-rendered
// record to the output directly.
const directWrite = 32 << 10

// appendMessage appends a message record from its timestamp on.
func appendMessage(b []byte, tc *timeCache, m *wsdecode.Message) []byte {
	b = appendMessageHead(b, tc, m)
	isText := false
	if m.Opcode == wsdecode.OpText {
		b = append(b, `,"text":`...)
		if b, isText = appendJSONText(b, m.Payload); !isText {
			b = b[:len(b)-len(`,"text":`)]
		}
	}
	if !isText {
		b = append(b, `,"data":"`...)
		b = appendBase64(b, m.Payload)
		b = append(b, '"')
	}
	return append(b, '}')
}

// Payloads longer than streamPayload are written to the output in pieces of
// about streamChunk bytes instead of being rendered into one record buffer:
// a 64 MiB text message of NULs escapes to 384 MiB, and base64 adds a third.
// streamChunk is a multiple of 3 so base64 pieces concatenate.
const (
	streamPayload = 256 << 10
	streamChunk   = 48 << 10
)

// streamMessage writes the record Message writes, rendering the payload
// piece by piece into the reused buffer and writing each piece out, so the
// writer's memory does not grow with the message.
func (j *JSONWriter) streamMessage(c *pipeline.Conn, m *wsdecode.Message) {
	b := append(j.buf[:0], `{"record":"message",`...)
	b = append(b, j.connPrefix(c)...)
	b = appendMessageHead(b, &j.tc, m)
	p := m.Payload
	if m.Opcode == wsdecode.OpText && utf8.Valid(p) {
		b = append(b, `,"text":"`...)
		for len(p) > 0 && j.err == nil {
			n := min(len(p), streamChunk)
			// Never split a rune (valid UTF-8: a start byte is at most 3
			// bytes back).
			for n < len(p) && p[n]&0xC0 == 0x80 {
				n--
			}
			b, _ = escapeJSONBody(b, p[:n], true)
			p = p[n:]
			_, j.err = j.w.Write(b)
			b = b[:0]
		}
	} else {
		b = append(b, `,"data":"`...)
		for len(p) > 0 && j.err == nil {
			n := min(len(p), streamChunk)
			b = appendBase64(b, p[:n])
			p = p[n:]
			_, j.err = j.w.Write(b)
			b = b[:0]
		}
	}
	j.buf = append(b, `"}`...)
	j.emit()
	j.shrink()
}

// appendMessageHead appends a message record from its timestamp up to the
// payload field.
func appendMessageHead(b []byte, tc *timeCache, m *wsdecode.Message) []byte {
	b = tc.append(b, m.Last.Time)
	if m.Dir == wsdecode.FromServer {
		b = append(b, `,"from":"server","opcode":`...)
	} else {
		b = append(b, `,"from":"client","opcode":`...)
	}
	if name := OpcodeName(m.Opcode); name != "" {
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"')
	} else {
		b = appendUint(b, uint64(m.Opcode))
	}
	b = append(b, `,"len":`...)
	b = appendInt(b, m.Len)
	b = append(b, `,"wire_len":`...)
	b = appendInt(b, m.WireLen)
	b = append(b, `,"frames":`...)
	b = appendInt(b, int64(len(m.Frames)))
	b = append(b, `,"compressed":`...)
	b = appendBool(b, m.Compressed)
	b = append(b, `,"masked":`...)
	b = appendBool(b, m.Masked)
	b = append(b, `,"packets":[`...)
	b = appendUint(b, m.First.Packet)
	b = append(b, ',')
	b = appendUint(b, m.Last.Packet)
	b = append(b, ']')
	if m.Opcode == wsdecode.OpClose {
		b = append(b, `,"close_code":`...)
		if m.HasCloseCode {
			b = appendUint(b, uint64(m.CloseCode))
			b = append(b, `,"close_reason":`...)
			b = appendJSONString(b, m.CloseReason)
		} else {
			b = append(b, `null`...)
		}
	}
	if m.Incomplete {
		b = append(b, `,"incomplete":true`...)
	}
	if m.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	if len(m.Anomalies) > 0 {
		b = append(b, `,"anomalies":[`...)
		for i := range m.Anomalies {
			a := &m.Anomalies[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"code":`...)
			b = appendJSONString(b, a.Code)
			b = append(b, `,"detail":`...)
			b = appendJSONString(b, a.Detail)
			b = appendSecurity(b, a.Code)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return b
}

// shrink drops a buffer grown by one huge message so it is not kept for the
// rest of the run.
func (j *JSONWriter) shrink() {
	if cap(j.buf) > 1<<20 {
		j.buf = make([]byte, 0, 4096)
	}
}

// ConnOpen implements pipeline.Sink.
func (j *JSONWriter) ConnOpen(c *pipeline.Conn) {
	if j.err != nil {
		return
	}
	b := append(j.buf[:0], `{"record":"connection",`...)
	b = append(b, j.connPrefix(c)...)
	b = appendTime(b, connStart(c))
	b = append(b, `,"state":"open"`...)
	b = appendHandshake(b, c)
	b = append(b, '}')
	j.buf = b
	j.emit()
	j.shrink()
}

func appendHeaders(b []byte, hs []reassembly.Header) []byte {
	b = append(b, '[')
	for i, h := range hs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendJSONString(b, h.Name)
		b = append(b, ',')
		b = appendJSONString(b, h.Value)
		b = append(b, ']')
	}
	return append(b, ']')
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

func appendOptString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendJSONString(b, s)
}

// appendHandshake writes the handshake fields of a connection record.
func appendHandshake(b []byte, c *pipeline.Conn) []byte {
	hs := c.Handshake
	if hs == nil {
		return append(b, `,"upgraded":false,"request":null,"response":null`...)
	}
	b = append(b, `,"upgraded":`...)
	b = appendBool(b, hs.Upgraded)
	b = append(b, `,"request":{"method":`...)
	b = appendJSONString(b, hs.Method)
	b = append(b, `,"uri":`...)
	b = appendJSONString(b, hs.URI)
	b = append(b, `,"proto":`...)
	b = appendJSONString(b, hs.Proto)
	b = append(b, `,"headers":`...)
	b = appendHeaders(b, hs.RequestHeaders)
	b = append(b, `,"packet":`...)
	b = appendUint(b, hs.RequestAt.Packet)
	b = append(b, '}')
	b = append(b, `,"response":`...)
	if hs.Status == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"status":`...)
		b = appendInt(b, int64(hs.Status))
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, hs.Reason)
		b = append(b, `,"proto":`...)
		b = appendJSONString(b, hs.ResponseProto)
		b = append(b, `,"headers":`...)
		b = appendHeaders(b, hs.ResponseHeaders)
		b = append(b, `,"ts":`...)
		b = appendTime(b, hs.ResponseAt.Time)
		b = append(b, `,"packet":`...)
		b = appendUint(b, hs.ResponseAt.Packet)
		b = append(b, '}')
	}
	b = append(b, `,"host":`...)
	b = appendOptString(b, hs.Host)
	b = append(b, `,"origin":`...)
	b = appendOptString(b, hs.Origin)
	b = append(b, `,"version":`...)
	b = appendOptString(b, hs.Version)
	b = append(b, `,"key_valid":`...)
	b = appendBool(b, hs.KeyValid)
	b = append(b, `,"accept_valid":`...)
	b = appendBool(b, hs.AcceptValid)
	b = append(b, `,"subprotocols_offered":`...)
	b = appendStrings(b, hs.Protocols)
	b = append(b, `,"subprotocol":`...)
	b = appendOptString(b, hs.Subprotocol)
	b = append(b, `,"extensions":{"offered":`...)
	b = appendStrings(b, hs.Extensions)
	b = append(b, `,"accepted":`...)
	b = appendStrings(b, hs.AcceptedExtensions)
	b = append(b, `,"deflate":`...)
	b = appendDeflate(b, c.Deflate)
	return append(b, '}')
}

// DeflateName names a compression mode as in the handshake.
func DeflateName(m wsdecode.DeflateMode) string {
	switch m {
	case wsdecode.PerMessageDeflate:
		return "permessage-deflate"
	case wsdecode.PerFrameDeflate:
		return "deflate-frame"
	}
	return ""
}

func appendDeflate(b []byte, d wsdecode.Deflate) []byte {
	if d.Mode == wsdecode.DeflateNone {
		return append(b, "null"...)
	}
	bits := func(n int) int64 {
		if n == 0 {
			return 15
		}
		return int64(n)
	}
	b = append(b, `{"mode":"`...)
	b = append(b, DeflateName(d.Mode)...)
	b = append(b, `","server_no_context_takeover":`...)
	b = appendBool(b, d.ServerNoContextTakeover)
	b = append(b, `,"client_no_context_takeover":`...)
	b = appendBool(b, d.ClientNoContextTakeover)
	b = append(b, `,"server_max_window_bits":`...)
	b = appendInt(b, bits(d.ServerMaxWindowBits))
	b = append(b, `,"client_max_window_bits":`...)
	b = appendInt(b, bits(d.ClientMaxWindowBits))
	return append(b, '}')
}

// ConnEnd implements pipeline.Sink.
func (j *JSONWriter) ConnEnd(c *pipeline.Conn) {
	defer func() {
		delete(j.conns, c.ID)
		if j.lastID == c.ID {
			j.lastID, j.lastPrefix = 0, nil
		}
	}()
	if j.err != nil {
		return
	}
	s := &c.Summary
	b := append(j.buf[:0], `{"record":"connection",`...)
	b = append(b, j.connPrefix(c)...)
	b = appendTime(b, s.End)
	b = append(b, `,"state":"closed","summary":{"started":`...)
	b = appendTime(b, connStart(c))
	pair := func(b []byte, name string, v [2]uint64) []byte {
		b = append(b, `,"`...)
		b = append(b, name...)
		b = append(b, `":{"client":`...)
		b = appendUint(b, v[0])
		b = append(b, `,"server":`...)
		b = appendUint(b, v[1])
		return append(b, '}')
	}
	b = pair(b, "messages", s.Messages)
	b = pair(b, "bytes", s.Bytes)
	b = pair(b, "wire_bytes", s.WireBytes)
	b = append(b, `,"close_codes":{"client":`...)
	b = appendCloseCode(b, s.CloseCodes[0])
	b = append(b, `,"server":`...)
	b = appendCloseCode(b, s.CloseCodes[1])
	b = append(b, `},"anomalies":`...)
	b = appendUint(b, s.Anomalies)
	b = append(b, `,"end":`...)
	b = appendOptString(b, string(s.EndReason))
	b = append(b, `}}`...)
	j.buf = b
	j.emit()
	j.shrink()
}

// appendCloseCode writes a Summary close code: null when no close frame was
// seen (-1), 0 for a close frame without a code.
func appendCloseCode(b []byte, code int) []byte {
	if code < 0 {
		return append(b, "null"...)
	}
	return appendInt(b, int64(code))
}

// Anomaly implements pipeline.Sink.
func (j *JSONWriter) Anomaly(c *pipeline.Conn, a *pipeline.Anomaly) {
	if j.err != nil {
		return
	}
	b := append(j.buf[:0], `{"record":"anomaly",`...)
	if c != nil {
		b = append(b, j.connPrefix(c)...)
	} else {
		b = append(b, `"conn":null,"client":null,"server":null,"ts":`...)
	}
	b = appendTime(b, a.Time)
	b = append(b, `,"code":`...)
	b = appendJSONString(b, a.Code)
	b = append(b, `,"detail":`...)
	b = appendJSONString(b, a.Detail)
	b = append(b, `,"severity":`...)
	b = appendOptString(b, a.Severity)
	b = appendSecurity(b, a.Code)
	b = append(b, `,"from":`...)
	b = appendOptString(b, a.From)
	b = append(b, `,"packet":`...)
	if a.Packet == 0 {
		b = append(b, "null"...)
	} else {
		b = appendUint(b, a.Packet)
	}
	b = append(b, '}')
	j.buf = b
	j.emit()
	j.shrink()
}

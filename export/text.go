package export

import (
	"bufio"
	"io"
	"strconv"
	"time"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

// DefaultPreview is the default number of display cells of payload shown per
// text line.
const DefaultPreview = 100

// TextWriter writes one human-readable line per message, like tcpdump -A or
// mitmdump, plus a line per connection open, connection end and anomaly:
//
//	03:04:05.003000 #1 open 192.0.2.10:51000 → 192.0.2.1:8080 GET chat.example:8080/chat → 101 Switching Protocols deflate=permessage-deflate
//	03:04:05.005000 #1 → text 47B  {"type":"join","room":"general","user":"alice"}
//	03:04:05.007000 #1 → text 168B deflate 137B  {"type":"message","room":"general","user":"alice","id":100,…
//	03:04:05.011000 #1 → ping 1B  1
//	03:04:05.022000 #1 → text 1440B 2 frames INCOMPLETE !gap  line 4 of message 4. …
//	03:04:05.004000 #1 ! warning handshake-refused (server, packet 5): upgrade refused with status 403 Forbidden
//	03:04:05.012000 #2 ! error SECURITY high cswsh-cross-origin (packet 13): server accepted (101) a cross-origin handshake carrying Cookie: …
//	03:04:05.025000 #1 → close 1000  bye
//	03:04:05.029000 #1 closed fin: → 11 msgs 1110B close 1000, ← 11 msgs 1527B close 1000
//
// Times are UTC time of day. Payloads are always escaped (AppendEscaped):
// control characters and terminal escape sequences never reach the output.
// Security findings (pipeline.SecurityRisk) say "SECURITY <risk>" after the
// severity.
type TextWriter struct {
	w   *bufio.Writer
	buf []byte
	err error

	autoFlush bool
	// Preview is the number of display cells of payload shown per line
	// (DefaultPreview when 0; negative: the whole payload).
	Preview int
}

// NewTextWriter returns a text writer on w. Call Flush when done.
func NewTextWriter(w io.Writer) *TextWriter {
	return &TextWriter{w: bufio.NewWriterSize(w, 32<<10), buf: make([]byte, 0, 512)}
}

// Flush implements Writer.
func (t *TextWriter) Flush() error {
	if t.err != nil {
		return t.err
	}
	t.err = t.w.Flush()
	return t.err
}

// Err implements Writer.
func (t *TextWriter) Err() error { return t.err }

// Close implements Writer (same as Flush).
func (t *TextWriter) Close() error { return t.Flush() }

// AutoFlush makes the writer flush after every line (live capture).
func (t *TextWriter) AutoFlush(on bool) { t.autoFlush = on }

func (t *TextWriter) emit(b []byte) {
	t.buf = b
	if t.err != nil {
		return
	}
	b = append(b, '\n')
	t.buf = b
	_, t.err = t.w.Write(b)
	if t.autoFlush && t.err == nil {
		t.err = t.w.Flush()
	}
	if cap(t.buf) > 1<<20 {
		t.buf = make([]byte, 0, 512)
	}
}

// appendClock appends the UTC time of day with microseconds, or blanks for
// the zero time.
func appendClock(b []byte, ts time.Time) []byte {
	if ts.IsZero() {
		return append(b, "--:--:--.------"...)
	}
	ts = ts.UTC()
	h, m, s := ts.Clock()
	us := ts.Nanosecond() / 1000
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10), '.')
	var frac [6]byte
	for i := 5; i >= 0; i-- {
		frac[i] = byte('0' + us%10)
		us /= 10
	}
	return append(b, frac[:]...)
}

func (t *TextWriter) head(ts time.Time, c *pipeline.Conn) []byte {
	b := appendClock(t.buf[:0], ts)
	if c != nil {
		b = append(b, " #"...)
		b = strconv.AppendUint(b, c.ID, 10)
	} else {
		b = append(b, " -"...)
	}
	return b
}

func arrow(d wsdecode.Dir) string {
	if d == wsdecode.FromServer {
		return "←"
	}
	return "→"
}

func (t *TextWriter) preview() int {
	if t.Preview == 0 {
		return DefaultPreview
	}
	if t.Preview < 0 {
		return 0
	}
	return t.Preview
}

// Message implements pipeline.Sink.
func (t *TextWriter) Message(c *pipeline.Conn, m *wsdecode.Message) {
	if t.err != nil {
		return
	}
	b := t.head(m.Last.Time, c)
	b = append(b, ' ')
	b = append(b, arrow(m.Dir)...)
	b = append(b, ' ')
	if name := OpcodeName(m.Opcode); name != "" {
		b = append(b, name...)
	} else {
		b = append(b, "opcode-"...)
		b = strconv.AppendUint(b, uint64(m.Opcode), 10)
	}
	payload := m.Payload
	if m.Opcode == wsdecode.OpClose {
		if m.HasCloseCode {
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(m.CloseCode), 10)
			if len(payload) >= 2 {
				payload = payload[2:]
			}
		}
	} else {
		b = append(b, ' ')
		b = strconv.AppendInt(b, m.Len, 10)
		b = append(b, 'B')
		if m.Compressed {
			b = append(b, " deflate "...)
			b = strconv.AppendInt(b, m.WireLen, 10)
			b = append(b, 'B')
		}
	}
	if len(m.Frames) > 1 {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(len(m.Frames)), 10)
		b = append(b, " frames"...)
	}
	if m.Incomplete {
		b = append(b, " INCOMPLETE"...)
	}
	if m.Truncated {
		b = append(b, " TRUNCATED"...)
	}
	for i := range m.Anomalies {
		b = append(b, " !"...)
		b, _ = AppendEscaped(b, m.Anomalies[i].Code, 64)
	}
	if len(payload) > 0 {
		b = append(b, "  "...)
		if m.Opcode == wsdecode.OpText || m.Opcode == wsdecode.OpClose {
			b, _ = AppendEscaped(b, payload, t.preview())
		} else {
			b, _ = AppendEscapedBinary(b, payload, t.preview())
		}
	}
	t.emit(b)
}

// ConnOpen implements pipeline.Sink.
func (t *TextWriter) ConnOpen(c *pipeline.Conn) {
	if t.err != nil {
		return
	}
	b := t.head(connStart(c), c)
	b = append(b, " open "...)
	b = c.Client.AppendTo(b)
	b = append(b, " → "...)
	b = c.Server.AppendTo(b)
	if hs := c.Handshake; hs != nil {
		if hs.Method == "" && hs.URI == "" {
			b = append(b, " (request not seen)"...)
		} else {
			b = append(b, ' ')
			b, _ = AppendEscaped(b, hs.Method, 16)
			b = append(b, ' ')
			if hs.Host != "" {
				b, _ = AppendEscaped(b, hs.Host, 64)
			}
			b, _ = AppendEscaped(b, hs.URI, 200)
		}
		b = append(b, " → "...)
		if hs.Status == 0 {
			b = append(b, "no response"...)
		} else {
			b = strconv.AppendInt(b, int64(hs.Status), 10)
			if hs.Reason != "" {
				b = append(b, ' ')
				b, _ = AppendEscaped(b, hs.Reason, 64)
			}
		}
		if !hs.Upgraded {
			b = append(b, " (not upgraded)"...)
		}
		if hs.Subprotocol != "" {
			b = append(b, " subprotocol="...)
			b, _ = AppendEscaped(b, hs.Subprotocol, 64)
		}
	}
	if name := DeflateName(c.Deflate.Mode); name != "" {
		b = append(b, " deflate="...)
		b = append(b, name...)
		d := c.Deflate
		if d.ClientNoContextTakeover {
			b = append(b, ";client_no_context_takeover"...)
		}
		if d.ServerNoContextTakeover {
			b = append(b, ";server_no_context_takeover"...)
		}
		if d.ClientMaxWindowBits != 0 {
			b = append(b, ";client_max_window_bits="...)
			b = strconv.AppendInt(b, int64(d.ClientMaxWindowBits), 10)
		}
		if d.ServerMaxWindowBits != 0 {
			b = append(b, ";server_max_window_bits="...)
			b = strconv.AppendInt(b, int64(d.ServerMaxWindowBits), 10)
		}
	}
	t.emit(b)
}

// ConnEnd implements pipeline.Sink.
func (t *TextWriter) ConnEnd(c *pipeline.Conn) {
	if t.err != nil {
		return
	}
	s := &c.Summary
	b := t.head(s.End, c)
	b = append(b, " closed"...)
	if s.EndReason != "" {
		b = append(b, ' ')
		b, _ = AppendEscaped(b, string(s.EndReason), 32)
	}
	b = append(b, ':')
	for d := 0; d < 2; d++ {
		if d == 1 {
			b = append(b, ',')
		}
		b = append(b, ' ')
		b = append(b, arrow(wsdecode.Dir(d))...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, s.Messages[d], 10)
		b = append(b, " msgs "...)
		b = strconv.AppendUint(b, s.Bytes[d], 10)
		b = append(b, 'B')
		if s.CloseCodes[d] >= 0 {
			b = append(b, " close "...)
			b = strconv.AppendInt(b, int64(s.CloseCodes[d]), 10)
		}
	}
	if s.Anomalies > 0 {
		b = append(b, ", "...)
		b = strconv.AppendUint(b, s.Anomalies, 10)
		if s.Anomalies == 1 {
			b = append(b, " anomaly"...)
		} else {
			b = append(b, " anomalies"...)
		}
	}
	t.emit(b)
}

// Anomaly implements pipeline.Sink.
func (t *TextWriter) Anomaly(c *pipeline.Conn, a *pipeline.Anomaly) {
	if t.err != nil {
		return
	}
	b := t.head(a.Time, c)
	b = append(b, " ! "...)
	if a.Severity != "" {
		b, _ = AppendEscaped(b, a.Severity, 16)
		b = append(b, ' ')
	}
	if risk := pipeline.SecurityRisk(a.Code); risk != "" {
		b = append(b, "SECURITY "...)
		b = append(b, risk...)
		b = append(b, ' ')
	}
	b, _ = AppendEscaped(b, a.Code, 64)
	if a.From != "" || a.Packet != 0 {
		b = append(b, " ("...)
		if a.From != "" {
			b, _ = AppendEscaped(b, a.From, 16)
			if a.Packet != 0 {
				b = append(b, ", "...)
			}
		}
		if a.Packet != 0 {
			b = append(b, "packet "...)
			b = strconv.AppendUint(b, a.Packet, 10)
		}
		b = append(b, ')')
	}
	if a.Detail != "" {
		b = append(b, ": "...)
		b, _ = AppendEscaped(b, a.Detail, 400)
	}
	t.emit(b)
}

// connStart is when a connection started: the upgrade request, or, when the
// request was not captured, the response.
func connStart(c *pipeline.Conn) time.Time {
	if !c.Start.IsZero() || c.Handshake == nil {
		return c.Start
	}
	if !c.Handshake.RequestAt.Time.IsZero() {
		return c.Handshake.RequestAt.Time
	}
	return c.Handshake.ResponseAt.Time
}

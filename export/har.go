package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// DefaultHARMaxBuffered bounds the payload bytes a HARWriter holds for
// connections that have not ended yet (HAR needs a connection's messages
// together in its entry).
const DefaultHARMaxBuffered = 256 << 20

// HARWriter writes HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/)
// with one entry per WebSocket connection (or refused upgrade), in the
// format Chrome DevTools and mitmproxy use: "_resourceType": "websocket" and
// "_webSocketMessages": [{"type": "send"|"receive", "time": unix seconds,
// "opcode": 1|2, "data": string}]. Text messages carry their text; binary
// messages (and text messages that are not valid UTF-8, marked
// "_encoding": "base64") carry base64. Control frames are not listed; close
// codes are in the entry's "_wsscope" summary.
//
// An entry is written when its connection ends; Close writes the entries of
// connections still open and ends the document. Messages are held in memory
// until then, up to MaxBuffered payload bytes in all; messages past the
// limit are left out and counted in the entry's comment.
type HARWriter struct {
	// Creator names the program in log.creator.
	Creator, Version string
	// MaxBuffered bounds held payload bytes (DefaultHARMaxBuffered if 0).
	MaxBuffered int64

	w        *bufio.Writer
	err      error
	started  bool
	closed   bool
	nEntries int
	open     map[uint64]*harConn
	order    []uint64 // ids of connections in open order (ended ones too)
	buffered int64
}

type harConn struct {
	c         *pipeline.Conn
	msgs      []harMessage
	held      int64
	omitted   int
	omitBytes int64
}

type harMessage struct {
	Type     string      `json:"type"`
	Time     json.Number `json:"time"`
	Opcode   int         `json:"opcode"`
	Data     string      `json:"data"`
	Encoding string      `json:"_encoding,omitempty"`
	Incompl  bool        `json:"_incomplete,omitempty"`
	Trunc    bool        `json:"_truncated,omitempty"`
}

// NewHARWriter returns a HAR writer on w. Close must be called to complete
// the document.
func NewHARWriter(w io.Writer, creator, version string) *HARWriter {
	return &HARWriter{Creator: creator, Version: version, w: bufio.NewWriterSize(w, 64<<10), open: make(map[uint64]*harConn)}
}

// Err implements Writer.
func (h *HARWriter) Err() error { return h.err }

// Flush implements Writer. It writes what is buffered; the document is only
// complete after Close.
func (h *HARWriter) Flush() error {
	if h.err == nil {
		h.err = h.w.Flush()
	}
	return h.err
}

func (h *HARWriter) write(p []byte) {
	if h.err == nil {
		_, h.err = h.w.Write(p)
	}
}

func (h *HARWriter) start() {
	if h.started {
		return
	}
	h.started = true
	creator, _ := json.Marshal(map[string]string{"name": h.Creator, "version": h.Version})
	h.write([]byte(`{"log":{"version":"1.2","creator":`))
	h.write(creator)
	h.write([]byte(`,"pages":[],"entries":[`))
}

// ConnOpen implements pipeline.Sink.
func (h *HARWriter) ConnOpen(c *pipeline.Conn) {
	if _, ok := h.open[c.ID]; ok {
		return
	}
	h.open[c.ID] = &harConn{c: c}
	h.order = append(h.order, c.ID)
}

// Message implements pipeline.Sink.
func (h *HARWriter) Message(c *pipeline.Conn, m *wsdecode.Message) {
	if m.Opcode != wsdecode.OpText && m.Opcode != wsdecode.OpBinary {
		return
	}
	hc := h.open[c.ID]
	if hc == nil {
		h.ConnOpen(c)
		hc = h.open[c.ID]
	}
	max := h.MaxBuffered
	if max <= 0 {
		max = DefaultHARMaxBuffered
	}
	n := int64(len(m.Payload))
	if h.buffered+n > max {
		hc.omitted++
		hc.omitBytes += m.Len
		return
	}
	hm := harMessage{Type: "send", Time: unixSeconds(m.Last.Time), Opcode: int(m.Opcode), Incompl: m.Incomplete, Trunc: m.Truncated}
	if m.Dir == wsdecode.FromServer {
		hm.Type = "receive"
	}
	if m.Opcode == wsdecode.OpText && utf8.Valid(m.Payload) {
		hm.Data = string(m.Payload)
	} else {
		hm.Data = base64.StdEncoding.EncodeToString(m.Payload)
		if m.Opcode == wsdecode.OpText {
			hm.Encoding = "base64"
		}
	}
	hc.msgs = append(hc.msgs, hm)
	hc.held += n
	h.buffered += n
}

// Anomaly implements pipeline.Sink. Anomalies are not part of HAR; the
// entry's "_wsscope" summary counts them.
func (h *HARWriter) Anomaly(c *pipeline.Conn, a *pipeline.Anomaly) {}

// ConnEnd implements pipeline.Sink: the connection's entry is written.
func (h *HARWriter) ConnEnd(c *pipeline.Conn) {
	hc := h.open[c.ID]
	if hc == nil {
		hc = &harConn{c: c}
	} else {
		delete(h.open, c.ID) // its id stays in h.order; Close skips it
	}
	h.writeEntry(hc)
}

// Close writes the entries of connections that have not ended and completes
// the document. It does not close the underlying io.Writer.
func (h *HARWriter) Close() error {
	if h.closed {
		return h.err
	}
	h.closed = true
	for _, id := range h.order {
		if hc := h.open[id]; hc != nil {
			delete(h.open, id) // an id may repeat if a conn was reopened
			h.writeEntry(hc)
		}
	}
	h.order, h.open = nil, nil
	h.start()
	h.write([]byte("\n]}}\n"))
	return h.Flush()
}

func (h *HARWriter) writeEntry(hc *harConn) {
	h.start()
	h.buffered -= hc.held
	e := harEntryFor(hc)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		if h.err == nil {
			h.err = fmt.Errorf("export: har: %w", err)
		}
		return
	}
	if h.nEntries > 0 {
		h.write([]byte(","))
	}
	h.write([]byte("\n"))
	h.write(bytes.TrimRight(buf.Bytes(), "\n"))
	h.nEntries++
}

// unixSeconds formats t as seconds since the epoch with microseconds, exactly
// (no float rounding).
func unixSeconds(t time.Time) json.Number {
	us := t.UnixMicro()
	neg := us < 0
	if neg {
		us = -us
	}
	s := strconv.FormatInt(us/1e6, 10) + "." + fmt.Sprintf("%06d", us%1e6)
	if neg {
		s = "-" + s
	}
	return json.Number(s)
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harEntry struct {
	StartedDateTime string         `json:"startedDateTime"`
	Time            float64        `json:"time"`
	Request         harRequest     `json:"request"`
	Response        harResponse    `json:"response"`
	Cache           struct{}       `json:"cache"`
	Timings         harTimings     `json:"timings"`
	ServerIPAddress string         `json:"serverIPAddress,omitempty"`
	Connection      string         `json:"connection,omitempty"`
	Comment         string         `json:"comment,omitempty"`
	ResourceType    string         `json:"_resourceType"`
	Messages        []harMessage   `json:"_webSocketMessages"`
	Wsscope         map[string]any `json:"_wsscope"`
}

type harRequest struct {
	Method      string  `json:"method"`
	URL         string  `json:"url"`
	HTTPVersion string  `json:"httpVersion"`
	Cookies     []harNV `json:"cookies"`
	Headers     []harNV `json:"headers"`
	QueryString []harNV `json:"queryString"`
	HeadersSize int     `json:"headersSize"`
	BodySize    int     `json:"bodySize"`
}

type harResponse struct {
	Status      int        `json:"status"`
	StatusText  string     `json:"statusText"`
	HTTPVersion string     `json:"httpVersion"`
	Cookies     []harNV    `json:"cookies"`
	Headers     []harNV    `json:"headers"`
	Content     harContent `json:"content"`
	RedirectURL string     `json:"redirectURL"`
	HeadersSize int        `json:"headersSize"`
	BodySize    int        `json:"bodySize"`
}

type harContent struct {
	Size     int    `json:"size"`
	MimeType string `json:"mimeType"`
}

type harTimings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
	SSL     float64 `json:"ssl"`
}

func harHeaders(hs []reassembly.Header) []harNV {
	out := make([]harNV, 0, len(hs))
	for _, h := range hs {
		out = append(out, harNV{h.Name, h.Value})
	}
	return out
}

// harCookies parses Cookie (request) or Set-Cookie (response) headers into
// name/value pairs.
func harCookies(hs []reassembly.Header, response bool) []harNV {
	out := []harNV{}
	for _, h := range hs {
		switch {
		case !response && strings.EqualFold(h.Name, "Cookie"):
			for _, part := range strings.Split(h.Value, ";") {
				name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
				if name != "" {
					out = append(out, harNV{name, value})
				}
			}
		case response && strings.EqualFold(h.Name, "Set-Cookie"):
			first, _, _ := strings.Cut(h.Value, ";")
			name, value, _ := strings.Cut(strings.TrimSpace(first), "=")
			if name != "" {
				out = append(out, harNV{name, value})
			}
		}
	}
	return out
}

func harURL(c *pipeline.Conn) (string, []harNV) {
	hs := c.Handshake
	q := []harNV{}
	if hs == nil {
		return "ws://" + c.Server.String() + "/", q
	}
	raw := hs.URI
	if !strings.Contains(raw, "://") {
		host := hs.Host
		if host == "" {
			host = c.Server.String()
		}
		raw = "ws://" + host + raw
	}
	if u, err := url.Parse(raw); err == nil {
		for _, kv := range strings.Split(u.RawQuery, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			if uk, err := url.QueryUnescape(k); err == nil {
				k = uk
			}
			if uv, err := url.QueryUnescape(v); err == nil {
				v = uv
			}
			q = append(q, harNV{k, v})
		}
	}
	return raw, q
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func harEntryFor(hc *harConn) harEntry {
	c := hc.c
	hs := c.Handshake
	if hs == nil {
		hs = &reassembly.Handshake{}
	}
	u, q := harURL(c)
	start := connStart(c)
	wait := 0.0
	if !hs.ResponseAt.Time.IsZero() && !hs.RequestAt.Time.IsZero() && hs.ResponseAt.Time.After(hs.RequestAt.Time) {
		wait = ms(hs.ResponseAt.Time.Sub(hs.RequestAt.Time))
	}
	method := hs.Method
	if method == "" {
		method = "GET"
	}
	proto := hs.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	e := harEntry{
		StartedDateTime: string(appendTimeRaw(nil, start)),
		Time:            wait,
		Request: harRequest{
			Method: method, URL: u, HTTPVersion: proto,
			Cookies: harCookies(hs.RequestHeaders, false), Headers: harHeaders(hs.RequestHeaders),
			QueryString: q, HeadersSize: -1, BodySize: 0,
		},
		Response: harResponse{
			Status: hs.Status, StatusText: hs.Reason, HTTPVersion: hs.ResponseProto,
			Cookies: harCookies(hs.ResponseHeaders, true), Headers: harHeaders(hs.ResponseHeaders),
			Content: harContent{Size: 0, MimeType: "x-unknown"}, RedirectURL: "",
			HeadersSize: -1, BodySize: 0,
		},
		Timings:         harTimings{Blocked: -1, DNS: -1, Connect: -1, Send: 0, Wait: wait, Receive: 0, SSL: -1},
		ServerIPAddress: c.Server.Addr().String(),
		Connection:      strconv.FormatUint(c.ID, 10),
		ResourceType:    "websocket",
		Messages:        hc.msgs,
	}
	if !c.Server.IsValid() {
		e.ServerIPAddress = ""
	}
	if e.Messages == nil {
		e.Messages = []harMessage{}
	}
	if hc.omitted > 0 {
		e.Comment = fmt.Sprintf("wsscope: %d messages (%d bytes) left out: HAR buffer limit reached", hc.omitted, hc.omitBytes)
	}
	s := c.Summary
	closeCode := func(v int) any {
		if v < 0 {
			return nil
		}
		return v
	}
	e.Wsscope = map[string]any{
		"conn":        c.ID,
		"client":      c.Client.String(),
		"server":      c.Server.String(),
		"upgraded":    hs.Upgraded,
		"messages":    map[string]uint64{"client": s.Messages[0], "server": s.Messages[1]},
		"bytes":       map[string]uint64{"client": s.Bytes[0], "server": s.Bytes[1]},
		"close_codes": map[string]any{"client": closeCode(s.CloseCodes[0]), "server": closeCode(s.CloseCodes[1])},
		"anomalies":   s.Anomalies,
		"end":         string(s.EndReason),
	}
	return e
}

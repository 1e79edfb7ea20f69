package reassembly

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"
)

// websocketGUID is appended to the key to compute Sec-WebSocket-Accept
// (RFC 6455 §4.2.2).
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptFor returns the Sec-WebSocket-Accept value a server must send for key.
func AcceptFor(key string) string {
	h := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// rawHeader is one header line inside a buffer (not copied).
type rawHeader struct{ name, value []byte }

// classification of the first bytes of a direction
const (
	clsNeedMore = iota
	clsRequest
	clsResponse
	clsOther
)

const maxMethodLen = 20

// classify tells whether b starts like an HTTP request line (a method token
// then a space), a status line ("HTTP/1."), or neither.
func classify(b []byte) int {
	const pfx = "HTTP/1."
	resp := clsOther
	n := min(len(b), len(pfx))
	if string(b[:n]) == pfx[:n] {
		if n == len(pfx) {
			return clsResponse
		}
		resp = clsNeedMore
	}
	req := clsNeedMore
	for i, ch := range b {
		if ch == ' ' && i > 0 {
			req = clsRequest
			break
		}
		if !(ch >= 'A' && ch <= 'Z' || ch == '-' || ch == '_') || i >= maxMethodLen {
			req = clsOther
			break
		}
	}
	switch {
	case req == clsRequest:
		return clsRequest
	case req == clsNeedMore || resp == clsNeedMore:
		if len(b) == 0 {
			return clsNeedMore
		}
		return clsNeedMore
	}
	return clsOther
}

// headerEnd returns the index just past the empty line ending the header block
// that starts in b, searching from from, or -1 if it is not complete yet.
func headerEnd(b []byte, from int) int {
	i := max(from, 0)
	for i < len(b) {
		k := bytes.IndexByte(b[i:], '\n')
		if k < 0 {
			return -1
		}
		j := i + k + 1 // start of next line
		if j < len(b) && b[j] == '\n' {
			return j + 1
		}
		if j+1 < len(b) && b[j] == '\r' && b[j+1] == '\n' {
			return j + 2
		}
		if j >= len(b) || (j+1 >= len(b) && b[j] == '\r') {
			return -1
		}
		i = j
	}
	return -1
}

// parseHead splits a header block into its start line and header fields.
// Obsolete line folding is joined with a space. ok is false when a line is
// not a header field.
func parseHead(b []byte, hdrs []rawHeader) (line []byte, out []rawHeader, ok bool) {
	out = hdrs[:0]
	ok = true
	first := true
	for len(b) > 0 {
		k := bytes.IndexByte(b, '\n')
		var l []byte
		if k < 0 {
			l, b = b, nil
		} else {
			l, b = b[:k], b[k+1:]
		}
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if first {
			line = l
			first = false
			continue
		}
		if len(l) == 0 {
			break
		}
		if l[0] == ' ' || l[0] == '\t' {
			if len(out) == 0 {
				ok = false
				continue
			}
			p := &out[len(out)-1]
			v := make([]byte, 0, len(p.value)+len(l))
			v = append(append(append(v, p.value...), ' '), bytes.TrimSpace(l)...)
			p.value = v
			continue
		}
		c := bytes.IndexByte(l, ':')
		if c <= 0 || bytes.IndexAny(l[:c], " \t") >= 0 {
			ok = false
			continue
		}
		out = append(out, rawHeader{name: l[:c], value: bytes.Trim(l[c+1:], " \t")})
	}
	return line, out, ok
}

// parseRequestLine splits "METHOD URI HTTP/1.1".
func parseRequestLine(l []byte) (method, uri, proto []byte, ok bool) {
	i := bytes.IndexByte(l, ' ')
	if i <= 0 {
		return nil, nil, nil, false
	}
	j := bytes.LastIndexByte(l, ' ')
	if j <= i+1 {
		return nil, nil, nil, false
	}
	method, uri, proto = l[:i], bytes.TrimSpace(l[i+1:j]), l[j+1:]
	return method, uri, proto, bytes.HasPrefix(proto, []byte("HTTP/")) && len(uri) > 0
}

// parseStatusLine splits "HTTP/1.1 101 Switching Protocols".
func parseStatusLine(l []byte) (proto []byte, status int, reason []byte, ok bool) {
	i := bytes.IndexByte(l, ' ')
	if i <= 0 || !bytes.HasPrefix(l, []byte("HTTP/")) {
		return nil, 0, nil, false
	}
	proto, rest := l[:i], l[i+1:]
	code := rest
	if j := bytes.IndexByte(rest, ' '); j >= 0 {
		code, reason = rest[:j], rest[j+1:]
	}
	if len(code) != 3 {
		return nil, 0, nil, false
	}
	for _, ch := range code {
		if ch < '0' || ch > '9' {
			return nil, 0, nil, false
		}
		status = status*10 + int(ch-'0')
	}
	return proto, status, reason, true
}

func headerValues(hdrs []rawHeader, name string) (vals [][]byte) {
	for _, h := range hdrs {
		if len(h.name) == len(name) && strings.EqualFold(string(h.name), name) {
			vals = append(vals, h.value)
		}
	}
	return vals
}

func hasHeader(hdrs []rawHeader, name string) bool {
	for _, h := range hdrs {
		if strings.EqualFold(string(h.name), name) {
			return true
		}
	}
	return false
}

// hasToken reports whether any value of header name holds token in its
// comma-separated list (case-insensitive).
func hasToken(hdrs []rawHeader, name, token string) bool {
	for _, h := range hdrs {
		if !strings.EqualFold(string(h.name), name) {
			continue
		}
		v := h.value
		for len(v) > 0 {
			var t []byte
			if k := bytes.IndexByte(v, ','); k >= 0 {
				t, v = v[:k], v[k+1:]
			} else {
				t, v = v, nil
			}
			if strings.EqualFold(string(bytes.Trim(t, " \t")), token) {
				return true
			}
		}
	}
	return false
}

// bodyFraming returns the message body length from Content-Length, or
// chunked; ok is false for an invalid or conflicting length.
func bodyFraming(hdrs []rawHeader) (length int64, hasLength, chunked, ok bool) {
	for _, h := range hdrs {
		if strings.EqualFold(string(h.name), "Transfer-Encoding") {
			te := bytes.Trim(h.value, " \t")
			if k := bytes.LastIndexByte(te, ','); k >= 0 {
				te = bytes.Trim(te[k+1:], " \t")
			}
			chunked = strings.EqualFold(string(te), "chunked")
			if !chunked {
				return 0, false, false, false
			}
		}
	}
	for _, v := range headerValues(hdrs, "Content-Length") {
		n, err := strconv.ParseInt(string(bytes.Trim(v, " \t")), 10, 64)
		if err != nil || n < 0 || (hasLength && n != length) {
			return 0, false, false, false
		}
		length, hasLength = n, true
	}
	if chunked {
		hasLength = false
	}
	return length, hasLength, chunked, true
}

func toHeaders(hdrs []rawHeader) []Header {
	out := make([]Header, len(hdrs))
	for i, h := range hdrs {
		out[i] = Header{Name: string(h.name), Value: string(h.value)}
	}
	return out
}

func lookup(hh []Header, name string) (string, bool) {
	for _, h := range hh {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

func lookupAll(hh []Header, name string) []string {
	var out []string
	for _, h := range hh {
		if strings.EqualFold(h.Name, name) {
			out = append(out, h.Value)
		}
	}
	return out
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

func hasTokenH(hh []Header, name, token string) bool {
	for _, t := range splitList(lookupAll(hh, name)) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

// setRequest fills the request part of hs.
func setRequest(hs *Handshake, method, uri, proto []byte, hdrs []rawHeader, at Meta) {
	hs.Method, hs.URI, hs.Proto = string(method), string(uri), string(proto)
	hs.RequestHeaders = toHeaders(hdrs)
	hs.RequestAt = at
	hh := hs.RequestHeaders
	hs.Host, _ = lookup(hh, "Host")
	hs.Origin, _ = lookup(hh, "Origin")
	if hs.Origin == "" {
		hs.Origin, _ = lookup(hh, "Sec-WebSocket-Origin") // hybi-07/-10
	}
	hs.Key, _ = lookup(hh, "Sec-WebSocket-Key")
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(hs.Key))
	hs.KeyValid = err == nil && len(k) == 16
	hs.Version, _ = lookup(hh, "Sec-WebSocket-Version")
	hs.Protocols = splitList(lookupAll(hh, "Sec-WebSocket-Protocol"))
	hs.Extensions = lookupAll(hh, "Sec-WebSocket-Extensions")
}

// setResponse fills the response part of hs.
func setResponse(hs *Handshake, proto []byte, status int, reason []byte, hdrs []rawHeader, at Meta) {
	hs.ResponseProto, hs.Status, hs.Reason = string(proto), status, string(reason)
	hs.ResponseHeaders = toHeaders(hdrs)
	hs.ResponseAt = at
	hh := hs.ResponseHeaders
	hs.Accept, _ = lookup(hh, "Sec-WebSocket-Accept")
	hs.AcceptValid = hs.Key != "" && hs.Accept == AcceptFor(strings.TrimSpace(hs.Key))
	hs.Subprotocol, _ = lookup(hh, "Sec-WebSocket-Protocol")
	hs.Subprotocol = strings.TrimSpace(hs.Subprotocol)
	hs.AcceptedExtensions = lookupAll(hh, "Sec-WebSocket-Extensions")
}

// finding is a handshake anomaly before it is located.
type finding struct{ code, sev, detail string }

// Anomaly codes reported by the Assembler (Anomaly.Code), with severity.
const (
	// Handshake (RFC 6455 §4), on the Conn of the upgrade:
	CodeWrongAccept         = "handshake-wrong-accept"            // error: Sec-WebSocket-Accept ≠ base64(SHA-1(key+GUID))
	CodeMissingAccept       = "handshake-missing-accept"          // error: 101 without Sec-WebSocket-Accept
	CodeBadKey              = "handshake-bad-key"                 // error: key missing or not base64 of 16 bytes
	CodeOldVersion          = "handshake-old-version"             // info: Sec-WebSocket-Version 7 (hybi-07) or 8 (hybi-10)
	CodeBadVersion          = "handshake-bad-version"             // warning: version missing or not 7/8/13
	CodeMissingUpgrade      = "handshake-missing-upgrade"         // warning (request) / error (101): no Upgrade: websocket
	CodeMissingConnection   = "handshake-missing-connection"      // warning (request) / error (101): no Connection: Upgrade
	CodeBadRequest          = "handshake-bad-request"             // warning: not GET, or older than HTTP/1.1
	CodeRefused             = "handshake-refused"                 // warning: non-101 answer (Handshake.Upgraded false)
	CodeNoRequest           = "handshake-no-request"              // warning: 101 seen without its request (inferred)
	CodeNoResponse          = "handshake-no-response"             // warning: connection ended before the answer
	CodeUnrequestedProtocol = "handshake-unrequested-subprotocol" // warning: server chose a subprotocol not offered
	CodeUnrequestedExt      = "handshake-unrequested-extension"   // warning: server accepted an extension not offered
	CodeHandshakeGap        = "handshake-gap"                     // error: handshake bytes not captured
	CodeDuplicateHeader     = "handshake-duplicate-header"        // error: a Sec-WebSocket-* header that must appear once appears again (first value used)
	CodeMalformedHTTP       = "malformed-http"                    // error: unparseable HTTP around the upgrade
	// Transport:
	CodeConflict = "retransmission-conflict" // error: retransmitted bytes differ; the first copy is kept
	CodeLimit    = "limit"                   // warning/error: a Config limit was hit; bytes handed on as a Gap
)

// checkRequest validates an upgrade request (RFC 6455 §4.1, §4.2.1).
func checkRequest(hs *Handshake) []finding {
	var f []finding
	hh := hs.RequestHeaders
	if hs.Method != "GET" || !(hs.Proto == "HTTP/1.1" || strings.HasPrefix(hs.Proto, "HTTP/2") || hs.Proto > "HTTP/1.1") {
		f = append(f, finding{CodeBadRequest, "warning", "upgrade request is " + hs.Method + " " + hs.Proto + ", want GET and HTTP/1.1"})
	}
	if !hasTokenH(hh, "Upgrade", "websocket") {
		f = append(f, finding{CodeMissingUpgrade, "warning", "request lacks Upgrade: websocket"})
	}
	if !hasTokenH(hh, "Connection", "upgrade") {
		f = append(f, finding{CodeMissingConnection, "warning", "request lacks Connection: Upgrade"})
	}
	if hs.Key == "" {
		f = append(f, finding{CodeBadKey, "error", "request lacks Sec-WebSocket-Key"})
	} else if !hs.KeyValid {
		f = append(f, finding{CodeBadKey, "error", "Sec-WebSocket-Key " + strconv.Quote(hs.Key) + " is not base64 of 16 bytes"})
	}
	f = append(f, duplicates(hh, "Sec-WebSocket-Key", "Sec-WebSocket-Version")...)
	switch strings.TrimSpace(hs.Version) {
	case "13":
	case "7", "8":
		f = append(f, finding{CodeOldVersion, "info", "Sec-WebSocket-Version " + hs.Version + " (hybi-" + map[string]string{"7": "07", "8": "10"}[strings.TrimSpace(hs.Version)] + "; frames as RFC 6455)"})
	case "":
		f = append(f, finding{CodeBadVersion, "warning", "request lacks Sec-WebSocket-Version"})
	default:
		f = append(f, finding{CodeBadVersion, "warning", "unsupported Sec-WebSocket-Version " + strconv.Quote(hs.Version)})
	}
	return f
}

// duplicates reports headers of names that RFC 6455 §11.3 allows at most
// once per request or response: endpoints disagree on which copy counts
// (a browser fails the connection), so which one wsscope used is said.
func duplicates(hh []Header, names ...string) []finding {
	var f []finding
	for _, name := range names {
		if vals := lookupAll(hh, name); len(vals) > 1 {
			f = append(f, finding{CodeDuplicateHeader, "error", name + " appears " + strconv.Itoa(len(vals)) +
				" times (RFC 6455 §11.3: at most once); the first value " + strconv.Quote(vals[0]) + " is used"})
		}
	}
	return f
}

// checkResponse validates a 101 response against the request (RFC 6455
// §4.2.2, §4.1 client requirements).
func checkResponse(hs *Handshake, haveRequest bool) []finding {
	var f []finding
	hh := hs.ResponseHeaders
	if !hasTokenH(hh, "Upgrade", "websocket") {
		f = append(f, finding{CodeMissingUpgrade, "error", "101 response lacks Upgrade: websocket"})
	}
	if !hasTokenH(hh, "Connection", "upgrade") {
		f = append(f, finding{CodeMissingConnection, "error", "101 response lacks Connection: Upgrade"})
	}
	f = append(f, duplicates(hh, "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol")...)
	if hs.Accept == "" {
		f = append(f, finding{CodeMissingAccept, "error", "101 response lacks Sec-WebSocket-Accept"})
	} else if haveRequest && hs.Key != "" && !hs.AcceptValid {
		f = append(f, finding{CodeWrongAccept, "error", "Sec-WebSocket-Accept " + strconv.Quote(hs.Accept) + ", want " + strconv.Quote(AcceptFor(strings.TrimSpace(hs.Key)))})
	}
	if haveRequest && hs.Subprotocol != "" {
		found := false
		for _, p := range hs.Protocols {
			found = found || p == hs.Subprotocol
		}
		if !found {
			f = append(f, finding{CodeUnrequestedProtocol, "warning", "server selected subprotocol " + strconv.Quote(hs.Subprotocol) + " the client did not offer"})
		}
	}
	if haveRequest {
		offered := map[string]bool{}
		for _, e := range splitList(hs.Extensions) {
			name, _, _ := strings.Cut(e, ";")
			offered[strings.ToLower(strings.TrimSpace(name))] = true
		}
		for _, e := range splitList(hs.AcceptedExtensions) {
			name, _, _ := strings.Cut(e, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if !offered[name] {
				f = append(f, finding{CodeUnrequestedExt, "warning", "server accepted extension " + strconv.Quote(name) + " the client did not offer"})
			}
		}
	}
	return f
}

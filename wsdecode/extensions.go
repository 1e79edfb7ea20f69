package wsdecode

import (
	"fmt"
	"strconv"
	"strings"
)

// Extension is one entry of a Sec-WebSocket-Extensions header (RFC 6455
// §9.1): a name and its parameters in order.
type Extension struct {
	Name   string
	Params []ExtParam
}

// ExtParam is one extension parameter. Value is unquoted; HasValue is false
// for a bare parameter such as "server_no_context_takeover".
type ExtParam struct {
	Name     string
	Value    string
	HasValue bool
}

// ParseExtensions parses Sec-WebSocket-Extensions header values (each value
// may list several comma-separated extensions). Syntax errors are returned
// as ext-syntax anomalies; the offending extension is skipped.
func ParseExtensions(values []string) ([]Extension, []Anomaly) {
	var exts []Extension
	var anoms []Anomaly
	for _, v := range values {
		p := extParser{s: v}
		for {
			p.skipSpace()
			if p.eof() {
				break
			}
			if p.peek() == ',' {
				p.i++
				continue
			}
			start := p.i
			ext, err := p.extension()
			if err != "" {
				anoms = append(anoms, Anomaly{Code: CodeExtSyntax, Detail: fmt.Sprintf("%s in %q at offset %d", err, v, p.i)})
				p.i = start
				p.skipTo(',')
				continue
			}
			exts = append(exts, ext)
		}
	}
	return exts, anoms
}

type extParser struct {
	s string
	i int
}

func (p *extParser) eof() bool  { return p.i >= len(p.s) }
func (p *extParser) peek() byte { return p.s[p.i] }

func (p *extParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// skipTo moves past the next c outside a quoted string (or to the end).
func (p *extParser) skipTo(c byte) {
	inQ := false
	for ; p.i < len(p.s); p.i++ {
		switch ch := p.s[p.i]; {
		case inQ && ch == '\\':
			p.i++
		case ch == '"':
			inQ = !inQ
		case !inQ && ch == c:
			p.i++
			return
		}
	}
}

func isTokenChar(c byte) bool {
	if c <= 32 || c >= 127 {
		return false
	}
	return !strings.ContainsRune("()<>@,;:\\\"/[]?={}", rune(c))
}

func (p *extParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// extension parses: token *( ";" param ), stopping before "," or at the end.
func (p *extParser) extension() (Extension, string) {
	var e Extension
	e.Name = p.token()
	if e.Name == "" {
		return e, "expected extension name"
	}
	for {
		p.skipSpace()
		if p.eof() || p.peek() == ',' {
			return e, ""
		}
		if p.peek() != ';' {
			return e, fmt.Sprintf("unexpected %q", p.peek())
		}
		p.i++
		p.skipSpace()
		var prm ExtParam
		prm.Name = p.token()
		if prm.Name == "" {
			return e, "expected parameter name"
		}
		p.skipSpace()
		if !p.eof() && p.peek() == '=' {
			p.i++
			p.skipSpace()
			prm.HasValue = true
			if !p.eof() && p.peek() == '"' {
				v, ok := p.quoted()
				if !ok {
					return e, "unterminated quoted string"
				}
				prm.Value = v
			} else {
				prm.Value = p.token()
				if prm.Value == "" {
					return e, "expected parameter value"
				}
			}
		}
		e.Params = append(e.Params, prm)
	}
}

// quoted parses a quoted-string (RFC 7230 §3.2.6) starting at '"'.
func (p *extParser) quoted() (string, bool) {
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String(), true
		case '\\':
			if p.i >= len(p.s) {
				return "", false
			}
			b.WriteByte(p.s[p.i])
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// NegotiatedDeflate derives the compression parameters from the server's
// Sec-WebSocket-Extensions response header value(s). Problems (unknown or
// invalid parameters) are returned as anomalies with Code and Detail set.
//
// permessage-deflate (RFC 7692 §7.1) takes server_no_context_takeover,
// client_no_context_takeover, server_max_window_bits (8..15, value required
// in a response) and client_max_window_bits (8..15). x-webkit-deflate-frame
// and deflate-frame take no_context_takeover and max_window_bits, which the
// server applies to what it sends, so they map to the Server* fields. Values
// may be quoted. The first deflate extension wins; a second is reported. An
// invalid parameter is reported and ignored; the extension stays negotiated.
func NegotiatedDeflate(responseExtensions []string) (Deflate, []Anomaly) {
	exts, anoms := ParseExtensions(responseExtensions)
	var d Deflate
	for _, e := range exts {
		var mode DeflateMode
		switch strings.ToLower(e.Name) {
		case "permessage-deflate":
			mode = PerMessageDeflate
		case "x-webkit-deflate-frame", "deflate-frame":
			mode = PerFrameDeflate
		default:
			anoms = append(anoms, Anomaly{Code: CodeExtUnknown, Detail: fmt.Sprintf("extension %q not understood; its use of RSV bits will be reported", e.Name)})
			continue
		}
		if d.Mode != DeflateNone {
			anoms = append(anoms, Anomaly{Code: CodeExtMultiple, Detail: fmt.Sprintf("second compression extension %q ignored", e.Name)})
			continue
		}
		d.Mode = mode
		seen := map[string]bool{}
		for _, prm := range e.Params {
			name := strings.ToLower(prm.Name)
			if seen[name] {
				anoms = append(anoms, Anomaly{Code: CodeExtDuplicateParam, Detail: fmt.Sprintf("%s: duplicate parameter %q", e.Name, prm.Name)})
				continue
			}
			seen[name] = true
			bad := func(why string) {
				anoms = append(anoms, Anomaly{Code: CodeExtInvalidParam, Detail: fmt.Sprintf("%s: %s: %s", e.Name, prm.Name, why)})
			}
			flag := func(dst *bool) {
				if prm.HasValue {
					bad("takes no value")
					return
				}
				*dst = true
			}
			bits := func(dst *int, required bool) {
				if !prm.HasValue {
					if required {
						bad("value required in a response")
					}
					return
				}
				n, err := strconv.Atoi(prm.Value)
				if err != nil || n < 8 || n > 15 || prm.Value[0] == '0' || prm.Value[0] == '+' {
					bad(fmt.Sprintf("window bits %q not in 8..15", prm.Value))
					return
				}
				*dst = n
			}
			known := true
			if mode == PerMessageDeflate {
				switch name {
				case "server_no_context_takeover":
					flag(&d.ServerNoContextTakeover)
				case "client_no_context_takeover":
					flag(&d.ClientNoContextTakeover)
				case "server_max_window_bits":
					bits(&d.ServerMaxWindowBits, true)
				case "client_max_window_bits":
					bits(&d.ClientMaxWindowBits, true)
				default:
					known = false
				}
			} else {
				switch name {
				case "no_context_takeover":
					flag(&d.ServerNoContextTakeover)
				case "max_window_bits":
					bits(&d.ServerMaxWindowBits, true)
				default:
					known = false
				}
			}
			if !known {
				anoms = append(anoms, Anomaly{Code: CodeExtUnknownParam, Detail: fmt.Sprintf("%s: unknown parameter %q", e.Name, prm.Name)})
			}
		}
	}
	return d, anoms
}

package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Payload bytes never reach the terminal raw. visible turns bytes into
// printable text: C0/C1 control characters, DEL, invalid UTF-8, and
// invisible or bidi-reordering format characters become escapes such as
// \x1b, \u202e or \xff (a literal backslash stays a single backslash). With
// keepNewlines, \n and \t stay as they are (multi-line detail view);
// otherwise they are escaped too (one-line previews). max > 0 stops after
// about max runes and appends "…". The result still needs tview.Escape
// before it goes into a widget that parses style tags (see safe).
func visible(b []byte, keepNewlines bool, max int) string {
	var sb strings.Builder
	sb.Grow(min(len(b), 256))
	n := 0
	for len(b) > 0 {
		if max > 0 && n >= max {
			sb.WriteString("…")
			break
		}
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&sb, `\x%02x`, b[0])
			n += 4
		case keepNewlines && (r == '\n' || r == '\t'):
			sb.WriteRune(r)
			n++
		case r == '\n':
			sb.WriteString(`\n`)
			n += 2
		case r == '\r':
			sb.WriteString(`\r`)
			n += 2
		case r == '\t':
			sb.WriteString(`\t`)
			n += 2
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, r)
			n += 4
		case r >= 0x80 && r < 0xa0, unicode.Is(unicode.Cf, r), r == 0x2028, r == 0x2029:
			// C1 controls (e.g. CSI \u009b), bidi overrides, zero-width
			// and other format characters.
			fmt.Fprintf(&sb, `\u%04x`, r)
			n += 6
		default:
			sb.WriteRune(r)
			n++
		}
		b = b[size:]
	}
	return sb.String()
}

// escapeTags makes s display literally in tview: every "[" becomes
// "[[:]". A "[" followed by "[" can start neither a style/region tag nor an
// escaped tag, so tview prints it as is; "[:]" is then a valid, empty style
// tag (no colour, no attribute change) that tview swallows. tview.Escape is
// not enough for untrusted text: it leaves "[![]" (shown as "[!]") and,
// because the URL field of a tag takes any character, "[:::x]" becomes
// "[:::x[]", still a tag (both found by FuzzSafe).
func escapeTags(s string) string {
	if !strings.Contains(s, "[") {
		return s
	}
	return strings.ReplaceAll(s, "[", "[[:]")
}

// safe makes payload bytes safe for a tview widget: visible escapes for
// control characters, then escapeTags so "[red]" stays text.
func safe(b []byte, keepNewlines bool, max int) string {
	return escapeTags(visible(b, keepNewlines, max))
}

// safeString is safe for strings (header values, anomaly details).
func safeString(s string) string { return safe([]byte(s), false, 0) }

// hexDump renders b as offset, 16 hex bytes and an ASCII column, safe for
// tview.
func hexDump(b []byte) string {
	var sb strings.Builder
	for off := 0; off < len(b); off += 16 {
		line := b[off:min(off+16, len(b))]
		fmt.Fprintf(&sb, "[gray]%08x[-]  ", off)
		for i := 0; i < 16; i++ {
			if i < len(line) {
				fmt.Fprintf(&sb, "%02x ", line[i])
			} else {
				sb.WriteString("   ")
			}
			if i == 7 {
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(" |")
		var asc strings.Builder
		for _, c := range line {
			if c >= 0x20 && c < 0x7f {
				asc.WriteByte(c)
			} else {
				asc.WriteByte('.')
			}
		}
		sb.WriteString(escapeTags(asc.String()))
		sb.WriteString("|\n")
	}
	return sb.String()
}

// looksJSON reports whether b is a JSON object or array.
func looksJSON(b []byte) bool {
	t := bytes.TrimSpace(b)
	if len(t) < 2 || (t[0] != '{' && t[0] != '[') {
		return false
	}
	return json.Valid(t)
}

// prettyJSON indents valid JSON and colours it with tview tags: keys, strings,
// numbers and literals. Every token is made safe.
func prettyJSON(b []byte) string {
	var ind bytes.Buffer
	if err := json.Indent(&ind, bytes.TrimSpace(b), "", "  "); err != nil {
		return safe(b, true, 0)
	}
	src := ind.Bytes()
	var sb strings.Builder
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j++ // closing quote
			if j > len(src) {
				j = len(src)
			}
			tok := src[i:j]
			k := j
			for k < len(src) && src[k] == ' ' {
				k++
			}
			color := "green"
			if k < len(src) && src[k] == ':' {
				color = "aqua"
			}
			sb.WriteString("[" + color + "]" + safe(tok, false, 0) + "[-]")
			i = j
		case c == '-' || (c >= '0' && c <= '9'):
			j := i
			for j < len(src) && strings.IndexByte("+-0123456789.eE", src[j]) >= 0 {
				j++
			}
			sb.WriteString("[yellow]" + string(src[i:j]) + "[-]")
			i = j
		case c == 't' || c == 'f' || c == 'n':
			j := i
			for j < len(src) && src[j] >= 'a' && src[j] <= 'z' {
				j++
			}
			sb.WriteString("[fuchsia]" + string(src[i:j]) + "[-]")
			i = j
		default:
			j := i
			for j < len(src) && strings.IndexByte("\"-0123456789tfn", src[j]) < 0 {
				j++
			}
			sb.WriteString(escapeTags(string(src[i:j])))
			i = j
		}
	}
	return sb.String()
}

func opName(op uint8) string {
	switch op {
	case 0x0:
		return "cont"
	case 0x1:
		return "text"
	case 0x2:
		return "binary"
	case 0x8:
		return "close"
	case 0x9:
		return "ping"
	case 0xA:
		return "pong"
	}
	return "op" + strconv.Itoa(int(op))
}

func dirArrow(d uint8) string {
	if d == 1 {
		return "←"
	}
	return "→"
}

func dirName(d uint8) string {
	if d == 1 {
		return "server→client"
	}
	return "client→server"
}

// fmtTime formats t (Unix ns) absolute (local clock time with µs) or
// relative to first.
func fmtTime(t, first int64, relative bool) string {
	if t == 0 {
		return "-"
	}
	if relative {
		d := time.Duration(t - first)
		return fmt.Sprintf("+%.6f", d.Seconds())
	}
	return time.Unix(0, t).UTC().Format("15:04:05.000000")
}

// fmtSize formats a byte count compactly (1023, 1.0K, 12.3M).
func fmtSize(n uint64) string {
	switch {
	case n < 1024:
		return strconv.FormatUint(n, 10)
	case n < 1<<20:
		return fmt.Sprintf("%.1fK", float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
}

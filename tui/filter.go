package tui

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/wsscope/wsscope/wsdecode"
)

// Filter selects the messages shown in the messages pane. The zero Filter
// matches everything.
type Filter struct {
	Text        string         // substring of the payload (case-sensitive), "" = any
	Regexp      *regexp.Regexp // regular expression over the payload, nil = any
	Dir         int            // -1 any, 0 client→server, 1 server→client
	Ops         uint16         // bit per opcode (1<<op); 0 = any
	HideControl bool           // hide close/ping/pong
	AnomOnly    bool           // only messages with anomalies
	Conn        int            // connection index, -1 = all
	src         string
}

// AnyFilter returns the filter matching every message.
func AnyFilter() Filter { return Filter{Dir: -1, Conn: -1} }

var opNames = map[string]wsdecode.Opcode{
	"cont": wsdecode.OpContinuation, "continuation": wsdecode.OpContinuation,
	"text": wsdecode.OpText, "binary": wsdecode.OpBinary, "bin": wsdecode.OpBinary,
	"close": wsdecode.OpClose, "ping": wsdecode.OpPing, "pong": wsdecode.OpPong,
}

// ParseFilter parses the filter bar's syntax. Words are separated by spaces:
//
//	dir:c | dir:s       direction (client→server, server→client; also "client"/"server", ">"/"<")
//	op:text,binary      opcodes (cont, text, binary, close, ping, pong)
//	-ctl                hide control frames (close, ping, pong)
//	anom                only messages with anomalies
//	re:EXPR             Go regular expression over the payload (rest of the line)
//	anything else       substring of the payload (words joined by single spaces)
//
// The connection is not part of the text: conn keeps the selection of the
// connections pane.
func ParseFilter(s string, conn int) (Filter, error) {
	f := AnyFilter()
	f.Conn = conn
	f.src = strings.TrimSpace(s)
	var text []string
	rest := f.src
	for rest != "" {
		var w string
		w, rest, _ = strings.Cut(rest, " ")
		rest = strings.TrimLeft(rest, " ")
		switch {
		case w == "":
		case strings.HasPrefix(w, "re:"):
			expr := strings.TrimPrefix(w, "re:")
			if rest != "" {
				expr += " " + rest
			}
			rest = ""
			re, err := regexp.Compile(expr)
			if err != nil {
				return f, fmt.Errorf("tui: filter: %w", err)
			}
			f.Regexp = re
		case strings.HasPrefix(w, "dir:"):
			switch strings.TrimPrefix(w, "dir:") {
			case "c", "client", ">", "out":
				f.Dir = 0
			case "s", "server", "<", "in":
				f.Dir = 1
			default:
				return f, fmt.Errorf("tui: filter: unknown direction %q (want dir:c or dir:s)", w)
			}
		case strings.HasPrefix(w, "op:"):
			for _, n := range strings.Split(strings.TrimPrefix(w, "op:"), ",") {
				op, ok := opNames[strings.ToLower(n)]
				if !ok {
					return f, fmt.Errorf("tui: filter: unknown opcode %q", n)
				}
				f.Ops |= 1 << op
			}
		case w == "-ctl" || w == "-control":
			f.HideControl = true
		case w == "anom" || w == "anomalies":
			f.AnomOnly = true
		default:
			text = append(text, w)
		}
	}
	f.Text = strings.Join(text, " ")
	return f, nil
}

// String returns the filter's source text.
func (f *Filter) String() string { return f.src }

// active reports whether the filter hides anything besides the connection.
func (f *Filter) active() bool {
	return f.Text != "" || f.Regexp != nil || f.Dir >= 0 || f.Ops != 0 || f.HideControl || f.AnomOnly
}

func isControl(op uint8) bool { return op >= 0x8 }

func (f *Filter) match(r *msgRec, payload []byte) bool {
	if f.Conn >= 0 && int(r.conn) != f.Conn {
		return false
	}
	if f.Dir >= 0 && int(r.dir) != f.Dir {
		return false
	}
	if f.Ops != 0 && (r.op > 15 || f.Ops&(1<<r.op) == 0) {
		return false
	}
	if f.HideControl && isControl(r.op) {
		return false
	}
	if f.AnomOnly && r.nAnom == 0 {
		return false
	}
	if f.Text != "" && !bytes.Contains(payload, []byte(f.Text)) {
		return false
	}
	if f.Regexp != nil && !f.Regexp.Match(payload) {
		return false
	}
	return true
}

// msgView is the filtered list of message indexes shown in the messages
// pane. It is updated incrementally: sync only looks at messages appended
// since the last call.
type msgView struct {
	filter  Filter
	idx     []uint32
	scanned int
	textB   []byte
}

func (v *msgView) reset(f Filter) {
	v.filter = f
	v.idx = v.idx[:0]
	v.scanned = 0
	v.textB = []byte(f.Text)
}

// sync appends the matching messages of s not yet scanned. It returns the
// number of rows added.
func (v *msgView) sync(s *snapshot) int {
	n := len(v.idx)
	f := &v.filter
	for i := v.scanned; i < s.nMsgs(); i++ {
		r := s.msg(i)
		if f.Conn >= 0 && int(r.conn) != f.Conn {
			continue
		}
		var p []byte
		if f.Text != "" || f.Regexp != nil {
			p = s.payload(r)
		}
		if f.match(r, p) {
			v.idx = append(v.idx, uint32(i))
		}
	}
	v.scanned = s.nMsgs()
	return len(v.idx) - n
}

// search is a `/` search over payloads (substring, or regular expression
// when written re:EXPR).
type search struct {
	text string
	re   *regexp.Regexp
}

func parseSearch(s string) (search, error) {
	if strings.HasPrefix(s, "re:") {
		re, err := regexp.Compile(strings.TrimPrefix(s, "re:"))
		if err != nil {
			return search{}, fmt.Errorf("tui: search: %w", err)
		}
		return search{text: s, re: re}, nil
	}
	return search{text: s}, nil
}

func (q *search) empty() bool { return q.text == "" }

func (q *search) match(p []byte) bool {
	if q.re != nil {
		return q.re.Match(p)
	}
	return bytes.Contains(p, []byte(q.text))
}

// find returns the row of the next (dir=+1) or previous (dir=-1) message of
// v matching q, starting after row from and wrapping around; -1 if none.
func (q *search) find(s *snapshot, v *msgView, from, dir int) int {
	n := len(v.idx)
	if n == 0 || q.empty() {
		return -1
	}
	for k := 1; k <= n; k++ {
		row := ((from+dir*k)%n + n) % n
		if q.match(s.payload(s.msg(int(v.idx[row])))) {
			return row
		}
	}
	return -1
}

// rowForPacket returns the row of v holding packet pkt, or the first row
// after it; -1 if the view is empty.
func rowForPacket(s *snapshot, v *msgView, pkt uint64) int {
	best := -1
	for row, i := range v.idx {
		r := s.msg(int(i))
		if r.pkt0 <= pkt && pkt <= r.pkt1 {
			return row
		}
		if r.pkt0 > pkt && (best < 0 || r.pkt0 < s.msg(int(v.idx[best])).pkt0) {
			best = row
		}
	}
	if best < 0 && len(v.idx) > 0 {
		best = len(v.idx) - 1
	}
	return best
}

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
	textB       []byte // Text as bytes (set by ParseFilter)
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
	f.textB = []byte(f.Text)
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
	if f.Dir >= 0 && int(r.dir()) != f.Dir {
		return false
	}
	if f.Ops != 0 && (r.op > 15 || f.Ops&(1<<r.op) == 0) {
		return false
	}
	if f.HideControl && isControl(r.op) {
		return false
	}
	if f.AnomOnly && r.flags&fAnom == 0 {
		return false
	}
	if f.Text != "" {
		t := f.textB
		if t == nil {
			t = []byte(f.Text)
		}
		if !bytes.Contains(payload, t) {
			return false
		}
	}
	if f.Regexp != nil && !f.Regexp.Match(payload) {
		return false
	}
	return true
}

// needsPayload reports whether matching reads payloads (from the spill).
func (f *Filter) needsPayload() bool { return f.Text != "" || f.Regexp != nil }

func (f *Filter) matchNoPayload(r *msgRec) bool {
	g := *f
	g.Text, g.Regexp = "", nil
	return g.match(r, nil)
}

// msgView is the filtered list of message indexes shown in the messages
// pane. It is updated incrementally: only messages appended since the last
// scan are examined. With no filter (all) row i is message i and no list
// is kept; otherwise idx is an append-only chunked list (never copied as
// it grows; a copy of the value stays valid after reset, which starts a new
// list).
type msgView struct {
	filter  Filter
	all     bool
	n       int             // rows
	idx     chunked[uint32] // rows → message indexes (when !all)
	scanned int             // messages examined
}

func (v *msgView) reset(f Filter) {
	v.filter = f
	v.all = !f.active() && f.Conn < 0
	v.n, v.scanned = 0, 0
	v.idx = chunked[uint32]{}
}

// rows returns the number of rows.
func (v *msgView) rows() int { return v.n }

// at returns the message index of row i (0 ≤ i < rows).
func (v *msgView) at(i int) uint32 {
	if v.all {
		return uint32(i)
	}
	return *v.idx.at(i)
}

// rowOf returns the first row whose message index is ≥ mi (rows if none).
func (v *msgView) rowOf(mi uint32) int {
	lo, hi := 0, v.n
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if v.at(h) < mi {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}

func (v *msgView) add(i uint32) {
	if !v.all {
		v.idx.add(i)
	}
	v.n++
}

// sync appends the matching messages of s not yet scanned, up to message
// limit (all if limit < 0). It returns the number of rows added.
func (v *msgView) sync(s *snapshot) int { return v.syncTo(s, s.nMsgs(), nil) }

// syncTo scans messages [v.scanned, to) of s; stop, if not nil, is polled
// every few thousand messages and ends the scan early when it returns true.
func (v *msgView) syncTo(s *snapshot, to int, stop func() bool) int {
	n := v.n
	if v.all {
		v.n = max(v.n, to)
		v.scanned = v.n
		return v.n - n
	}
	f := &v.filter
	var pr payloadReader
	pr.s = s
	for i := v.scanned; i < to; i++ {
		if stop != nil && i&4095 == 0 && i > v.scanned && stop() {
			v.scanned = i
			return v.n - n
		}
		r := s.msg(i)
		if f.Conn >= 0 && int(r.conn) != f.Conn {
			continue
		}
		if f.needsPayload() {
			if !f.matchNoPayload(r) {
				continue
			}
			if f.match(r, pr.payload(r)) {
				v.add(uint32(i))
			}
		} else if f.match(r, nil) {
			v.add(uint32(i))
		}
	}
	v.scanned = max(v.scanned, to)
	return v.n - n
}

// search is a `/` search over payloads (substring, or regular expression
// when written re:EXPR).
type search struct {
	text  string
	textB []byte
	re    *regexp.Regexp
}

func parseSearch(s string) (search, error) {
	if strings.HasPrefix(s, "re:") {
		re, err := regexp.Compile(strings.TrimPrefix(s, "re:"))
		if err != nil {
			return search{}, fmt.Errorf("tui: search: %w", err)
		}
		return search{text: s, re: re}, nil
	}
	return search{text: s, textB: []byte(s)}, nil
}

func (q *search) empty() bool { return q.text == "" }

func (q *search) match(p []byte) bool {
	if q.re != nil {
		return q.re.Match(p)
	}
	return bytes.Contains(p, q.textB)
}

// find returns the row of the next (dir=+1) or previous (dir=-1) message of
// v matching q, starting after row from and wrapping around; -1 if none.
// stop, if not nil, is polled every few thousand rows; a stopped search
// returns -2.
func (q *search) find(s *snapshot, v *msgView, from, dir int, stop func() bool) int {
	n := v.rows()
	if n == 0 || q.empty() {
		return -1
	}
	pr := payloadReader{s: s, back: dir < 0}
	for k := 1; k <= n; k++ {
		if stop != nil && k&4095 == 0 && stop() {
			return -2
		}
		row := ((from+dir*k)%n + n) % n
		if q.match(pr.payload(s.msg(int(v.at(row))))) {
			return row
		}
	}
	return -1
}

// rowForPacket returns the row of v holding packet pkt, or the first row
// after it; -1 if the view is empty.
func rowForPacket(s *snapshot, v *msgView, pkt uint64) int {
	best := -1
	var bestPkt uint64
	for row := 0; row < v.rows(); row++ {
		r := s.msg(int(v.at(row)))
		if r.pkt0 <= pkt && pkt <= r.pkt1() {
			return row
		}
		if r.pkt0 > pkt && (best < 0 || r.pkt0 < bestPkt) {
			best, bestPkt = row, r.pkt0
		}
	}
	if best < 0 && v.rows() > 0 {
		best = v.rows() - 1
	}
	return best
}

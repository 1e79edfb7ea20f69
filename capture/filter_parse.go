package capture

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/bpf"
)

// Grammar (a subset of pcap-filter(7); "and" and "or" have the same
// precedence and associate to the left, as in libpcap):
//
//	expr     := term { ("and" | "&&" | "or" | "||") term }
//	term     := ("not" | "!") term | "(" expr ")" | relation | primitive
//	primitive:= [proto] [dir] [type] value | proto | "vlan" [id] | "less" N | "greater" N
//	proto    := ether | ip | ip6 | arp | rarp | tcp | udp | sctp | icmp | icmp6 | igmp
//	dir      := src | dst | src or dst | src and dst
//	type     := host | net | port | portrange | proto
//	relation := arith relop arith      relop := > < >= <= = == !=
//	arith    := number | len | NAME | proto "[" arith [":" 1|2|4] "]" | arith binop arith
//	            | "-" arith | "(" arith ")"      binop := + - * / % & | ^ << >>
//
// A bare value after "and"/"or"/"not" reuses the previous primitive's
// qualifiers ("port 80 or 443"). Two terms with nothing between them are an
// error, as in tcpdump (there is no implicit "and").

type qual struct {
	proto, dir, typ string
	protoTok        token
}

type parser struct {
	expr string
	toks []token
	i    int
	li   linkInfo
	off  uint32 // added by "vlan" keywords to link-layer payload offsets
	last *qual  // qualifiers of the previous primitive, for "port 80 or 443"
	// depth counts open parentheses and "not"s being parsed, bounded by
	// maxNesting (backtracking over "(" is quadratic in it).
	depth int
}

const maxNesting = 100

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > maxNesting {
		return p.fail(t, "expression nested more than %d levels deep", maxNesting)
	}
	return nil
}

var protoKeywords = map[string]bool{
	"ether": true, "ip": true, "ip6": true, "arp": true, "rarp": true, "tcp": true,
	"udp": true, "sctp": true, "icmp": true, "icmp6": true, "igmp": true, "link": true,
}

var typeKeywords = map[string]bool{"host": true, "net": true, "port": true, "portrange": true, "proto": true}

// keywords that are valid tcpdump but not implemented here.
var unsupportedKeywords = map[string]bool{
	"gateway": true, "broadcast": true, "multicast": true, "mpls": true, "pppoed": true,
	"pppoes": true, "geneve": true, "inbound": true, "outbound": true, "ifname": true,
	"on": true, "rnr": true, "rulenum": true, "reason": true, "rset": true, "srnr": true,
	"subrulenum": true, "action": true, "wlan": true, "type": true, "subtype": true,
	"dir": true, "ra": true, "ta": true, "addr1": true, "addr2": true, "addr3": true,
	"addr4": true, "fddi": true, "tr": true, "ppp": true, "slip": true, "decnet": true,
	"atalk": true, "aarp": true, "iso": true, "esis": true, "isis": true, "clnp": true,
	"stp": true, "ipx": true, "netbeui": true, "lat": true, "sca": true, "moprc": true,
	"mopdl": true, "radio": true, "ah": true, "esp": true, "pim": true, "vrrp": true,
	"carp": true, "protochain": true, "llc": true, "atm": true, "lane": true, "oam": true,
	"oamf4": true, "metac": true, "bcc": true, "sc": true, "ilmic": true, "connectmsg": true,
	"metaconnect": true, "vpi": true, "vci": true, "fisu": true, "lssu": true, "msu": true,
	"sio": true, "opc": true, "dpc": true, "sls": true, "hfisu": true, "hlssu": true,
	"hmsu": true, "hsio": true, "hopc": true, "hdpc": true, "hsls": true, "l1": true,
	"l2": true, "iih": true, "lsp": true, "snp": true, "csnp": true, "psnp": true,
}

var namedConstants = map[string]uint32{
	"tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
	"icmptype": 0, "icmpcode": 1, "icmp-echoreply": 0, "icmp-unreach": 3,
	"icmp-sourcequench": 4, "icmp-redirect": 5, "icmp-echo": 8, "icmp-routeradvert": 9,
	"icmp-routersolicit": 10, "icmp-timxceed": 11, "icmp-paramprob": 12, "icmp-tstamp": 13,
	"icmp-tstampreply": 14, "icmp-ireq": 15, "icmp-ireqreply": 16, "icmp-maskreq": 17,
	"icmp-maskreply": 18, "icmp6type": 0, "icmp6code": 1, "icmp6-echo": 128,
	"icmp6-echoreply": 129,
}

var protoNames = map[string]uint32{
	"\\tcp": 6, "\\udp": 17, "\\icmp": 1, "\\igmp": 2, "\\sctp": 132, "\\icmp6": 58,
	"\\ip": etIP, "\\ip6": etIP6, "\\arp": etARP, "\\rarp": etRARP,
}

const (
	ipprotoTCP  = 6
	ipprotoUDP  = 17
	ipprotoSCTP = 132
	ipprotoFrag = 44
)

func newParser(expr string, li linkInfo) (*parser, error) {
	toks, err := lex(expr)
	if err != nil {
		var pos int
		var msg string
		if _, e := fmt.Sscanf(err.Error(), "position %d:", &pos); e == nil {
			msg = strings.TrimPrefix(err.Error(), fmt.Sprintf("position %d: ", pos))
		} else {
			msg = err.Error()
		}
		return nil, &FilterError{Expr: expr, Pos: pos, Msg: msg}
	}
	return &parser{expr: expr, toks: toks, li: li}, nil
}

func (p *parser) fail(t token, format string, args ...any) error {
	return &FilterError{Expr: p.expr, Pos: t.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) unsupported(t token, format string, args ...any) error {
	return &FilterError{Expr: p.expr, Pos: t.pos, Msg: fmt.Sprintf(format, args...), Unsupported: true}
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func isWord(t token, w string) bool { return t.kind == tWord && t.s == w }
func isAndTok(t token) bool         { return t.kind == tAnd || isWord(t, "and") }
func isOrTok(t token) bool          { return t.kind == tOr || isWord(t, "or") }
func isNotTok(t token) bool         { return t.kind == tNot || isWord(t, "not") }

func describe(t token) string {
	if t.kind == tEOF {
		return "end of expression"
	}
	return fmt.Sprintf("%q", t.s)
}

func (p *parser) parseAll() (bexpr, error) {
	if p.peek().kind == tEOF {
		return bTrue, nil
	}
	e, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.fail(t, "unexpected %s", describe(t))
	}
	return e, nil
}

func (p *parser) parseExpr() (bexpr, error) {
	l, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case isAndTok(t), isOrTok(t):
			p.next()
			r, err := p.parseTerm()
			if err != nil {
				return nil, err
			}
			if isAndTok(t) {
				l = mkAnd(l, r)
			} else {
				l = mkOr(l, r)
			}
		case t.kind == tEOF || t.kind == tRParen:
			return l, nil
		default:
			return nil, p.fail(t, "expected \"and\" or \"or\" before %s (tcpdump has no implicit \"and\")", describe(t))
		}
	}
}

func (p *parser) parseTerm() (bexpr, error) {
	t := p.peek()
	if err := p.enter(t); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	switch {
	case isNotTok(t):
		p.next()
		x, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		return mkNot(x), nil
	case t.kind == tLParen:
		save, saveOff := p.i, p.off
		if r, err := p.parseRelation(); err == nil {
			return r, nil
		}
		p.i, p.off = save, saveOff
		p.next()
		last := p.last
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tRParen {
			return nil, p.fail(c, "expected \")\", found %s", describe(c))
		}
		p.next()
		p.last = last // as libpcap: a group keeps the qualifiers from before it
		return e, nil
	case t.kind == tArith && t.s == "-":
		return p.parseRelation()
	case t.kind == tWord:
		if p.startsArith() {
			return p.parseRelation()
		}
		return p.parsePrimitive()
	}
	return nil, p.fail(t, "unexpected %s", describe(t))
}

// startsArith reports whether the word at the cursor begins an arithmetic relation.
func (p *parser) startsArith() bool {
	t, n := p.peek(), p.peekAt(1)
	if t.s == "len" {
		return true
	}
	if protoKeywords[t.s] && n.kind == tLBrack {
		return true
	}
	if _, ok := namedConstants[t.s]; ok {
		return true
	}
	if _, ok := parseNum(t.s); ok && (n.kind == tArith || n.kind == tRel) {
		return true
	}
	return false
}

// parseNum parses decimal, 0x hex and 0-prefixed octal numbers like libpcap.
func parseNum(s string) (uint32, bool) {
	if s == "" {
		return 0, false
	}
	base, digits := uint64(10), s
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	var v uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, false
		}
	}
	return uint32(v), true
}

func valueLike(s string) bool {
	if s == "" {
		return false
	}
	return (s[0] >= '0' && s[0] <= '9') || strings.Contains(s, ":") || s[0] == '\\'
}

func (p *parser) isKeyword(s string) bool {
	return protoKeywords[s] || typeKeywords[s] || s == "src" || s == "dst" || s == "vlan" ||
		s == "less" || s == "greater" || s == "and" || s == "or" || s == "not" || s == "len" ||
		unsupportedKeywords[s]
}

func (p *parser) parsePrimitive() (bexpr, error) {
	t := p.peek()
	var q qual
	if valueLike(t.s) && !p.isKeyword(t.s) {
		if p.last != nil {
			q = *p.last
			return p.primitiveValue(q)
		}
		return nil, p.fail(t, "missing keyword before %q (host, net, port, ...)", t.s)
	}
	switch t.s {
	case "vlan":
		p.next()
		return p.vlanPrimitive(t)
	case "less", "greater":
		p.next()
		v := p.peek()
		n, ok := parseNum(v.s)
		if v.kind != tWord || !ok {
			return nil, p.fail(v, "expected a number after %q, found %s", t.s, describe(v))
		}
		p.next()
		p.last = nil
		ld := bpf.LoadExtension{Num: bpf.ExtLen}
		if t.s == "less" {
			return mkNot(test(bpfJGT, n, ld)), nil
		}
		return test(bpfJGE, n, ld), nil
	}
	if unsupportedKeywords[t.s] {
		return nil, p.unsupported(t, "keyword %q is not supported by wsscope's filter compiler", t.s)
	}
	if protoKeywords[t.s] {
		q.proto, q.protoTok = t.s, t
		p.next()
	}
	if w := p.peek(); w.s == "src" || w.s == "dst" {
		q.dir = w.s
		p.next()
		if c, o := p.peek(), p.peekAt(1); (isAndTok(c) || isOrTok(c)) && (o.s == "src" || o.s == "dst") && o.s != q.dir {
			if isAndTok(c) {
				q.dir = "src and dst"
			} else {
				q.dir = "src or dst"
			}
			p.next()
			p.next()
		}
	}
	if w := p.peek(); w.kind == tWord && typeKeywords[w.s] {
		q.typ = w.s
		p.next()
	} else if w.kind == tWord && unsupportedKeywords[w.s] {
		return nil, p.unsupported(w, "keyword %q is not supported by wsscope's filter compiler", w.s)
	}
	if q.typ == "" && q.dir == "" {
		if q.proto == "" {
			return nil, p.fail(t, "unknown keyword %q", t.s)
		}
		w := p.peek()
		if w.kind != tWord || isAndTok(w) || isOrTok(w) || isNotTok(w) {
			p.last = nil // "tcp or 443" is an error, as in tcpdump
			return p.protoAbbrev(q.proto, q.protoTok)
		}
		if !valueLike(w.s) {
			return nil, p.fail(w, "unknown keyword %q", w.s)
		}
	}
	return p.primitiveValue(q)
}

// primitiveValue parses the value of a primitive with qualifiers q.
func (p *parser) primitiveValue(q qual) (bexpr, error) {
	v := p.peek()
	if v.kind != tWord || isAndTok(v) || isOrTok(v) || isNotTok(v) {
		return nil, p.fail(v, "missing value, found %s", describe(v))
	}
	if p.isKeyword(v.s) {
		return nil, p.fail(v, "unexpected keyword %q", v.s)
	}
	p.next()
	qq := q
	p.last = &qq
	switch q.typ {
	case "port":
		n, ok := parseNum(v.s)
		if !ok {
			if !valueLike(v.s) {
				return nil, p.unsupported(v, "port names are not supported (%q); use a number", v.s)
			}
			return nil, p.fail(v, "bad port number %q", v.s)
		}
		if n > 65535 {
			return nil, p.fail(v, "illegal port number %d > 65535", n)
		}
		return p.portPrimitive(q, n, n, false)
	case "portrange":
		a, b, ok := strings.Cut(v.s, "-")
		lo, ok1 := parseNum(a)
		hi, ok2 := parseNum(b)
		if !ok || !ok1 || !ok2 {
			if !valueLike(v.s) {
				return nil, p.unsupported(v, "port names are not supported (%q); use numbers", v.s)
			}
			return nil, p.fail(v, "bad port range %q (want N-M)", v.s)
		}
		if lo > 65535 || hi > 65535 {
			return nil, p.fail(v, "illegal port number in %q (> 65535)", v.s)
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		return p.portPrimitive(q, lo, hi, true)
	case "proto":
		n, ok := parseNum(v.s)
		if !ok {
			n, ok = protoNames[v.s]
			if !ok {
				return nil, p.unsupported(v, "unknown protocol %q", v.s)
			}
		}
		return p.protoPrimitive(q, n, v)
	case "net":
		return p.netPrimitive(q, v)
	}
	// host, or a bare value after proto/dir.
	if q.proto == "ether" || strings.Count(v.s, ":") == 5 && !strings.Contains(v.s, "::") && q.proto != "ip6" {
		if mac, err := net.ParseMAC(v.s); err == nil && len(mac) == 6 && (q.proto == "ether" || q.proto == "") {
			return p.etherHost(q, mac, v)
		}
		if q.proto == "ether" {
			return nil, p.fail(v, "bad ethernet address %q", v.s)
		}
	}
	addr, err := netip.ParseAddr(v.s)
	if err != nil {
		if _, ok := parseNum(v.s); ok || strings.Contains(v.s, ":") {
			return nil, p.fail(v, "bad host address %q", v.s)
		}
		return nil, p.unsupported(v, "host names are not supported (%q); use an IP address", v.s)
	}
	if addr.Zone() != "" {
		return nil, p.fail(v, "bad host address %q", v.s)
	}
	return p.hostPrimitive(q, addr, addr.BitLen(), v)
}

func (p *parser) nl() uint32 { return p.li.nl + p.off }

func (p *parser) lp(et uint16) bexpr { return p.li.linkProto(et, p.off) }

func (p *parser) ipProto(v uint32) bexpr {
	return mkAnd(p.lp(etIP), test(bpfJEQ, v, ldAbs(p.nl()+9, 1)))
}

// ip6Proto matches IPv6 next header v, directly or behind a fragment header (as libpcap).
func (p *parser) ip6Proto(v uint32) bexpr {
	nxt := ldAbs(p.nl()+6, 1)
	return mkAnd(p.lp(etIP6), mkOr(test(bpfJEQ, v, nxt),
		mkAnd(test(bpfJEQ, ipprotoFrag, nxt), test(bpfJEQ, v, ldAbs(p.nl()+40, 1)))))
}

func (p *parser) notFrag() bexpr {
	return mkNot(test(bpfJSET, 0x1fff, ldAbs(p.nl()+6, 2)))
}

func (p *parser) protoAbbrev(proto string, t token) (bexpr, error) {
	switch proto {
	case "ip":
		return p.lp(etIP), nil
	case "ip6":
		return p.lp(etIP6), nil
	case "arp":
		return p.lp(etARP), nil
	case "rarp":
		return p.lp(etRARP), nil
	case "tcp":
		return mkOr(p.ipProto(ipprotoTCP), p.ip6Proto(ipprotoTCP)), nil
	case "udp":
		return mkOr(p.ipProto(ipprotoUDP), p.ip6Proto(ipprotoUDP)), nil
	case "sctp":
		return mkOr(p.ipProto(ipprotoSCTP), p.ip6Proto(ipprotoSCTP)), nil
	case "icmp":
		return p.ipProto(1), nil
	case "igmp":
		return p.ipProto(2), nil
	case "icmp6":
		return p.ip6Proto(58), nil
	}
	return nil, p.fail(t, "%q needs a qualifier (host, proto, ...)", proto)
}

func dirCombine(dir string, src, dst bexpr) bexpr {
	switch dir {
	case "src":
		return src
	case "dst":
		return dst
	case "src and dst":
		return mkAnd(src, dst)
	}
	return mkOr(src, dst)
}

func (p *parser) portPrimitive(q qual, lo, hi uint32, isRange bool) (bexpr, error) {
	var protos []uint32
	switch q.proto {
	case "":
		protos = []uint32{ipprotoSCTP, ipprotoTCP, ipprotoUDP}
	case "tcp":
		protos = []uint32{ipprotoTCP}
	case "udp":
		protos = []uint32{ipprotoUDP}
	case "sctp":
		protos = []uint32{ipprotoSCTP}
	default:
		return nil, p.fail(q.protoTok, "illegal qualifier of 'port': %q", q.proto)
	}
	cmp := func(load ...bpf.Instruction) bexpr {
		if !isRange {
			return test(bpfJEQ, lo, load...)
		}
		return mkAnd(test(bpfJGE, lo, load...), mkNot(test(bpfJGT, hi, load...)))
	}
	nl := p.nl()
	var p6, p4 []bexpr
	for _, pr := range protos {
		p6 = append(p6, test(bpfJEQ, pr, ldAbs(nl+6, 1)))
		p4 = append(p4, test(bpfJEQ, pr, ldAbs(nl+9, 1)))
	}
	msh := bpf.LoadMemShift{Off: nl}
	v6 := andAll(p.lp(etIP6), orAll(p6...),
		dirCombine(q.dir, cmp(ldAbs(nl+40, 2)), cmp(ldAbs(nl+42, 2))))
	v4 := andAll(p.lp(etIP), orAll(p4...), p.notFrag(),
		dirCombine(q.dir, cmp(msh, ldInd(nl, 2)), cmp(msh, ldInd(nl+2, 2))))
	return mkOr(v6, v4), nil
}

func (p *parser) protoPrimitive(q qual, n uint32, v token) (bexpr, error) {
	if q.dir != "" {
		return nil, p.fail(v, "'%s' qualifier applied to proto", q.dir)
	}
	switch q.proto {
	case "":
		return mkOr(p.ipProto(n), p.ip6Proto(n)), nil
	case "ip":
		return p.ipProto(n), nil
	case "ip6":
		return p.ip6Proto(n), nil
	case "ether", "link":
		if n <= 1500 || n > 0xffff {
			return nil, p.unsupported(v, "ether proto %d (802.3 length / LLC values) is not supported", n)
		}
		return p.lp(uint16(n)), nil
	}
	return nil, p.fail(q.protoTok, "'%s' modifier applied to proto", q.proto)
}

func maskBits(bits int) uint32 {
	if bits <= 0 {
		return 0
	}
	if bits >= 32 {
		return 0xffffffff
	}
	return ^uint32(0) << (32 - bits)
}

// addrTest compares the 4- or 16-byte address at off with a/bits.
func addrTest(off uint32, a netip.Addr, bits int) bexpr {
	b := a.AsSlice()
	var out []bexpr
	for w := 0; w*4 < len(b); w++ {
		val := uint32(b[w*4])<<24 | uint32(b[w*4+1])<<16 | uint32(b[w*4+2])<<8 | uint32(b[w*4+3])
		m := maskBits(bits - 32*w)
		if m == 0 {
			continue // libpcap's optimizer drops always-true masked compares
		}
		load := []bpf.Instruction{ldAbs(off+uint32(4*w), 4)}
		if m != 0xffffffff {
			load = append(load, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: m})
		}
		out = append(out, test(bpfJEQ, val&m, load...))
	}
	if len(out) == 0 {
		return bTrue
	}
	return andAll(out...)
}

func (p *parser) hostPrimitive(q qual, a netip.Addr, bits int, v token) (bexpr, error) {
	nl := p.nl()
	if a.Is4() {
		var parts []bexpr
		ipPart := func() bexpr {
			return mkAnd(p.lp(etIP), dirCombine(q.dir, addrTest(nl+12, a, bits), addrTest(nl+16, a, bits)))
		}
		arpPart := func(et uint16) bexpr {
			return mkAnd(p.lp(et), dirCombine(q.dir, addrTest(nl+14, a, bits), addrTest(nl+24, a, bits)))
		}
		switch q.proto {
		case "":
			parts = []bexpr{ipPart(), arpPart(etARP), arpPart(etRARP)}
		case "ip":
			parts = []bexpr{ipPart()}
		case "arp":
			parts = []bexpr{arpPart(etARP)}
		case "rarp":
			parts = []bexpr{arpPart(etRARP)}
		default:
			return nil, p.fail(q.protoTok, "'%s' modifier applied to %s", q.proto, orDefault(q.typ, "host"))
		}
		return orAll(parts...), nil
	}
	switch q.proto {
	case "", "ip6":
	default:
		return nil, p.fail(q.protoTok, "'%s' modifier applied to IPv6 %s", q.proto, orDefault(q.typ, "host"))
	}
	return mkAnd(p.lp(etIP6), dirCombine(q.dir, addrTest(nl+8, a, bits), addrTest(nl+24, a, bits))), nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (p *parser) netPrimitive(q qual, v token) (bexpr, error) {
	var addr netip.Addr
	bits := -1
	if a, err := netip.ParseAddr(v.s); err == nil && a.Zone() == "" {
		addr = a
	} else if !strings.Contains(v.s, ":") {
		// classful abbreviations: "10" -> 10/8, "10.1" -> 10.1/16, "10.1.2" -> 10.1.2/24
		parts := strings.Split(v.s, ".")
		if len(parts) > 3 {
			return nil, p.fail(v, "bad network address %q", v.s)
		}
		var b [4]byte
		for i, s := range parts {
			n, ok := parseNum(s)
			if !ok || n > 255 {
				if i == 0 && !valueLike(v.s) {
					return nil, p.unsupported(v, "network names are not supported (%q); use an address", v.s)
				}
				return nil, p.fail(v, "bad network address %q", v.s)
			}
			b[i] = byte(n)
		}
		addr = netip.AddrFrom4(b)
		bits = 8 * len(parts)
	} else {
		return nil, p.fail(v, "bad network address %q", v.s)
	}
	switch t := p.peek(); {
	case t.kind == tArith && t.s == "/":
		p.next()
		nt := p.peek()
		n, ok := parseNum(nt.s)
		if nt.kind != tWord || !ok || int(n) > addr.BitLen() {
			return nil, p.fail(nt, "bad prefix length %s", describe(nt))
		}
		p.next()
		if bits >= 0 && bits != 32 && int(n) > bits {
			// "10.1/24"-style: libpcap shifts the classful address; keep it simple.
			return nil, p.fail(v, "use a full dotted address with a prefix length")
		}
		bits = int(n)
	case isWord(t, "mask"):
		p.next()
		mt := p.peek()
		m, err := netip.ParseAddr(mt.s)
		if mt.kind != tWord || err != nil || !m.Is4() || !addr.Is4() {
			return nil, p.fail(mt, "bad netmask %s", describe(mt))
		}
		p.next()
		mb := m.As4()
		mask := uint32(mb[0])<<24 | uint32(mb[1])<<16 | uint32(mb[2])<<8 | uint32(mb[3])
		ab := addr.As4()
		av := uint32(ab[0])<<24 | uint32(ab[1])<<16 | uint32(ab[2])<<8 | uint32(ab[3])
		if av&^mask != 0 {
			return nil, p.fail(v, "non-network bits set in \"%s mask %s\"", v.s, mt.s)
		}
		nl := p.nl()
		mt4 := func(off uint32) bexpr {
			return test(bpfJEQ, av&mask, ldAbs(off, 4), bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
		}
		ipPart := mkAnd(p.lp(etIP), dirCombine(q.dir, mt4(nl+12), mt4(nl+16)))
		arp := func(et uint16) bexpr {
			return mkAnd(p.lp(et), dirCombine(q.dir, mt4(nl+14), mt4(nl+24)))
		}
		switch q.proto {
		case "":
			return orAll(ipPart, arp(etARP), arp(etRARP)), nil
		case "ip":
			return ipPart, nil
		case "arp":
			return arp(etARP), nil
		case "rarp":
			return arp(etRARP), nil
		}
		return nil, p.fail(q.protoTok, "'%s' modifier applied to net", q.proto)
	}
	if bits < 0 {
		bits = addr.BitLen()
	}
	if pfx := netip.PrefixFrom(addr, bits); pfx.Masked().Addr() != addr {
		return nil, p.fail(v, "non-network bits set in \"%s/%d\"", v.s, bits)
	}
	return p.hostPrimitive(q, addr, bits, v)
}

func (p *parser) etherHost(q qual, mac net.HardwareAddr, v token) (bexpr, error) {
	if p.li.kind != lkEther {
		return nil, p.unsupported(v, "ethernet addresses are only supported on Ethernet captures")
	}
	hi := uint32(mac[0])<<8 | uint32(mac[1])
	lo := uint32(mac[2])<<24 | uint32(mac[3])<<16 | uint32(mac[4])<<8 | uint32(mac[5])
	at := func(off uint32) bexpr {
		return mkAnd(test(bpfJEQ, lo, ldAbs(off+2, 4)), test(bpfJEQ, hi, ldAbs(off, 2)))
	}
	return dirCombine(q.dir, at(6), at(0)), nil
}

func (p *parser) vlanPrimitive(kw token) (bexpr, error) {
	if p.li.kind != lkEther {
		return nil, p.unsupported(kw, "vlan is only supported on Ethernet captures")
	}
	et := ldAbs(12+p.off, 2)
	b := orAll(test(bpfJEQ, 0x8100, et), test(bpfJEQ, 0x88a8, et), test(bpfJEQ, 0x9100, et))
	if v := p.peek(); v.kind == tWord {
		if n, ok := parseNum(v.s); ok {
			if n > 4095 {
				return nil, p.fail(v, "VLAN tag %d greater than maximum 4095", n)
			}
			p.next()
			b = mkAnd(b, test(bpfJEQ, n, ldAbs(14+p.off, 2), bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xfff}))
		}
	}
	p.off += 4
	p.last = nil
	return b, nil
}

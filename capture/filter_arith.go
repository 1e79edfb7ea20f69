package capture

import (
	"golang.org/x/net/bpf"
)

// Arithmetic expressions ("tcp[13] & 2 != 0", "ip[2:2] > 576", "len < 100").

type aexpr interface{}

type aConst struct{ v uint32 }
type aLen struct{}
type aNeg struct{ x aexpr }
type aBin struct {
	op   string
	l, r aexpr
	tok  token
}
type aLoad struct {
	proto string
	idx   aexpr
	size  int
	tok   token
}

const maxScratch = 16 // BPF_MEMWORDS

var arithLevels = [][]string{{"|", "^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"}}

var aluOps = map[string]bpf.ALUOp{
	"+": bpf.ALUOpAdd, "-": bpf.ALUOpSub, "*": bpf.ALUOpMul, "/": bpf.ALUOpDiv,
	"%": bpf.ALUOpMod, "&": bpf.ALUOpAnd, "|": bpf.ALUOpOr, "^": bpf.ALUOpXor,
	"<<": bpf.ALUOpShiftLeft, ">>": bpf.ALUOpShiftRight,
}

func (p *parser) parseArith(level int) (aexpr, error) {
	if level == len(arithLevels) {
		return p.parseUnary()
	}
	l, err := p.parseArith(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tArith || !contains(arithLevels[level], t.s) {
			return l, nil
		}
		p.next()
		r, err := p.parseArith(level + 1)
		if err != nil {
			return nil, err
		}
		l = aBin{op: t.s, l: l, r: r, tok: t}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) parseUnary() (aexpr, error) {
	if t := p.peek(); t.kind == tArith && t.s == "-" {
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		p.next()
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if c, ok := x.(aConst); ok {
			return aConst{-c.v}, nil
		}
		return aNeg{x}, nil
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (aexpr, error) {
	t := p.peek()
	switch {
	case t.kind == tLParen:
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		p.next()
		e, err := p.parseArith(0)
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tRParen {
			return nil, p.fail(c, "expected \")\", found %s", describe(c))
		}
		p.next()
		return e, nil
	case t.kind != tWord:
		return nil, p.fail(t, "expected a number, len or proto[...], found %s", describe(t))
	}
	if n, ok := parseNum(t.s); ok {
		p.next()
		return aConst{n}, nil
	}
	if n, ok := namedConstants[t.s]; ok {
		p.next()
		return aConst{n}, nil
	}
	if t.s == "len" {
		p.next()
		return aLen{}, nil
	}
	if protoKeywords[t.s] && p.peekAt(1).kind == tLBrack {
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		p.next()
		p.next()
		idx, err := p.parseArith(0)
		if err != nil {
			return nil, err
		}
		size := 1
		if c := p.peek(); c.kind == tColon {
			p.next()
			st := p.peek()
			n, ok := parseNum(st.s)
			if st.kind != tWord || !ok || (n != 1 && n != 2 && n != 4) {
				return nil, p.fail(st, "data size must be 1, 2, or 4")
			}
			p.next()
			size = int(n)
		}
		if c := p.peek(); c.kind != tRBrack {
			return nil, p.fail(c, "expected \"]\", found %s", describe(c))
		}
		p.next()
		return aLoad{proto: t.s, idx: idx, size: size, tok: t}, nil
	}
	if valueLike(t.s) {
		return nil, p.fail(t, "bad number %q", t.s)
	}
	return nil, p.fail(t, "unknown keyword %q", t.s)
}

var relJumps = map[string]struct {
	jmp uint16
	neg bool
}{
	"=": {bpfJEQ, false}, "==": {bpfJEQ, false}, "!=": {bpfJEQ, true},
	">": {bpfJGT, false}, ">=": {bpfJGE, false}, "<": {bpfJGE, true}, "<=": {bpfJGT, true},
}

// parseRelation parses "arith relop arith" and builds its test.
func (p *parser) parseRelation() (bexpr, error) {
	l, err := p.parseArith(0)
	if err != nil {
		return nil, err
	}
	op := p.peek()
	if op.kind != tRel {
		return nil, p.fail(op, "expected a comparison (=, !=, <, >, <=, >=), found %s", describe(op))
	}
	p.next()
	r, err := p.parseArith(0)
	if err != nil {
		return nil, err
	}
	var checks []bexpr
	rj := relJumps[op.s]
	var leaf bTest
	if c, ok := r.(aConst); ok {
		code, err := p.genArith(l, 0, &checks)
		if err != nil {
			return nil, err
		}
		leaf = bTest{load: code, jmp: rj.jmp, k: c.v}
	} else {
		rc, err := p.genArith(r, 0, &checks)
		if err != nil {
			return nil, err
		}
		lc, err := p.genArith(l, 1, &checks)
		if err != nil {
			return nil, err
		}
		code := append(rc, bpf.StoreScratch{Src: bpf.RegA, N: 0})
		code = append(code, lc...)
		code = append(code, bpf.LoadScratch{Dst: bpf.RegX, N: 0})
		leaf = bTest{load: code, jmp: rj.jmp, useX: true}
	}
	var b bexpr = leaf
	if rj.neg {
		b = mkNot(b)
	}
	p.last = nil
	return andAll(append(checks, b)...), nil
}

// loadBase returns the offset proto[0] is at, whether it is relative to
// the IPv4 header length in X, and the test the packet must pass.
func (p *parser) loadBase(l aLoad) (base uint32, transport bool, check bexpr, err error) {
	nl := p.nl()
	switch l.proto {
	case "ether", "link":
		return 0, false, bTrue, nil
	case "ip":
		return nl, false, p.lp(etIP), nil
	case "ip6":
		return nl, false, p.lp(etIP6), nil
	case "arp":
		return nl, false, p.lp(etARP), nil
	case "rarp":
		return nl, false, p.lp(etRARP), nil
	case "tcp", "udp", "sctp", "icmp", "igmp":
		pr := map[string]uint32{"tcp": 6, "udp": 17, "sctp": 132, "icmp": 1, "igmp": 2}[l.proto]
		return nl, true, andAll(p.lp(etIP), test(bpfJEQ, pr, ldAbs(nl+9, 1)), p.notFrag()), nil
	case "icmp6":
		return nl + 40, false, mkAnd(p.lp(etIP6), test(bpfJEQ, 58, ldAbs(nl+6, 1))), nil
	}
	return 0, false, nil, p.fail(l.tok, "%q[] is not supported", l.proto)
}

// genArith emits code leaving the value of e in A. It may use scratch
// memory M[depth..] and clobbers X. Protocol checks needed by loads are
// appended to checks.
func (p *parser) genArith(e aexpr, depth int, checks *[]bexpr) ([]bpf.Instruction, error) {
	if depth >= maxScratch {
		return nil, &FilterError{Expr: p.expr, Msg: "arithmetic expression too complex"}
	}
	switch v := e.(type) {
	case aConst:
		return []bpf.Instruction{bpf.LoadConstant{Dst: bpf.RegA, Val: v.v}}, nil
	case aLen:
		return []bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtLen}}, nil
	case aNeg:
		code, err := p.genArith(v.x, depth, checks)
		if err != nil {
			return nil, err
		}
		// 0 - A rather than BPF_NEG, which golang.org/x/net/bpf's VM lacks.
		return append(code, bpf.TAX{}, bpf.LoadConstant{Dst: bpf.RegA, Val: 0}, bpf.ALUOpX{Op: bpf.ALUOpSub}), nil
	case aLoad:
		base, transport, check, err := p.loadBase(v)
		if err != nil {
			return nil, err
		}
		*checks = append(*checks, check)
		msh := bpf.LoadMemShift{Off: p.nl()}
		if c, ok := v.idx.(aConst); ok {
			if uint64(base)+uint64(c.v) > 0xffffffff {
				return nil, p.fail(v.tok, "offset too large")
			}
			if transport {
				return []bpf.Instruction{msh, ldInd(base+c.v, v.size)}, nil
			}
			return []bpf.Instruction{ldAbs(base+c.v, v.size)}, nil
		}
		code, err := p.genArith(v.idx, depth, checks)
		if err != nil {
			return nil, err
		}
		if transport {
			code = append(code, bpf.StoreScratch{Src: bpf.RegA, N: depth}, msh,
				bpf.LoadScratch{Dst: bpf.RegA, N: depth}, bpf.ALUOpX{Op: bpf.ALUOpAdd})
		}
		return append(code, bpf.TAX{}, ldInd(base, v.size)), nil
	case aBin:
		op := aluOps[v.op]
		if c, ok := v.r.(aConst); ok {
			if c.v == 0 && (v.op == "/" || v.op == "%") {
				return nil, p.fail(v.tok, "division by zero")
			}
			if (v.op == "<<" || v.op == ">>") && c.v > 31 {
				return nil, p.fail(v.tok, "shift by %d is out of range", c.v)
			}
			code, err := p.genArith(v.l, depth, checks)
			if err != nil {
				return nil, err
			}
			return append(code, bpf.ALUOpConstant{Op: op, Val: c.v}), nil
		}
		rc, err := p.genArith(v.r, depth, checks)
		if err != nil {
			return nil, err
		}
		lc, err := p.genArith(v.l, depth+1, checks)
		if err != nil {
			return nil, err
		}
		code := append(rc, bpf.StoreScratch{Src: bpf.RegA, N: depth})
		code = append(code, lc...)
		return append(code, bpf.LoadScratch{Dst: bpf.RegX, N: depth}, bpf.ALUOpX{Op: op}), nil
	}
	return nil, &FilterError{Expr: p.expr, Msg: "internal error: bad arithmetic node"}
}

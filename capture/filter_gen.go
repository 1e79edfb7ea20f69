package capture

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// The filter compiler lowers an expression to a boolean tree whose leaves are
// single BPF comparisons, then emits it with jump labels (short-circuit
// evaluation, like libpcap's backpatching but without its optimizer).

type bexpr interface{ isBexpr() }

type bConst struct{ v bool }
type bAnd struct{ l, r bexpr }
type bOr struct{ l, r bexpr }
type bNot struct{ x bexpr }

// bTest runs load (which leaves a value in A, and X when useX) and then
// jumps on "A jmp k" (or "A jmp X" when useX).
type bTest struct {
	load []bpf.Instruction
	jmp  uint16 // bpfJEQ, bpfJGT, bpfJGE or bpfJSET
	k    uint32
	useX bool
}

func (bConst) isBexpr() {}
func (bAnd) isBexpr()   {}
func (bOr) isBexpr()    {}
func (bNot) isBexpr()   {}
func (bTest) isBexpr()  {}

var (
	bTrue  bexpr = bConst{true}
	bFalse bexpr = bConst{false}
)

const (
	bpfJMP  = 0x05
	bpfJA   = 0x00
	bpfJEQ  = 0x10
	bpfJGT  = 0x20
	bpfJGE  = 0x30
	bpfJSET = 0x40
	bpfX    = 0x08
	bpfRET  = 0x06
)

func isConst(b bexpr, v bool) bool {
	c, ok := b.(bConst)
	return ok && c.v == v
}

func mkAnd(l, r bexpr) bexpr {
	switch {
	case isConst(l, false) || isConst(r, false):
		return bFalse
	case isConst(l, true):
		return r
	case isConst(r, true):
		return l
	}
	return bAnd{l, r}
}

func mkOr(l, r bexpr) bexpr {
	switch {
	case isConst(l, true) || isConst(r, true):
		return bTrue
	case isConst(l, false):
		return r
	case isConst(r, false):
		return l
	}
	return bOr{l, r}
}

func mkNot(x bexpr) bexpr {
	switch v := x.(type) {
	case bConst:
		return bConst{!v.v}
	case bNot:
		return v.x
	}
	return bNot{x}
}

func andAll(bs ...bexpr) bexpr {
	r := bTrue
	for _, b := range bs {
		r = mkAnd(r, b)
	}
	return r
}

func orAll(bs ...bexpr) bexpr {
	r := bFalse
	for _, b := range bs {
		r = mkOr(r, b)
	}
	return r
}

// test builds a leaf: load instructions, then compare A with k.
func test(jmp uint16, k uint32, load ...bpf.Instruction) bexpr {
	return bTest{load: load, jmp: jmp, k: k}
}

func ldAbs(off uint32, size int) bpf.Instruction { return bpf.LoadAbsolute{Off: off, Size: size} }
func ldInd(off uint32, size int) bpf.Instruction { return bpf.LoadIndirect{Off: off, Size: size} }

// ---- emission ----

// label is bound to the item that follows it. states collects what the
// registers hold on each jump to it (the load sequence that set them; ""
// when unknown), so that a test repeating those loads can skip them.
type label struct {
	at     *item
	states []string
}

type item struct {
	raw    bpf.RawInstruction
	jump   bool // conditional jump: jt/jf labels; or unconditional (ja) when cond is false
	cond   bool
	jt, jf *label
	pos    int
}

type emitter struct {
	items   []*item
	pending []*label // labels waiting for the next item
	err     error
	// state is the load sequence whose result A and X hold at this point
	// ("" = unknown). Every item after a jump is reached only through
	// labels, all of whose (forward) jumps are emitted before it is bound.
	state string
}

// curState is the register state at the next item.
func (e *emitter) curState() string {
	if len(e.pending) == 0 {
		return e.state
	}
	st, first := "", true
	for _, l := range e.pending {
		for _, s := range l.states {
			if first {
				st, first = s, false
			} else if s != st {
				return ""
			}
		}
	}
	return st
}

func (e *emitter) add(it *item) {
	if len(e.pending) > 0 {
		e.state = e.curState()
		for _, l := range e.pending {
			l.at = it
		}
	}
	e.pending = e.pending[:0]
	e.items = append(e.items, it)
}

// jumpTo records the register state on a jump to l.
func (e *emitter) jumpTo(l *label) { l.states = append(l.states, e.state) }

func (e *emitter) bind(l *label) { e.pending = append(e.pending, l) }

func (e *emitter) ins(in bpf.Instruction) {
	raw, err := in.Assemble()
	if err != nil && e.err == nil {
		e.err = err
	}
	e.add(&item{raw: raw})
}

func (e *emitter) gen(b bexpr, t, f *label) {
	switch v := b.(type) {
	case bConst:
		target := f
		if v.v {
			target = t
		}
		e.add(&item{raw: bpf.RawInstruction{Op: bpfJMP | bpfJA}, jump: true, jt: target})
		e.jumpTo(target)
	case bTest:
		sig := fmt.Sprint(v.load)
		if len(v.load) > 0 && sig == e.curState() {
			// A and X already hold this value on every path here: the
			// pending labels bind to the jump below.
		} else {
			for _, in := range v.load {
				e.ins(in)
			}
			e.state = sig
		}
		op := uint16(bpfJMP) | v.jmp
		if v.useX {
			op |= bpfX
		}
		e.add(&item{raw: bpf.RawInstruction{Op: op, K: v.k}, jump: true, cond: true, jt: t, jf: f})
		e.jumpTo(t)
		e.jumpTo(f)
	case bAnd:
		m := &label{}
		e.gen(v.l, m, f)
		e.bind(m)
		e.gen(v.r, t, f)
	case bOr:
		m := &label{}
		e.gen(v.l, t, m)
		e.bind(m)
		e.gen(v.r, t, f)
	case bNot:
		e.gen(v.x, f, t)
	default:
		panic(fmt.Sprintf("capture: filter codegen: unexpected node %T", b))
	}
}

// assemble emits the program for root, resolving labels and inserting
// unconditional-jump trampolines where a conditional jump is longer than 255.
func assemble(root bexpr, snaplen uint32) ([]bpf.RawInstruction, error) {
	e := &emitter{}
	var prog []bpf.RawInstruction
	switch {
	case isConst(root, true):
		return []bpf.RawInstruction{{Op: bpfRET, K: snaplen}}, nil
	case isConst(root, false):
		return []bpf.RawInstruction{{Op: bpfRET, K: 0}}, nil
	}
	t, f := &label{}, &label{}
	e.gen(root, t, f)
	e.bind(t)
	e.add(&item{raw: bpf.RawInstruction{Op: bpfRET, K: snaplen}})
	e.bind(f)
	e.add(&item{raw: bpf.RawInstruction{Op: bpfRET, K: 0}})
	if e.err != nil {
		return nil, e.err
	}
	for {
		if len(e.items) > maxBPFInsns {
			return nil, fmt.Errorf("program too long (%d instructions, limit %d)", len(e.items), maxBPFInsns)
		}
		for i, it := range e.items {
			it.pos = i
		}
		fixed := false
		for i := 0; i < len(e.items); i++ {
			it := e.items[i]
			if !it.cond {
				continue
			}
			for _, lp := range []**label{&it.jt, &it.jf} {
				if (*lp).at.pos-(it.pos+1) <= 255 {
					continue
				}
				tr := &item{raw: bpf.RawInstruction{Op: bpfJMP | bpfJA}, jump: true, jt: *lp}
				nl := &label{at: tr}
				*lp = nl
				e.items = append(e.items[:i+1], append([]*item{tr}, e.items[i+1:]...)...)
				fixed = true
				break
			}
			if fixed {
				break
			}
		}
		if !fixed {
			break
		}
	}
	prog = make([]bpf.RawInstruction, len(e.items))
	for i, it := range e.items {
		r := it.raw
		if it.jump {
			if it.cond {
				r.Jt = uint8(it.jt.at.pos - (i + 1))
				r.Jf = uint8(it.jf.at.pos - (i + 1))
			} else {
				r.K = uint32(it.jt.at.pos - (i + 1))
			}
		}
		prog[i] = r
	}
	return prog, nil
}

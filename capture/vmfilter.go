package capture

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// fileFilter applies Options.Filter to file records with the userspace BPF
// virtual machine, compiling the expression once per link type seen.
type fileFilter struct {
	expr    string
	snaplen int
	rd      recordReader
	vms     map[uint16]*bpf.VM
	lastLT  uint16
	lastVM  *bpf.VM
	compile compileFunc
}

// compileFunc has the signature of CompileFilter.
type compileFunc func(expr string, linkType uint16, snaplen int) ([]bpf.RawInstruction, error)

// newVMFilter returns a filter for expr using compile (CompileFilter) for
// each link type. It compiles expr for Ethernet first so that syntax errors
// surface when the file is opened, whatever link types it holds.
func newVMFilter(expr string, snaplen int, rd recordReader, compile compileFunc) (*fileFilter, error) {
	f := &fileFilter{expr: expr, snaplen: snaplen, rd: rd, compile: compile, vms: make(map[uint16]*bpf.VM)}
	if _, err := compile(expr, LinkTypeEthernet, snaplen); err != nil {
		return nil, err
	}
	return f, nil
}

// vm returns the program for link type lt, compiling it on first use.
func (f *fileFilter) vm(lt uint16) (*bpf.VM, error) {
	if f.lastVM != nil && f.lastLT == lt {
		return f.lastVM, nil
	}
	vm, ok := f.vms[lt]
	if !ok {
		snap := f.snaplen
		if s := f.rd.snaplen(lt); s > 0 && s < snap {
			snap = s
		}
		raw, err := f.compile(f.expr, lt, snap)
		if err != nil {
			return nil, fmt.Errorf("capture: filter for link type %s: %w", linkTypeName(lt), err)
		}
		insts, all := bpf.Disassemble(raw)
		if !all {
			return nil, fmt.Errorf("capture: filter for link type %s: program has instructions the userspace BPF machine cannot run", linkTypeName(lt))
		}
		if vm, err = bpf.NewVM(insts); err != nil {
			return nil, fmt.Errorf("capture: filter for link type %s: %w", linkTypeName(lt), err)
		}
		f.vms[lt] = vm
	}
	f.lastLT, f.lastVM = lt, vm
	return vm, nil
}

// match reports whether the record passes the filter.
func (f *fileFilter) match(rec *record) (bool, error) {
	vm, err := f.vm(rec.linkType)
	if err != nil {
		return false, err
	}
	n, err := vm.Run(rec.data)
	if err != nil {
		return false, fmt.Errorf("capture: filter: %w", err)
	}
	return n > 0, nil
}

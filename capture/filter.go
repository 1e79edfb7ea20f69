package capture

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// Link types understood by CompileFilter (LINKTYPE_* values, as layers.LinkType).
const (
	linkNull        = 0
	linkEthernet    = 1
	linkRawAlt12    = 12
	linkRawAlt14    = 14
	linkRaw         = 101
	linkLoop        = 108
	linkLinuxSLL    = 113
	linkIPv4        = 228
	linkIPv6        = 229
	linkLinuxSLL2   = 276
	maxBPFInsns     = 4096 // BPF_MAXINSNS, the kernel's limit for a socket filter
	maxFilterLength = 4096 // longest filter expression accepted, in bytes
)

// FilterError reports a capture filter expression that could not be compiled.
type FilterError struct {
	Expr string // the whole expression
	Pos  int    // 1-based byte position of the offending token; 0 when not tied to a token
	Msg  string
	// Unsupported is set when the expression is (probably) valid tcpdump
	// syntax that this compiler does not implement, such as host names or
	// port names. Only such errors are retried with tcpdump (see
	// CompileFilter).
	Unsupported bool
}

func (e *FilterError) Error() string {
	if e.Pos > 0 {
		return fmt.Sprintf("capture: filter %q: position %d: %s", e.Expr, e.Pos, e.Msg)
	}
	return fmt.Sprintf("capture: filter %q: %s", e.Expr, e.Msg)
}

// ErrUnsupportedLinkType is wrapped by CompileFilter errors for link types it
// cannot compile filters for.
var ErrUnsupportedLinkType = errors.New("capture: link type not supported by the filter compiler")

// CompileFilter compiles a tcpdump-syntax capture filter for packets of the given link type
// (layers.LinkType values as uint16) into classic BPF.
//
// Accepted packets make the program return snaplen (262144 if snaplen <= 0),
// rejected ones 0; an empty expression accepts every packet. The returned
// slice is newly allocated and owned by the caller.
//
// The compiler is wsscope's own (no libpcap, no cgo). It implements the
// common pcap-filter(7) grammar documented in filter_parse.go (host, net,
// port, portrange, proto, ip/ip6/tcp/udp/icmp/..., vlan, less/greater,
// byte tests such as tcp[13] & 2 != 0, and/or/not, parentheses) for
// Ethernet, Linux cooked v1/v2, raw IP, NULL and LOOP, and is tested to
// accept exactly the packets tcpdump's programs accept. Errors are
// *FilterError values naming the 1-based byte position of the bad token.
//
// Fallback rule: only when our compiler fails with a *FilterError whose
// Unsupported field is set (valid tcpdump syntax we do not implement: host,
// port and protocol names, keywords such as gateway or broadcast, programs
// too long for the kernel), TcpdumpFallback is true (the default) and a
// tcpdump binary is in $PATH, the expression is compiled with
// `tcpdump -y DLT -s snaplen -ddd EXPR` instead. Syntax errors are never
// sent to tcpdump. Note that tcpdump resolves host names through the
// system resolver.
func CompileFilter(expr string, linkType uint16, snaplen int) ([]bpf.RawInstruction, error) {
	prog, err := compileOwn(expr, linkType, snaplen)
	if err == nil {
		return prog, nil
	}
	var fe *FilterError
	if TcpdumpFallback && errors.As(err, &fe) && fe.Unsupported {
		if p, terr := CompileFilterTcpdump(expr, linkType, snaplen); terr == nil {
			return p, nil
		} else if !errors.Is(terr, errNoTcpdump) {
			return nil, fmt.Errorf("%w (tcpdump fallback: %v)", err, terr)
		}
	}
	return nil, err
}

// compileOwn compiles with our own compiler only.
func compileOwn(expr string, linkType uint16, snaplen int) ([]bpf.RawInstruction, error) {
	if snaplen <= 0 {
		snaplen = 262144
	}
	if len(expr) > maxFilterLength {
		return nil, &FilterError{Expr: expr[:64] + "...", Msg: fmt.Sprintf("expression longer than %d bytes", maxFilterLength)}
	}
	li, ok := linkInfoFor(linkType)
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedLinkType, linkType)
	}
	p, err := newParser(expr, li)
	if err != nil {
		return nil, err
	}
	root, err := p.parseAll()
	if err != nil {
		return nil, err
	}
	prog, err := assemble(root, uint32(snaplen))
	if err != nil {
		// Too long for the kernel: tcpdump's optimizer may still fit it.
		return nil, &FilterError{Expr: expr, Msg: err.Error(), Unsupported: true}
	}
	return prog, nil
}

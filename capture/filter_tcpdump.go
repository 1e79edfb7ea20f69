package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/bpf"
)

// TcpdumpFallback controls whether CompileFilter may run `tcpdump -ddd` for
// expressions that use valid tcpdump syntax our compiler does not implement
// (host names, port names, rarely used keywords). It never applies to
// syntax errors. Set it to false before compiling to use only the built-in
// compiler.
var TcpdumpFallback = true

var errNoTcpdump = errors.New("capture: tcpdump not found in $PATH")

// errRejectsAll is returned by CompileFilterTcpdump when tcpdump reports that
// the expression can match no packet; callers may treat it as "ret #0".
var errRejectsAll = errors.New("capture: tcpdump: expression rejects all packets")

// dltNames maps link types to tcpdump -y names.
var dltNames = map[uint16]string{
	linkNull: "NULL", linkEthernet: "EN10MB", linkRaw: "RAW", linkRawAlt12: "RAW", linkRawAlt14: "RAW",
	linkLoop: "LOOP", linkLinuxSLL: "LINUX_SLL", linkLinuxSLL2: "LINUX_SLL2", linkIPv4: "IPV4", linkIPv6: "IPV6",
}

// CompileFilterTcpdump compiles expr with the tcpdump binary found in $PATH
// (`tcpdump -y DLT -s snaplen -ddd EXPR`, which needs no privileges) and
// returns its program. It fails if tcpdump is not installed.
func CompileFilterTcpdump(expr string, linkType uint16, snaplen int) ([]bpf.RawInstruction, error) {
	path, err := exec.LookPath("tcpdump")
	if err != nil {
		return nil, errNoTcpdump
	}
	dlt, ok := dltNames[linkType]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedLinkType, linkType)
	}
	if snaplen <= 0 {
		snaplen = 262144
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-y", dlt, "-s", strconv.Itoa(snaplen), "-ddd", "--", expr)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "rejects all packets") {
			return nil, errRejectsAll
		}
		return nil, fmt.Errorf("capture: tcpdump -ddd %q: %v: %s", expr, err, msg)
	}
	return parseDDD(stdout.String())
}

// parseDDD parses `tcpdump -ddd` output: a count, then "op jt jf k" lines.
func parseDDD(s string) ([]bpf.RawInstruction, error) {
	var rows [][]string
	for _, ln := range strings.Split(s, "\n") {
		if f := strings.Fields(ln); len(f) > 0 {
			rows = append(rows, f)
		}
	}
	if len(rows) == 0 || len(rows[0]) != 1 {
		return nil, errors.New("capture: bad tcpdump -ddd output: no count")
	}
	n, err := strconv.Atoi(rows[0][0])
	if err != nil || n != len(rows)-1 || n <= 0 || n > maxBPFInsns {
		return nil, fmt.Errorf("capture: bad tcpdump -ddd output: count %q for %d lines", rows[0][0], len(rows)-1)
	}
	prog := make([]bpf.RawInstruction, n)
	for i, f := range rows[1:] {
		if len(f) != 4 {
			return nil, fmt.Errorf("capture: bad tcpdump -ddd output line %d", i+2)
		}
		var v [4]uint64
		for j := range f {
			if v[j], err = strconv.ParseUint(f[j], 10, 32); err != nil {
				return nil, fmt.Errorf("capture: bad tcpdump -ddd output line %d: %v", i+2, err)
			}
		}
		if v[0] > 0xffff || v[1] > 0xff || v[2] > 0xff {
			return nil, fmt.Errorf("capture: bad tcpdump -ddd output line %d: field out of range", i+2)
		}
		prog[i] = bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
	}
	return prog, nil
}

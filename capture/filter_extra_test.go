package capture

import (
	"errors"
	"math/rand"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

func TestCompileFilterErrors(t *testing.T) {
	tests := []struct {
		expr, want  string
		unsupported bool
	}{
		{"tcp prot 80", `capture: filter "tcp prot 80": position 5: unknown keyword "prot"`, false},
		{"tcp port 80 udp", `capture: filter "tcp port 80 udp": position 13: expected "and" or "or" before "udp" (tcpdump has no implicit "and")`, false},
		{"host 10.0.0.1 port 80", `capture: filter "host 10.0.0.1 port 80": position 15: expected "and" or "or" before "port" (tcpdump has no implicit "and")`, false},
		{"port 70000", `capture: filter "port 70000": position 6: illegal port number 70000 > 65535`, false},
		{"(tcp", `capture: filter "(tcp": position 5: expected ")", found end of expression`, false},
		{"tcp)", `capture: filter "tcp)": position 4: unexpected ")"`, false},
		{"net 10.0.0.1/8", `capture: filter "net 10.0.0.1/8": position 5: non-network bits set in "10.0.0.1/8"`, false},
		{"tcp[0:3] = 1", `capture: filter "tcp[0:3] = 1": position 7: data size must be 1, 2, or 4`, false},
		{"len / 0 = 1", `capture: filter "len / 0 = 1": position 5: division by zero`, false},
		{"tcp host 10.0.0.1", `capture: filter "tcp host 10.0.0.1": position 1: 'tcp' modifier applied to host`, false},
		{"ip port 80", `capture: filter "ip port 80": position 1: illegal qualifier of 'port': "ip"`, false},
		{"tcp port 80 and", `capture: filter "tcp port 80 and": position 16: unexpected end of expression`, false},
		{"port 80 @ 1", `capture: filter "port 80 @ 1": position 9: unexpected character '@'`, false},
		{"host example.com", `capture: filter "host example.com": position 6: host names are not supported ("example.com"); use an IP address`, true},
		{"tcp port http", `capture: filter "tcp port http": position 10: port names are not supported ("http"); use a number`, true},
		{"gateway 10.0.0.1", `capture: filter "gateway 10.0.0.1": position 1: keyword "gateway" is not supported by wsscope's filter compiler`, true},
	}
	for _, tt := range tests {
		_, err := compileOwn(tt.expr, linkEthernet, 0)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%q: error %v, want *FilterError", tt.expr, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.expr, err, tt.want)
		}
		if fe.Unsupported != tt.unsupported {
			t.Errorf("%q: Unsupported = %v", tt.expr, fe.Unsupported)
		}
	}
	if _, err := CompileFilter("tcp", 9999, 0); !errors.Is(err, ErrUnsupportedLinkType) {
		t.Errorf("unknown link type: %v", err)
	}
}

func TestCompileFilterEmptyAndSnaplen(t *testing.T) {
	for _, tt := range []struct {
		snap int
		want uint32
	}{{0, 262144}, {-1, 262144}, {96, 96}} {
		prog, err := CompileFilter("", linkEthernet, tt.snap)
		if err != nil || len(prog) != 1 || prog[0].Op != bpfRET || prog[0].K != tt.want {
			t.Errorf("snaplen %d: %v %v", tt.snap, prog, err)
		}
		prog, err = CompileFilter("tcp", linkEthernet, tt.snap)
		if err != nil {
			t.Fatal(err)
		}
		vm := mustVM(t, prog, "tcp")
		pkt := wrapLink(linkEthernet, corpusL3()[0])
		if n, _ := vm.Run(pkt); uint32(n) != tt.want && n != len(pkt) {
			t.Errorf("snaplen %d: accepted with %d", tt.snap, n)
		}
	}
}

// TestCompileFilterTcpdumpFallback: expressions we don't implement go to
// tcpdump when it is installed and fallback is on, never otherwise.
func TestCompileFilterTcpdumpFallback(t *testing.T) {
	old := TcpdumpFallback
	defer func() { TcpdumpFallback = old }()
	TcpdumpFallback = false
	if _, err := CompileFilter("tcp port http", linkEthernet, 0); err == nil {
		t.Fatal("port name compiled without fallback")
	}
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed: fallback not testable")
	}
	TcpdumpFallback = true
	prog, err := CompileFilter("tcp port http", linkEthernet, 0)
	if err != nil {
		t.Fatalf("fallback: %v", err)
	}
	ref, err := compileOwn("tcp port 80", linkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := mustVM(t, prog, "tcpdump"), mustVM(t, ref, "ours")
	for _, p := range corpusFor(linkEthernet) {
		if runVM(t, a, p.data) != runVM(t, b, p.data) {
			t.Errorf("tcp port http vs tcp port 80 differ on %s", p.name)
		}
	}
	// Syntax errors are ours, never tcpdump's.
	_, err = CompileFilter("tcp prot 80", linkEthernet, 0)
	if err == nil || !strings.Contains(err.Error(), `unknown keyword "prot"`) || strings.Contains(err.Error(), "tcpdump") {
		t.Errorf("syntax error with fallback on: %v", err)
	}
}

func TestFilterTrampolines(t *testing.T) {
	var parts []string
	for i := 0; i < 80; i++ {
		parts = append(parts, "port "+string(rune('1'+i%9))+"0"+string(rune('0'+i%10)))
	}
	prog, err := compileOwn(strings.Join(parts, " or ")+" or host 10.0.0.1", linkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 600 {
		t.Fatalf("program only %d long; test needs long jumps", len(prog))
	}
	ja := 0
	for _, r := range prog {
		if r.Op == bpfJMP|bpfJA {
			ja++
		}
	}
	if ja == 0 {
		t.Error("no trampolines in a program with long jumps")
	}
	vm := mustVM(t, prog, "long")
	hit := wrapLink(linkEthernet, l3pkt{name: "x", et: etIP, data: v4("10.0.0.1", "9.9.9.9", 6, 7, 7, 0, 0, false, 0)})
	miss := wrapLink(linkEthernet, l3pkt{name: "x", et: etIP, data: v4("10.0.0.2", "9.9.9.9", 6, 7, 7, 0, 0, false, 0)})
	if !runVM(t, vm, hit) || runVM(t, vm, miss) {
		t.Error("long program gives wrong results")
	}
	var tooLong []string
	for i := 0; i < 220; i++ {
		tooLong = append(tooLong, "host 10.0.0."+string(rune('0'+i%10)))
	}
	var fe *FilterError
	if _, err := compileOwn(strings.Join(tooLong, " or "), linkEthernet, 0); !errors.As(err, &fe) || !fe.Unsupported || !strings.Contains(err.Error(), "program too long") {
		t.Errorf("220 hosts: %v, want program too long", err)
	}
}

func FuzzCompileFilter(f *testing.F) {
	for _, e := range goldenExprs {
		f.Add(e, uint8(0), []byte{})
	}
	f.Add("tcp[tcp[tcp[0]]:2] * len - ip[1] / 3 % 7 ^ 5 << 2 > 9", uint8(1), []byte{1, 2, 3})
	lts := []uint16{linkEthernet, linkLinuxSLL, linkLinuxSLL2, linkRaw, linkNull, linkLoop, linkIPv4, linkIPv6}
	f.Fuzz(func(t *testing.T, expr string, lti uint8, pkt []byte) {
		lt := lts[int(lti)%len(lts)]
		prog, err := compileOwn(expr, lt, 1234)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "capture: filter ") {
				t.Fatalf("%q: bad error %T %v", expr, err, err)
			}
			if fe.Pos < 0 || fe.Pos > len(expr)+1 {
				t.Fatalf("%q: position %d out of range", expr, fe.Pos)
			}
			return
		}
		again, err := compileOwn(expr, lt, 1234)
		if err != nil || len(again) != len(prog) {
			t.Fatalf("%q: compile not deterministic", expr)
		}
		if len(prog) > maxBPFInsns {
			t.Fatalf("%q: %d instructions", expr, len(prog))
		}
		ins, ok := bpf.Disassemble(prog)
		if !ok {
			t.Fatalf("%q: undecodable instruction in %v", expr, prog)
		}
		vm, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatalf("%q: invalid program: %v", expr, err)
		}
		corpus := corpusFor(lt)
		rng := rand.New(rand.NewSource(int64(len(expr))))
		for _, p := range [][]byte{pkt, corpus[rng.Intn(len(corpus))].data} {
			n, err := vm.Run(p)
			if err != nil {
				t.Fatalf("%q: run: %v", expr, err)
			}
			if n != 0 && n != 1234 && n != len(p) {
				t.Fatalf("%q: returned %d", expr, n)
			}
		}
	})
}

func TestFilterNestingLimit(t *testing.T) {
	ok := strings.Repeat("(", 90) + "tcp" + strings.Repeat(")", 90)
	if _, err := compileOwn(ok, linkEthernet, 0); err != nil {
		t.Errorf("90 levels: %v", err)
	}
	for _, deep := range []string{
		strings.Repeat("(", 2000) + "tcp" + strings.Repeat(")", 2000),
		strings.Repeat("not ", 1000) + "tcp",
		strings.Repeat("tcp[", 500) + "0" + strings.Repeat("]", 500) + " = 1",
		strings.Repeat("-", 1000) + "1 = len",
	} {
		_, err := compileOwn(deep, linkEthernet, 0)
		if err == nil || !strings.Contains(err.Error(), "nested more than 100 levels") {
			t.Errorf("%.20s...: %v", deep, err)
		}
	}
}

func BenchmarkCompileFilter(b *testing.B) {
	b.ReportAllocs()
	expr := "host 10.0.0.1 and (tcp port 80 or tcp port 443) and tcp[13] & 2 != 0"
	b.SetBytes(int64(len(expr)))
	for i := 0; i < b.N; i++ {
		if _, err := compileOwn(expr, linkEthernet, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilterVM runs "tcp port 80 or 443" over the Ethernet corpus in
// the userspace VM (as file filtering does).
func BenchmarkFilterVM(b *testing.B) {
	prog, err := compileOwn("tcp port 80 or 443", linkEthernet, 0)
	if err != nil {
		b.Fatal(err)
	}
	ins, _ := bpf.Disassemble(prog)
	vm, err := bpf.NewVM(ins)
	if err != nil {
		b.Fatal(err)
	}
	corpus := corpusFor(linkEthernet)
	var total int
	for _, p := range corpus {
		total += len(p.data)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, p := range corpus {
			if _, err := vm.Run(p.data); err != nil {
				b.Fatal(err)
			}
		}
	}
}

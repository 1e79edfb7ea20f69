package capture

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// The -update flag may also be defined by other test files of this package;
// look it up by name so that both can coexist.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "regenerate golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	b, _ := g.Get().(bool)
	return b
}

// goldenExprs are compared with tcpdump on every link type.
var goldenExprs = []string{
	"",
	"ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp",
	"tcp port 80", "udp port 53", "sctp port 80", "port 80", "port 443", "port 0", "port 65535",
	"src port 80", "dst port 80", "tcp src port 80", "tcp dst port 80", "src or dst port 80", "src and dst port 443",
	"port 80 or 443", "port 80 or 443 or 53", "tcp port 80 or 443", "port 80 and not 443",
	"portrange 80-90", "tcp portrange 80-90", "udp portrange 50-60", "src portrange 80-90", "dst portrange 79-85", "portrange 90-80",
	"host 10.0.0.1", "host 192.168.1.1", "src host 10.0.0.1", "dst host 10.0.0.1", "ip host 10.0.0.1",
	"arp host 10.0.0.1", "rarp host 1.2.3.4", "src or dst host 1.2.3.4", "src and dst host 127.0.0.1",
	"host ::1", "ip6 host ::1", "src host 2001:db8::1", "dst host 2001:db8:1::2", "host fe80::1 or host ff02::1",
	"net 10.0.0.0/8", "net 10", "net 10.1", "net 10.1.2", "net 192.168.1.0/24", "src net 10.0.0.0/8", "dst net 10.0.0.0/8",
	"net 10.1.2.0 mask 255.255.255.0", "ip net 172.16.0.0/12", "net 0.0.0.0/0", "net 2001:db8::/32", "ip6 net 2001:db8::/32",
	"src net 2001:db8::/48", "net 2001:db8:0:0:1::/80", "net 2001:db8::/127", "net ::/0",
	"ip proto 17", "ip proto 6", "ip6 proto 6", "ip6 proto 17", "proto 17", "ip proto \\tcp", "ip6 proto \\udp", "proto \\sctp",
	"ether proto 0x800", "ether proto 0x86dd", "ether proto \\arp", "ether proto 0x88cc",
	"tcp and port 80", "tcp && port 80", "tcp || udp", "!tcp", "not tcp", "not port 80", "not (port 80 or port 443)",
	"tcp or udp and port 53", "(tcp or udp) and port 53", "tcp or (udp and port 53)", "ip and not net 10.0.0.0/8",
	"host 10.0.0.1 and port 80", "host 10.0.0.1 and (port 80 or port 443)", "ip6 and tcp port 80", "ip and tcp port 80",
	"tcp port 80 and host 2001:db8::1", "not ip6 and port 53", "not not tcp", "((tcp))", "(tcp port 80) or (udp port 53)",
	"tcp[13] & 2 != 0", "tcp[13] & 0x12 = 0x12", "tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
	"tcp[13] = 0x18", "tcp[2:2] = 80", "tcp[0:2] > 1023", "tcp[0:4] = 0x00509c40", "udp[0:2] = 53", "udp[2:2] < 100",
	"ip[0] & 0xf != 5", "ip[6:2] & 0x1fff = 0", "ip[9] = 6", "ip[2:2] > 40", "ip[8] >= 64", "ip[8] <= 63",
	"ip6[6] = 17", "ip6[7] = 64", "icmp[0] = 8", "icmp[icmptype] = icmp-echo", "icmp6[0] = 128", "ether[0] & 1 != 0", "ether[12:2] = 0x800",
	"tcp[(tcp[12]>>4)*4] = 0x47", "tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420", "ip[2:2] - ((ip[0]&0xf)<<2) > 40",
	"len > 100", "len < 60", "len >= 60", "len <= 100", "len = 66", "len != 66", "less 70", "greater 70", "len - 14 > 50",
	"ip[2:2] + 14 = len", "len % 2 = 0", "len / 2 > 40", "len * 2 > 160", "len ^ 1 = 67", "0 - len > 5", "ip[0] - len > 5", "ip[0:2]+1 > len",
	"len & 0xff > 0x40", "len | 1 = 67", "len << 1 > 140", "len >> 1 > 40",
	"vlan", "vlan 10", "vlan 20", "vlan and tcp port 80", "vlan 10 and ip6", "vlan and vlan 20 and tcp", "vlan 10 and host 10.0.0.1",
	"ether host 01:02:03:04:05:06", "ether src 01:02:03:04:05:06", "ether dst 01:02:03:04:05:06", "ether host 02:00:00:00:00:01 and tcp",
	"tcp port 80 and tcp[13] & 2 != 0", "host 127.0.0.1 and tcp port 80 and len > 60", "icmp or icmp6 or arp",
	"host 10.0.0.1 or 10.1.2.3", "src 10.0.0.1", "dst 192.168.1.1 or 10.0.0.2", "ip src 10.0.0.1", "dst net 10", "tcp dst port 80 or 443",
	"ip6 src host ::1", "udp src portrange 50-60", "ether src 01:02:03:04:05:06 or ether dst 02:00:00:00:00:01", "ip and ip6",
	"arp or rarp", "icmp[icmptype] != icmp-echo and icmp", "ip[2:2] > 576", "greater 100", "src or dst net 192.168.0.0/16",
	"port 80 or host 10.0.0.1 and tcp", "tcp port 80 and (host 10.0.0.1 or host 2001:db8::1)", "ip proto 132", "not(tcp)", "!(udp or icmp)",
	"ip6 and not ip6 proto 6", "tcp[tcpflags] & (tcp-fin|tcp-rst) != 0", "tcp[12] >> 4 > 5", "ip[0] & 0xf > 5 and tcp", "udp and not port 53",
	"port 53 and not udp", "net 127.0.0.0/8 or net ::1/128", "net 10.0.0.0 mask 255.0.0.0 and port 80", "tcp src port 443 and dst net 10.0.0.0/8",
	"tcp[13] & 2 != 0 and (port 80 or (443))", "host 10.0.0.1 and not 10.0.0.2", "port 80 and (not 443)", "udp port 53 or 80 or tcp port 22",
	"(ip[0]) & 0xf = 5", "(tcp[13] & 2) != 0 and (tcp)", "tcp[13] & 2 != 0 or (udp[0:2] = 53 and ip)",
	// errors (must be rejected by both)
	"tcp prot 80", "tcp port 80 udp", "net 10.0.0.1/8", "port 70000", "tcp host 10.0.0.1", "ip6 host 10.0.0.1",
	"port", "host", "(tcp", "tcp)", "tcp and", "and tcp", "tcp[13", "tcp[0:3] = 1", "len / 0 = 1", "ip port 80", "foo", "10.0.0.1",
	"ip[0] &", "tcp port 80 80", "vlan 5000", "ip proto 300",
	"port 80 and tcp or 443", "port 80 and len > 5 or 443", "port 80 and (tcp) or 443", "port 80 and vlan or 443", "port 80 and less 5 or 443",
	"not 443", "tcp or 443", "(host 10.0.0.1 or 10.0.0.2) and (port 80 or 443)",
}

func init() {
	// Long expressions: programs whose jumps exceed 255 instructions need
	// trampolines.
	var ports, hosts []string
	for i := 0; i < 40; i++ {
		ports = append(ports, fmt.Sprintf("port %d", 1000+i*997%40000))
		hosts = append(hosts, fmt.Sprintf("host 10.%d.%d.%d", i%3, i, (i*7)%256))
	}
	ports = append(ports, "port 443")
	hosts = append(hosts, "host 10.0.0.1", "host 2001:db8::1")
	goldenExprs = append(goldenExprs,
		strings.Join(ports, " or "),
		"tcp and ("+strings.Join(hosts, " or ")+") and not port 22",
		"not ("+strings.Join(hosts[:20], " or ")+") and ("+strings.Join(ports[:20], " or ")+")",
	)
}

type goldenEntry struct {
	DDD   string `json:"ddd,omitempty"`   // tcpdump -ddd output
	Error string `json:"error,omitempty"` // tcpdump's error message
}

var goldenLinks = []struct {
	lt   uint16
	name string
}{
	{linkEthernet, "EN10MB"}, {linkLinuxSLL, "LINUX_SLL"}, {linkLinuxSLL2, "LINUX_SLL2"}, {linkRaw, "RAW"},
	{linkNull, "NULL"}, {linkLoop, "LOOP"}, {linkIPv4, "IPV4"}, {linkIPv6, "IPV6"},
}

func goldenPath(name string) string { return filepath.Join("testdata", "filters", name+".json") }

func tcpdumpDDD(t *testing.T, dlt, expr string) goldenEntry {
	t.Helper()
	cmd := exec.Command("tcpdump", "-y", dlt, "-ddd", "--", expr)
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(se.String())
		if msg == "" {
			t.Fatalf("tcpdump -y %s -ddd %q: %v", dlt, expr, err)
		}
		return goldenEntry{Error: msg}
	}
	return goldenEntry{DDD: so.String()}
}

func loadGolden(t *testing.T, name string) map[string]goldenEntry {
	t.Helper()
	if updateGolden() {
		if _, err := exec.LookPath("tcpdump"); err != nil {
			t.Skip("-update needs tcpdump in $PATH (apt-get install tcpdump); golden files left unchanged")
		}
		m := make(map[string]goldenEntry)
		for _, e := range goldenExprs {
			m[e] = tcpdumpDDD(t, name, e)
		}
		b, err := json.MarshalIndent(m, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(goldenPath(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath(name), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return m
	}
	b, err := os.ReadFile(goldenPath(name))
	if err != nil {
		t.Fatalf("%v (regenerate with go test ./capture -run TestFilterMatchesTcpdump -update)", err)
	}
	m := make(map[string]goldenEntry)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustVM(t *testing.T, raw []bpf.RawInstruction, what string) *bpf.VM {
	t.Helper()
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("%s: program does not disassemble: %v", what, raw)
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatalf("%s: invalid program: %v\n%v", what, err, ins)
	}
	return vm
}

func runVM(t *testing.T, vm *bpf.VM, pkt []byte) bool {
	t.Helper()
	n, err := vm.Run(pkt)
	if err != nil {
		t.Fatalf("vm.Run: %v", err)
	}
	return n > 0
}

// TestFilterMatchesTcpdump compiles every expression of goldenExprs for every
// link type with our compiler and checks that it accepts exactly the packets
// tcpdump's program (from the golden files) accepts, and fails exactly when
// tcpdump fails.
func TestFilterMatchesTcpdump(t *testing.T) {
	total, compared := 0, 0
	for _, gl := range goldenLinks {
		t.Run(gl.name, func(t *testing.T) {
			golden := loadGolden(t, gl.name)
			corpus := append(corpusFor(gl.lt), mutatedCorpus(gl.lt, 4)...)
			for _, expr := range goldenExprs {
				g, ok := golden[expr]
				if !ok {
					t.Errorf("%q: missing from %s (run with -update)", expr, goldenPath(gl.name))
					continue
				}
				ours, err := compileOwn(expr, gl.lt, 262144)
				var theirs []bpf.RawInstruction
				switch {
				case g.Error != "" && strings.Contains(g.Error, "rejects all packets"):
					theirs = []bpf.RawInstruction{{Op: bpfRET, K: 0}}
				case g.Error != "":
					var fe *FilterError
					if err == nil {
						t.Errorf("%s %q: tcpdump fails (%s) but we compiled it", gl.name, expr, g.Error)
					} else if !errors.As(err, &fe) {
						t.Errorf("%s %q: error %v is not a *FilterError", gl.name, expr, err)
					}
					continue
				default:
					var perr error
					theirs, perr = parseDDD(g.DDD)
					if perr != nil {
						t.Fatalf("%q: golden: %v", expr, perr)
					}
				}
				if err != nil {
					t.Errorf("%s %q: tcpdump compiles it, we fail: %v", gl.name, expr, err)
					continue
				}
				vmOurs := mustVM(t, ours, "ours "+expr)
				vmTheirs := mustVM(t, theirs, "tcpdump "+expr)
				for _, p := range corpus {
					a, b := runVM(t, vmOurs, p.data), runVM(t, vmTheirs, p.data)
					compared++
					if a != b {
						ins, _ := bpf.Disassemble(ours)
						t.Errorf("%s %q on %s: ours=%v tcpdump=%v\nours: %v", gl.name, expr, p.name, a, b, ins)
					}
				}
				total++
			}
		})
	}
	t.Logf("compared %d expression×link-type programs on %d expression×packet runs", total, compared)
}

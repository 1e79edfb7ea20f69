package main

// Hostile-input tests of the built binary: every case of pcaps/hostile is
// generated into a temporary directory and wsscope is run on it as a
// separate process, so that a panic, a hang or the peak memory (getrusage
// maxrss) of the real program is what is checked.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsscope/wsscope/pcaps/hostile"
)

var (
	binOnce sync.Once
	binPath string
	binDir  string
	binErr  error
)

func TestMain(m *testing.M) {
	if os.Getenv(rssHelperEnv) != "" {
		os.Exit(rssHelper())
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// wsscopeBinary builds the command once per test run, as a machine without
// a C toolchain builds it (CGO_ENABLED=0), for every test that runs the
// binary (hostile inputs, -Z, the tmux smoke test). Tests must not modify
// it; TestMain removes it.
func wsscopeBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "wsscope-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "wsscope")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// rssHelperEnv makes the test binary run as a small launcher.
//
// A child's ru_maxrss on Linux includes the memory image it was forked
// from: Go starts children with vfork (CLONE_VM), and exec records the
// parent's high-water mark into the child's. Measured directly from a test
// process that has just read a large output, a tiny run of wsscope would
// show the test's RSS. So runBinary starts a fresh copy of the test binary
// (a few MiB), which starts wsscope and reports its rusage on fd 3; the
// baseline run subtracts what the launcher adds.
const rssHelperEnv = "WSSCOPE_HOSTILE_RSS_HELPER"

func rssHelper() int {
	args := strings.Split(os.Getenv(rssHelperEnv), "\x1f")
	timeout, _ := time.ParseDuration(os.Getenv(rssHelperEnv + "_TIMEOUT"))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	cmd.Env = []string{} // nothing of the test environment
	cmd.Run()
	rep := os.NewFile(3, "report")
	if cmd.ProcessState == nil {
		fmt.Fprintf(rep, "fail")
		return 3
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = int64(ru.Maxrss)
	}
	fmt.Fprintf(rep, "%d %d %d %t", cmd.ProcessState.ExitCode(), rss,
		cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime(), ctx.Err() != nil)
	rep.Close()
	return 0
}

// procResult is what one run of the binary did.
type procResult struct {
	code   int
	stdout string // path of the file holding stdout
	stderr string
	rssKiB int64 // peak resident set size
	cpu    time.Duration
	wall   time.Duration
}

// runBinary runs wsscope with args, stdout to a file, and a wall-clock
// timeout (a hang fails the test).
func runBinary(t *testing.T, timeout time.Duration, args ...string) procResult {
	t.Helper()
	bin := wsscopeBinary(t)
	outPath := filepath.Join(t.TempDir(), "stdout")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	repR, repW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer repR.Close()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), rssHelperEnv+"="+strings.Join(append([]string{bin}, args...), "\x1f"),
		rssHelperEnv+"_TIMEOUT="+timeout.String())
	cmd.Stdout, cmd.Stderr = out, &errb
	cmd.ExtraFiles = []*os.File{repW}
	start := time.Now()
	err = cmd.Start()
	repW.Close()
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := io.ReadAll(repR)
	cmd.Wait()
	r := procResult{stdout: outPath, stderr: errb.String(), wall: time.Since(start)}
	var cpu time.Duration
	var timedOut bool
	if _, err := fmt.Sscanf(string(rep), "%d %d %d %t", &r.code, &r.rssKiB, &cpu, &timedOut); err != nil {
		t.Fatalf("%q: launcher report %q: %v; stderr %.300q", args, rep, err, r.stderr)
	}
	r.cpu = cpu
	if timedOut {
		t.Fatalf("%q: no answer within %v (hang?); stderr %.300q", args, timeout, r.stderr)
	}
	if runtime.GOOS == "darwin" {
		r.rssKiB /= 1024 // bytes there
	}
	return r
}

// checkExit: exit 0 or 1, never a panic or a runtime trace; on 1, exactly
// one "wsscope: " error line; on 0, only "wsscope: " warning lines.
func checkExit(t *testing.T, r procResult) {
	t.Helper()
	if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "fatal error") {
		t.Fatalf("crashed (exit %d):\n%.3000s", r.code, r.stderr)
	}
	switch r.code {
	case 0:
		for _, l := range strings.SplitAfter(r.stderr, "\n") {
			if l != "" && (!strings.HasPrefix(l, "wsscope: ") || !strings.HasSuffix(l, "\n")) {
				t.Errorf("exit 0 with stderr line %q", l)
			}
		}
	case 1:
		if !strings.HasPrefix(r.stderr, "wsscope: ") || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
			t.Errorf("exit 1 without one clear error line: %q", r.stderr)
		}
	default:
		t.Errorf("exit %d (want 0, or 1 for a damaged file): %.500q", r.code, r.stderr)
	}
}

// hRecord holds the fields of a JSON record the hostile checks look at.
type hRecord struct {
	Record     string  `json:"record"`
	Conn       *int    `json:"conn"`
	Client     *string `json:"client"`
	From       string  `json:"from"`
	Opcode     any     `json:"opcode"`
	Len        int64   `json:"len"`
	Incomplete bool    `json:"incomplete"`
	Truncated  bool    `json:"truncated"`
	Text       *string
	Data       *string
	Code       string `json:"code"` // anomaly records
	Detail     string `json:"detail"`
	Anomalies  []struct {
		Code string `json:"code"`
	} `json:"anomalies"`
	Upgraded *bool `json:"upgraded"`
	State    string
}

// hOutput summarises a JSON run.
type hOutput struct {
	recs  []hRecord // text/data kept only up to 4 KiB
	codes map[string]int
	lines int
}

func (o *hOutput) has(code string) bool { return o.codes[code] > 0 }

func (o *hOutput) messages() []hRecord {
	var ms []hRecord
	for _, r := range o.recs {
		if r.Record == "message" {
			ms = append(ms, r)
		}
	}
	return ms
}

// readJSON checks that every line of the file is one valid JSON object
// and collects the records (without long payloads).
func readJSON(t *testing.T, path string) *hOutput {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	o := &hOutput{codes: map[string]int{}}
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(line) > 0 {
			o.lines++
			if line[len(line)-1] != '\n' {
				t.Fatalf("line %d does not end in a newline", o.lines)
			}
			if !json.Valid(line) {
				t.Fatalf("line %d is not valid JSON: %.300q", o.lines, line)
			}
			for _, b := range line[:len(line)-1] {
				if b < 0x20 || b == 0x7f {
					t.Fatalf("line %d: raw control byte %#x in JSON", o.lines, b)
				}
			}
			var r hRecord
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatalf("line %d: %v", o.lines, err)
			}
			for _, p := range []**string{&r.Text, &r.Data} {
				if *p != nil && len(**p) > 4096 {
					s := (**p)[:4096]
					*p = &s
				}
			}
			if r.Record == "anomaly" {
				o.codes[r.Code]++
			}
			for _, a := range r.Anomalies {
				o.codes[a.Code]++
			}
			o.recs = append(o.recs, r)
			if cap(line) > 1<<22 {
				line = nil
			}
			line = line[:0]
		}
		if err == io.EOF {
			return o
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkTextFile: no raw control characters from payloads in text output.
func checkTextFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkTerminalSafe(t, string(data))
}

// Memory budgets, from the documented limits (README "Limits").
const (
	mib           = 1 << 10 // KiB per MiB (rss is in KiB)
	maxMessageMiB = 64      // --max-message default
	maxBufferMiB  = 256     // --max-buffer default
	maxConns      = 262144  // --max-conns default
	// shardEventsMiB: decoded messages the sharded pipeline holds for its
	// merger (README Limits: 8 MiB, plus 1 MiB per core on 2 cores).
	shardEventsMiB = 8 + 2
	handshakeKiB   = 64 // HTTP handshake per direction
	lightBudgetMiB = 24 // small inputs: no limit can be filled; output buffers and GC slack
)

// hostileExpect is what a case must show beyond the general checks.
type hostileExpect struct {
	// budget is the peak RSS (MiB) allowed above the baseline runs,
	// derived from the limits in effect that the case can fill.
	budget func(l runLimits) int64
	// text also runs --text and checks it.
	text  bool
	check func(t *testing.T, o *hOutput)
}

// hostileStderr is what the one stderr line of a case must say (a warning
// on exit 0, the error on exit 1).
var hostileStderr = map[string]string{
	"snaplen-65":           "cut by the snapshot length",
	"unknown-link":         "unsupported link type 147",
	"zero-length-records":  "zero-length record",
	"enormous-record":      "exceeds limit",
	"record-over-snaplen":  "exceeds limit",
	"truncated-mid-record": "truncated record",
}

// wantCodes fails unless every code was reported.
func wantCodes(codes ...string) func(t *testing.T, o *hOutput) {
	return func(t *testing.T, o *hOutput) {
		t.Helper()
		for _, c := range codes {
			if !o.has(c) {
				t.Errorf("no %s anomaly; got %v", c, o.codes)
			}
		}
	}
}

// afterNormal: the valid connection written after the hostile part is
// decoded whole (the analysis went on).
func afterNormal(t *testing.T, o *hOutput) {
	t.Helper()
	var got []string
	for _, m := range o.messages() {
		if m.Text != nil && (*m.Text == "hello after the storm" || *m.Text == "still alive") && !m.Incomplete && !m.Truncated && len(m.Anomalies) == 0 {
			got = append(got, *m.Text)
		}
	}
	if len(got) != 2 {
		t.Errorf("the valid connection after the hostile part was not decoded whole: %q", got)
	}
}

func all(fs ...func(*testing.T, *hOutput)) func(*testing.T, *hOutput) {
	return func(t *testing.T, o *hOutput) {
		t.Helper()
		for _, f := range fs {
			f(t, o)
		}
	}
}

// runLimits are the limits a run has: the documented defaults unless the
// case's flags change them.
type runLimits struct{ msgMiB, bufMiB, conns int64 }

func limitsOf(args []string) runLimits {
	l := runLimits{maxMessageMiB, maxBufferMiB, maxConns}
	for i := 0; i+1 < len(args); i++ {
		var n int64
		fmt.Sscanf(args[i+1], "%d", &n)
		switch args[i] {
		case "--max-message":
			l.msgMiB = n // cases give sizes in M
		case "--max-buffer":
			l.bufMiB = n
		case "--max-conns":
			l.conns = n
		}
	}
	return l
}

func light(runLimits) int64 { return lightBudgetMiB }

// messageBudget is the RSS allowed for a case filling one message to the
// limit: the kept payload, its last doubling, and (JSON) the whole record
// built in memory before it is written (base64: 4/3; worst escaping 6×),
// each counted twice for the garbage collector's headroom.
func messageBudget(encode int64) func(l runLimits) int64 {
	return func(l runLimits) int64 {
		return lightBudgetMiB + shardEventsMiB + 2*(l.msgMiB+l.msgMiB/2+encode*l.msgMiB)
	}
}

var hostileExpects = map[string]hostileExpect{
	"len-2^63-1": {light, true, all(afterNormal, func(t *testing.T, o *hOutput) {
		for _, m := range o.messages() {
			if m.Len >= 256<<10 && !m.Incomplete && !m.Truncated {
				t.Errorf("frame declaring 2^63-1 bytes emitted unmarked (%d bytes)", m.Len)
			}
		}
	})},
	"len-2^64-1":     {light, true, all(afterNormal, wantCodes("length-top-bit"))},
	"len-2^62-split": {messageBudget(2), false, all(afterNormal, wantCodes("message-too-large"))},
	"million-frames": {light, true, all(afterNormal, wantCodes("too-many-frames"), func(t *testing.T, o *hOutput) {
		var big, small int
		for _, m := range o.messages() {
			switch {
			case m.Len == 1_000_000 && m.Opcode == "text":
				big++
			case m.Len == 1 && m.Opcode == "binary":
				small++
			}
		}
		if big != 1 || small != 10_000 {
			t.Errorf("%d messages of 1,000,000 frames (want 1), %d one-frame messages (want 10000)", big, small)
		}
	})},
	"control-126":       {light, true, all(afterNormal, wantCodes("control-too-long"))},
	"endless-fragments": {messageBudget(2), false, all(afterNormal, wantCodes("message-too-large"))},
	"deflate-bomb":      {messageBudget(2), false, afterNormal},
	"deflate-1000x": {func(runLimits) int64 { return lightBudgetMiB + shardEventsMiB + 2*(1+1+2) }, false, all(afterNormal, func(t *testing.T, o *hOutput) {
		n := 0
		for _, m := range o.messages() {
			if m.Len == 1<<20 && !m.Incomplete && !m.Truncated && len(m.Anomalies) == 0 {
				n++
			}
		}
		if n != 48 {
			t.Errorf("%d of 48 context-takeover messages of 1 MiB decoded whole", n)
		}
	})},
	"nul-text":        {messageBudget(1), false, afterNormal}, // streamed: escaping costs no more than the payload
	"bomb-train":      {messageBudget(2), false, afterNormal},
	"syn-flood":       {connBudget, false, afterNormal},
	"idle-conns":      {connBudget, false, all(afterNormal, wantCodes("limit"))},
	"handshake-hoard": {func(l runLimits) int64 { return lightBudgetMiB + 1000*2*2048/(1<<20) + 2*l.bufMiB }, false, afterNormal},
	"ooo-never-closes": {func(runLimits) int64 { return lightBudgetMiB + shardEventsMiB + 2*4 }, false, all(afterNormal, wantCodes("limit"), func(t *testing.T, o *hOutput) {
		for _, m := range o.messages() {
			if m.Text != nil && *m.Text == "client still talking" {
				return
			}
		}
		t.Error("client message of the never-closing connection missing")
	})},
	"ooo-global":           {func(l runLimits) int64 { return lightBudgetMiB + shardEventsMiB + 2*l.bufMiB }, false, all(afterNormal, wantCodes("limit"))},
	"retrans-conflict":     {light, true, checkConflict},
	"h2c-upgrade":          {light, true, all(afterNormal, noWebSocket("h2c"))},
	"tls-on-80":            {light, true, all(afterNormal, noWebSocket("TLS"))},
	"101-no-request":       {light, true, all(afterNormal, wantCodes("handshake-no-request"))},
	"response-first":       {light, true, afterNormal},
	"header-1mb":           {light, true, afterNormal},
	"bad-key":              {light, true, all(afterNormal, wantCodes("handshake-bad-key", "handshake-wrong-accept", "handshake-missing-accept"))},
	"duplicate-headers":    {light, true, all(afterNormal, wantCodes("handshake-duplicate-header"))},
	"evil-payloads":        {light, true, all(afterNormal, wantCodes("invalid-utf8"))},
	"snaplen-65":           {light, true, nil},
	"unknown-link":         {light, true, nil},
	"zero-length-records":  {light, true, nil},
	"enormous-record":      {light, true, nil},
	"record-over-snaplen":  {light, true, nil},
	"truncated-mid-record": {light, true, nil},
}

// connBudget is the RSS allowed for n tracked connections that each hold a
// few bytes: the conn-table entry and handshake state, about 1.1 KiB of heap
// each (measured by reassembly's TestHostileIdleConnMemory, which bounds it
// at 2 KiB), times 2 for the garbage collector.
func connBudget(l runLimits) int64 { return lightBudgetMiB + l.conns*2*2048/(1<<20) }

// noWebSocket: a non-WebSocket upgrade or protocol (on the hostile
// client address) is not reported as a WebSocket and none of its bytes
// become messages.
func noWebSocket(what string) func(t *testing.T, o *hOutput) {
	return func(t *testing.T, o *hOutput) {
		t.Helper()
		for _, r := range o.recs {
			if r.Client == nil || *r.Client != "192.0.2.10:40000" {
				continue
			}
			if r.Record == "connection" && r.Upgraded != nil && *r.Upgraded {
				t.Errorf("%s connection reported as an upgraded WebSocket", what)
			}
			if r.Record == "message" {
				t.Errorf("%s bytes decoded as WebSocket messages", what)
			}
		}
	}
}

// checkConflict: retransmissions with other bytes are reported and the
// first copy is what the messages carry.
func checkConflict(t *testing.T, o *hOutput) {
	t.Helper()
	if !o.has("retransmission-conflict") {
		t.Errorf("no retransmission-conflict anomaly: %v", o.codes)
	}
	var texts []string
	for _, m := range o.messages() {
		if m.Text != nil && m.From == "server" {
			texts = append(texts, *m.Text)
		}
	}
	want := []string{hostile.ConflictFirst, "third message", "fills the hole", hostile.ConflictOOO1, "last"}
	if fmt.Sprint(texts) != fmt.Sprint(want) {
		t.Errorf("server messages %q, want the first copies %q", texts, want)
	}
}

// baselineRSS is the peak RSS of runs on valid traffic, where no limit can
// be filled: a small capture, and a bulk one of the size and shape of the
// ooo-global case (the pipeline's queues and I/O buffers full). Budgets are
// counted above the larger.
var (
	baseOnce sync.Once
	baseKiB  int64
)

func baselineRSS(t *testing.T) int64 {
	baseOnce.Do(func() {
		dir := t.TempDir()
		var bulk bytes.Buffer
		hostile.Bulk(&bulk)
		for name, data := range map[string][]byte{"valid": hostile.Valid(), "bulk": bulk.Bytes()} {
			p := filepath.Join(dir, name+".pcap")
			os.WriteFile(p, data, 0o644)
			r := runBinary(t, time.Minute, "-r", p, "--json")
			checkExit(t, r)
			t.Logf("baseline %s: peak RSS %d KiB", name, r.rssKiB)
			baseKiB = max(baseKiB, r.rssKiB)
		}
	})
	return baseKiB
}

var hostileFull = flag.Bool("hostile-full", false, "TestHostileBinary also runs the heavy cases at full size (1,000,000 connections, 80 MiB frames, 60 MiB NUL text) with default limits (minutes)")

// TestHostileBinary runs the built binary on every generated case.
func TestHostileBinary(t *testing.T) {
	base := baselineRSS(t)
	dir := t.TempDir()
	cs := hostile.Cases()
	if *hostileFull {
		for _, c := range hostile.FullCases() {
			c.Name += "/full"
			cs = append(cs, c)
		}
	}
	for _, c := range cs {
		name, _, _ := strings.Cut(c.Name, "/")
		exp, ok := hostileExpects[name]
		if !ok {
			if !strings.HasPrefix(c.Name, "pcapng-") {
				t.Errorf("case %s has no expectation", c.Name)
			}
			exp = hostileExpect{budget: light, text: true}
		}
		t.Run(c.Name, func(t *testing.T) {
			if c.Heavy && testing.Short() {
				t.Skip("heavy case (-short)")
			}
			t.Parallel()
			path := filepath.Join(dir, strings.ReplaceAll(c.Name, "/", "-")+".pcap")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Write(f); err != nil {
				t.Fatal(err)
			}
			st, _ := f.Stat()
			f.Close()
			defer os.Remove(path)
			size := st.Size()
			modes := []string{"--json"}
			if exp.text {
				modes = append(modes, "--text")
			}
			for _, mode := range modes {
				args := append([]string{"-r", path, mode, "--no-progress"}, c.Args...)
				r := runBinary(t, 3*time.Minute, args...)
				checkExit(t, r)
				if want := hostileStderr[name]; !strings.Contains(r.stderr, want) {
					t.Errorf("%s: stderr %q does not say %q", mode, r.stderr, want)
				}
				t.Logf("%s: %.1f MB in, exit %d, peak RSS %d MiB, cpu %.2fs, wall %.2fs; %.80s",
					mode, float64(size)/1e6, r.code, r.rssKiB/mib, r.cpu.Seconds(), r.wall.Seconds(), strings.TrimSpace(r.stderr))
				if b := exp.budget(limitsOf(c.Args)); r.rssKiB > base+b*mib {
					t.Errorf("%s: peak RSS %d MiB exceeds %d MiB (baseline %d MiB + budget %d MiB for limits %+v)", mode, r.rssKiB/mib, (base+b*mib)/mib, base/mib, b, limitsOf(c.Args))
				}
				// Bounded work per input byte: 2 s plus 2 µs per byte of
				// capture (normal decoding costs a few ns), and 10 ns per
				// byte the inflate ratio limit (1000:1) lets a compressed
				// byte become.
				lim := 2*time.Second + time.Duration(size)*2*time.Microsecond
				if c.Compressed {
					lim += time.Duration(size) * 1000 * 10 * time.Nanosecond
				}
				if r.cpu > lim {
					t.Errorf("%s: %.2fs of CPU for %d bytes (limit %v)", mode, r.cpu.Seconds(), size, lim)
				}
				if mode == "--text" {
					checkTextFile(t, r.stdout)
					continue
				}
				o := readJSON(t, r.stdout)
				if exp.check != nil {
					exp.check(t, o)
				}
			}
		})
	}
}

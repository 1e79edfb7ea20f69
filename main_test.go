package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files pcaps/NAME.jsonl and pcaps/NAME.txt")

// runArgs runs the command in-process with buffers for its streams.
func runArgs(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &environ{Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = run(ctx, args, env)
	return code, out.String(), errb.String()
}

// oneErrorLine checks that stderr is exactly one "wsscope: " line.
func oneErrorLine(t *testing.T, stderr string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "wsscope: ") || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("want one wsscope: error line, got %q", stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the error line
	}{
		{nil, "nothing to do"},
		{[]string{"-x"}, "-x"},
		{[]string{"-r", "a.pcap", "-i", "eth0"}, "exclude"},
		{[]string{"-r", "a.pcap", "--json", "--text"}, "exclude"},
		{[]string{"-r", "a.pcap", "--from", "middle"}, "--from"},
		{[]string{"-r", "a.pcap", "--opcode", "txt"}, "--opcode"},
		{[]string{"-r", "a.pcap", "--regex", "a("}, "--regex"},
		{[]string{"-r", "a.pcap", "--conn", "x"}, "--conn"},
		{[]string{"-r", "a.pcap", "-c", "-3"}, "-c"},
		{[]string{"-r", "a.pcap", "-c", "many"}, "-c"},
		{[]string{"-r", "a.pcap", "-w", "out.pcapng"}, "-w"},
		{[]string{"-r", "a.pcap", "--opcode", "ping", "--control=false"}, "contradicts"},
		{[]string{"-r", "a.pcap", "--tui"}, "terminal"},
		{[]string{"-r", "a.pcap", "--preview", "-3"}, "--preview"},
		{[]string{"-r", "a.pcap", "--max-message", "12Q"}, "-max-message"},
		{[]string{"-r", "a.pcap", "--max-buffer", "0"}, "-max-buffer"},
		{[]string{"-r", "a.pcap", "--max-conn-buffer", "-1K"}, "-max-conn-buffer"},
		{[]string{"-r", "a.pcap", "--max-conns", "-1"}, "--max-conns"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runArgs(t, nil, tt.args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", tt.args, code, stderr)
		}
		oneErrorLine(t, stderr)
		if !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: error %q does not mention %q", tt.args, stderr, tt.want)
		}
		if stdout != "" {
			t.Errorf("%q: stdout %q", tt.args, stdout)
		}
	}
}

func TestHelpVersion(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "-help"} {
		code, out, _ := runArgs(t, nil, arg)
		if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "Examples:") {
			t.Errorf("%s: exit %d, output %q", arg, code, out)
		}
	}
	code, out, _ := runArgs(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(out, "wsscope ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func TestListInterfaces(t *testing.T) {
	code, out, stderr := runArgs(t, nil, "-D")
	if code != 0 {
		t.Fatalf("-D: exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, "1.") {
		t.Errorf("-D output %q", out)
	}
}

func TestParseArgsFilter(t *testing.T) {
	tests := []struct {
		args   []string
		filter string
		json   bool
	}{
		{[]string{"-r", "f.pcap", "tcp", "port", "80"}, "tcp port 80", false},
		{[]string{"-r", "f.pcap", "tcp", "port", "80", "--json"}, "tcp port 80", true},
		{[]string{"-r", "f.pcap", "port", "80", "--json", "and", "not", "host", "1.2.3.4"}, "port 80 and not host 1.2.3.4", true},
		{[]string{"-r", "f.pcap", "--", "port", "80", "--json"}, "port 80 --json", false},
		{[]string{"--json", "-r", "f.pcap", "tcp[13]", "&", "2", "!=", "0"}, "tcp[13] & 2 != 0", true},
		{[]string{"-r", "f.pcap"}, "", false},
	}
	for _, tt := range tests {
		cfg, err := parseArgs(tt.args, nil)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if cfg.filter != tt.filter || cfg.jsonOut != tt.json || cfg.read != "f.pcap" {
			t.Errorf("%q: filter %q json %v read %q", tt.args, cfg.filter, cfg.jsonOut, cfg.read)
		}
	}
	cfg, err := parseArgs([]string{"-r", "f", "--no-control", "--conn", "2,5", "--opcode", "text,9", "--from", "server"}, nil)
	if err != nil || !cfg.sel.HideControl || len(cfg.sel.Conns) != 2 || cfg.sel.Conns[1] != 5 || len(cfg.sel.Opcodes) != 2 || cfg.sel.From != "server" {
		t.Errorf("selection flags: %+v %v", cfg, err)
	}
	cfg, _ = parseArgs([]string{"-r", "f", "--control=false"}, nil)
	if !cfg.sel.HideControl {
		t.Error("--control=false did not hide control frames")
	}
}

func TestInputErrors(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runArgs(t, nil, "-r", filepath.Join(dir, "missing.pcap"), "--json")
	if code != exitError || !strings.Contains(stderr, "missing.pcap") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}
	oneErrorLine(t, stderr)

	junk := filepath.Join(dir, "junk.pcap")
	os.WriteFile(junk, []byte("this is not a capture file at all"), 0o644)
	code, _, stderr = runArgs(t, nil, "-r", junk, "--json")
	if code != exitError || !strings.Contains(stderr, "junk.pcap: offset 0") {
		t.Errorf("junk file: exit %d, %q", code, stderr)
	}
	oneErrorLine(t, stderr)

	code, _, stderr = runArgs(t, []byte{}, "-r", "-", "--json")
	if code != exitError || !strings.Contains(stderr, "wsscope: -: offset 0") {
		t.Errorf("empty stdin: exit %d, %q", code, stderr)
	}
	oneErrorLine(t, stderr)
}

// samples returns the sample captures shipped in pcaps/.
func samples(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"pcaps/*.pcap", "pcaps/*.pcapng", "pcaps/*.pcap.gz", "pcaps/*.pcapng.gz"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no sample captures in pcaps/ yet")
	}
	return files
}

// captureBase strips the capture extensions: pcaps/x.pcapng.gz → pcaps/x.
func captureBase(path string) string {
	for _, ext := range []string{".gz", ".pcapng", ".pcap"} {
		path = strings.TrimSuffix(path, ext)
	}
	return path
}

// TestGoldens runs wsscope on every sample capture in text and JSON mode and
// compares the output with pcaps/NAME.txt and pcaps/NAME.jsonl.
func TestGoldens(t *testing.T) {
	for _, capFile := range samples(t) {
		base := captureBase(capFile)
		for _, mode := range []struct{ flag, ext string }{{"--json", ".jsonl"}, {"--text", ".txt"}} {
			t.Run(filepath.Base(base)+mode.ext, func(t *testing.T) {
				code, out, stderr := runArgs(t, nil, "-r", capFile, mode.flag)
				if code != exitOK {
					if code != exitError {
						t.Fatalf("exit %d: %s", code, stderr)
					}
					oneErrorLine(t, stderr) // damaged capture: output up to the damage
				}
				if mode.ext == ".jsonl" {
					checkJSONLines(t, []byte(out))
				} else {
					checkTerminalSafe(t, out)
				}
				golden := base + mode.ext
				if *update {
					if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test . -update to create it)", err)
				}
				if out != string(want) {
					t.Errorf("output differs from %s (go test . -update rewrites it):\n%s", golden, firstDiff(string(want), out))
				}
			})
		}
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			c := 0 // first differing byte, shown with some context
			for c < len(w) && c < len(g) && w[c] == g[c] {
				c++
			}
			from := max(0, c-60)
			cut := func(s string) string { return s[min(from, len(s)):min(c+140, len(s))] }
			return fmt.Sprintf("line %d, byte %d:\nwant: …%s\ngot:  …%s", i+1, c+1, cut(w), cut(g))
		}
	}
	return "(no line differs)"
}

func checkJSONLines(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<28)
	for n := 1; sc.Scan(); n++ {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("line %d is not valid JSON: %.200s", n, sc.Bytes())
		}
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		d.Decode(&m)
		for _, k := range []string{"record", "conn", "client", "server", "ts"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("line %d lacks %q: %.200s", n, k, sc.Bytes())
			}
		}
		recs = append(recs, m)
	}
	return recs
}

func checkTerminalSafe(t *testing.T, out string) {
	t.Helper()
	for i, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) {
			t.Fatalf("raw %U at byte %d of text output", r, i)
		}
	}
}

// truth mirrors pcaps/synth.Truth (NAME.sent.json).
type truth struct {
	Conns []struct {
		Index  int    `json:"index"`
		Client string `json:"client"`
		Server string `json:"server"`
	} `json:"connections"`
	Messages []struct {
		Conn        int     `json:"conn"`
		From        string  `json:"from"`
		Opcode      int     `json:"opcode"`
		Len         int     `json:"len"`
		Text        *string `json:"text"`
		Base64      *[]byte `json:"base64"`
		SHA256      string  `json:"sha256"`
		Damaged     bool    `json:"damaged"`
		AfterDamage bool    `json:"after_damage"`
	} `json:"messages"`
}

var opcodeNumbers = map[string]int{"continuation": 0, "text": 1, "binary": 2, "close": 8, "ping": 9, "pong": 10}

// TestGoldenMatchesTruth checks the JSON goldens against the ground truth
// written by pcaps/gen: every message a library sent is in the output, in
// order, byte for byte, unless the capture damaged it.
func TestGoldenMatchesTruth(t *testing.T) {
	for _, capFile := range samples(t) {
		base := captureBase(capFile)
		tb, err := os.ReadFile(capFile + ".sent.json") // pcaps/NAME.pcap.sent.json
		if os.IsNotExist(err) {
			tb, err = os.ReadFile(base + ".sent.json")
		}
		if err != nil {
			t.Logf("%s: no ground truth (%v)", capFile, err)
			continue
		}
		t.Run(filepath.Base(base), func(t *testing.T) {
			var tr truth
			if err := json.Unmarshal(tb, &tr); err != nil {
				t.Fatal(err)
			}
			gold, err := os.ReadFile(base + ".jsonl")
			if err != nil {
				t.Fatal(err)
			}
			recs := checkJSONLines(t, gold)
			// Map truth connection index → wsscope conn id by addresses.
			connID := map[int]string{}
			for _, c := range tr.Conns {
				for _, r := range recs {
					if r["record"] == "connection" && r["client"] == c.Client && r["server"] == c.Server {
						connID[c.Index] = string(r["conn"].(json.Number))
						break
					}
				}
			}
			type key struct{ conn, from string }
			got := map[key][]map[string]any{}
			for _, r := range recs {
				if r["record"] == "message" {
					k := key{string(r["conn"].(json.Number)), r["from"].(string)}
					got[k] = append(got[k], r)
				}
			}
			pos := map[key]int{}
			checked := 0
			for i, m := range tr.Messages {
				id, ok := connID[m.Conn]
				if !ok {
					t.Errorf("truth connection %d not in the output", m.Conn)
					continue
				}
				k := key{id, m.From}
				// Find the message at or after the current position.
				found := false
				for j := pos[k]; j < len(got[k]); j++ {
					if matchTruth(got[k][j], m.Opcode, m.Len, m.SHA256) {
						pos[k] = j + 1
						found = true
						break
					}
				}
				switch {
				case found:
					checked++
				case m.Damaged || m.AfterDamage:
					// Allowed to be missing or different.
				default:
					t.Errorf("sent message %d (conn %d, %s, opcode %d, %d bytes, sha256 %s) missing or different in %s.jsonl",
						i, m.Conn, m.From, m.Opcode, m.Len, m.SHA256[:12], base)
				}
			}
			t.Logf("%d of %d sent messages found byte-exact", checked, len(tr.Messages))
			if checked == 0 && len(tr.Messages) > 0 {
				t.Errorf("no sent message matched")
			}
		})
	}
}

// matchTruth compares a message record with a sent message: opcode, length
// and the SHA-256 of the payload. Incomplete or truncated records never
// match (their payload is not what was sent).
func matchTruth(r map[string]any, opcode, n int, sum string) bool {
	if r["incomplete"] == true || r["truncated"] == true {
		return false
	}
	var op int
	switch v := r["opcode"].(type) {
	case string:
		op = opcodeNumbers[v]
	case json.Number:
		x, _ := v.Int64()
		op = int(x)
	}
	if op != opcode || r["len"] != json.Number(fmt.Sprint(n)) {
		return false
	}
	var p []byte
	if s, ok := r["text"].(string); ok {
		p = []byte(s)
	} else if s, ok := r["data"].(string); ok {
		var err error
		if p, err = base64.StdEncoding.DecodeString(s); err != nil {
			return false
		}
	}
	h := sha256.Sum256(p)
	return hex.EncodeToString(h[:]) == sum
}

// TestHARSamples checks that --har output for every sample parses as HAR 1.2.
func TestHARSamples(t *testing.T) {
	for _, capFile := range samples(t) {
		t.Run(filepath.Base(capFile), func(t *testing.T) {
			har := filepath.Join(t.TempDir(), "out.har")
			code, stdout, stderr := runArgs(t, nil, "-r", capFile, "--har", har)
			if code != exitOK && code != exitError {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if stdout != "" {
				t.Errorf("--har alone wrote to stdout: %.100q", stdout)
			}
			data, err := os.ReadFile(har)
			if err != nil {
				t.Fatal(err)
			}
			checkHAR(t, data)
		})
	}
}

// checkHAR checks the structure HAR 1.2 requires.
func checkHAR(t *testing.T, data []byte) {
	t.Helper()
	var doc struct {
		Log struct {
			Version string           `json:"version"`
			Creator map[string]any   `json:"creator"`
			Entries []map[string]any `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("HAR is not JSON: %v", err)
	}
	if doc.Log.Version != "1.2" || doc.Log.Creator["name"] != "wsscope" || doc.Log.Entries == nil {
		t.Fatalf("HAR log header: %+v", doc.Log)
	}
	need := func(o any, what string, keys ...string) {
		m, ok := o.(map[string]any)
		if !ok {
			t.Fatalf("%s is not an object", what)
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q", what, k)
			}
		}
	}
	for _, e := range doc.Log.Entries {
		need(e, "entry", "startedDateTime", "time", "request", "response", "cache", "timings", "_resourceType", "_webSocketMessages")
		need(e["request"], "request", "method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize")
		need(e["response"], "response", "status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL", "headersSize", "bodySize")
		need(e["response"].(map[string]any)["content"], "content", "size", "mimeType")
		need(e["timings"], "timings", "send", "wait", "receive")
		for _, m := range e["_webSocketMessages"].([]any) {
			need(m, "websocket message", "type", "time", "opcode", "data")
		}
	}
}

// TestCountAndStdin: -c stops after N messages; -r - reads stdin and gives
// the same output as the file.
func TestCountAndStdin(t *testing.T) {
	files := samples(t)
	capFile := files[0]
	_, full, _ := runArgs(t, nil, "-r", capFile, "--json", "--no-control")
	var n int
	for _, l := range strings.Split(full, "\n") {
		if strings.HasPrefix(l, `{"record":"message"`) {
			n++
		}
	}
	if n < 2 {
		t.Skipf("%s has %d messages", capFile, n)
	}
	code, out, stderr := runArgs(t, nil, "-r", capFile, "--json", "--no-control", "-c", "1")
	if code != 0 {
		t.Fatalf("-c 1: exit %d: %s", code, stderr)
	}
	if got := strings.Count(out, `{"record":"message"`); got != 1 {
		t.Errorf("-c 1 wrote %d messages", got)
	}
	data, _ := os.ReadFile(capFile)
	code, out, stderr = runArgs(t, data, "-r", "-", "--json", "--no-control")
	if code != 0 || out != full {
		t.Errorf("-r - (stdin): exit %d (%s), output same as file: %v", code, stderr, out == full)
	}
}

// TestDamagedFile cuts a sample capture in the middle: everything decoded
// before the damage is written, then one error line naming file and offset,
// exit status 1.
func TestDamagedFile(t *testing.T) {
	files := samples(t)
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(files[0], ".gz") {
		t.Skip("compressed sample")
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, data[:len(data)*2/3], 0o644)
	code, out, stderr := runArgs(t, nil, "-r", cut, "--json")
	if code != exitError {
		t.Fatalf("exit %d, want 1 (stderr %q)", code, stderr)
	}
	oneErrorLine(t, stderr)
	if !strings.Contains(stderr, "cut.pcap: offset ") {
		t.Errorf("error does not name file and offset: %q", stderr)
	}
	checkJSONLines(t, []byte(out))
	if !strings.Contains(out, `"record":"connection"`) {
		t.Errorf("nothing written before the damage")
	}
}

func TestLiveErrors(t *testing.T) {
	code, _, stderr := runArgs(t, nil, "-i", "nosuchif0", "--json")
	if code != exitError {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	oneErrorLine(t, stderr)
	if !strings.Contains(stderr, "nosuchif0") {
		t.Errorf("error does not name the interface: %q", stderr)
	}
}

// TestOutputFiles: -o writes the JSON to a file (same as stdout), --har -
// writes HAR to stdout, --har FILE combines with --text on stdout.
func TestOutputFiles(t *testing.T) {
	capFile := samples(t)[0]
	dir := t.TempDir()
	_, want, _ := runArgs(t, nil, "-r", capFile, "--json")
	out := filepath.Join(dir, "out.jsonl")
	code, stdout, stderr := runArgs(t, nil, "-r", capFile, "--json", "-o", out)
	got, _ := os.ReadFile(out)
	if code != 0 || stdout != "" || string(got) != want {
		t.Errorf("-o: exit %d (%s), stdout %d bytes, file same as stdout output: %v", code, stderr, len(stdout), string(got) == want)
	}
	code, stdout, stderr = runArgs(t, nil, "-r", capFile, "--har", "-")
	if code != 0 {
		t.Fatalf("--har -: exit %d: %s", code, stderr)
	}
	checkHAR(t, []byte(stdout))
	har := filepath.Join(dir, "out.har")
	_, text, _ := runArgs(t, nil, "-r", capFile, "--text")
	code, stdout, stderr = runArgs(t, nil, "-r", capFile, "--har", har, "--text")
	data, _ := os.ReadFile(har)
	if code != 0 || stdout != text {
		t.Errorf("--har FILE --text: exit %d (%s), text same as alone: %v", code, stderr, stdout == text)
	}
	checkHAR(t, data)
	code, _, stderr = runArgs(t, nil, "-r", capFile, "--json", "-o", filepath.Join(dir, "no", "such", "dir.jsonl"))
	if code != exitError || !strings.Contains(stderr, "dir.jsonl") {
		t.Errorf("unwritable -o: exit %d, %q", code, stderr)
	}
	oneErrorLine(t, stderr)
}

// TestGzipCapture: a gzip-compressed capture gives the same output as the
// plain one, from a file and from stdin.
func TestGzipCapture(t *testing.T) {
	capFile := samples(t)[0]
	data, err := os.ReadFile(capFile)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	gzFile := filepath.Join(t.TempDir(), "sample.pcap.gz")
	os.WriteFile(gzFile, gz.Bytes(), 0o644)
	_, want, _ := runArgs(t, nil, "-r", capFile, "--json")
	code, got, stderr := runArgs(t, nil, "-r", gzFile, "--json")
	if code != 0 || got != want {
		t.Errorf("gzip file: exit %d (%s), same output: %v", code, stderr, got == want)
	}
	code, got, stderr = runArgs(t, gz.Bytes(), "-r", "-", "--json")
	if code != 0 || got != want {
		t.Errorf("gzip stdin: exit %d (%s), same output: %v", code, stderr, got == want)
	}
}

func TestLimitFlags(t *testing.T) {
	cfg, err := parseArgs([]string{"-r", "f", "--max-message", "1K", "--max-conns", "10", "--max-conn-buffer", "2MiB", "--max-buffer", "1g"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.limits
	if l.Decode.MaxMessageSize != 1024 || l.Reassembly.MaxConns != 10 ||
		l.Reassembly.MaxBufferedPerConn != 2<<20 || l.Reassembly.MaxBufferedTotal != 1<<30 {
		t.Errorf("limits = %+v", l)
	}
	// The limit reaches the decoder: the 65535- and 65536-byte messages of
	// binary.pcap come out truncated and marked, smaller ones whole.
	code, stdout, stderr := runArgs(t, nil, "-r", filepath.Join("pcaps", "binary.pcap"), "--json", "--max-message", "1K")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	truncated, whole := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if !strings.Contains(line, `"record":"message"`) || strings.Contains(line, `"opcode":"close"`) {
			continue
		}
		if strings.Contains(line, `"truncated":true`) && strings.Contains(line, "message-too-large") {
			truncated++
		} else {
			whole++
		}
	}
	if truncated != 4 || whole == 0 {
		t.Errorf("with --max-message 1K: %d truncated, %d whole messages; want 4 truncated", truncated, whole)
	}
}

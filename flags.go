package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/wsscope/wsscope/export"
	"github.com/wsscope/wsscope/pipeline"
)

// config is the parsed command line.
type config struct {
	read      string // -r FILE ("-" for stdin)
	iface     string // -i IFACE
	list      bool   // -D
	count     int64  // -c N (0: no limit)
	writeRaw  string // -w FILE
	bufSize   int    // -B SIZE: live capture ring size in bytes (0: default)
	dropUser  string // -Z USER: drop root privileges after opening the capture
	filter    string // trailing arguments joined by spaces
	jsonOut   bool
	textOut   bool
	tuiOut    bool
	harFile   string
	outFile   string
	preview   int
	sel       export.Selection
	version   bool
	help      bool
	noProgres bool
	limits    pipeline.Options // --max-* flags; zero fields take the packages' defaults
}

// usageError is a command-line mistake: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &usageError{fmt.Sprintf(format, a...)}
}

const usageText = `wsscope — passive WebSocket traffic analyzer

Usage:
  wsscope -r FILE [options] [FILTER...]    read a capture (.pcap, .pcapng, gzip; "-" = stdin)
  wsscope -i IFACE [options] [FILTER...]   capture live (needs CAP_NET_RAW or root)
  wsscope -D                               list interfaces

FILTER is a tcpdump capture filter made of the remaining arguments, e.g.
"tcp port 8080" or "host 10.0.0.5 and not port 22". WebSocket connections
are found by their HTTP Upgrade handshake on any port.

Output (default: the terminal UI when stdout is a terminal, else text):
  --text            one line per message (forces text on a terminal too)
  --json            JSON Lines: one object per connection, message, anomaly
  --har FILE        HAR 1.2 with one entry per WebSocket connection ("-" = stdout)
  --tui             the terminal UI (stdout must be a terminal)
  -o FILE           write text or JSON to FILE instead of stdout
  --preview N       payload characters per text line (default: fit the
                    terminal, 100 when not a terminal; 0 = whole payload)

Capture:
  -c N              stop after N messages (after the selection below)
  -w FILE           live: also save the raw packets to FILE (pcapng)
  -B SIZE           live: kernel capture buffer size, KiB like tcpdump or
                    with a K, M, G suffix (default 32M)
  -Z USER           live, started as root: switch to USER (its groups, then
                    its uid) once the capture and output files are open;
                    never done without -Z
  --no-progress     no progress bar on stderr

Selection (what is shown or written; all must match):
  --conn N[,N...]   connection ids
  --from client|server
  --opcode LIST     text,binary,close,ping,pong,continuation or numbers
  --host S          Host header or server address contains S
  --path S          request URI contains S
  --grep S          payload contains S (after decompression)
  --regex RE        payload matches RE (Go RE2 syntax)
  --control=false   hide control frames (close, ping, pong); also --no-control

Limits (memory stays bounded whatever the input; sizes take K, M, G suffixes):
  --max-message SIZE      largest message kept, after decompression (default 64M);
                          larger ones are emitted truncated and marked
  --max-conns N           connections tracked at once (default 262144); the least
                          recently active one is ended when full
  --max-conn-buffer SIZE  out-of-order bytes buffered per connection (default 4M)
  --max-buffer SIZE       out-of-order bytes buffered in all (default 256M)
  A limit that is hit is reported as an anomaly; the bytes it costs are a gap.

  --version         print the version
  -h, --help        this help

Examples:
  wsscope -r pcaps/chat-deflate.pcap --text
  wsscope -r capture.pcapng --json --from server --opcode text > msgs.jsonl
  wsscope -r capture.pcap --har out.har tcp port 443 or port 8080
  wsscope -r capture.pcap --grep error --no-control
  tcpdump -w - -U port 8080 | wsscope -r - --json
  sudo wsscope -i eth0 -w raw.pcapng port 8080

Exit status: 0 success, 1 error (unreadable or damaged input, write error),
2 usage error.
`

// parseArgs parses the command line. Flags and filter words may be mixed
// ("wsscope -r f.pcap port 80 --json"); everything after "--" is filter.
func parseArgs(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("wsscope", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.read, "r", "", "")
	fs.StringVar(&cfg.iface, "i", "", "")
	fs.BoolVar(&cfg.list, "D", false, "")
	fs.Int64Var(&cfg.count, "c", 0, "")
	fs.StringVar(&cfg.writeRaw, "w", "", "")
	var bufSize kibFlag
	fs.Var(&bufSize, "B", "")
	fs.StringVar(&cfg.dropUser, "Z", "", "")
	fs.BoolVar(&cfg.jsonOut, "json", false, "")
	fs.BoolVar(&cfg.textOut, "text", false, "")
	fs.BoolVar(&cfg.tuiOut, "tui", false, "")
	fs.StringVar(&cfg.harFile, "har", "", "")
	fs.StringVar(&cfg.outFile, "o", "", "")
	fs.IntVar(&cfg.preview, "preview", -1, "") // -1: automatic
	fs.BoolVar(&cfg.noProgres, "no-progress", false, "")
	fs.BoolVar(&cfg.version, "version", false, "")
	fs.BoolVar(&cfg.help, "h", false, "")
	fs.BoolVar(&cfg.help, "help", false, "")
	var conns, from, opcodes, grep, regex string
	control, noControl := true, false
	fs.StringVar(&conns, "conn", "", "")
	fs.StringVar(&from, "from", "", "")
	fs.StringVar(&opcodes, "opcode", "", "")
	fs.StringVar(&cfg.sel.Host, "host", "", "")
	fs.StringVar(&cfg.sel.Path, "path", "", "")
	fs.StringVar(&grep, "grep", "", "")
	fs.StringVar(&regex, "regex", "", "")
	fs.BoolVar(&control, "control", true, "")
	fs.BoolVar(&noControl, "no-control", false, "")

	var maxMessage, maxConnBuf, maxBuf sizeFlag
	fs.Var(&maxMessage, "max-message", "")
	fs.Var(&maxConnBuf, "max-conn-buffer", "")
	fs.Var(&maxBuf, "max-buffer", "")
	fs.IntVar(&cfg.limits.Reassembly.MaxConns, "max-conns", 0, "")

	var words []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				cfg.help = true
				return cfg, nil
			}
			return nil, &usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			words = append(words, rest...)
			break
		}
		i := 0
		for i < len(rest) && (len(rest[i]) < 2 || rest[i][0] != '-') {
			i++
		}
		words = append(words, rest[:i]...)
		args = rest[i:]
		if len(args) == 0 {
			break
		}
	}
	cfg.filter = strings.Join(words, " ")
	if cfg.help || cfg.version {
		return cfg, nil
	}

	if conns != "" {
		for _, f := range strings.Split(conns, ",") {
			id, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil || id == 0 {
				return nil, usagef("--conn: %q is not a connection id (1, 2, ...)", f)
			}
			cfg.sel.Conns = append(cfg.sel.Conns, id)
		}
	}
	switch from {
	case "", "client", "server":
		cfg.sel.From = from
	default:
		return nil, usagef("--from: %q: want client or server", from)
	}
	if opcodes != "" {
		ops, err := export.ParseOpcodes(opcodes)
		if err != nil {
			return nil, usagef("--opcode: %s", strings.TrimPrefix(err.Error(), "export: "))
		}
		cfg.sel.Opcodes = ops
	}
	if grep != "" {
		cfg.sel.Grep = []byte(grep)
	}
	if regex != "" {
		re, err := regexp.Compile(regex)
		if err != nil {
			return nil, usagef("--regex: %v", err)
		}
		cfg.sel.Regex = re
	}
	cfg.sel.HideControl = !control || noControl
	if !control && len(cfg.sel.Opcodes) > 0 {
		for _, op := range cfg.sel.Opcodes {
			if export.IsControl(op) {
				return nil, usagef("--opcode %s contradicts --control=false", export.OpcodeName(op))
			}
		}
	}

	if cfg.limits.Reassembly.MaxConns < 0 {
		return nil, usagef("--max-conns: %d: want a positive number", cfg.limits.Reassembly.MaxConns)
	}
	cfg.limits.Decode.MaxMessageSize = int64(maxMessage)
	cfg.limits.Reassembly.MaxBufferedPerConn = int(maxConnBuf)
	cfg.limits.Reassembly.MaxBufferedTotal = int64(maxBuf)

	modes := 0
	for _, b := range []bool{cfg.list, cfg.read != "", cfg.iface != ""} {
		if b {
			modes++
		}
	}
	switch {
	case modes == 0:
		return nil, usagef("nothing to do: give -r FILE, -i IFACE or -D")
	case modes > 1:
		return nil, usagef("-r, -i and -D exclude each other")
	}
	if cfg.count < 0 {
		return nil, usagef("-c: %d: want a positive number", cfg.count)
	}
	if cfg.writeRaw != "" && cfg.iface == "" {
		return nil, usagef("-w saves a live capture: use it with -i")
	}
	cfg.bufSize = int(bufSize)
	if cfg.bufSize != 0 && cfg.iface == "" {
		return nil, usagef("-B sizes the live capture buffer: use it with -i")
	}
	if cfg.dropUser != "" && cfg.iface == "" {
		return nil, usagef("-Z drops privileges after opening a live capture: use it with -i")
	}
	n := 0
	for _, b := range []bool{cfg.jsonOut, cfg.textOut, cfg.tuiOut} {
		if b {
			n++
		}
	}
	if n > 1 {
		return nil, usagef("--json, --text and --tui exclude each other")
	}
	if cfg.tuiOut && cfg.outFile != "" {
		return nil, usagef("-o writes text or JSON: not with --tui")
	}
	if cfg.harFile == "-" && cfg.outFile == "" && (cfg.jsonOut || cfg.textOut || cfg.tuiOut) {
		return nil, usagef("--har - writes HAR to stdout: it cannot be combined with --json, --text or --tui")
	}
	previewSet := false
	fs.Visit(func(f *flag.Flag) { previewSet = previewSet || f.Name == "preview" })
	if previewSet && cfg.preview < 0 {
		return nil, usagef("--preview: %d: want 0 or more", cfg.preview)
	}
	return cfg, nil
}

// sizeFlag is a byte size given as a number with an optional K, M or G
// suffix (powers of 1024; "KiB", "MB" and the like are accepted too).
type sizeFlag int64

func (f *sizeFlag) String() string { return strconv.FormatInt(int64(*f), 10) }

func (f *sizeFlag) Set(s string) error {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 || v > (1<<50)/mult {
		return fmt.Errorf("%q is not a size (e.g. 4096, 512K, 64M, 1G)", s)
	}
	*f = sizeFlag(v * mult)
	return nil
}

// kibFlag is -B: a size in KiB like tcpdump's -B when given as a plain
// number, or with a K, M or G suffix as sizeFlag.
type kibFlag int64

func (f *kibFlag) String() string { return strconv.FormatInt(int64(*f), 10) }

func (f *kibFlag) Set(s string) error {
	var v sizeFlag
	t := strings.TrimSpace(s)
	if _, err := strconv.ParseInt(t, 10, 64); err == nil {
		t += "K"
	}
	if err := v.Set(t); err != nil {
		return err
	}
	if v > 1<<30 {
		return fmt.Errorf("%q: at most 1G", s)
	}
	*f = kibFlag(v)
	return nil
}

package wsdecode

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"
	"testing"
)

type wantMsg struct {
	op         Opcode
	payload    string
	incomplete bool
	truncated  bool
}

type dcase struct {
	name  string
	dir   Dir
	cfg   Config
	in    []byte
	want  []wantMsg
	codes []string // every anomaly code expected, in any order
}

func closeBody(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

func dataOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

func boundaryCases(t testing.TB) []dcase {
	var cs []dcase
	// Payload lengths around the 7/16/64-bit encodings, both directions.
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		p := dataOf(n)
		cs = append(cs,
			dcase{name: "client-len-" + itoa(n), dir: FromClient,
				in:   enc(fr{fin: true, op: OpText, mask: true, key: testKey, payload: p}),
				want: []wantMsg{{op: OpText, payload: string(p)}}},
			dcase{name: "server-len-" + itoa(n), dir: FromServer,
				in:   enc(fr{fin: true, op: OpBinary, payload: p}),
				want: []wantMsg{{op: OpBinary, payload: string(p)}}},
		)
	}
	// Every opcode.
	for op := 0; op < 16; op++ {
		c := dcase{name: "opcode-" + itoa(op), dir: FromServer,
			in: enc(fr{fin: true, op: Opcode(op), payload: []byte("xy")})}
		switch Opcode(op) {
		case OpContinuation:
			c.codes = []string{CodeOrphanContinuation}
		case OpText, OpBinary, OpPing, OpPong:
		case OpClose:
			c.codes = []string{CodeInvalidCloseCode} // "xy" = 0x7879
		default:
			c.codes = []string{CodeReservedOpcode}
		}
		c.want = []wantMsg{{op: Opcode(op), payload: "xy"}}
		cs = append(cs, c)
	}
	pmd := Config{Deflate: Deflate{Mode: PerMessageDeflate}}
	hello := []byte("héllo wörld €😀")
	z := deflateMsgs(t, [][]byte{hello, hello}, true)
	cs = append(cs,
		dcase{name: "fragmented-with-ping", dir: FromClient, in: cat(
			enc(fr{op: OpText, mask: true, key: testKey, payload: hello[:2]}), // splits é
			enc(fr{fin: true, op: OpPing, mask: true, key: testKey, payload: []byte("p")}),
			enc(fr{op: OpContinuation, mask: true, key: [4]byte{1, 2, 3, 4}, payload: hello[2:17]}), // splits 😀
			enc(fr{op: OpContinuation, mask: true, key: testKey}),
			enc(fr{fin: true, op: OpContinuation, mask: true, key: testKey, payload: hello[17:]}),
		), want: []wantMsg{{op: OpPing, payload: "p"}, {op: OpText, payload: string(hello)}},
			codes: []string{CodeMaskKeyRepeated}}, // testKey on 4 of 5 frames
		dcase{name: "rsv1-no-ext", dir: FromServer, in: enc(fr{fin: true, rsv: 4, op: OpText, payload: []byte("a")}),
			want: []wantMsg{{op: OpText, payload: "a"}}, codes: []string{CodeUnexpectedRSV}},
		dcase{name: "rsv2", dir: FromServer, in: enc(fr{fin: true, rsv: 2, op: OpBinary, payload: []byte("a")}),
			want: []wantMsg{{op: OpBinary, payload: "a"}}, codes: []string{CodeUnexpectedRSV}},
		dcase{name: "rsv3", dir: FromServer, in: enc(fr{fin: true, rsv: 1, op: OpBinary, payload: []byte("a")}),
			want: []wantMsg{{op: OpBinary, payload: "a"}}, codes: []string{CodeUnexpectedRSV}},
		dcase{name: "rsv1-on-control", dir: FromServer, cfg: pmd, in: enc(fr{fin: true, rsv: 4, op: OpPing, payload: []byte("a")}),
			want: []wantMsg{{op: OpPing, payload: "a"}}, codes: []string{CodeUnexpectedRSV}},
		dcase{name: "rsv1-on-continuation", dir: FromServer, cfg: pmd, in: cat(
			enc(fr{op: OpBinary, payload: []byte("a")}),
			enc(fr{fin: true, rsv: 4, op: OpContinuation, payload: []byte("b")})),
			want: []wantMsg{{op: OpBinary, payload: "ab"}}, codes: []string{CodeUnexpectedRSV}},
		dcase{name: "non-minimal-16", dir: FromServer, in: enc(fr{fin: true, op: OpBinary, payload: []byte("abc"), lenEnc: 16}),
			want: []wantMsg{{op: OpBinary, payload: "abc"}}, codes: []string{CodeNonMinimalLength}},
		dcase{name: "non-minimal-64", dir: FromClient, in: enc(fr{fin: true, op: OpBinary, mask: true, key: testKey, payload: dataOf(300), lenEnc: 64}),
			want: []wantMsg{{op: OpBinary, payload: string(dataOf(300))}}, codes: []string{CodeNonMinimalLength}},
		dcase{name: "length-top-bit", dir: FromServer, in: cat(
			enc(fr{fin: true, op: OpBinary, declLen: 1<<63 | 5}),
			enc(fr{fin: true, op: OpText, payload: []byte("after")})),
			want: []wantMsg{{op: OpText, payload: "after"}}, codes: []string{CodeLengthTopBit, CodeResyncSkipped, CodeResyncGuess}},
		dcase{name: "control-too-long", dir: FromServer, in: enc(fr{fin: true, op: OpPing, payload: dataOf(126)}),
			want: []wantMsg{{op: OpPing, payload: string(dataOf(126))}}, codes: []string{CodeControlTooLong}},
		dcase{name: "fragmented-control", dir: FromServer, in: enc(fr{op: OpPong, payload: []byte("x")}),
			want: []wantMsg{{op: OpPong, payload: "x"}}, codes: []string{CodeFragmentedControl}},
		dcase{name: "orphan-continuation", dir: FromServer, in: cat(
			enc(fr{op: OpContinuation, payload: []byte("x")}),
			enc(fr{fin: true, op: OpContinuation, payload: []byte("y")})),
			want: []wantMsg{{op: OpContinuation, payload: "xy"}}, codes: []string{CodeOrphanContinuation}},
		dcase{name: "interrupted-message", dir: FromServer, in: cat(
			enc(fr{op: OpText, payload: []byte("x")}),
			enc(fr{fin: true, op: OpBinary, payload: []byte("y")})),
			want: []wantMsg{{op: OpText, payload: "x", incomplete: true}, {op: OpBinary, payload: "y"}}, codes: []string{CodeInterruptedMessage}},
		dcase{name: "unmasked-client", dir: FromClient, in: enc(fr{fin: true, op: OpText, payload: []byte("x")}),
			want: []wantMsg{{op: OpText, payload: "x"}}, codes: []string{CodeUnmaskedClient}},
		dcase{name: "masked-server", dir: FromServer, in: enc(fr{fin: true, op: OpText, mask: true, key: testKey, payload: []byte("x")}),
			want: []wantMsg{{op: OpText, payload: "x"}}, codes: []string{CodeMaskedServer}},
		dcase{name: "invalid-utf8", dir: FromServer, in: enc(fr{fin: true, op: OpText, payload: []byte("a\xffb")}),
			want: []wantMsg{{op: OpText, payload: "a\xffb"}}, codes: []string{CodeInvalidUTF8}},
		dcase{name: "utf8-cut-at-fin", dir: FromServer, in: enc(fr{fin: true, op: OpText, payload: hello[:2]}),
			want: []wantMsg{{op: OpText, payload: string(hello[:2])}}, codes: []string{CodeInvalidUTF8}},
		dcase{name: "utf8-surrogate", dir: FromServer, in: enc(fr{fin: true, op: OpText, payload: []byte("\xed\xa0\x80")}),
			want: []wantMsg{{op: OpText, payload: "\xed\xa0\x80"}}, codes: []string{CodeInvalidUTF8}},
		dcase{name: "close-empty", dir: FromServer, in: enc(fr{fin: true, op: OpClose}),
			want: []wantMsg{{op: OpClose}}},
		dcase{name: "close-len1", dir: FromServer, in: enc(fr{fin: true, op: OpClose, payload: []byte{3}}),
			want: []wantMsg{{op: OpClose, payload: "\x03"}}, codes: []string{CodeInvalidCloseLength}},
		dcase{name: "close-bad-reason", dir: FromClient, in: enc(fr{fin: true, op: OpClose, mask: true, key: testKey, payload: closeBody(1000, "\xc3")}),
			want: []wantMsg{{op: OpClose, payload: string(closeBody(1000, "\xc3"))}}, codes: []string{CodeInvalidCloseReason}},
		dcase{name: "data-after-close", dir: FromServer, in: cat(
			enc(fr{fin: true, op: OpClose, payload: closeBody(1001, "bye")}),
			enc(fr{fin: true, op: OpText, payload: []byte("late")}),
			enc(fr{fin: true, op: OpText, payload: []byte("later")})),
			want:  []wantMsg{{op: OpClose, payload: string(closeBody(1001, "bye"))}, {op: OpText, payload: "late"}, {op: OpText, payload: "later"}},
			codes: []string{CodeDataAfterClose}},
		dcase{name: "inflate-error", dir: FromServer, cfg: pmd, in: enc(fr{fin: true, rsv: 4, op: OpBinary, payload: []byte{0xff, 0xff, 0xff}}),
			want: []wantMsg{{op: OpBinary, incomplete: true}}, codes: []string{CodeInflateError}},
		dcase{name: "deflate-takeover", dir: FromServer, cfg: pmd, in: cat(
			enc(fr{fin: true, rsv: 4, op: OpText, payload: z[0]}),
			enc(fr{fin: true, op: OpPing, payload: []byte("between")}),
			enc(fr{rsv: 4, op: OpText, payload: z[1][:1]}),
			enc(fr{op: OpContinuation, payload: z[1][1:]}),
			enc(fr{fin: true, op: OpContinuation})), // empty final fragment (RFC 7692 §7.2.3.6)
			want: []wantMsg{{op: OpText, payload: string(hello)}, {op: OpPing, payload: "between"}, {op: OpText, payload: string(hello)}}},
		dcase{name: "truncated-stream", dir: FromServer, in: enc(fr{fin: true, op: OpBinary, payload: []byte("abcdef")})[:5],
			want: []wantMsg{{op: OpBinary, payload: "abc", incomplete: true}}, codes: []string{CodeTruncated}},
		dcase{name: "max-message-size", dir: FromClient, cfg: Config{MaxMessageSize: 10},
			in:   enc(fr{fin: true, op: OpText, mask: true, key: testKey, payload: []byte("0123456789abcdef")}),
			want: []wantMsg{{op: OpText, payload: "0123456789", truncated: true}}, codes: []string{CodeMessageTooLarge}},
	)
	for _, cc := range []struct {
		code uint16
		ok   bool
	}{{999, false}, {1000, true}, {1003, true}, {1004, false}, {1005, false}, {1006, false}, {1007, true}, {1014, true},
		{1015, false}, {1016, false}, {2999, false}, {3000, true}, {4999, true}, {5000, false}, {65535, false}} {
		c := dcase{name: "close-code-" + itoa(int(cc.code)), dir: FromServer,
			in:   enc(fr{fin: true, op: OpClose, payload: closeBody(cc.code, "r")}),
			want: []wantMsg{{op: OpClose, payload: string(closeBody(cc.code, "r"))}}}
		if !cc.ok {
			c.codes = []string{CodeInvalidCloseCode}
		}
		cs = append(cs, c)
	}
	return cs
}

func itoa(n int) string { return strconv.Itoa(n) }

func checkCase(t *testing.T, c dcase, r *rec) {
	t.Helper()
	if len(r.msgs) != len(c.want) {
		t.Fatalf("got %d messages, want %d:\n%s", len(r.msgs), len(c.want), r.summary())
	}
	for i, w := range c.want {
		m := r.msgs[i]
		if m.Opcode != w.op || string(m.Payload) != w.payload || m.Incomplete != w.incomplete || m.Truncated != w.truncated || m.Dir != c.dir {
			t.Errorf("message %d: got op=%d payload=%.40q inc=%v tr=%v dir=%v, want op=%d payload=%.40q inc=%v tr=%v",
				i, m.Opcode, m.Payload, m.Incomplete, m.Truncated, m.Dir, w.op, w.payload, w.incomplete, w.truncated)
		}
	}
	got := r.codes()
	want := slices.Clone(c.codes)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("anomalies %v, want %v\n%s", got, want, r.summary())
	}
}

// TestBoundaries runs every case whole, in halves, in 7-byte chunks and one
// byte at a time; the output (except packet positions) must be identical.
func TestBoundaries(t *testing.T) {
	for _, c := range boundaryCases(t) {
		t.Run(c.name, func(t *testing.T) {
			whole := decode(c.cfg, c.dir, c.in, 0)
			checkCase(t, c, whole)
			for _, n := range []int{-1, 1, 7} {
				if n == 1 && len(c.in) > 1<<16+100 {
					continue // covered by 7-byte chunks; keeps the test fast
				}
				r := decode(c.cfg, c.dir, c.in, n)
				if got, want := r.summary(), whole.summary(); got != want {
					t.Errorf("chunks of %d: output differs\n got: %.2000s\nwant: %.2000s", n, got, want)
				}
			}
		})
	}
}

// TestMeta checks the packet positions of frames and messages.
func TestMeta(t *testing.T) {
	in := cat(enc(fr{op: OpText, mask: true, key: testKey, payload: []byte("hello")}),
		enc(fr{fin: true, op: OpContinuation, mask: true, key: testKey, payload: []byte("world")}))
	// 11-byte frames: chunks of 4 → packets 1..6.
	r := decode(Config{}, FromClient, in, 4)
	if len(r.msgs) != 1 {
		t.Fatalf("got %d messages", len(r.msgs))
	}
	m := r.msgs[0]
	if m.First.Packet != 1 || m.Last.Packet != 6 || m.Frames[0].First.Packet != 1 || m.Frames[0].Last.Packet != 3 ||
		m.Frames[1].First.Packet != 3 || m.Frames[1].Last.Packet != 6 {
		t.Errorf("meta: msg %d..%d frame0 %d..%d frame1 %d..%d", m.First.Packet, m.Last.Packet,
			m.Frames[0].First.Packet, m.Frames[0].Last.Packet, m.Frames[1].First.Packet, m.Frames[1].Last.Packet)
	}
	if m.WireLen != int64(len(in)) || m.Len != 10 || !m.Masked || string(m.Payload) != "helloworld" {
		t.Errorf("message: %+v", m)
	}
}

// TestHugeLengthBounded feeds a frame declaring 2^32+1 bytes followed by only
// 1 MiB of payload: the header must parse and memory must stay bounded by
// what arrived (and by MaxMessageSize).
func TestHugeLengthBounded(t *testing.T) {
	for _, limit := range []int64{0, 64 << 10} {
		hdr := enc(fr{fin: true, op: OpBinary, declLen: 1<<32 + 1})
		if len(hdr) != 10 || hdr[1] != 127 {
			t.Fatalf("header %x", hdr)
		}
		r := &rec{}
		c := NewConn(Config{MaxMessageSize: limit}, r)
		c.Feed(FromServer, hdr, Meta{Packet: 1})
		if c.s[FromServer].f.PayloadLen != 1<<32+1 || c.s[FromServer].state != stPayload {
			t.Fatalf("header not parsed: %+v", c.s[FromServer].f)
		}
		if got := cap(c.s[FromServer].data.buf); got != 0 {
			t.Fatalf("allocated %d bytes from a length field", got)
		}
		chunk := dataOf(64 << 10)
		for i := 0; i < 16; i++ {
			c.Feed(FromServer, chunk, Meta{Packet: uint64(2 + i)})
		}
		got := cap(c.s[FromServer].data.buf)
		max := 2 << 20
		if limit > 0 {
			max = int(limit)
		}
		if got > max {
			t.Errorf("limit %d: buffer capacity %d after 1 MiB", limit, got)
		}
		c.Close(Meta{Packet: 99})
		if len(r.msgs) != 1 || !r.msgs[0].Incomplete || r.msgs[0].Len != 1<<20 || r.msgs[0].Frames[0].PayloadLen != 1<<32+1 {
			t.Fatalf("limit %d: %s", limit, r.summary())
		}
		if limit > 0 && (!r.msgs[0].Truncated || len(r.msgs[0].Payload) != int(limit)) {
			t.Errorf("limit %d: truncated=%v len=%d", limit, r.msgs[0].Truncated, len(r.msgs[0].Payload))
		}
		if !bytes.Equal(r.msgs[0].Payload[:100], chunk[:100]) {
			t.Errorf("payload differs")
		}
	}
}

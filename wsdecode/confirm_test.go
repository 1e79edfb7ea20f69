package wsdecode

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// gapChunked is gapRun with the parts fed n bytes at a time (0: whole).
func gapChunked(cfg Config, dir Dir, parts [][]byte, lost []int64, n int) *rec {
	r := &rec{}
	c := NewConn(cfg, r)
	var pkt uint64
	for i, p := range parts {
		feedChunks(c, dir, p, n, &pkt)
		if i < len(lost) {
			pkt++
			c.Gap(dir, lost[i], Meta{Packet: pkt})
		}
	}
	c.Close(Meta{Packet: pkt + 1})
	return r
}

func hasCode(m Message, code string) bool {
	for _, a := range m.Anomalies {
		if a.Code == code {
			return true
		}
	}
	return false
}

// A gap lands in the header of a frame whose payload holds bytes that look
// like frame headers; real frames follow. Whatever the decoder makes of the
// payload must be marked; messages stay marked until resyncConfirmLinks
// frames chained; the real messages after that come out unmarked and exact.
func TestResyncGuessMarking(t *testing.T) {
	srv := func(fin bool, op Opcode, p string) []byte {
		return enc(fr{fin: fin, op: op, payload: []byte(p)})
	}
	cli := func(i int, p string) []byte {
		return enc(fr{fin: true, op: OpText, mask: true, key: [4]byte{byte(i), 0x9c, 0x3e, byte(7 * i)}, payload: []byte(p)})
	}
	junk := strings.Repeat("\xff", 40) // no plausible header starts here
	var zeros [300]byte
	cases := []struct {
		name    string
		dir     Dir
		cfg     Config
		payload string // of the frame whose header is lost
		real    [][]byte
		minFake int  // messages decoded from the payload (at least)
		lost    bool // the decoder stays out of step: every later message is marked
	}{
		{name: "one-fake-header", dir: FromServer,
			payload: junk + "\x82\x05fake!" + "\x81\x03abc" + junk},
		{name: "fake-chain-of-three", dir: FromServer,
			payload: junk + string(srv(true, OpBinary, "fake-1")) + string(srv(true, OpText, "fake-2")) + string(srv(true, OpPing, "fake-3")) + junk,
			minFake: 3},
		{name: "fake-chain-into-real-frames", dir: FromServer,
			// The fake frame's declared length runs past the payload, into
			// the real frames: the decoder stays out of step, all marked.
			payload: junk + "\x82\x7e\x01\x00" + junk, minFake: 2, lost: true},
		{name: "zero-run-after-nonfin-header", dir: FromServer,
			payload: junk + "\x02\x00" + string(zeros[:]), minFake: 1},
		{name: "periodic-frames", dir: FromServer,
			payload: junk + strings.Repeat("\x82\x01Z", 60), minFake: 10},
		{name: "fake-text-invalid-utf8", dir: FromServer,
			payload: junk + "\x81\x04\xff\xfe\xfd\xfc" + "\x82\x02ab" + junk, minFake: 2},
		{name: "fake-then-reserved-opcode", dir: FromServer,
			payload: junk + "\x82\x01x" + "\x81\x01y" + "\x8b\x01z" + junk, minFake: 3},
		{name: "client-fake-masked", dir: FromClient,
			payload: junk + "\x82\x82\x00\x00\x00\x00ab" + "\x81\x81\x00\x00\x00\x00c" + junk, minFake: 2},
		{name: "deflate-frame-boundary", dir: FromServer, cfg: Config{Deflate: Deflate{Mode: PerMessageDeflate}},
			payload: junk + "\xc1\x03abc" + "\x82\x01x" + junk, minFake: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var real [][]byte
			var tail []byte
			for i := 0; i < 12; i++ {
				p := fmt.Sprintf("real message %d %s", i, strings.Repeat("r", i))
				real = append(real, []byte(p))
				if c.dir == FromServer {
					tail = append(tail, srv(true, OpText, p)...)
				} else {
					tail = append(tail, cli(i, p)...)
				}
			}
			var carrier []byte
			if c.dir == FromServer {
				carrier = srv(true, OpBinary, c.payload)
			} else {
				carrier = enc(fr{fin: true, op: OpBinary, mask: true, key: [4]byte{}, payload: []byte(c.payload)})
			}
			// Lose the carrier's header (and the first payload byte).
			hl := headerLen(carrier[0], carrier[1]) + 1
			parts := [][]byte{cat(carrier[hl:], tail)}
			var out *rec
			for _, n := range []int{0, 1, 7} {
				r := gapChunked(c.cfg, c.dir, [][]byte{nil, parts[0]}, []int64{int64(hl)}, n)
				if out != nil && r.summary() != out.summary() {
					t.Fatalf("chunks of %d decode differently:\n%s\nvs whole:\n%s", n, r.summary(), out.summary())
				}
				out = r
			}
			if !out.has(CodeResyncSkipped) {
				t.Errorf("no %s:\n%s", CodeResyncSkipped, out.summary())
			}
			// Unmarked messages: exactly a suffix of the real ones, in order.
			var unmarked [][]byte
			guessed, fake := 0, 0
			for _, m := range out.msgs {
				isReal := false
				for _, p := range real {
					isReal = isReal || (bytes.Equal(m.Payload, p) && m.Opcode == OpText)
				}
				if !isReal {
					fake++
				}
				if hasCode(m, CodeResyncGuess) {
					guessed++
				}
				if len(m.Anomalies) == 0 && !m.Incomplete && !m.Truncated {
					if !isReal {
						t.Errorf("unmarked message not sent: op %d %q", m.Opcode, m.Payload)
					}
					unmarked = append(unmarked, m.Payload)
				}
			}
			if fake < c.minFake {
				t.Errorf("%d messages decoded from the payload, want at least %d (test does not exercise a fake header):\n%s", fake, c.minFake, out.summary())
			}
			if guessed < min(resyncConfirmLinks, len(out.msgs)) {
				t.Errorf("%d messages marked %s, want at least %d", guessed, CodeResyncGuess, resyncConfirmLinks)
			}
			if c.lost {
				if len(unmarked) > 0 || len(out.msgs) == 0 {
					t.Errorf("%d unmarked messages after losing step:\n%s", len(unmarked), out.summary())
				}
				return
			}
			if len(unmarked) == 0 || len(unmarked) > len(real) {
				t.Fatalf("%d unmarked messages: never confirmed?\n%s", len(unmarked), out.summary())
			}
			for i, p := range unmarked {
				if want := real[len(real)-len(unmarked)+i]; !bytes.Equal(p, want) {
					t.Errorf("unmarked message %d: %q, want %q", i, p, want)
				}
			}
			if len(unmarked) < len(real)-resyncConfirmLinks-1 {
				t.Errorf("only %d of %d real messages unmarked:\n%s", len(unmarked), len(real), out.summary())
			}
		})
	}
}

// Once confirmed, a direction decodes unmarked; a second gap starts over.
func TestResyncGuessSecondGap(t *testing.T) {
	var in []byte
	var bounds []int
	for i := 0; i < 20; i++ {
		bounds = append(bounds, len(in))
		in = append(in, enc(fr{fin: true, op: OpBinary, payload: []byte(fmt.Sprintf("m%02d-%s", i, strings.Repeat("x", i)))})...)
	}
	// Lose frame 2 whole and frame 12 whole (gaps at frame boundaries).
	parts := [][]byte{in[:bounds[2]], in[bounds[3]:bounds[12]], in[bounds[13]:]}
	r := gapRun(Config{}, FromServer, parts, []int64{int64(bounds[3] - bounds[2]), int64(bounds[13] - bounds[12])})
	var got []string
	for _, m := range r.msgs {
		s := string(m.Payload[:3])
		if hasCode(m, CodeResyncGuess) {
			s += "?"
		}
		got = append(got, s)
	}
	want := "m00 m01 m03? m04? m05? m06? m07 m08 m09 m10 m11 m13? m14? m15? m16? m17 m18 m19"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("got  %s\nwant %s", g, want)
	}
}

// A resynchronised position never confirms while the frames are empty or
// repeat themselves: runs of such frames stay marked.
func TestResyncGuessDegenerateChains(t *testing.T) {
	for _, unit := range []string{"\x82\x00", "\x89\x00", "\x82\x01Z", "\x81\x02ok"} {
		in := cat([]byte("\xff\xff"), []byte(strings.Repeat(unit, 50)))
		r := gapRun(Config{}, FromServer, [][]byte{nil, in}, []int64{5})
		if len(r.msgs) != 50 {
			t.Fatalf("%q: %d messages", unit, len(r.msgs))
		}
		for i, m := range r.msgs {
			if !hasCode(m, CodeResyncGuess) {
				t.Fatalf("%q: message %d unmarked", unit, i)
			}
		}
	}
}

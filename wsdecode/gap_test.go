package wsdecode

import (
	"bytes"
	"strings"
	"testing"
)

// gapRun feeds parts to dir, calling Gap(lost) between consecutive parts, and
// closes the connection.
func gapRun(cfg Config, dir Dir, parts [][]byte, lost []int64) *rec {
	r := &rec{}
	c := NewConn(cfg, r)
	var pkt uint64
	for i, p := range parts {
		feedChunks(c, dir, p, 0, &pkt)
		if i < len(lost) {
			pkt++
			c.Gap(dir, lost[i], Meta{Packet: pkt})
		}
	}
	c.Close(Meta{Packet: pkt + 1})
	return r
}

func TestGapInsidePayload(t *testing.T) {
	f1 := enc(fr{fin: true, op: OpText, mask: true, key: testKey, payload: []byte("0123456789abcdef")})
	f2 := enc(fr{fin: true, op: OpBinary, mask: true, key: testKey, payload: []byte("next")})
	// Lose payload bytes 4..7 of f1 (header is 6 bytes).
	r := gapRun(Config{}, FromClient, [][]byte{f1[:10], cat(f1[14:], f2)}, []int64{4})
	if len(r.msgs) != 2 {
		t.Fatalf("%s", r.summary())
	}
	m := r.msgs[0]
	if !m.Incomplete || string(m.Payload) != "0123" || len(m.Anomalies) != 1 || m.Anomalies[0].Code != CodeGap {
		t.Errorf("gapped message: %s", r.summary())
	}
	if r.msgs[1].Incomplete || string(r.msgs[1].Payload) != "next" || len(r.anoms) != 0 {
		t.Errorf("after gap: %s", r.summary())
	}
}

func TestGapFragmented(t *testing.T) {
	// A gap inside the first fragment: later fragments are consumed but their
	// bytes are not presented; the message ends at its FIN.
	in := cat(enc(fr{op: OpText, payload: []byte("aaaaaaaa")}),
		enc(fr{fin: true, op: OpPing, payload: []byte("p")}),
		enc(fr{fin: true, op: OpContinuation, payload: []byte("bbbb")}),
		enc(fr{fin: true, op: OpText, payload: []byte("ok")}))
	r := gapRun(Config{}, FromServer, [][]byte{in[:4], in[6:]}, []int64{2})
	want := []wantMsg{{op: OpPing, payload: "p"}, {op: OpText, payload: "aa", incomplete: true}, {op: OpText, payload: "ok"}}
	checkCase(t, dcase{dir: FromServer, want: want, codes: []string{CodeGap}}, r)
	if len(r.msgs) == 3 && len(r.msgs[1].Frames) != 2 {
		t.Errorf("frames: %s", r.summary())
	}
}

func TestGapResync(t *testing.T) {
	var msgs [][]byte
	var stream []byte
	for i := 0; i < 20; i++ {
		p := []byte(strings.Repeat(string(rune('a'+i)), 10+i*7))
		msgs = append(msgs, p)
		stream = append(stream, enc(fr{fin: true, op: OpText, mask: true, key: [4]byte{byte(i), 0x55, 0xaa, byte(i * 3)}, payload: p})...)
	}
	for _, cut := range []struct{ at, n int }{{0, 3}, {1, 1}, {40, 100}, {57, 20}, {100, 300}} {
		r := gapRun(Config{}, FromClient, [][]byte{stream[:cut.at], stream[cut.at+cut.n:]}, []int64{int64(cut.n)})
		// Every unmarked message must be a real one; the ones found by
		// resynchronising are marked resync-guess until the position is
		// confirmed; the last ones must be found again, unmarked.
		seen := map[string]bool{}
		guessed := 0
		for _, m := range r.msgs {
			if m.Incomplete {
				if len(m.Anomalies) == 0 {
					t.Errorf("cut %v: incomplete message without anomaly", cut)
				}
				continue
			}
			if len(m.Anomalies) > 0 {
				if len(m.Anomalies) != 1 || m.Anomalies[0].Code != CodeResyncGuess {
					t.Errorf("cut %v: unexpected anomalies %v", cut, m.Anomalies)
				}
				guessed++
				continue
			}
			found := false
			for _, p := range msgs {
				found = found || bytes.Equal(p, m.Payload)
			}
			if !found {
				t.Errorf("cut %v: invented message %q", cut, m.Payload)
			}
			seen[string(m.Payload)] = true
		}
		if guessed != resyncConfirmLinks {
			t.Errorf("cut %v: %d messages marked %s, want %d", cut, guessed, CodeResyncGuess, resyncConfirmLinks)
		}
		if !seen[string(msgs[19])] || !seen[string(msgs[18])] {
			t.Errorf("cut %v: did not resynchronise:\n%s", cut, r.summary())
		}
		if !r.has(CodeGap) {
			t.Errorf("cut %v: gap not reported", cut)
		}
	}
}

func TestGapDeflateContext(t *testing.T) {
	plain := [][]byte{
		[]byte(strings.Repeat("the quick brown fox ", 50)),
		[]byte(strings.Repeat("the quick brown fox jumps ", 50)),
		[]byte(strings.Repeat("the quick brown fox jumps over ", 50)),
		[]byte(strings.Repeat("the quick brown fox jumps over the dog ", 50)),
	}
	for _, takeover := range []bool{true, false} {
		z := deflateMsgs(t, plain, takeover)
		var frames [][]byte
		for _, p := range z {
			frames = append(frames, enc(fr{fin: true, rsv: 4, op: OpText, payload: p}))
		}
		cfg := Config{Deflate: Deflate{Mode: PerMessageDeflate, ServerNoContextTakeover: !takeover}}
		// Lose the whole of message 1 (a gap at a frame boundary), plus an
		// uncompressed message after the gap.
		tail := cat(frames[2], enc(fr{fin: true, op: OpText, payload: []byte("plain")}), frames[3])
		r := gapRun(cfg, FromServer, [][]byte{frames[0], tail}, []int64{int64(len(frames[1]))})
		if len(r.msgs) != 4 || string(r.msgs[0].Payload) != string(plain[0]) || string(r.msgs[2].Payload) != "plain" {
			t.Fatalf("takeover=%v:\n%.3000s", takeover, r.summary())
		}
		for i, pi := range map[int]int{1: 2, 3: 3} {
			m := r.msgs[i]
			if takeover {
				if !m.Incomplete || len(m.Payload) != 0 || len(m.Anomalies) != 2 || m.Anomalies[0].Code != CodeResyncGuess || m.Anomalies[1].Code != CodeContextLost {
					t.Errorf("takeover: message %d after the gap: inc=%v len=%d %v", i, m.Incomplete, len(m.Payload), m.Anomalies)
				}
			} else if m.Incomplete || string(m.Payload) != string(plain[pi]) || len(m.Anomalies) != 1 || m.Anomalies[0].Code != CodeResyncGuess {
				t.Errorf("no takeover: message %d after the gap: inc=%v %v", i, m.Incomplete, m.Anomalies)
			}
		}
	}
}

func TestGapInsideCompressedPrefix(t *testing.T) {
	plain := []byte(strings.Repeat("abcdefghij", 2000))
	z := deflateMsgs(t, [][]byte{plain}, false)[0]
	f := enc(fr{fin: true, rsv: 4, op: OpBinary, payload: z})
	cfg := Config{Deflate: Deflate{Mode: PerMessageDeflate, ServerNoContextTakeover: true}}
	r := gapRun(cfg, FromServer, [][]byte{f[:len(f)-10], f[len(f)-5:]}, []int64{5})
	if len(r.msgs) != 1 {
		t.Fatalf("%s", r.summary())
	}
	m := r.msgs[0]
	if !m.Incomplete || !bytes.HasPrefix(plain, m.Payload) || !r.has(CodeGap) {
		t.Errorf("prefix: inc=%v len=%d prefix=%v %v", m.Incomplete, len(m.Payload), bytes.HasPrefix(plain, m.Payload), m.Anomalies)
	}
}

func TestPerFrameDeflate(t *testing.T) {
	parts := [][]byte{[]byte("hello hello hello "), []byte("world world hello "), {}, []byte("hello world!")}
	for _, takeover := range []bool{true, false} {
		z := deflateMsgs(t, parts, takeover)
		var in []byte
		for i, p := range z {
			op := OpContinuation
			if i == 0 {
				op = OpText
			}
			in = append(in, enc(fr{fin: i == len(z)-1, rsv: 4, op: op, payload: p})...)
		}
		in = append(in, enc(fr{fin: true, rsv: 4, op: OpBinary, payload: deflateMsgs(t, [][]byte{[]byte("solo")}, false)[0]})...)
		cfg := Config{Deflate: Deflate{Mode: PerFrameDeflate, ServerNoContextTakeover: !takeover}}
		for _, n := range []int{0, 1, 5} {
			r := decode(cfg, FromServer, in, n)
			want := []wantMsg{{op: OpText, payload: string(bytes.Join(parts, nil))}, {op: OpBinary, payload: "solo"}}
			checkCase(t, dcase{dir: FromServer, want: want}, r)
			if len(r.msgs) > 0 && !r.msgs[0].Compressed {
				t.Errorf("not marked compressed")
			}
		}
	}
}

// A gap inside an uncompressed frame of known length loses no compressed
// history: later compressed messages still inflate under context takeover.
func TestGapInPlainKeepsContext(t *testing.T) {
	plain := [][]byte{[]byte(strings.Repeat("context ", 40)), []byte(strings.Repeat("context takeover ", 40))}
	z := deflateMsgs(t, plain, true)
	cfg := Config{Deflate: Deflate{Mode: PerMessageDeflate}}
	f0 := enc(fr{fin: true, rsv: 4, op: OpText, payload: z[0]})
	u := enc(fr{fin: true, op: OpBinary, payload: dataOf(100)})
	f1 := enc(fr{fin: true, rsv: 4, op: OpText, payload: z[1]})
	r := gapRun(cfg, FromServer, [][]byte{cat(f0, u[:20]), cat(u[30:], f1)}, []int64{10})
	if len(r.msgs) != 3 || !r.msgs[1].Incomplete || r.msgs[2].Incomplete || string(r.msgs[2].Payload) != string(plain[1]) {
		t.Fatalf("%.2000s", r.summary())
	}
	// The same gap inside the compressed message does lose it.
	r = gapRun(cfg, FromServer, [][]byte{cat(f0[:10]), cat(f0[12:], u, f1)}, []int64{2})
	if len(r.msgs) != 3 || !r.msgs[2].Incomplete || len(r.msgs[2].Payload) != 0 || r.msgs[2].Anomalies[0].Code != CodeContextLost {
		t.Fatalf("%.2000s", r.summary())
	}
}

// A gap at a frame boundary inside a fragmented message: the decoder resumes
// at the next continuation frame (reported as an orphan) instead of searching
// through its payload.
func TestGapBetweenFragments(t *testing.T) {
	p := dataOf(3000)
	f0 := enc(fr{op: OpBinary, payload: p[:1000]})
	f1 := enc(fr{op: OpContinuation, payload: p[1000:2000]})
	f2 := enc(fr{fin: true, op: OpContinuation, payload: p[2000:]})
	next := enc(fr{fin: true, op: OpText, payload: []byte("next")})
	r := gapRun(Config{}, FromServer, [][]byte{f0, cat(f2, next)}, []int64{int64(len(f1))})
	want := []wantMsg{
		{op: OpBinary, payload: string(p[:1000]), incomplete: true},
		{op: OpContinuation, payload: string(p[2000:])},
		{op: OpText, payload: "next"},
	}
	checkCase(t, dcase{dir: FromServer, want: want, codes: []string{CodeGap, CodeOrphanContinuation, CodeResyncGuess, CodeResyncGuess}}, r)
}

func TestTruncatedHeaderAtClose(t *testing.T) {
	in := enc(fr{fin: true, op: OpBinary, mask: true, key: testKey, payload: []byte("abc")})[:4]
	for _, n := range []int{0, 1} {
		r := decode(Config{}, FromClient, in, n)
		if len(r.msgs) != 0 || len(r.anoms) != 1 || r.anoms[0].Code != CodeTruncated {
			t.Errorf("chunk %d: %s", n, r.summary())
		}
	}
}

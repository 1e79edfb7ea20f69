package wsdecode

import (
	"math/rand"
	"strings"
	"testing"
)

// maskFrames encodes one masked client text frame per key.
func maskFrames(keys [][4]byte) []byte {
	var b []byte
	for i, k := range keys {
		b = append(b, enc(fr{fin: true, op: OpText, mask: true, key: k, payload: []byte("msg " + string(rune('a'+i%26)))})...)
	}
	return b
}

func randKeys(seed int64, n int) [][4]byte {
	rnd := rand.New(rand.NewSource(seed))
	ks := make([][4]byte, n)
	for i := range ks {
		rnd.Read(ks[i][:])
		if ks[i] == ([4]byte{}) {
			ks[i][0] = 1
		}
	}
	return ks
}

func rep(k [4]byte, n int) [][4]byte {
	ks := make([][4]byte, n)
	for i := range ks {
		ks[i] = k
	}
	return ks
}

// TestMaskKeys checks the predictable-masking-key findings: reported once
// per connection with counts, never for random keys, the server direction or
// unmasked frames, and the same whatever the chunking.
func TestMaskKeys(t *testing.T) {
	k1, k2, k3 := [4]byte{1, 2, 3, 4}, [4]byte{0xde, 0xad, 0xbe, 0xef}, [4]byte{9, 8, 7, 6}
	zero := [4]byte{}
	cycle := func(n int, ks ...[4]byte) [][4]byte {
		var out [][4]byte
		for i := 0; i < n; i++ {
			out = append(out, ks[i%len(ks)])
		}
		return out
	}
	tests := []struct {
		name   string
		dir    Dir
		in     []byte
		want   map[string]string // code → substring of the detail
		absent []string
	}{
		{name: "random-keys", dir: FromClient, in: maskFrames(randKeys(1, 5000)),
			absent: []string{CodeMaskKeyZero, CodeMaskKeyRepeated}},
		{name: "one-frame", dir: FromClient, in: maskFrames(rep(k1, 1)),
			absent: []string{CodeMaskKeyZero, CodeMaskKeyRepeated}},
		{name: "one-repeat-is-not-a-finding", dir: FromClient, in: maskFrames([][4]byte{k1, k2, k1, k3}),
			absent: []string{CodeMaskKeyRepeated}},
		{name: "constant-key", dir: FromClient, in: maskFrames(rep(k2, 10)),
			want: map[string]string{CodeMaskKeyRepeated: "9 of 10 masked client frames"}, absent: []string{CodeMaskKeyZero}},
		{name: "small-set-in-turn", dir: FromClient, in: maskFrames(cycle(30, k1, k2, k3)),
			want: map[string]string{CodeMaskKeyRepeated: "27 of 30 masked client frames"}},
		{name: "zero-key-once", dir: FromClient, in: maskFrames(append(randKeys(2, 20), zero)),
			want: map[string]string{CodeMaskKeyZero: "1 of 21 masked client frames"}, absent: []string{CodeMaskKeyRepeated}},
		{name: "zero-keys-always", dir: FromClient, in: maskFrames(rep(zero, 7)),
			want: map[string]string{CodeMaskKeyZero: "7 of 7"}, absent: []string{CodeMaskKeyRepeated}},
		{name: "unmasked-not-counted", dir: FromClient, in: cat(
			enc(fr{fin: true, op: OpText, payload: []byte("a")}),
			enc(fr{fin: true, op: OpText, payload: []byte("b")}),
			enc(fr{fin: true, op: OpText, payload: []byte("c")})),
			absent: []string{CodeMaskKeyZero, CodeMaskKeyRepeated}},
		{name: "server-masked-not-counted", dir: FromServer, in: maskFrames(rep(zero, 5)),
			absent: []string{CodeMaskKeyZero, CodeMaskKeyRepeated}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var first string
			for _, n := range []int{0, -1, 1, 7} {
				r := decode(Config{}, tc.dir, tc.in, n)
				counts := map[string]int{}
				for _, a := range r.anoms {
					counts[a.Code]++
					if sub, ok := tc.want[a.Code]; ok && !strings.Contains(a.Detail, sub) {
						t.Errorf("chunk %d: %s detail %q lacks %q", n, a.Code, a.Detail, sub)
					}
					if a.Code == CodeMaskKeyZero || a.Code == CodeMaskKeyRepeated {
						if a.Dir != FromClient || a.At.Packet == 0 {
							t.Errorf("chunk %d: %s at dir %v packet %d", n, a.Code, a.Dir, a.At.Packet)
						}
					}
				}
				for code := range tc.want {
					if counts[code] != 1 {
						t.Errorf("chunk %d: %s reported %d times, want once", n, code, counts[code])
					}
				}
				for _, code := range tc.absent {
					if counts[code] != 0 {
						t.Errorf("chunk %d: unexpected %s", n, code)
					}
				}
				s := r.summary()
				for _, a := range r.anoms {
					s += a.Code + " " + a.Detail + "\n"
				}
				if first == "" {
					first = s
				} else if s != first {
					t.Errorf("chunk %d: output differs from whole:\n%s\nwant\n%s", n, s, first)
				}
			}
		})
	}
}

// TestMaskKeysFirstPosition checks that a finding points at the first frame
// that showed it.
func TestMaskKeysFirstPosition(t *testing.T) {
	ks := append(randKeys(3, 4), [4]byte{}, [4]byte{5, 5, 5, 5}, [4]byte{5, 5, 5, 5}, [4]byte{5, 5, 5, 5})
	r := &rec{}
	c := NewConn(Config{}, r)
	var pkt uint64
	for _, k := range ks {
		feedChunks(c, FromClient, maskFrames([][4]byte{k}), 0, &pkt)
	}
	c.Close(Meta{Packet: pkt + 1})
	at := map[string]uint64{}
	for _, a := range r.anoms {
		at[a.Code] = a.At.Packet
	}
	if at[CodeMaskKeyZero] != 5 || at[CodeMaskKeyRepeated] != 7 {
		t.Errorf("first positions %v, want zero at packet 5, repeated at 7", at)
	}
}

// TestMaskKeysAfterGap checks that frames decoded from an unconfirmed
// resynchronised position are not counted (their "key" may be payload),
// while the frames before the gap are.
func TestMaskKeysAfterGap(t *testing.T) {
	r := &rec{}
	c := NewConn(Config{}, r)
	var pkt uint64
	feedChunks(c, FromClient, maskFrames(randKeys(4, 3)), 0, &pkt)
	// Half a frame header is lost: the decoder searches for the next header.
	c.Gap(FromClient, 3, Meta{Packet: pkt + 1})
	pkt++
	// The next bytes chain as plausible frames with zero keys: decoded as a
	// guess, they must not count.
	feedChunks(c, FromClient, maskFrames(rep([4]byte{}, 2)), 0, &pkt)
	c.Close(Meta{Packet: pkt + 1})
	if r.has(CodeMaskKeyZero) {
		t.Errorf("zero key counted on guessed frames:\n%s", r.summary())
	}
	if !r.has(CodeResyncGuess) {
		t.Fatalf("test setup: expected resync-guess:\n%s", r.summary())
	}
}

// BenchmarkMaskKeySee measures the per-frame check alone.
func BenchmarkMaskKeySee(b *testing.B) {
	ks := randKeys(5, 1024)
	var m maskStats
	at := Meta{Packet: 1}
	b.ReportAllocs()
	b.SetBytes(6) // a masked small-frame header
	for i := 0; b.Loop(); i++ {
		m.see(&ks[i&1023], &at)
	}
	if m.frames == 0 {
		b.Fatal("nothing checked")
	}
}

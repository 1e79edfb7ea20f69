package inetsum

import (
	"math/rand/v2"
	"testing"
)

// naive is RFC 1071 word by word.
func naive(b []byte) uint16 {
	var s uint64
	for len(b) >= 2 {
		s += uint64(b[0])<<8 | uint64(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

func TestAddMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if n%7 == 0 {
			for i := range b {
				b[i] = 0xff // carries everywhere
			}
		}
		if got, want := Fold(Add(0, b)), naive(b); got != want {
			t.Fatalf("len %d: %#04x, want %#04x", n, got, want)
		}
		// Chained over an even split.
		k := n / 2 &^ 1
		if got, want := Fold(Add(Add(0, b[:k]), b[k:])), naive(b); got != want {
			t.Fatalf("len %d split %d: %#04x, want %#04x", n, k, got, want)
		}
	}
}

package wsdecode

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

func refMask(b []byte, key [4]byte, pos int) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ key[(pos+i)&3]
	}
	return out
}

func TestMaskCopy(t *testing.T) {
	key := [4]byte{0x01, 0x23, 0x45, 0x67}
	src := dataOf(300)
	for n := 0; n < 80; n++ {
		for pos := 0; pos < 4; pos++ {
			dst := make([]byte, n)
			ph := maskCopy(dst, src[:n], key, pos)
			if !bytes.Equal(dst, refMask(src[:n], key, pos)) || ph != (pos+n)&3 {
				t.Fatalf("n=%d pos=%d", n, pos)
			}
			inplace := bytes.Clone(src[:n])
			maskCopy(inplace, inplace, key, pos)
			if !bytes.Equal(inplace, dst) {
				t.Fatalf("in place n=%d pos=%d", n, pos)
			}
		}
	}
}

func TestUTF8Incremental(t *testing.T) {
	for _, s := range []string{"", "abc", "héllo", "€", "😀x", "a\xffb", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "é\xe2\x82", "\xe2\x82\xac\xf0\x9f\x98\x80"} {
		b := []byte(s)
		for cut1 := 0; cut1 <= len(b); cut1++ {
			for cut2 := cut1; cut2 <= len(b); cut2++ {
				var v utf8Validator
				v.write(b[:cut1])
				v.write(b[cut1:cut2])
				v.write(b[cut2:])
				if got := v.valid(true); got != utf8.Valid(b) {
					t.Errorf("%q cut %d,%d: %v", s, cut1, cut2, got)
				}
			}
		}
	}
}

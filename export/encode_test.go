package export

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// tickPayload is a message of the benchmark's small kind (bench/gencap):
// quote-dense JSON.
var tickPayload = []byte(`{"type":"tick","sym":"S3235","seq":7,"bid":5120.64,"ask":5121,"qty":20302,"ts":1767225600037075}`)

func BenchmarkEscapeTick(b *testing.B) {
	b.SetBytes(int64(len(tickPayload)))
	b.ReportAllocs()
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		buf, _ = escapeJSONBody(buf[:0], tickPayload, true)
	}
}

func BenchmarkBase64_64K(b *testing.B) {
	p := make([]byte, 64<<10)
	for i := range p {
		p[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	buf := make([]byte, 0, 128<<10)
	for b.Loop() {
		buf = appendBase64(buf[:0], p)
	}
}

func BenchmarkBase64Std_64K(b *testing.B) {
	p := make([]byte, 64<<10)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	buf := make([]byte, 0, 128<<10)
	for b.Loop() {
		buf = base64.StdEncoding.AppendEncode(buf[:0], p)
	}
}

// appendBase64 must write exactly what encoding/base64 writes, for every
// length around its 6-byte steps, the switch to the AVX2 encoder and that
// encoder's 24-byte blocks and tail, from every alignment of src (a large
// allocation starts a page: the AVX2 encoder's first load reaches before
// src).
func TestAppendBase64(t *testing.T) {
	page := make([]byte, 64<<10) // large object: page-aligned
	for i := range page {
		page[i] = byte(i*131 + 7)
	}
	for _, at := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 31, 4096 - 3, 4096} {
		for n := 0; n <= 700; n++ {
			p := page[at : at+n]
			for _, prefix := range []string{"", "x"} {
				got := string(appendBase64([]byte(prefix), p))
				want := prefix + base64.StdEncoding.EncodeToString(p)
				if got != want {
					t.Fatalf("offset %d, len %d: got %q, want %q", at, n, got, want)
				}
			}
		}
	}
	p := page[3:]
	if got, want := string(appendBase64(nil, p)), base64.StdEncoding.EncodeToString(p); got != want {
		t.Fatalf("%d bytes: differs from encoding/base64", len(p))
	}
}

func FuzzBase64(f *testing.F) {
	f.Add([]byte("hello, world"), 3)
	f.Fuzz(func(t *testing.T, p []byte, room int) {
		dst := make([]byte, 2, 2+max(0, room%64))
		got := appendBase64(dst, p)
		if want := "\x00\x00" + base64.StdEncoding.EncodeToString(p); string(got) != want {
			t.Fatalf("%x: got %q, want %q", p, got, want)
		}
	})
}

// refEscape is escapeJSONBody's rules written plainly, a byte or rune at a
// time, for differential tests.
func refEscape(s []byte, strict bool) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20 || c == 0x7f:
				fmt.Fprintf(&b, `\u%04x`, c)
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			if strict {
				return b.String(), false
			}
			b.WriteString(`\ufffd`)
		case r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.Write(s[i : i+n])
		}
		i += n
	}
	return b.String(), true
}

func FuzzEscapeJSONBody(f *testing.F) {
	f.Add(tickPayload, 0)
	f.Add([]byte("héllo \x00\x1f\x7f \u2028\u0085 \xff\xed\xa0\x80 😀"+strings.Repeat(`"\`, 200)), 5)
	f.Fuzz(func(t *testing.T, s []byte, room int) {
		for _, strict := range []bool{false, true} {
			dst := make([]byte, 1, 1+max(0, room%300))
			got, ok := escapeJSONBody(dst, s, strict)
			want, wok := refEscape(s, strict)
			if ok != wok || ok && string(got[1:]) != want {
				t.Fatalf("strict=%v %q:\n got %q, %v\nwant %q, %v", strict, s, got[1:], ok, want, wok)
			}
		}
	})
}

func TestEscapeJSONBodyBlocks(t *testing.T) {
	// Every alignment of escapes, runes and invalid bytes against the
	// 8-byte words and the escBlock blocks.
	pieces := []string{"a", `"`, "\\", "\n", "\x01", "\x7f", "é", "€", "😀", "\u2028", "\u0085", "\xff", "\xe2\x82"}
	for _, p := range pieces {
		for _, q := range pieces {
			for pre := 0; pre < 20; pre++ {
				for _, base := range []int{0, escBlock - 10} {
					s := []byte(strings.Repeat("x", base+pre) + p + q + strings.Repeat("y", pre%9))
					for _, strict := range []bool{false, true} {
						got, ok := escapeJSONBody(nil, s, strict)
						want, wok := refEscape(s, strict)
						if ok != wok || ok && string(got) != want {
							t.Fatalf("strict=%v %q: got %q %v, want %q %v", strict, s, got, ok, want, wok)
						}
					}
				}
			}
		}
	}
}

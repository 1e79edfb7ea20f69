package export

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAppendJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"hello", `"hello"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\n\r\t\x00\x1f\x7f", `"\n\r\t\u0000\u001f\u007f"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"\u0085", `"\u0085"`},
		{"\xff", `"\ufffd"`},
		{"a\xc3", `"a\ufffd"`},
		{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`}, // surrogate: invalid
		{"é😀", `"é😀"`},
		{"<&>", `"<&>"`},
	}
	for _, tt := range tests {
		got := string(appendJSONString(nil, tt.in))
		if got != tt.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if gotB := string(appendJSONString(nil, []byte(tt.in))); gotB != got {
			t.Errorf("[]byte version of %q = %s, string version %s", tt.in, gotB, got)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("invalid JSON for %q: %s", tt.in, got)
		}
	}
}

// decodeRune must agree with unicode/utf8 on every 1–4 byte prefix class.
func TestDecodeRuneMatchesUTF8(t *testing.T) {
	check := func(b []byte) {
		if b[0] < 0x80 {
			return
		}
		r, n := decodeRune(b, 0)
		wr, wn := utf8.DecodeRune(b)
		if wr == utf8.RuneError && wn == 1 {
			if n != 0 {
				t.Fatalf("% x: decodeRune accepted %U/%d, utf8 rejects", b, r, n)
			}
			return
		}
		if r != wr || n != wn {
			t.Fatalf("% x: decodeRune = %U/%d, utf8 = %U/%d", b, r, n, wr, wn)
		}
	}
	for b0 := 0x80; b0 < 0x100; b0++ {
		for b1 := 0; b1 < 0x100; b1++ {
			check([]byte{byte(b0)})
			check([]byte{byte(b0), byte(b1)})
			check([]byte{byte(b0), byte(b1), 0x80})
			check([]byte{byte(b0), byte(b1), 0xbf, 0xbf})
			check([]byte{byte(b0), byte(b1), 0x80, 0x41})
		}
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range nastyPayloads {
		f.Add([]byte(s))
	}
	f.Add([]byte{})
	f.Add([]byte("\xed\xbf\xbf\xf4\x90\x80\x80"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out := appendJSONString(nil, in)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON for %q: %s", in, out)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		if utf8.Valid(in) {
			if back != string(in) {
				t.Fatalf("round trip: %q → %s → %q", in, out, back)
			}
		} else if back != strings.ToValidUTF8(string(in), "\ufffd") && !utf8.ValidString(back) {
			t.Fatalf("invalid UTF-8 not replaced: %q → %q", in, back)
		}
		for _, c := range out {
			if c < 0x20 || c == 0x7f {
				t.Fatalf("raw control byte %#x in %q", c, out)
			}
		}
		// The message writer uses the text path only for valid UTF-8 and
		// base64 otherwise: the record must be valid JSON either way.
		j := NewJSONWriter(new(strings.Builder))
		m := textMsg(0, "")
		m.Payload, m.Len = in, int64(len(in))
		j.Message(testConn(1), m)
		line := j.buf[:len(j.buf)-1]
		if !json.Valid(line) {
			t.Fatalf("invalid message record: %s", line)
		}
		var rec map[string]any
		json.Unmarshal(line, &rec)
		_, hasText := rec["text"]
		if hasText != utf8.Valid(in) {
			t.Fatalf("text field present=%v for valid=%v", hasText, utf8.Valid(in))
		}
	})
}

func TestAppendTime(t *testing.T) {
	var tc timeCache
	for _, ts := range []time.Time{
		t0,
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("x", 3600*5)),
		time.Date(2026, 1, 2, 3, 4, 5, 7, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 6, 7, time.UTC),
	} {
		got := string(appendTime(nil, ts))
		got2 := string(tc.append(nil, ts))
		if got != got2 {
			t.Errorf("cache: %s vs %s", got2, got)
		}
		if len(got) != len(`"2006-01-02T15:04:05.000000000Z"`) {
			t.Errorf("%v: %s: want exactly 9 fraction digits", ts, got)
		}
		want := `"` + ts.UTC().Format("2006-01-02T15:04:05.000000000Z") + `"`
		if got != want {
			t.Errorf("appendTime = %s, want %s", got, want)
		}
		back, err := time.Parse(time.RFC3339Nano, got[1:len(got)-1])
		if err != nil || !back.Equal(ts) {
			t.Errorf("parse back %s: %v %v", got, back, err)
		}
	}
	if got := string(appendTime(nil, time.Time{})); got != "null" {
		t.Errorf("zero time = %s", got)
	}
}

// specialBytes must flag exactly the bytes that are not jsonSafe, for
// every byte value at every position of a word, next to every other value.
func TestSpecialBytes(t *testing.T) {
	var w [8]byte
	for pos := 0; pos < 8; pos++ {
		for v := 0; v < 256; v++ {
			for u := 0; u < 256; u++ {
				for i := range w {
					w[i] = 'a'
				}
				w[pos] = byte(v)
				w[(pos+1)%8] = byte(u)
				var want uint64
				for i, c := range w {
					if !jsonSafe[c] {
						want |= 0x80 << (8 * i)
					}
				}
				if got := specialBytes(binary.LittleEndian.Uint64(w[:])); got != want {
					t.Fatalf("% x: mask %#016x, want %#016x", w, got, want)
				}
			}
		}
	}
}

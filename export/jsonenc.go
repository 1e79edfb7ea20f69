package export

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// This file holds the append-style JSON primitives used by the JSON Lines
// writer. They append to a caller-owned []byte and never allocate beyond
// growing it.

const hexDigits = "0123456789abcdef"

// jsonSafe[b] is true for ASCII bytes that can be copied into a JSON string
// unchanged. Besides '"', '\\' and control characters, '<', '>' and '&' are
// kept literal (JSON Lines is not embedded in HTML) and DEL is escaped so that
// output viewed in a terminal never carries it raw.
var jsonSafe = func() (t [256]bool) {
	for b := 0x20; b < 0x7f; b++ {
		t[b] = true
	}
	t['"'] = false
	t['\\'] = false
	return t
}()

// appendJSONString appends s as a quoted JSON string. Bytes that are not
// valid UTF-8 are replaced by U+FFFD (as encoding/json does), so the output
// is always valid JSON; callers that must keep every byte (payloads) use
// appendJSONText, which refuses invalid UTF-8. U+2028 and U+2029 are escaped
// so a line can be evaluated as JavaScript, and control characters (C0, DEL,
// C1) are escaped so that output shown in a terminal cannot carry escape
// sequences.
func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	dst, _ = escapeJSON(dst, asBytes(s), false)
	return dst
}

// appendJSONText appends p as a quoted JSON string if p is valid UTF-8 and
// reports true; otherwise it returns dst unchanged and false.
func appendJSONText(dst []byte, p []byte) ([]byte, bool) {
	n := len(dst)
	out, ok := escapeJSON(dst, p, true)
	if !ok {
		return out[:n], false
	}
	return out, true
}

// asBytes views s as bytes without copying; the result must not be written.
func asBytes[S string | []byte](s S) []byte {
	switch v := any(s).(type) {
	case string:
		return unsafe.Slice(unsafe.StringData(v), len(v))
	case []byte:
		return v
	}
	return nil
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// safeRun returns how many leading bytes of s need no escaping in a JSON
// string (printable ASCII other than '"' and '\\'), 8 bytes at a time.
func safeRun(s []byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		q := x ^ (lsb * '"')
		bs := x ^ (lsb * '\\')
		// The high bit of a byte is set in: (x-0x20)&^x if it is < 0x20,
		// (q-1)&^q if it is '"', (bs-1)&^bs if it is '\\', x if it is
		// ≥ 0x80, x+1 if it is 0x7f (a carry out of a byte needs 0xff, which
		// x catches). Borrows only cause hits where a byte matched already.
		// The lowest set bit is exact (false positives only occur above a
		// true one), so it locates the first byte needing attention.
		if m := (((x - lsb*0x20) &^ x) | ((q - lsb) &^ q) | ((bs - lsb) &^ bs) | x | (x + lsb)) & msb; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s) && jsonSafe[s[i]]; i++ {
	}
	return i
}

func escapeJSON(dst []byte, s []byte, strict bool) ([]byte, bool) {
	dst, ok := escapeJSONBody(append(dst, '"'), s, strict)
	if !ok {
		return dst, false
	}
	return append(dst, '"'), true
}

// escapeJSONBody appends s escaped for a JSON string, without the quotes;
// with strict it stops and reports false at the first invalid UTF-8.
func escapeJSONBody(dst []byte, s []byte, strict bool) ([]byte, bool) {
	start := 0
	i := 0
	for i < len(s) {
		if n := safeRun(s[i:]); n > 0 {
			i += n
			if i >= len(s) {
				break
			}
		}
		b := s[i]
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s, i)
		if size == 0 {
			if strict {
				return dst, false
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		// C1 controls, line/paragraph separators: escaped.
		if (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...), true
}

// appendTime appends t in UTC as RFC 3339 with exactly nine fractional
// digits ("2026-11-25T18:47:51.123456789Z"), so that timestamps sort as
// strings. The zero time is written as null.
func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = appendTimeRaw(dst, t)
	return append(dst, '"')
}

// appendTimeRaw appends t without quotes.
func appendTimeRaw(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 0 || y > 9999 {
		// Out of RFC 3339's range; keep it parseable by Go at least.
		return t.AppendFormat(dst, "2006-01-02T15:04:05.000000000Z07:00")
	}
	dst = append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-',
		byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':',
		byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.')
	ns := t.Nanosecond()
	var frac [9]byte
	for i := 8; i >= 0; i-- {
		frac[i] = byte('0' + ns%10)
		ns /= 10
	}
	dst = append(dst, frac[:]...)
	return append(dst, 'Z')
}

// timeCache remembers the formatted date-and-seconds prefix of the last
// second seen: consecutive records mostly fall in the same second.
type timeCache struct {
	unix   int64
	prefix []byte // `"2026-11-25T18:47:51.`
}

func (c *timeCache) append(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, "null"...)
	}
	sec := t.Unix()
	if c.prefix == nil || sec != c.unix {
		c.prefix = append(c.prefix[:0], '"')
		c.prefix = appendTimeRaw(c.prefix, t)
		c.prefix = c.prefix[:len(c.prefix)-10] // drop the nine digits and 'Z'
		c.unix = sec
		if len(c.prefix) != len(`"2006-01-02T15:04:05.`) {
			c.prefix = nil // unusual year: don't cache
			return appendTime(dst, t)
		}
	}
	dst = append(dst, c.prefix...)
	ns := t.Nanosecond()
	var frac [9]byte
	for i := 8; i >= 0; i-- {
		frac[i] = byte('0' + ns%10)
		ns /= 10
	}
	dst = append(dst, frac[:]...)
	return append(dst, 'Z', '"')
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

func appendUint(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }
func appendInt(dst []byte, v int64) []byte   { return strconv.AppendInt(dst, v, 10) }

// decodeRune decodes the UTF-8 sequence starting at s[i] (s[i] ≥ 0x80). It
// returns size 0 when the bytes there are not valid UTF-8 (as defined by
// unicode/utf8: no overlongs, surrogates or values above U+10FFFF). It exists
// so string and []byte share one allocation-free code path.
func decodeRune[S string | []byte](s S, i int) (rune, int) {
	n := len(s) - i
	b0 := s[i]
	cont := func(b byte, lo, hi byte) bool { return b >= lo && b <= hi }
	switch {
	case b0 >= 0xC2 && b0 <= 0xDF:
		if n < 2 || !cont(s[i+1], 0x80, 0xBF) {
			return 0, 0
		}
		return rune(b0&0x1F)<<6 | rune(s[i+1]&0x3F), 2
	case b0 >= 0xE0 && b0 <= 0xEF:
		lo, hi := byte(0x80), byte(0xBF)
		if b0 == 0xE0 {
			lo = 0xA0
		} else if b0 == 0xED {
			hi = 0x9F
		}
		if n < 3 || !cont(s[i+1], lo, hi) || !cont(s[i+2], 0x80, 0xBF) {
			return 0, 0
		}
		return rune(b0&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), 3
	case b0 >= 0xF0 && b0 <= 0xF4:
		lo, hi := byte(0x80), byte(0xBF)
		if b0 == 0xF0 {
			lo = 0x90
		} else if b0 == 0xF4 {
			hi = 0x8F
		}
		if n < 4 || !cont(s[i+1], lo, hi) || !cont(s[i+2], 0x80, 0xBF) || !cont(s[i+3], 0x80, 0xBF) {
			return 0, 0
		}
		return rune(b0&0x07)<<18 | rune(s[i+1]&0x3F)<<12 | rune(s[i+2]&0x3F)<<6 | rune(s[i+3]&0x3F), 4
	}
	return 0, 0
}

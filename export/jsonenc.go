package export

import (
	"encoding/binary"
	"math/bits"
	"slices"
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

func escapeJSON(dst []byte, s []byte, strict bool) ([]byte, bool) {
	dst, ok := escapeJSONBody(append(dst, '"'), s, strict)
	if !ok {
		return dst, false
	}
	return append(dst, '"'), true
}

// escapeJSONBody appends s escaped for a JSON string, without the quotes;
// with strict it stops and reports false at the first invalid UTF-8.
//
// It works in blocks of up to escBlock input bytes, growing dst once per
// block by the most the block can expand to (6 bytes per byte, plus a rune
// running over the block's end), and writes through an index into that
// room: runs of safe bytes move 8 at a time, and an escape costs a few
// stores, not a call (payloads such as JSON text are dense in quotes).
func escapeJSONBody(dst []byte, s []byte, strict bool) ([]byte, bool) {
	for len(s) > 0 {
		n := min(len(s), escBlock)
		dst = slices.Grow(dst, 6*(n+utf8.UTFMax))
		out := dst[len(dst):cap(dst)]
		i, j := 0, 0
		for i < n {
			if i+8 <= len(s) {
				x := binary.LittleEndian.Uint64(s[i:])
				m := specialBytes(x)
				// Handle the ASCII escapes of the word here: store all its
				// bytes from p on (the room has 8 bytes past any j), keep
				// those before the next special one, write its escape.
				p := 0
				for ; m != 0; m &= m - 1 {
					k := bits.TrailingZeros64(m) / 8
					b := byte(x >> (8 * k))
					if b >= utf8.RuneSelf {
						break
					}
					binary.LittleEndian.PutUint64(out[j:], x>>(8*p))
					j += k - p
					p = k + 1
					j += putEscape(out[j:], b)
				}
				if m == 0 {
					binary.LittleEndian.PutUint64(out[j:], x>>(8*p))
					i, j = i+8, j+8-p
					continue
				}
				// A non-ASCII byte at k: copy up to it, decode below.
				k := bits.TrailingZeros64(m) / 8
				binary.LittleEndian.PutUint64(out[j:], x>>(8*p))
				i, j = i+k, j+k-p
			} else if jsonSafe[s[i]] {
				out[j] = s[i]
				i, j = i+1, j+1
				continue
			}
			b := s[i]
			if b < utf8.RuneSelf {
				i, j = i+1, j+putEscape(out[j:], b)
				continue
			}
			r, size := decodeRune(s, i)
			switch {
			case size == 0:
				if strict {
					return dst[:len(dst)+j], false
				}
				j += copy(out[j:], `\ufffd`)
				i++
			case (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029:
				// C1 controls, line/paragraph separators: escaped.
				i, j = i+size, j+putUnicodeEscape(out[j:], r)
			default:
				j += copy(out[j:], s[i:i+size])
				i += size
			}
		}
		dst = dst[:len(dst)+j]
		s = s[i:]
	}
	return dst, true
}

// shortEscape[b] is the two-byte JSON escape of b (backslash in the low
// byte) for '"', '\\', '\n', '\r' and '\t'; 0 for other bytes.
var shortEscape = func() (t [256]uint16) {
	for b, c := range map[byte]byte{'"': '"', '\\': '\\', '\n': 'n', '\r': 'r', '\t': 't'} {
		t[b] = '\\' | uint16(c)<<8
	}
	return t
}()

// putEscape writes the JSON escape of the ASCII byte b (not jsonSafe) to
// out, which has room for 6 bytes, and returns its length.
func putEscape(out []byte, b byte) int {
	if e := shortEscape[b]; e != 0 {
		binary.LittleEndian.PutUint16(out, e)
		return 2
	}
	return putUnicodeEscape(out, rune(b))
}

// putUnicodeEscape writes \uXXXX for r (at most U+FFFF) to out, which has
// room for 6 bytes, and returns 6.
func putUnicodeEscape(out []byte, r rune) int {
	_ = out[5]
	out[0], out[1], out[2], out[3], out[4], out[5] = '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf]
	return 6
}

// specialBytes returns, for the 8 bytes of x (little endian), a mask with
// the high bit set in exactly the bytes that are not jsonSafe: '"', '\\',
// below 0x20, 0x7f and above. No borrow or carry crosses bytes
// ((v&0x7f…)+0x7f… sets a byte's high bit iff its low 7 bits are not zero),
// so every byte's bit is exact, not only the lowest set one.
func specialBytes(x uint64) uint64 {
	const low7 = lsb * 0x7f
	q, bs, del := x^(lsb*'"'), x^(lsb*'\\'), x^(lsb*0x7f)
	ok := ((q & low7) + low7) | q // high bit: not '"'
	ok &= ((bs & low7) + low7) | bs
	ok &= ((del & low7) + low7) | del
	ok &= (x & low7) + lsb*(0x80-0x20) // low 7 bits ≥ 0x20
	return (^ok | x) & msb
}

// escBlock is how many input bytes escapeJSONBody escapes per growth of dst.
const escBlock = 256

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

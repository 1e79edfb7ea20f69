package export

import (
	"unicode"
)

// AppendEscaped appends s for display on a terminal: printable text as is,
// everything that could move the cursor, change colours, reorder text or
// hide characters escaped. Escapes are \\, \n, \r, \t, \xNN for other ASCII
// controls, DEL and bytes that are not valid UTF-8, \uNNNN (\UNNNNNNNN) for
// C1 controls, format characters (bidi overrides, zero-width, BOM), line and
// paragraph separators. At most max display cells are appended (each byte
// of an escape counts as one, each other rune as one); if s is longer the
// output ends with "…" and truncated is true. max ≤ 0 means no limit.
func AppendEscaped[S string | []byte](dst []byte, s S, max int) (out []byte, truncated bool) {
	return appendEscaped(dst, s, max, false)
}

// AppendEscapedBinary is AppendEscaped for payloads that are not text
// (binary messages, ping/pong bodies): every byte ≥ 0x80 is shown as \xNN,
// so random bytes that happen to form valid UTF-8 are not displayed as
// letters of some script.
func AppendEscapedBinary(dst []byte, s []byte, max int) (out []byte, truncated bool) {
	return appendEscaped(dst, s, max, true)
}

func appendEscaped[S string | []byte](dst []byte, s S, max int, asciiOnly bool) (out []byte, truncated bool) {
	cells := 0
	var esc [10]byte
	for i := 0; i < len(s); {
		// Fast path: copy a run of printable ASCII at once, up to the cell
		// before the limit (the per-rune path below decides about "…").
		j := i
		for j < len(s) && s[j] >= 0x20 && s[j] < 0x7f && s[j] != '\\' {
			j++
		}
		if n := j - i; n > 0 {
			if max > 0 {
				n = min(n, max-1-cells)
			}
			if n > 0 {
				dst = append(dst, s[i:i+n]...)
				cells += n
				i += n
				continue
			}
		}
		b := s[i]
		var piece []byte
		var lit S
		size := 1
		switch {
		case b >= 0x20 && b < 0x7f && b != '\\':
			lit = s[i : i+1]
		case b == '\\':
			piece = append(esc[:0], '\\', '\\')
		case b == '\n':
			piece = append(esc[:0], '\\', 'n')
		case b == '\r':
			piece = append(esc[:0], '\\', 'r')
		case b == '\t':
			piece = append(esc[:0], '\\', 't')
		case b < 0x80:
			piece = append(esc[:0], '\\', 'x', hexDigits[b>>4], hexDigits[b&0xf])
		default:
			r, n := decodeRune(s, i)
			if n == 0 || asciiOnly {
				piece = append(esc[:0], '\\', 'x', hexDigits[b>>4], hexDigits[b&0xf])
				break
			}
			size = n
			if (r >= 0x80 && r <= 0x9f) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
				if r > 0xffff {
					piece = append(esc[:0], '\\', 'U')
					for sh := 28; sh >= 0; sh -= 4 {
						piece = append(piece, hexDigits[r>>sh&0xf])
					}
				} else {
					piece = append(esc[:0], '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
				}
			} else {
				lit = s[i : i+n]
			}
		}
		w := len(piece)
		if piece == nil {
			w = 1
		}
		if max > 0 && cells+w > max-1 && !fitsRest(s, i, max-cells, asciiOnly) {
			return append(dst, "…"...), true
		}
		if piece != nil {
			dst = append(dst, piece...)
		} else {
			dst = append(dst, lit...)
		}
		cells += w
		i += size
	}
	return dst, false
}

// fitsRest reports whether the rest of s from i, escaped, fits in room cells
// (so the last cell is not needlessly spent on "…"). It stops counting as
// soon as room is exceeded.
func fitsRest[S string | []byte](s S, i, room int, asciiOnly bool) bool {
	n := 0
	for i < len(s) {
		b := s[i]
		switch {
		case b >= 0x20 && b < 0x7f && b != '\\':
			n++
			i++
		case b < 0x80:
			if b == '\\' || b == '\n' || b == '\r' || b == '\t' {
				n += 2
			} else {
				n += 4
			}
			i++
		default:
			r, size := decodeRune(s, i)
			if size == 0 || asciiOnly {
				n += 4
				i++
				break
			}
			if (r >= 0x80 && r <= 0x9f) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
				if r > 0xffff {
					n += 10
				} else {
					n += 6
				}
			} else {
				n++
			}
			i += size
		}
		if n > room {
			return false
		}
	}
	return true
}

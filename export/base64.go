package export

import (
	"encoding/base64"
	"encoding/binary"
)

// base64Pairs[v] is the two base64 (RFC 4648 standard alphabet) characters
// of the 12-bit value v, first character in the low byte: one lookup
// encodes a byte and a half.
var base64Pairs = func() (t [4096]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for v := range t {
		t[v] = uint16(alphabet[v>>6]) | uint16(alphabet[v&63])<<8
	}
	return t
}()

// appendBase64 appends the standard, padded base64 encoding of src to dst,
// byte for byte what base64.StdEncoding.AppendEncode writes, about twice as
// fast: it encodes 6 bytes into 8 characters per step with four lookups in
// a table of character pairs, and grows dst once.
func appendBase64(dst, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	if cap(dst)-len(dst) < n {
		grown := make([]byte, len(dst), len(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	out := dst[len(dst) : len(dst)+n]
	i, j := 0, 0
	// Each step loads 8 bytes and uses the first 6.
	for ; i+8 <= len(src) && j+8 <= len(out); i, j = i+6, j+8 {
		x := binary.BigEndian.Uint64(src[i:])
		binary.LittleEndian.PutUint64(out[j:],
			uint64(base64Pairs[x>>52])|
				uint64(base64Pairs[x>>40&0xfff])<<16|
				uint64(base64Pairs[x>>28&0xfff])<<32|
				uint64(base64Pairs[x>>16&0xfff])<<48)
	}
	base64.StdEncoding.Encode(out[j:], src[i:])
	return dst[:len(dst)+n]
}

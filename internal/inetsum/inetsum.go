// Package inetsum computes the Internet checksum (RFC 1071): the ones'-
// complement sum of 16-bit big-endian words used by IPv4, TCP and UDP. The
// capture package verifies TCP checksums with it and the capture generators
// (pcaps/hostile, bench/gencap) write them.
package inetsum

import (
	"encoding/binary"
	"math/bits"
)

// Add adds b to the ones'-complement sum s as big-endian 16-bit words (an
// odd last byte is padded with zero), 8 bytes at a time with an
// add-with-carry chain; the end-around carry is added back at the end. Sums
// of consecutive pieces may be chained when every piece but the last has an
// even length.
func Add(s uint64, b []byte) uint64 {
	var c uint64
	for len(b) >= 32 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[8:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[16:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[24:]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	var tail uint64
	for i, x := range b {
		tail |= uint64(x) << (56 - 8*i)
	}
	s, c = bits.Add64(s, tail, c)
	s, c = bits.Add64(s, c, 0)
	return s + c
}

// Fold folds a ones'-complement sum to 16 bits; the checksum field is its
// complement.
func Fold(s uint64) uint16 {
	s = s>>32 + s&0xffffffff
	s = s>>32 + s&0xffffffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return uint16(s)
}

package capture

import (
	"encoding/binary"
	"math/bits"
)

// TCP checksum verification (RFC 793 §3.1, RFC 1071).
//
// A segment whose checksum is wrong was dropped by its receiver, which
// waited for the retransmission: its bytes were never part of the stream.
// Taking them would present damaged bytes (a flipped bit in the capture or
// on the wire) as real, so such segments are skipped and their bytes become
// a gap. Checksums left for the NIC to compute (offloading: the capturing
// host's own packets) are not errors: a checksum field of 0, or holding the
// pseudo-header sum alone (CHECKSUM_PARTIAL, either complemented or not),
// is accepted unverified. Segments not captured whole cannot be checked.

// sum16 adds b to the ones'-complement sum s as big-endian 16-bit words
// (an odd last byte is padded with zero), 8 bytes at a time with an
// add-with-carry chain; the end-around carry is added back at the end.
func sum16(s uint64, b []byte) uint64 {
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

// fold16 folds a ones'-complement sum to 16 bits.
func fold16(s uint64) uint16 {
	s = s>>32 + s&0xffffffff
	s = s>>32 + s&0xffffffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return uint16(s)
}

// tcpChecksumOK reports whether the TCP segment seg (captured whole),
// carried between src and dst (4 or 16 bytes each), has a valid checksum
// or one left for offloading.
func tcpChecksumOK(src, dst []byte, seg []byte) bool {
	field := binary.BigEndian.Uint16(seg[16:])
	if field == 0 {
		return true
	}
	var ps uint64
	ps = sum16(ps, src)
	ps = sum16(ps, dst)
	ps += 6 + uint64(len(seg))
	if fold16(sum16(ps, seg)) == 0xffff {
		return true
	}
	p := fold16(ps)
	return field == p || field == ^p
}

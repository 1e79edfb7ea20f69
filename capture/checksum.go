package capture

import (
	"encoding/binary"

	"github.com/wsscope/wsscope/internal/inetsum"
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

// tcpChecksumOK reports whether the TCP segment seg (captured whole),
// carried between src and dst (4 or 16 bytes each), has a valid checksum
// or one left for offloading.
func tcpChecksumOK(src, dst []byte, seg []byte) bool {
	field := binary.BigEndian.Uint16(seg[16:])
	if field == 0 {
		return true
	}
	var ps uint64
	ps = inetsum.Add(ps, src)
	ps = inetsum.Add(ps, dst)
	ps += 6 + uint64(len(seg))
	if inetsum.Fold(inetsum.Add(ps, seg)) == 0xffff {
		return true
	}
	p := inetsum.Fold(ps)
	return field == p || field == ^p
}

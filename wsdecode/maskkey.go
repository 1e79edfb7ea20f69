package wsdecode

import (
	"encoding/binary"
	"fmt"
)

// Predictable masking keys (RFC 6455 §5.3, §10.3).
//
// Masking exists so that a script in a browser cannot choose the bytes a
// client puts on the wire (and so cannot poison the caches of intermediaries
// that misread WebSocket traffic as HTTP). That only works if every frame's
// key is fresh and unpredictable. A passive observer cannot test randomness,
// but it can see the two failures that matter in practice: the all-zero key
// (masking is then a no-op) and keys that repeat within a connection (a
// constant key, a counter that wrapped, a small set reused).
//
// The check runs once per client frame header, never per payload byte, with
// fixed state per connection: counters and a direct-mapped table of the last
// maskSlots keys (one 32-bit compare, one multiply and one store per frame).
// A key counts as repeated when it is still in its table slot, so a key used
// on consecutive frames, or a set of a few keys used in turn, is caught,
// while random keys collide in the table with probability maskSlots/2^32 per
// frame. A connection is reported at Close, once per finding, with counts:
//
//	mask-key-zero      masked client frames whose key was 00 00 00 00
//	mask-key-repeated  masked client frames whose key was still in the
//	                   table (reported from maskRepeatMin repeats up, so
//	                   that one chance collision is not a finding)
//
// Frames decoded from an unconfirmed resynchronised position (resync-guess)
// are not counted: their "key" may be payload bytes.
const (
	CodeMaskKeyZero     = "mask-key-zero"
	CodeMaskKeyRepeated = "mask-key-repeated"
)

const (
	maskSlotBits   = 4
	maskSlots      = 1 << maskSlotBits
	maskRepeatMin  = 2
	maskHashFactor = 0x9E3779B1 // 2^32 / golden ratio (Fibonacci hashing)
)

// maskStats tracks the masking keys of one connection's client frames.
type maskStats struct {
	frames   uint64 // masked client frames checked
	zero     uint64 // of those, with the all-zero key
	repeated uint64 // of those, whose key was in the table
	zeroAt   Meta   // first zero key
	repAt    Meta   // first repeated key
	table    [maskSlots]uint32
}

// see checks the key of a masked client frame whose header began at at.
func (m *maskStats) see(key *[4]byte, at *Meta) {
	k := binary.LittleEndian.Uint32(key[:])
	m.frames++
	if k == 0 {
		if m.zero == 0 {
			m.zeroAt = *at
		}
		m.zero++
		return
	}
	i := (k * maskHashFactor) >> (32 - maskSlotBits)
	if m.table[i] == k {
		if m.repeated == 0 {
			m.repAt = *at
		}
		m.repeated++
		return
	}
	m.table[i] = k
}

// report emits the connection's masking-key findings to h (at Close).
func (m *maskStats) report(h Handler) {
	if m.zero > 0 {
		h.Anomaly(&Anomaly{Code: CodeMaskKeyZero, Dir: FromClient, At: m.zeroAt,
			Detail: fmt.Sprintf("%d of %d masked client frames used the all-zero masking key: masking did nothing (RFC 6455 §10.3)", m.zero, m.frames)})
	}
	if m.repeated >= maskRepeatMin {
		h.Anomaly(&Anomaly{Code: CodeMaskKeyRepeated, Dir: FromClient, At: m.repAt,
			Detail: fmt.Sprintf("%d of %d masked client frames reused a recent masking key: keys are predictable (RFC 6455 §5.3, §10.3)", m.repeated, m.frames)})
	}
}

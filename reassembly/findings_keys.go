package reassembly

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// DefaultMaxKeys is the default capacity of a KeySet: 65536 keys, about
// 3 MiB when full.
const DefaultMaxKeys = 1 << 16

// KeySet remembers the Sec-WebSocket-Key of recent connections to find keys
// reused across connections (handshake-key-reused): a key must be a fresh
// random nonce per connection (RFC 6455 §4.1). Its memory is bounded: it
// holds at most its capacity of keys, forgetting the oldest first, so a
// reuse is found when the earlier connection is among the last capacity
// connections checked. Only valid keys (base64 of 16 bytes) are kept;
// others are handshake-bad-key already.
//
// Reuse is a property of the whole capture, not of one connection, so the
// set must see handshakes in the output order (one set per run, used from
// one goroutine) for the findings not to depend on how the work was split.
// It is not safe for concurrent use.
type KeySet struct {
	max  int
	ids  map[[16]byte]uint64 // key → first connection that used it
	ring [][16]byte          // keys in insertion order, for eviction
	next int                 // ring slot to overwrite when full
}

// NewKeySet returns a set holding at most max keys (DefaultMaxKeys if
// max <= 0).
func NewKeySet(max int) *KeySet {
	if max <= 0 {
		max = DefaultMaxKeys
	}
	return &KeySet{max: max, ids: make(map[[16]byte]uint64)}
}

// Len returns the number of keys held.
func (s *KeySet) Len() int { return len(s.ids) }

// Check records the key of hs for connection id and, when an earlier
// connection still in the set used the same key, returns a
// handshake-key-reused finding naming it (ok true). The key of a handshake
// whose request was not seen is ignored.
func (s *KeySet) Check(hs *Handshake, id uint64) (a Anomaly, ok bool) {
	if hs == nil || hs.Key == "" || !hs.KeyValid {
		return Anomaly{}, false
	}
	var buf [18]byte // DecodedLen of 24 characters
	key := strings.TrimSpace(hs.Key)
	if base64.StdEncoding.DecodedLen(len(key)) > len(buf) {
		return Anomaly{}, false
	}
	n, err := base64.StdEncoding.Decode(buf[:], []byte(key))
	if err != nil || n != 16 {
		return Anomaly{}, false
	}
	k := [16]byte(buf[:16])
	if first, dup := s.ids[k]; dup {
		return Anomaly{Code: CodeKeyReused, Severity: "info", Dir: FromClient, At: hs.RequestAt,
			Detail: "Sec-WebSocket-Key " + shown(strings.TrimSpace(hs.Key)) + " was already sent by connection #" + strconv.FormatUint(first, 10) +
				": keys must be fresh random nonces (RFC 6455 §4.1); a proxy in the capture forwarding the handshake would repeat it too"}, true
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, k)
	} else {
		delete(s.ids, s.ring[s.next])
		s.ring[s.next] = k
		s.next = (s.next + 1) % s.max
	}
	s.ids[k] = id
	return Anomaly{}, false
}

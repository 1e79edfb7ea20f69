package wsdecode

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Message buffers. A connection holds a payload buffer only while a message
// is in progress: buffers of more than keepBuffer bytes go back to pools
// shared by all Conns (one per power-of-two size from 512 B to 4 MiB) when
// the message has been emitted, so that memory follows the messages in
// progress rather than the number of connections times the largest message
// each ever carried. Buffers larger than 4 MiB are not pooled. The pools
// are sync.Pools: safe for Conns used from different goroutines, and
// emptied by the garbage collector when not in use.

const (
	minPoolShift = 9  // 512 B
	maxPoolShift = 22 // 4 MiB
)

// bufPools[i] holds *byte pointing at arrays of 1<<(i+minPoolShift) bytes.
var bufPools [maxPoolShift - minPoolShift + 1]sync.Pool

// poolClass returns the pool index for a buffer of at least n bytes, or -1
// when n is larger than the largest pooled size.
func poolClass(n int) int {
	if n <= 1<<minPoolShift {
		return 0
	}
	s := bits.Len(uint(n - 1))
	if s > maxPoolShift {
		return -1
	}
	return s - minPoolShift
}

// getBuf returns an empty buffer of capacity at least n (exactly a power of
// two when pooled).
func getBuf(n int) []byte {
	i := poolClass(n)
	if i < 0 {
		return make([]byte, 0, n)
	}
	size := 1 << (i + minPoolShift)
	if p, _ := bufPools[i].Get().(*byte); p != nil {
		return unsafe.Slice(p, size)[:0]
	}
	return make([]byte, 0, size)
}

// putBuf gives b (which must not be used afterwards) back to its pool if it
// has a pooled size; other buffers are left to the garbage collector. b must
// start at the beginning of its array (as every buffer from getBuf and
// growBuf does).
func putBuf(b []byte) {
	c := cap(b)
	if c < 1<<minPoolShift || c > 1<<maxPoolShift || c&(c-1) != 0 {
		return
	}
	bufPools[bits.Len(uint(c))-1-minPoolShift].Put(&b[:1][0])
}

// growBuf returns b with room for n more bytes, doubling its capacity (from
// 512 B, or at once to hint) but not past max(limit, len(b)+n); the old
// array goes back to the pool.
func growBuf(b []byte, n int, limit int64, hint int) []byte {
	l := len(b)
	if cap(b)-l >= n {
		return b
	}
	want := max(2*cap(b), l+n, 1<<minPoolShift)
	if l+n > keepBuffer {
		want = max(want, hint)
	}
	if int64(want) > limit {
		want = int(max(limit, int64(l+n)))
	}
	nb := getBuf(want)[:l]
	copy(nb, b)
	putBuf(b)
	return nb
}

// sizeHint is what a direction's next message buffer grows to at once when
// it outgrows the kept one: the size of the previous message of its kind,
// at most maxSizeHint. It is taken from bytes seen, never from a length
// field, and used only once the new message has more than keepBuffer
// bytes, so it saves regrowing (and copying) a buffer for each message of
// a stream of large ones at the cost of at most maxSizeHint held while a
// message is in progress (what the kept buffers of earlier versions held
// all the time).
func sizeHint(prev int64) int {
	return int(min(prev, maxSizeHint))
}

// releaseBuf returns b emptied for the next message, or nil with b given
// back to the pool when its capacity is above keepBuffer.
func releaseBuf(b []byte) []byte {
	if cap(b) > keepBuffer {
		putBuf(b)
		return nil
	}
	return b[:0]
}

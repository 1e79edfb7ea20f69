//go:build unix

package tui

import (
	"sync"
	"syscall"
	"unsafe"
)

// Message index blocks live outside the Go heap (anonymous mmap) on Unix.
// msgRec holds no pointers, so the garbage collector never needs to see
// them; keeping them off the heap keeps the collector's heap goal (twice
// the live heap by default) from doubling the index's footprint: the
// process's resident memory grows by the index size and no more.
//
// Blocks are carved from 32 MiB slabs (transparent huge pages where the
// kernel offers them on request) and never unmapped: a closed Model
// returns its blocks to a free list that the next Model reuses, so a stale
// reader can never fault (it would read another model's records).

const slabBytes = 32 << 20

var offheap struct {
	mu     sync.Mutex
	free   [][]msgRec
	slab   []byte
	mapped int64 // bytes mapped in all
	inUse  int64 // bytes of blocks handed out and not freed
}

func allocMsgBlock() []msgRec {
	need := blockLen * int(unsafe.Sizeof(msgRec{}))
	offheap.mu.Lock()
	defer offheap.mu.Unlock()
	offheap.inUse += int64(need)
	if n := len(offheap.free); n > 0 {
		b := offheap.free[n-1]
		offheap.free = offheap.free[:n-1]
		return b
	}
	if len(offheap.slab) < need {
		s, err := syscall.Mmap(-1, 0, max(slabBytes, need), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			return make([]msgRec, blockLen)
		}
		hugePages(s) // fewer page faults as the index grows
		offheap.slab = s
		offheap.mapped += int64(len(s))
	}
	b := offheap.slab[:need:need]
	offheap.slab = offheap.slab[need:]
	return unsafe.Slice((*msgRec)(unsafe.Pointer(&b[0])), blockLen)
}

func freeMsgBlocks(bs [][]msgRec) {
	offheap.mu.Lock()
	offheap.inUse -= int64(len(bs) * blockLen * int(unsafe.Sizeof(msgRec{})))
	offheap.free = append(offheap.free, bs...)
	offheap.mu.Unlock()
}

// offheapMapped returns the bytes of index memory mapped outside the Go
// heap, and those in use by models (for tests and benchmarks:
// runtime.MemStats does not count them).
func offheapMapped() (mapped, inUse int64) {
	offheap.mu.Lock()
	defer offheap.mu.Unlock()
	return offheap.mapped, offheap.inUse
}

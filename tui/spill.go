package tui

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// spillChunk is the spill file's write unit: records are appended to an
// in-memory chunk of this size, handed to the writer when it is full.
const spillChunk = 4 << 20

// spillPending bounds the full chunks waiting for the writer: appending
// blocks when that many are queued (the disk is slower than the analysis),
// so the spill holds at most (1+spillPending)*spillChunk bytes in memory.
const spillPending = 2

// spill is an append-only byte stream holding the model's per-message
// detail records (see detail.go): frame headers and payload bytes. It lives
// in a temporary file (os.CreateTemp in ModelOptions.SpillDir), unlinked
// at once on Unix so that it disappears when the process ends however it
// ends (Close removes it elsewhere). Only the chunk being filled and the
// full chunks queued for the file are in memory; everything before them is
// on disk (in the page cache while memory allows) and read back with
// ReadAt.
//
// The file is written by a goroutine of its own (see writer), beside the
// analysis instead of in its way: written from the feeding goroutine, the
// copy into the page cache took a third of its time on a capture of small
// messages.
//
// If no file can be created, the stream is kept in memory instead, capped
// by a smaller limit (ModelOptions.MaxPayloadTotal applies either way).
//
// Concurrency: append is called under the model's lock by the feeding
// goroutine; readAt may be called from any goroutine. mu guards everything
// but the immutable bytes below disk, which are read without the lock.
type spill struct {
	mu    sync.Mutex
	f     *os.File // nil: in memory or closed
	path  string   // still to remove at Close ("" once unlinked)
	buf   []byte   // chunk being filled (cap spillChunk)
	base  int64    // stream offset of buf[0]
	limit int64    // stream bytes kept at most
	err   error    // first write error; nothing more is kept after it
	bad   int64    // bytes in [bad, base) were lost by a write error
	file  bool     // backed by a file (else memory)

	// Full chunks not on disk, each spillChunk long, oldest first; pend[0]
	// starts at disk. File mode: the writer goroutine's queue. Memory
	// mode: every chunk (disk stays 0).
	pend    [][]byte
	disk    int64         // stream bytes written (or lost, see bad)
	spare   [][]byte      // written chunks to fill again
	cond    sync.Cond     // on mu: pend grew, a chunk was written, or closing
	closing bool          // closed: nothing more is kept, the writer stops
	failed  atomic.Bool   // a write failed: the writer's word to reserve
	wdone   chan struct{} // closed when the writer has stopped
	direct  *os.File      // the writer's O_DIRECT handle, if any (set before it starts; tests)
	directN atomic.Int64  // chunks written directly (tests)
}

// newSpill opens a spill stream in dir (os.TempDir if ""). limit bounds
// the bytes kept on disk; memLimit bounds them when no file can be made.
func newSpill(dir string, limit, memLimit int64) *spill {
	s := &spill{bad: -1}
	s.cond.L = &s.mu
	f, err := os.CreateTemp(dir, "wsscope-tui-*.spill")
	if err != nil {
		s.buf = make([]byte, 0, spillChunk)
		s.limit = memLimit
		s.err = fmt.Errorf("tui: spill file: %w (payloads kept in memory, at most %d bytes)", err, memLimit)
		return s
	}
	s.f, s.file, s.limit = f, true, limit
	s.path = f.Name()
	direct, _ := openDirect(s.path) // before the name goes
	if runtime.GOOS != "windows" && os.Remove(s.path) == nil {
		s.path = "" // unlinked: gone when the process exits
	}
	s.buf = alignedChunk()
	s.wdone = make(chan struct{})
	s.direct = direct
	go s.writer(f, direct)
	return s
}

// alignedChunk returns an empty chunk buffer whose start is aligned for
// direct I/O (4096 bytes).
func alignedChunk() []byte {
	const align = 4096
	b := make([]byte, spillChunk+align)
	i := int(-uintptr(unsafe.Pointer(&b[0])) & (align - 1))
	return b[i : i : i+spillChunk]
}

// writer writes the queued chunks to the file in order until close:
// through direct, a second handle on f that bypasses the page cache, when
// there is one (Linux, and a file system that takes it), else through f.
//
// Written through the page cache, the spill cost the kernel's copy (about
// 480 MB/s of one core on this project's VM): a quarter of the CPU time of
// the UI indexing a 1 GB capture. Direct writes leave the copy to the disk
// (1.1 GB/s here) and cost next to no CPU; the UI's reads go through f (the
// page cache) as before, from the disk the first time. When the queue is
// full (a disk slower than the analysis), chunks go through the page cache
// until it is not, so that the UI is not held to the disk's speed. A chunk
// that cannot be written directly (EINVAL from a file system that accepted
// the open) is written through f, and so is everything after it.
func (s *spill) writer(f, direct *os.File) {
	defer close(s.wdone)
	defer func() {
		if direct != nil {
			direct.Close()
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for len(s.pend) == 0 && !s.closing {
			s.cond.Wait()
		}
		if s.closing {
			return
		}
		c, off, failed := s.pend[0], s.disk, s.err != nil
		behind := len(s.pend) >= spillPending // the appender may be waiting for us
		s.mu.Unlock()
		var err error
		done := failed // nothing more is written after a failure
		if !done && direct != nil && aligned(c) && !behind {
			if _, err := direct.WriteAt(c, off); err != nil {
				direct.Close()
				direct = nil
			} else {
				s.directN.Add(1)
				done = true
			}
		}
		if !done {
			_, err = f.WriteAt(c, off) // readers still find c in pend
		}
		s.mu.Lock()
		if err != nil && s.err == nil {
			s.err = fmt.Errorf("tui: spill file: %w", err)
			s.failed.Store(true)
		}
		if s.err != nil && s.bad < 0 {
			s.bad = off // this chunk and all after it are lost
		}
		s.pend[0] = nil
		s.pend = s.pend[1:]
		s.disk += int64(len(c))
		s.spare = append(s.spare, c[:0])
		s.cond.Broadcast()
	}
}

// size returns the stream length.
func (s *spill) size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base + int64(len(s.buf))
}

// reserve reports whether n more bytes fit the limit. Called under the
// model's lock, before the parts of one record are appended.
func (s *spill) reserve(n int) bool {
	return !s.closing && !s.failed.Load() && s.base+int64(len(s.buf))+int64(n) <= s.limit
}

// append adds b at the end of the stream and returns its offset. The caller
// checked reserve for the whole record first.
func (s *spill) append(b []byte) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	off := s.base + int64(len(s.buf))
	for len(b) > 0 {
		n := min(len(b), cap(s.buf)-len(s.buf))
		s.buf = append(s.buf, b[:n]...)
		b = b[n:]
		if len(s.buf) == cap(s.buf) {
			s.sealLocked()
		}
	}
	return off
}

// sealLocked queues the full chunk for the file (or keeps it, in memory)
// and starts a new one, waiting for the writer while spillPending chunks
// are queued.
func (s *spill) sealLocked() {
	s.pend = append(s.pend, s.buf)
	s.base += int64(len(s.buf))
	if !s.file {
		s.buf = make([]byte, 0, spillChunk)
		return
	}
	s.buf = nil
	s.cond.Broadcast()
	for len(s.pend) > spillPending && !s.closing {
		s.cond.Wait()
	}
	if n := len(s.spare); n > 0 {
		s.buf = s.spare[n-1]
		s.spare = s.spare[:n-1]
	} else {
		s.buf = alignedChunk()
	}
}

var (
	errSpillLost   = errors.New("tui: spilled bytes lost (spill file write error)")
	errSpillClosed = errors.New("tui: spill closed")
)

// readAt fills p with the stream bytes at off.
func (s *spill) readAt(p []byte, off int64) error {
	for len(p) > 0 {
		s.mu.Lock()
		switch {
		case s.closing:
			s.mu.Unlock()
			return errSpillClosed
		case off+int64(len(p)) > s.base+int64(len(s.buf)) || off < 0:
			s.mu.Unlock()
			return fmt.Errorf("tui: spill read [%d, %d) past the end %d", off, off+int64(len(p)), s.base+int64(len(s.buf)))
		case off >= s.base:
			copy(p, s.buf[off-s.base:])
			s.mu.Unlock()
			return nil
		case off >= s.disk: // queued for the writer, or in memory
			c := s.pend[(off-s.disk)/spillChunk]
			n := copy(p, c[(off-s.disk)%spillChunk:])
			s.mu.Unlock()
			p, off = p[n:], off+int64(n)
			continue
		}
		// On disk below disk: immutable, read without the lock.
		f, bad, n := s.f, s.bad, min(int64(len(p)), s.disk-off)
		s.mu.Unlock()
		if f == nil {
			return errSpillClosed
		}
		if bad >= 0 && off+n > bad {
			return errSpillLost
		}
		if _, err := f.ReadAt(p[:n], off); err != nil {
			return fmt.Errorf("tui: spill read: %w", err)
		}
		p, off = p[n:], off+n
	}
	return nil
}

// close stops the writer and releases the file (and removes it where it
// was not unlinked).
func (s *spill) close() error {
	s.mu.Lock()
	s.closing = true
	s.cond.Broadcast()
	s.mu.Unlock()
	if s.wdone != nil {
		<-s.wdone // not under mu: the writer takes it to finish
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf, s.pend, s.spare = nil, nil, nil
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
		if s.path != "" {
			if rerr := os.Remove(s.path); err == nil {
				err = rerr
			}
			s.path = ""
		}
	}
	return err
}

// aligned reports whether c can be written directly: a whole chunk at an
// aligned address (chunks are written at multiples of spillChunk).
func aligned(c []byte) bool {
	return len(c) == spillChunk && uintptr(unsafe.Pointer(unsafe.SliceData(c)))&4095 == 0
}

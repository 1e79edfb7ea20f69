package tui

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
)

// spillChunk is the spill file's write unit: records are appended to an
// in-memory chunk of this size, written to the file when it is full.
const spillChunk = 4 << 20

// spill is an append-only byte stream holding the model's per-message
// detail records (see detail.go): frame headers and payload bytes. It lives
// in a temporary file (os.CreateTemp in ModelOptions.SpillDir), unlinked
// at once on Unix so that it disappears when the process ends however it
// ends (Close removes it elsewhere). Only the chunk being filled is in
// memory; everything before it is on disk (in the page cache while memory
// allows) and read back with ReadAt.
//
// If no file can be created, the stream is kept in memory instead, capped
// by a smaller limit (ModelOptions.MaxPayloadTotal applies either way).
//
// Concurrency: append is called under the model's lock by the feeding
// goroutine; readAt may be called from any goroutine. mu guards buf, base
// and mem; bytes below base that went to the file are immutable and are
// read without the lock.
type spill struct {
	mu    sync.Mutex
	f     *os.File // nil: in memory (mem) or closed
	path  string   // still to remove at Close ("" once unlinked)
	mem   [][]byte // in-memory mode: sealed chunks, each spillChunk long
	buf   []byte   // chunk being filled (cap spillChunk)
	base  int64    // stream offset of buf[0]
	limit int64    // stream bytes kept at most
	err   error    // first write error; nothing more is kept after it
	bad   int64    // bytes in [bad, base) were lost by a write error
	ok    bool     // records may still be appended
	file  bool     // backed by a file (else memory)
}

// newSpill opens a spill stream in dir (os.TempDir if ""). limit bounds
// the bytes kept on disk; memLimit bounds them when no file can be made.
func newSpill(dir string, limit, memLimit int64) *spill {
	s := &spill{buf: make([]byte, 0, spillChunk), ok: true, bad: -1}
	f, err := os.CreateTemp(dir, "wsscope-tui-*.spill")
	if err != nil {
		s.limit = memLimit
		s.err = fmt.Errorf("tui: spill file: %w (payloads kept in memory, at most %d bytes)", err, memLimit)
		return s
	}
	s.f, s.file, s.limit = f, true, limit
	s.path = f.Name()
	if runtime.GOOS != "windows" && os.Remove(s.path) == nil {
		s.path = "" // unlinked: gone when the process exits
	}
	return s
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
	return s.ok && s.base+int64(len(s.buf))+int64(n) <= s.limit
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

// sealLocked moves the full chunk to the file (or to mem) and starts a new
// one.
func (s *spill) sealLocked() {
	if s.file {
		if s.f != nil && s.err == nil {
			if _, err := s.f.WriteAt(s.buf, s.base); err != nil {
				s.err = fmt.Errorf("tui: spill file: %w", err)
				s.bad, s.ok = s.base, false
			}
		} else if s.bad < 0 {
			s.bad = s.base
		}
		s.base += int64(len(s.buf))
		s.buf = s.buf[:0] // readers copy under mu: reuse is safe
		return
	}
	s.mem = append(s.mem, s.buf)
	s.base += int64(len(s.buf))
	s.buf = make([]byte, 0, spillChunk)
}

var errSpillLost = errors.New("tui: spilled bytes lost (spill file write error)")

// readAt fills p with the stream bytes at off.
func (s *spill) readAt(p []byte, off int64) error {
	for len(p) > 0 {
		s.mu.Lock()
		switch {
		case off+int64(len(p)) > s.base+int64(len(s.buf)) || off < 0:
			s.mu.Unlock()
			return fmt.Errorf("tui: spill read [%d, %d) past the end %d", off, off+int64(len(p)), s.base+int64(len(s.buf)))
		case off >= s.base:
			copy(p, s.buf[off-s.base:])
			s.mu.Unlock()
			return nil
		case !s.file:
			c := s.mem[off/spillChunk]
			n := copy(p, c[off%spillChunk:])
			s.mu.Unlock()
			p, off = p[n:], off+int64(n)
			continue
		}
		// On disk below base: immutable, read without the lock.
		f, bad, n := s.f, s.bad, min(int64(len(p)), s.base-off)
		s.mu.Unlock()
		if f == nil {
			return errors.New("tui: spill closed")
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

// close releases the file (and removes it where it was not unlinked).
func (s *spill) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ok = false
	s.mem, s.buf = nil, nil
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

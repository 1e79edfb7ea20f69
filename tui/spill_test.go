package tui

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/wsdecode"
)

// TestSpillReadBack appends records of many sizes (some larger than a
// chunk, many straddling chunk boundaries and the flushed/buffered edge)
// and reads every one back, whole and in pieces, from the file and from
// the in-memory fallback.
func TestSpillReadBack(t *testing.T) {
	for _, mode := range []string{"file", "memory"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			if mode == "memory" {
				dir = filepath.Join(dir, "missing") // CreateTemp fails
			}
			s := newSpill(dir, 1<<40, 1<<40)
			defer s.close()
			if (s.err != nil) != (mode == "memory") || s.file != (mode == "file") {
				t.Fatalf("mode %s: err %v file %v", mode, s.err, s.file)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			type rec struct {
				off int64
				b   []byte
			}
			var recs []rec
			total := 0
			for total < 3*spillChunk+12345 {
				n := rng.IntN(200_000)
				if rng.IntN(50) == 0 {
					n = spillChunk + rng.IntN(spillChunk) // larger than a chunk
				}
				b := make([]byte, n)
				for i := range b {
					b[i] = byte(rng.Uint32())
				}
				if !s.reserve(n) {
					t.Fatal("reserve refused under the limit")
				}
				recs = append(recs, rec{s.append(b), b})
				total += n
				// Read back the newest record at once: it may sit in
				// the buffer, across the edge, or on disk.
				got := make([]byte, n)
				if err := s.readAt(got, recs[len(recs)-1].off); err != nil || !bytes.Equal(got, b) {
					t.Fatalf("record %d (%d bytes) read back wrong: %v", len(recs)-1, n, err)
				}
			}
			if s.size() != int64(total) {
				t.Fatalf("size %d, appended %d", s.size(), total)
			}
			for i, r := range recs {
				got := make([]byte, len(r.b))
				if err := s.readAt(got, r.off); err != nil || !bytes.Equal(got, r.b) {
					t.Fatalf("record %d: %v", i, err)
				}
			}
			if err := s.readAt(make([]byte, 2), int64(total-1)); err == nil {
				t.Error("read past the end succeeded")
			}
			if mode == "file" && s.direct != nil && s.directN.Load() == 0 {
				t.Error("the file took O_DIRECT, but no chunk was written directly")
			}
			if mode == "file" {
				t.Logf("direct I/O: %v (%d chunks)", s.direct != nil, s.directN.Load())
			}
		})
	}
}

// TestSpillLimitAndFallback: with no usable directory the model keeps
// details in memory under MaxPayloadTotal and says why.
func TestSpillLimitAndFallback(t *testing.T) {
	m := NewModel(ModelOptions{SpillDir: filepath.Join(t.TempDir(), "missing"), MaxPayloadTotal: 10_000})
	t.Cleanup(func() { m.Close() })
	f := newFeeder(m)
	c := f.open("h", "/", true, nil, wsdecode.Deflate{})
	for i := 0; i < 30; i++ {
		f.msg(c, wsdecode.FromServer, wsdecode.OpText, strings.Repeat("y", 900))
	}
	if e := m.SpillErr(); !strings.Contains(e, "tui: spill file") || !strings.Contains(e, "in memory") {
		t.Errorf("SpillErr = %q", e)
	}
	s := m.snapshot()
	if s.sp.size() > 10_000 {
		t.Errorf("memory spill %d bytes, limit 10000", s.sp.size())
	}
	d, err := s.readDetail(s.msg(0), -1, false)
	if err != nil || len(d.payload) != 900 {
		t.Fatalf("first payload: %v", err)
	}
	if r := s.msg(29); r.flags&fPayloadGone == 0 {
		t.Error("last payload kept past MaxPayloadTotal")
	}
}

// TestSpillFileUnlinked: on Unix the spill file is removed from its
// directory as soon as it is created (it vanishes with the process,
// however the process ends), and Close releases it.
func TestSpillFileUnlinked(t *testing.T) {
	dir := t.TempDir()
	m := NewModel(ModelOptions{SpillDir: dir})
	f := newFeeder(m)
	c := f.open("h", "/", true, nil, wsdecode.Deflate{})
	f.msg(c, wsdecode.FromServer, wsdecode.OpText, "payload")
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 && os.PathSeparator == '/' {
		t.Errorf("spill file still listed in %s: %v", dir, ents[0].Name())
	}
	s := m.snapshot()
	if d, err := s.readDetail(s.msg(0), -1, false); err != nil || string(d.payload) != "payload" {
		t.Fatalf("read back: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("spill file left after Close: %v", ents[0].Name())
	}
	f.msg(c, wsdecode.FromServer, wsdecode.OpText, "after close") // counted, not kept; no panic
	if _, n, _ := m.Counts(); n != 2 {
		t.Errorf("counted %d messages", n)
	}
}

// TestSpillWriteError: when the file cannot be written, the chunks the
// writer lost read back as errSpillLost (never as zeros), the stream takes
// nothing more, the error is kept for the status bar, and appending never
// blocks on a writer that fails.
func TestSpillWriteError(t *testing.T) {
	s := newSpill(t.TempDir(), 1<<40, 1<<40)
	defer s.close()
	s.f.Close() // every WriteAt (and ReadAt) now fails
	if s.direct != nil {
		s.direct.Close()
	}
	rec := bytes.Repeat([]byte("z"), 100_000)
	var offs []int64
	for s.reserve(len(rec)) {
		offs = append(offs, s.append(rec))
		if len(offs) > 10*spillChunk/len(rec) {
			t.Fatal("the stream kept taking records after a write error")
		}
	}
	if len(offs) < spillChunk/len(rec) {
		t.Fatalf("stream refused records after %d, before its first chunk was written", len(offs))
	}
	s.mu.Lock()
	for len(s.pend) > 0 {
		s.cond.Wait()
	}
	err, bad, base := s.err, s.bad, s.base
	s.mu.Unlock()
	if err == nil || !strings.Contains(err.Error(), "tui: spill file") {
		t.Fatalf("write error not kept: %v", err)
	}
	if bad != 0 {
		t.Errorf("lost bytes start at %d, want 0 (the first chunk failed)", bad)
	}
	got := make([]byte, len(rec))
	for _, off := range offs {
		err := s.readAt(got, off)
		switch {
		case off+int64(len(rec)) <= base && err != errSpillLost:
			t.Fatalf("record at %d, written to the failed file: err %v, want errSpillLost", off, err)
		case off >= base && (err != nil || !bytes.Equal(got, rec)):
			t.Fatalf("record at %d, still in memory: err %v", off, err)
		}
	}
}

// TestSpillQueued: while the writer is held back, full chunks wait in its
// queue and read back from memory; appending waits once spillPending chunks
// are queued, and goes on when the writer catches up.
func TestSpillQueued(t *testing.T) {
	s := newSpill(t.TempDir(), 1<<40, 1<<40)
	defer s.close()
	s.mu.Lock() // the writer cannot take a chunk while we hold mu
	chunk := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, spillChunk) }
	for i := 0; i < spillPending; i++ {
		s.buf = append(s.buf, chunk(i)...)
		s.pend = append(s.pend, s.buf)
		s.base += spillChunk
		s.buf = make([]byte, 0, spillChunk)
	}
	s.mu.Unlock()
	appended := make(chan int64)
	go func() { appended <- s.append(chunk(spillPending)) }() // seals one more: waits
	for i := 0; i < spillPending; i++ {
		got := make([]byte, 10)
		if err := s.readAt(got, int64(i)*spillChunk+100); err != nil || got[0] != byte('a'+i) {
			t.Fatalf("queued chunk %d: %q %v", i, got, err)
		}
	}
	off := <-appended
	if off != spillPending*spillChunk {
		t.Fatalf("appended at %d", off)
	}
	s.mu.Lock()
	for len(s.pend) > 0 {
		s.cond.Wait()
	}
	s.mu.Unlock()
	for i := 0; i <= spillPending; i++ {
		got := make([]byte, spillChunk)
		if err := s.readAt(got, int64(i)*spillChunk); err != nil || !bytes.Equal(got, chunk(i)) {
			t.Fatalf("chunk %d from the file: %v", i, err)
		}
	}
}

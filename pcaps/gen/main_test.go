package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/pcaps/synth"
)

// TestGenerate runs the generator into a temporary directory and checks
// that every capture has its ground truth, the sizes stay within budget,
// and the file set matches the committed one.
func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	caps, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	var total int64
	n := 0
	for _, c := range caps {
		if strings.HasSuffix(c, ".sent.json") {
			continue
		}
		n++
		st, err := os.Stat(c)
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
		if st.Size() > 300<<10 {
			t.Errorf("%s: %d bytes", filepath.Base(c), st.Size())
		}
		tr, err := synth.ReadTruth(c + ".sent.json")
		if err != nil {
			t.Fatal(err)
		}
		if tr.Capture != filepath.Base(c) || len(tr.Conns) == 0 {
			t.Errorf("%s: truth names %q with %d connections", filepath.Base(c), tr.Capture, len(tr.Conns))
		}
		if _, err := os.Stat(filepath.Join("..", filepath.Base(c))); err != nil {
			t.Errorf("%s is generated but not committed in pcaps/", filepath.Base(c))
		}
	}
	if n < 15 {
		t.Errorf("generated %d captures, want 15", n)
	}
	if total > 2<<20 {
		t.Errorf("captures total %d bytes, budget 2 MiB", total)
	}
}

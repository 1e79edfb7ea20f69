package capture

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// publicCorpus holds real captures shared by the team; they are not copied
// into the repository.
const publicCorpus = "/work/shared/corpus/public"

// TestPublicCorpus reads every capture of the shared corpus fully: no error,
// every record counted, and TCP packets found in each (they are all
// WebSocket captures).
func TestPublicCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(publicCorpus, "*.pcap*"))
	if len(files) == 0 {
		t.Skipf("no captures in %s", publicCorpus)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			// The reference: pcapgo reads the records, gopacket's layers decode them.
			var ref []*Packet
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := pcapgoEach(f, func(lt uint16, data []byte) {
				if p, ok := gopacketDecode(lt, data); ok {
					p.Payload = append([]byte(nil), p.Payload...)
					ref = append(ref, &p)
				} else {
					ref = append(ref, nil)
				}
			})
			f.Close()
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatalf("pcapgo: %v", err)
			}
			src, err := OpenFile(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var last uint64
			for {
				p, err := src.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if p.Num <= last {
					t.Fatalf("packet numbers not increasing: %d after %d", p.Num, last)
				}
				last = p.Num
				if p.Num > uint64(len(ref)) || ref[p.Num-1] == nil || !samePacket(p, ref[p.Num-1]) {
					t.Fatalf("packet %d: %+v differs from gopacket's decoding", p.Num, p)
				}
				ref[p.Num-1] = nil
				if !p.Src.IsValid() || !p.Dst.IsValid() || p.Time.IsZero() {
					t.Fatalf("packet %d: bad fields %+v", p.Num, p)
				}
			}
			for i, r := range ref {
				if r != nil {
					t.Errorf("packet %d decoded by gopacket only: %+v", i+1, r)
				}
			}
			st := src.Stats()
			if st.Packets != uint64(want) {
				t.Errorf("read %d records, the file has %d", st.Packets, want)
			}
			if st.TCP == 0 || st.TCP+st.Skipped != st.Packets {
				t.Errorf("stats %+v", st)
			}
			t.Logf("%+v %v %v", st, src.(Warner).Warnings(), src.(*fileSource).SkipCounts())
		})
	}
}

package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

// fuzzSnaplen keeps fuzzing memory small.
const fuzzSnaplen = 4096

// fuzzSeeds are well-formed files of both formats plus damaged variants.
func fuzzSeeds(t testing.TB, ng bool) [][]byte {
	var frames [][]byte
	for _, c := range linkCases(t) {
		if c.link == LinkTypeEthernet {
			frames = append(frames, c.frame)
		}
	}
	if !ng {
		small := pcapFile(t, 1, 0, frames[:4]...)
		return [][]byte{
			small,
			pcapFile(t, 1, 60, frames...),
			handPcap(binary.BigEndian, true, 1, frames[:3]...),
			handPcap(binary.LittleEndian, false, 113, sll(ipPacket(t, pv4, ipOpts{}))),
			small[:len(small)-9],
			modifiedPcap(handPcap(binary.BigEndian, false, 1, frames[:2]...)),
			gzipped(small),
		}
	}
	le, be := binary.LittleEndian, binary.BigEndian
	var a []byte
	a = append(a, ngSHB(le)...)
	a = append(a, ngIDB(le, 1, 0, 9, 0)...)
	a = append(a, ngIDB(le, 101, 80, 0x80|20, 5)...)
	a = append(a, ngEPB(le, 0, 1e18, frames[0], len(frames[0]))...)
	a = append(a, ngEPB(le, 1, 1e6, ipPacket(t, pv6data, ipOpts{}), 300)...)
	a = append(a, ngSPB(le, frames[1], len(frames[1]))...)
	a = append(a, ngBlock(le, 5, []byte("stats"))...)
	var b []byte
	b = append(b, ngSHB(be)...)
	b = append(b, ngIDB(be, 276, 0, -1, 0)...)
	b = append(b, ngEPB(be, 0, 77, sll2(ipPacket(t, pv4, ipOpts{})), 1000)...)
	return [][]byte{a, b, append(a, b...), a[:len(a)-30]}
}

func FuzzPcap(f *testing.F)   { fuzzFiles(f, false) }
func FuzzPcapng(f *testing.F) { fuzzFiles(f, true) }

// fuzzFiles checks, for any input: no panic; Open or Next fails only with
// a *FormatError (or a clear error) whose offset lies within the input;
// packets are numbered increasingly, bounded by the snaplen and the input,
// payloads are bytes of the input, counters add up; and reading the input
// one byte per Read gives the same packets and error.
func fuzzFiles(f *testing.F, ng bool) {
	minBufferSize = 0 // buffers of fuzzSnaplen + 64 KiB
	for _, s := range fuzzSeeds(f, ng) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := fuzzRead(t, bytes.NewReader(data), data)
		bytewise := fuzzRead(t, iotest.OneByteReader(bytes.NewReader(data)), data)
		if whole != bytewise {
			t.Fatalf("whole reads:\n%s\none byte per read:\n%s", whole, bytewise)
		}
	})
}

// fuzzRead reads a file from r, checks the invariants and returns a summary.
func fuzzRead(t *testing.T, r io.Reader, data []byte) string {
	gz := len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
	var sum bytes.Buffer
	src, err := OpenReader(r, "fuzz", Options{Snaplen: fuzzSnaplen})
	if err != nil {
		checkFuzzErr(t, err, data, gz)
		return "open: " + err.Error()
	}
	defer src.Close()
	var last uint64
	for {
		p, err := src.Next()
		if err != nil {
			if err != io.EOF {
				checkFuzzErr(t, err, data, gz)
			}
			fmt.Fprintf(&sum, "end: %v %+v\n", err, src.Stats())
			break
		}
		if p.Num <= last {
			t.Fatalf("Num %d after %d", p.Num, last)
		}
		last = p.Num
		if len(p.Payload) > fuzzSnaplen || p.Missing < 0 || !p.Src.IsValid() || !p.Dst.IsValid() ||
			p.Src.Addr().Is4() != p.Dst.Addr().Is4() {
			t.Fatalf("bad packet %+v", p)
		}
		if !gz && len(p.Payload) > 0 && !bytes.Contains(data, p.Payload) {
			t.Fatalf("payload %x is not from the input", p.Payload)
		}
		fmt.Fprintf(&sum, "%d %v %v>%v %d %d %x %x+%d\n", p.Num, p.Time.UnixNano(), p.Src, p.Dst, p.Seq, p.Ack, p.Flags, p.Payload, p.Missing)
	}
	st := src.Stats()
	if st.TCP+st.Skipped != st.Packets || st.Packets < last || (!gz && st.Bytes > uint64(len(data))) ||
		(!gz && st.Packets > uint64(len(data)/12)) {
		t.Fatalf("stats %+v after packet %d of a %d-byte input", st, last, len(data))
	}
	return sum.String()
}

func checkFuzzErr(t *testing.T, err error, data []byte, gz bool) {
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FormatError", err, err)
	}
	if fe.Offset < 0 || (!gz && fe.Offset > int64(len(data))) {
		t.Fatalf("offset %d outside a %d-byte input: %v", fe.Offset, len(data), err)
	}
}

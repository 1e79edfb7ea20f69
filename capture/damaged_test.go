package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestDamaged checks that damaged files deliver every packet before the
// damage, then a *FormatError naming the offset of the damaged record.
func TestDamaged(t *testing.T) {
	frames, exp := mixedFrames(t)
	le := binary.LittleEndian
	pcap := pcapFile(t, 1, 0, frames...)
	// Offsets of the pcap records.
	recOff := []int{24}
	for _, f := range frames {
		recOff = append(recOff, recOff[len(recOff)-1]+16+len(f))
	}
	withLen := func(rec int, caplen uint32) []byte {
		b := append([]byte(nil), pcap...)
		le.PutUint32(b[recOff[rec]+8:], caplen)
		return b
	}

	// pcapng: SHB, IDB, then one EPB per frame.
	var ng []byte
	ng = append(ng, ngSHB(le)...)
	ng = append(ng, ngIDB(le, 1, 0, -1, 0)...)
	blkOff := []int{len(ng)}
	for i, f := range frames {
		ng = append(ng, ngEPB(le, 0, uint64(testTime(i).UnixMicro()), f, len(f))...)
		blkOff = append(blkOff, len(ng))
	}
	ngMod := func(f func(b []byte)) []byte {
		b := append([]byte(nil), ng...)
		f(b)
		return b
	}
	ngExp := exp[:1] // packets before block 2 (the ARP is skipped, packet 3 is in the damaged block)

	for _, c := range []struct {
		name    string
		file    []byte
		open    bool // error expected from Open
		exp     []expected
		offset  int64
		message string
	}{
		{"pcap truncated mid-record", pcap[:len(pcap)-5], false, exp[:1], int64(recOff[2]), "truncated record"},
		{"pcap truncated mid-header", pcap[:recOff[2]+7], false, exp[:1], int64(recOff[2]), "truncated record header: 7 of 16"},
		{"pcap zero-length record", withLen(1, 0), false, exp[:1], int64(recOff[1]), "zero-length record"},
		{"pcap enormous record", withLen(2, 0xfffffff0), false, exp[:1], int64(recOff[2]), "record length 4294967280 exceeds limit 262144"},
		{"pcap record just over the limit", withLen(0, DefaultSnaplen+1), false, nil, 24, "exceeds limit"},
		{"pcap bad magic", append([]byte{1, 2, 3, 4}, pcap[4:]...), true, nil, 0, "not a pcap or pcapng file"},
		{"pcap bad version", func() []byte { b := append([]byte(nil), pcap...); le.PutUint16(b[4:], 9); return b }(), true, nil, 0, "unsupported pcap version 9.4"},
		{"pcap truncated global header", pcap[:20], true, nil, 0, "truncated pcap file header: 20 of 24"},
		{"empty file", nil, true, nil, 0, "empty file"},
		{"gzip cut short", gzipped(pcap)[:len(gzipped(pcap))-40], false, exp[:1], int64(recOff[2]), "truncated gzip stream: unexpected EOF"},
		{"gzip header only", gzipped(pcap)[:10], true, nil, 0, "truncated gzip stream"},
		{"gzip corrupt deflate data", func() []byte { b := gzipped(pcap); b[10] = 0xff; b[11] = 0xff; return b }(), true, nil, 0, "flate: corrupt input"},
		{"pcapng bogus block length", ngMod(func(b []byte) { le.PutUint32(b[blkOff[1]+4:], 13) }), false, ngExp, int64(blkOff[1]), "bad block length 13"},
		{"pcapng block length below minimum", ngMod(func(b []byte) { le.PutUint32(b[blkOff[1]+4:], 8) }), false, ngExp, int64(blkOff[1]), "bad block length 8"},
		{"pcapng zero block length", ngMod(func(b []byte) { le.PutUint32(b[blkOff[2]+4:], 0) }), false, ngExp, int64(blkOff[2]), "bad block length 0"},
		{"pcapng enormous block length", ngMod(func(b []byte) { le.PutUint32(b[blkOff[2]+4:], 0xfffffff0) }), false, ngExp, int64(blkOff[2]), "exceeds limit"},
		{"pcapng trailer mismatch", ngMod(func(b []byte) { le.PutUint32(b[blkOff[2]-4:], 4) }), false, ngExp, int64(blkOff[1]), fmt.Sprintf("header %d, trailer 4", blkOff[2]-blkOff[1])},
		{"pcapng block length past the end", ngMod(func(b []byte) { le.PutUint32(b[blkOff[2]+4:], uint32(len(ng)-blkOff[2]+8)) }), false, ngExp, int64(blkOff[2]), "truncated block"},
		{"pcapng truncated", ng[:len(ng)-3], false, ngExp, int64(blkOff[2]), "truncated block"},
		{"pcapng captured length beyond block", ngMod(func(b []byte) { le.PutUint32(b[blkOff[2]+20:], 4000) }), false, ngExp, int64(blkOff[2]), "captured length 4000 exceeds block"},
		{"pcapng undeclared interface", ngMod(func(b []byte) { le.PutUint32(b[blkOff[2]+8:], 3) }), false, ngExp, int64(blkOff[2]), "undeclared interface 3"},
		{"pcapng bad byte-order magic", ngMod(func(b []byte) { b[8] = 0 }), false, nil, 0, "bad pcapng byte-order magic"},
		{"pcapng bad version", ngMod(func(b []byte) { le.PutUint16(b[12:], 2) }), false, nil, 0, "unsupported pcapng version 2.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, err := OpenReader(bytes.NewReader(c.file), "f.pcap", Options{})
			var got []Packet
			if err == nil {
				if c.open {
					t.Fatal("Open succeeded")
				}
				got, err = readAll(t, src)
				checkAll(t, got, c.exp)
			} else if !c.open {
				t.Fatalf("Open: %v", err)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want *FormatError", err, err)
			}
			if c.offset >= 0 && fe.Offset != c.offset {
				t.Errorf("offset %d, want %d (%v)", fe.Offset, c.offset, err)
			}
			prefix := fmt.Sprintf("capture: f.pcap: offset %d: ", fe.Offset)
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q, want %q...%q", err, prefix, c.message)
			}
			if errors.Unwrap(err) != fe.Err {
				t.Error("Unwrap")
			}
			if strings.Contains(c.message, "truncated") && !errors.Is(err, ErrTruncated) {
				t.Errorf("%v is not ErrTruncated", err)
			}
		})
	}
}

// TestSnaplenOption checks that Options.Snaplen bounds the records accepted.
func TestSnaplenOption(t *testing.T) {
	frames, exp := mixedFrames(t)
	file := pcapFile(t, 1, 0, frames...)
	src, err := OpenReader(bytes.NewReader(file), "f", Options{Snaplen: len(frames[0])})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, src)
	checkAll(t, got, exp[:1])
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != int64(24+16+len(frames[0])+16+len(frames[1])) || !strings.Contains(err.Error(), "exceeds limit") {
		t.Errorf("error %v", err)
	}
	if err == io.EOF {
		t.Error("EOF")
	}
}

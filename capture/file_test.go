package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// expected is one packet a file test expects, in order.
type expected struct {
	num  uint64
	ts   time.Time
	want want
}

// readAll reads src to the end, returning copies of the packets and the final error.
func readAll(t *testing.T, src Source) ([]Packet, error) {
	t.Helper()
	var out []Packet
	for {
		p, err := src.Next()
		if err != nil {
			if err2 := func() error { _, e := src.Next(); return e }(); err2 != err {
				t.Errorf("error not sticky: %v then %v", err, err2)
			}
			return out, err
		}
		c := *p
		c.Payload = append([]byte(nil), p.Payload...)
		out = append(out, c)
	}
}

func checkAll(t *testing.T, got []Packet, exp []expected) {
	t.Helper()
	if len(got) != len(exp) {
		t.Fatalf("got %d packets, want %d", len(got), len(exp))
	}
	for i := range exp {
		var ts interface{ UnixNano() int64 }
		if !exp[i].ts.IsZero() {
			ts = exp[i].ts
		}
		checkPacket(t, &got[i], exp[i].num, ts, exp[i].want)
	}
}

// mixedFrames returns Ethernet frames: TCP/IPv4, ARP (skipped), TCP/IPv6.
func mixedFrames(t testing.TB) ([][]byte, []expected) {
	arp := ethernet(t, make([]byte, 28), nil, nil)
	binary.BigEndian.PutUint16(arp[12:], 0x0806)
	frames := [][]byte{
		ethernet(t, ipPacket(t, pv4, ipOpts{}), nil, nil),
		arp,
		ethernet(t, ipPacket(t, pv6data, ipOpts{}), nil, nil),
	}
	return frames, []expected{{1, testTime(0), wantOf(pv4)}, {3, testTime(2), wantOf(pv6data)}}
}

// handPcap writes a classic pcap file by hand in the given byte order and
// resolution, with times testTime(i) + i ns when nano.
func handPcap(order byteOrder, nano bool, lt uint32, frames ...[]byte) []byte {
	var b []byte
	magic := uint32(pcapMagicMicro)
	if nano {
		magic = pcapMagicNano
	}
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 65535)
	b = order.AppendUint32(b, lt)
	for i, f := range frames {
		ts := handTime(i, nano)
		b = order.AppendUint32(b, uint32(ts.Unix()))
		if nano {
			b = order.AppendUint32(b, uint32(ts.Nanosecond()))
		} else {
			b = order.AppendUint32(b, uint32(ts.Nanosecond()/1000))
		}
		b = order.AppendUint32(b, uint32(len(f)))
		b = order.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

func handTime(i int, nano bool) time.Time {
	if nano {
		return testTime(i).Add(time.Duration(i*7 + 1))
	}
	return testTime(i)
}

func TestPcapVariants(t *testing.T) {
	frames, exp := mixedFrames(t)
	var nanoBuf bytes.Buffer
	w := pcapgo.NewWriterNanos(&nanoBuf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: handTime(i, true), CaptureLength: len(f), Length: len(f)}, f); err != nil {
			t.Fatal(err)
		}
	}
	nanoExp := append([]expected(nil), exp...)
	for i := range nanoExp {
		nanoExp[i].ts = handTime(int(nanoExp[i].num-1), true)
	}
	for _, c := range []struct {
		name string
		file []byte
		exp  []expected
	}{
		{"pcapgo microsecond", pcapFile(t, 1, 0, frames...), exp},
		{"pcapgo nanosecond", nanoBuf.Bytes(), nanoExp},
		{"big-endian microsecond", handPcap(binary.BigEndian, false, 1, frames...), exp},
		{"big-endian nanosecond", handPcap(binary.BigEndian, true, 1, frames...), nanoExp},
		{"little-endian nanosecond", handPcap(binary.LittleEndian, true, 1, frames...), nanoExp},
		{"modified (Kuznetzov) format", modifiedPcap(handPcap(binary.BigEndian, false, 1, frames...)), exp},
		{"FCS bits in link type", handPcap(binary.LittleEndian, false, 1|0x10000000, frames...), exp},
		{"gzip", gzipped(pcapFile(t, 1, 0, frames...)), exp},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, err := OpenReader(bytes.NewReader(c.file), c.name, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, src)
			if err != io.EOF {
				t.Fatalf("final error %v", err)
			}
			checkAll(t, got, c.exp)
			if st := src.Stats(); st.Packets != 3 || st.TCP != 2 || st.Skipped != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// ngBlock builds a pcapng block in the given byte order.
func ngBlock(order byteOrder, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b := order.AppendUint32(nil, typ)
	b = order.AppendUint32(b, n)
	b = append(b, body...)
	return order.AppendUint32(b, n)
}

func ngSHB(order byteOrder) []byte {
	body := order.AppendUint32(nil, ngByteOrderMagic)
	body = order.AppendUint16(body, 1)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint64(body, ^uint64(0))
	return ngBlock(order, ngBlockSHB, body)
}

// ngIDB builds an interface description; tsresol < 0 omits the option.
func ngIDB(order byteOrder, lt uint16, snap uint32, tsresol int, tsoffset int64) []byte {
	body := order.AppendUint16(nil, lt)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint32(body, snap)
	if tsresol >= 0 {
		body = order.AppendUint16(body, ngOptTSResol)
		body = order.AppendUint16(body, 1)
		body = append(body, byte(tsresol), 0, 0, 0)
	}
	if tsoffset != 0 {
		body = order.AppendUint16(body, ngOptTSOffset)
		body = order.AppendUint16(body, 8)
		body = order.AppendUint64(body, uint64(tsoffset))
	}
	body = order.AppendUint32(body, 0) // opt_endofopt
	return ngBlock(order, ngBlockIDB, body)
}

func ngEPB(order byteOrder, iface uint32, ts uint64, data []byte, wire int) []byte {
	body := order.AppendUint32(nil, iface)
	body = order.AppendUint32(body, uint32(ts>>32))
	body = order.AppendUint32(body, uint32(ts))
	body = order.AppendUint32(body, uint32(len(data)))
	body = order.AppendUint32(body, uint32(wire))
	body = append(body, data...)
	return ngBlock(order, ngBlockEPB, body)
}

func ngSPB(order byteOrder, data []byte, wire int) []byte {
	body := order.AppendUint32(nil, uint32(wire))
	return ngBlock(order, ngBlockSPB, append(body, data...))
}

func TestPcapng(t *testing.T) {
	eth4 := ethernet(t, ipPacket(t, pv4, ipOpts{}), nil, nil)
	raw6 := ipPacket(t, pv6data, ipOpts{})
	sll26 := sll2(ipPacket(t, pv6, ipOpts{}))

	// pcapgo's writer: two interfaces with different link types.
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	id, err := w.AddInterface(pcapgo.NgInterface{Name: "tun0", LinkType: layers.LinkTypeRaw, SnapLength: 65535})
	if err != nil {
		t.Fatal(err)
	}
	write := func(i, iface int, data []byte) {
		ci := gopacket.CaptureInfo{Timestamp: handTime(i, true), CaptureLength: len(data), Length: len(data), InterfaceIndex: iface}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 0, eth4)
	write(1, id, raw6)
	write(2, id, raw6[:40+40+5]) // snaplen-cut (CaptureLength == Length here: see below)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	ngw := append(buf.Bytes(), ngSPB(binary.LittleEndian, eth4, len(eth4))...) // SPB of interface 0

	w6 := wantOf(pv6data)
	w6cut := w6
	// pcapgo recorded Length == CaptureLength: the wire length bounds the
	// segment, not the IP header, so nothing is missing.
	w6cut.payload = w6.payload[:5]
	w6spb := w6
	w6spb.payload, w6spb.missing = w6.payload[:5], len(w6.payload)-5

	// By hand, big-endian, with microsecond, 2^-10 and offset resolutions,
	// and a second (little-endian) section resetting the interfaces.
	be, le := binary.BigEndian, binary.LittleEndian
	t0 := testTime(0)
	var hand []byte
	hand = append(hand, ngSHB(be)...)
	hand = append(hand, ngIDB(be, 276, 0, -1, 0)...)      // SLL2, default µs
	hand = append(hand, ngIDB(be, 1, 0, 0x80|10, 100)...) // Ethernet, 2^-10 s, +100 s
	hand = append(hand, ngBlock(be, 0x00000004, []byte("name resolution, skipped"))...)
	hand = append(hand, ngEPB(be, 0, uint64(t0.UnixMicro()), sll26, len(sll26))...)
	hand = append(hand, ngEPB(be, 1, uint64(t0.Unix())<<10|512, eth4, len(eth4))...)
	hand = append(hand, ngSHB(le)...)
	hand = append(hand, ngIDB(le, 101, 40+40+5, 9, 0)...) // snaplen 85
	hand = append(hand, ngEPB(le, 0, uint64(t0.UnixNano()), raw6, len(raw6))...)
	hand = append(hand, ngSPB(le, raw6[:85], len(raw6))...) // padded to 88 bytes: snaplen bounds it

	for _, c := range []struct {
		name string
		file []byte
		exp  []expected
	}{
		{"pcapgo two interfaces + SPB", ngw, []expected{
			{1, handTime(0, true), wantOf(pv4)},
			{2, handTime(1, true), w6},
			{3, handTime(2, true), w6cut},
			{4, handTime(2, true), wantOf(pv4)}, // SPB: time of the previous packet
		}},
		{"by hand: sections, byte orders, resolutions", hand, []expected{
			{1, t0.Truncate(time.Microsecond), wantOf(pv6)},
			{2, time.Unix(t0.Unix()+100, 5e8), wantOf(pv4)},
			{3, t0, w6},
			{4, t0, w6spb},
		}},
		{"gzip", gzipped(hand), []expected{{1, time.Time{}, wantOf(pv6)}, {2, time.Time{}, wantOf(pv4)}, {3, time.Time{}, w6}, {4, time.Time{}, w6spb}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, err := OpenReader(bytes.NewReader(c.file), c.name, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, src)
			if err != io.EOF {
				t.Fatalf("final error %v", err)
			}
			checkAll(t, got, c.exp)
		})
	}
}

func TestOpenFileAndStdin(t *testing.T) {
	frames, exp := mixedFrames(t)
	file := gzipped(pcapFile(t, 1, 0, frames...))
	path := filepath.Join(t.TempDir(), "x.pcap.gz")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := OpenFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, src)
	if err != io.EOF {
		t.Fatal(err)
	}
	checkAll(t, got, exp)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(); err == nil || err == io.EOF {
		t.Errorf("Next after Close: %v", err)
	}

	// A pipe, as standard input: OpenReader and OpenFile("-").
	pr, pw := io.Pipe()
	go func() { pw.Write(file); pw.Close() }()
	src, err = OpenReader(pr, "-", Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err = readAll(t, src)
	if err != io.EOF {
		t.Fatal(err)
	}
	checkAll(t, got, exp)

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { w.Write(file); w.Close() }()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	src, err = OpenFile("-", Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err = readAll(t, src)
	if err != io.EOF {
		t.Fatal(err)
	}
	checkAll(t, got, exp)
	src.Close()

	if _, err := OpenFile(filepath.Join(t.TempDir(), "missing.pcap"), Options{}); err == nil || !strings.HasPrefix(err.Error(), "capture: ") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// byteOrder is what the hand-written file builders need of a byte order.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// modifiedPcap converts a big-endian microsecond pcap to the modified
// format: magic 0xa1b2cd34 and 8 more bytes (ifindex, protocol, type, pad)
// in every record header.
func modifiedPcap(b []byte) []byte {
	out := append([]byte(nil), b[:24]...)
	binary.BigEndian.PutUint32(out, pcapMagicModified)
	for b = b[24:]; len(b) > 0; {
		n := 16 + int(binary.BigEndian.Uint32(b[8:]))
		out = append(out, b[:16]...)
		out = append(out, 0, 0, 0, 2, 0x08, 0x00, 0, 0)
		out = append(out, b[16:n]...)
		b = b[n:]
	}
	return out
}

// TestWarnings checks the single message per unsupported link type.
func TestWarnings(t *testing.T) {
	le := binary.LittleEndian
	eth4 := ethernet(t, ipPacket(t, pv4, ipOpts{}), nil, nil)
	var file []byte
	file = append(file, ngSHB(le)...)
	file = append(file, ngIDB(le, 105, 0, -1, 0)...)
	file = append(file, ngIDB(le, 1, 0, -1, 0)...)
	file = append(file, ngIDB(le, 147, 0, -1, 0)...)
	for i, iface := range []uint32{0, 1, 0, 2, 0, 1} {
		file = append(file, ngEPB(le, iface, uint64(i), eth4, len(eth4))...)
	}
	src, err := OpenReader(bytes.NewReader(file), "w.pcapng", Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, src)
	if err != io.EOF {
		t.Fatal(err)
	}
	checkAll(t, got, []expected{{2, time.Time{}, wantOf(pv4)}, {6, time.Time{}, wantOf(pv4)}})
	w := src.(Warner).Warnings()
	want := []string{
		"capture: w.pcapng: unsupported link type 105 (IEEE802_11): 3 packets skipped",
		"capture: w.pcapng: unsupported link type 147: 1 packet skipped",
	}
	if strings.Join(w, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings %q, want %q", w, want)
	}
	if st := src.Stats(); st.Skipped != 4 || st.TCP != 2 || st.Packets != 6 {
		t.Errorf("stats %+v", st)
	}
	if sc := src.(SkipCounter).SkipCounts(); len(sc) != 1 || sc["unsupported link type"] != 4 {
		t.Errorf("skip counts %v", sc)
	}

	// A pcap link type field that does not fit 16 bits.
	src, err = OpenReader(bytes.NewReader(handPcap(le, false, 0x01000000, eth4)), "x.pcap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(); err != io.EOF {
		t.Fatal(err)
	}
	if w := src.(Warner).Warnings(); len(w) != 1 || w[0] != "capture: x.pcap: invalid link type: 1 packet skipped" {
		t.Errorf("warnings %q", w)
	}
}

// TestNextDoesNotAllocate checks that reading and decoding a packet costs no
// allocation, for both formats.
func TestNextDoesNotAllocate(t *testing.T) {
	frames, _ := mixedFrames(t)
	var many [][]byte
	for range 200 {
		many = append(many, frames...)
	}
	le := binary.LittleEndian
	ng := append(ngSHB(le), ngIDB(le, 1, 0, 9, 0)...)
	for i, f := range many {
		ng = append(ng, ngEPB(le, 0, uint64(i), f, len(f))...)
	}
	for name, file := range map[string][]byte{"pcap": pcapFile(t, 1, 0, many...), "pcapng": ng} {
		src, err := OpenReader(bytes.NewReader(file), name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(300, func() {
			if _, err := src.Next(); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations per Next", name, n)
		}
	}
}

package hostile

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
)

// NgBogusKinds lists the kinds of damage PcapngBogus can write.
var NgBogusKinds = []string{
	"block-len-huge", "block-len-zero", "block-len-small", "block-len-unaligned",
	"trailer-mismatch", "caplen-over-block", "caplen-huge", "bad-interface", "no-idb",
	"unknown-blocks", "idb-unknown-link", "idb-snaplen-zero", "shb-len-huge", "second-section-bigendian",
}

var ngDocs = map[string]string{
	"block-len-huge":           "an Enhanced Packet Block claiming 0xfffffff0 bytes",
	"block-len-zero":           "a block whose total length is 0",
	"block-len-small":          "an Enhanced Packet Block of total length 12 (shorter than its fixed fields)",
	"block-len-unaligned":      "a block length that is not a multiple of 4",
	"trailer-mismatch":         "a block whose trailing length differs from the leading one",
	"caplen-over-block":        "a packet whose captured length exceeds its block",
	"caplen-huge":              "a packet claiming a captured length of 0xffffff00 in a small block",
	"bad-interface":            "packets on interface 7 when only interface 0 exists",
	"no-idb":                   "packets before any Interface Description Block",
	"unknown-blocks":           "unknown block types (sane lengths) between the packets",
	"idb-unknown-link":         "an interface of unknown link type 0xfffe",
	"idb-snaplen-zero":         "an interface with snaplen 0 (no limit)",
	"shb-len-huge":             "a Section Header Block claiming 0x7ffffff0 bytes",
	"second-section-bigendian": "a second, big-endian section with its own interface in the middle",
}

func ngBlock(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, n)
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, n)
}

func ngSHB() []byte {
	body := binary.LittleEndian.AppendUint32(nil, 0x1a2b3c4d)
	body = binary.LittleEndian.AppendUint16(body, 1)
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint64(body, ^uint64(0))
	return ngBlock(0x0a0d0d0a, body)
}

func ngIDB(link uint16, snap uint32) []byte {
	body := binary.LittleEndian.AppendUint16(nil, link)
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint32(body, snap)
	return ngBlock(1, body)
}

func ngEPB(intf uint32, ts uint64, data []byte, orig uint32) []byte {
	body := binary.LittleEndian.AppendUint32(nil, intf)
	body = binary.LittleEndian.AppendUint32(body, uint32(ts>>32))
	body = binary.LittleEndian.AppendUint32(body, uint32(ts))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(data)))
	body = binary.LittleEndian.AppendUint32(body, orig)
	body = append(body, data...)
	return ngBlock(6, body)
}

// ValidNg returns Valid() as pcapng (one section, one Ethernet interface).
func ValidNg() []byte { return toNg(Valid(), func(int, []byte) []byte { return nil }) }

// toNg converts a classic pcap to pcapng; hook may return bytes to insert
// before record i (nil for none).
func toNg(pcap []byte, hook func(i int, epb []byte) []byte) []byte {
	_, recs := records(pcap)
	b := append(ngSHB(), ngIDB(1, 262144)...)
	for i, r := range recs {
		ts := uint64(binary.LittleEndian.Uint32(r[0:]))*1e6 + uint64(binary.LittleEndian.Uint32(r[4:]))
		epb := ngEPB(0, ts, r[16:], binary.LittleEndian.Uint32(r[12:]))
		if x := hook(i, epb); x != nil {
			b = append(b, x...)
			continue
		}
		b = append(b, epb...)
	}
	return b
}

// PcapngBogus writes a pcapng version of Valid() damaged as kind says (one
// of NgBogusKinds); the damage is placed in the middle of the file.
func PcapngBogus(out io.Writer, kind string) error {
	var mid int
	_, recs := records(Valid())
	mid = len(recs) / 2
	var data []byte
	switch kind {
	case "no-idb":
		_, recs := records(Valid())
		data = ngSHB()
		for _, r := range recs[:3] {
			data = append(data, ngEPB(0, 1, r[16:], uint32(len(r)-16))...)
		}
		data = append(data, ngIDB(1, 262144)...)
		for _, r := range recs[3:] {
			data = append(data, ngEPB(0, 1, r[16:], uint32(len(r)-16))...)
		}
	case "idb-unknown-link", "idb-snaplen-zero":
		link, snap := uint16(0xfffe), uint32(262144)
		if kind == "idb-snaplen-zero" {
			link, snap = 1, 0
		}
		ng := ValidNg()
		shb := ngSHB()
		data = append(append(append([]byte{}, shb...), ngIDB(link, snap)...), ng[len(shb)+len(ngIDB(1, 262144)):]...)
	case "shb-len-huge":
		data = ValidNg()
		binary.LittleEndian.PutUint32(data[4:], 0x7ffffff0)
	default:
		data = toNg(Valid(), func(i int, epb []byte) []byte {
			if i != mid && !(kind == "bad-interface" && i > mid) && !(kind == "unknown-blocks") {
				return nil
			}
			e := append([]byte(nil), epb...)
			n := len(e)
			switch kind {
			case "block-len-huge":
				binary.LittleEndian.PutUint32(e[4:], 0xfffffff0)
			case "block-len-zero":
				binary.LittleEndian.PutUint32(e[4:], 0)
			case "block-len-small":
				binary.LittleEndian.PutUint32(e[4:], 12)
			case "block-len-unaligned":
				binary.LittleEndian.PutUint32(e[4:], uint32(n-3))
			case "trailer-mismatch":
				binary.LittleEndian.PutUint32(e[n-4:], uint32(n+8))
			case "caplen-over-block":
				binary.LittleEndian.PutUint32(e[20:], uint32(n))
			case "caplen-huge":
				binary.LittleEndian.PutUint32(e[20:], 0xffffff00)
			case "bad-interface":
				binary.LittleEndian.PutUint32(e[8:], 7)
			case "unknown-blocks":
				return append(ngBlock(0x0bad, []byte("unknown block \x1b[2J body")), e...)
			case "second-section-bigendian":
				// A big-endian section with one Ethernet interface,
				// then this packet in it.
				shb := []byte{0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0,
					0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 28}
				idb := []byte{0, 0, 0, 1, 0, 0, 0, 20, 0, 1, 0, 0, 0, 4, 0, 0, 0, 0, 0, 20}
				be := make([]byte, n)
				copy(be, e)
				for _, o := range []int{0, 4, 8, 12, 16, 20, 24, n - 4} {
					binary.BigEndian.PutUint32(be[o:], binary.LittleEndian.Uint32(e[o:]))
				}
				return append(append(shb, idb...), be...)
			}
			return e
		})
	}
	_, err := out.Write(data)
	return err
}

// FlipBits returns a copy of data with n random bits flipped (seeded),
// sparing the first skip bytes (e.g. the file header).
func FlipBits(data []byte, seed uint64, n, skip int) []byte {
	out := append([]byte(nil), data...)
	if len(out) <= skip {
		return out
	}
	rng := rand.New(rand.NewPCG(seed, 0x6b6974))
	for range n {
		i := skip + rng.IntN(len(out)-skip)
		out[i] ^= 1 << rng.IntN(8)
	}
	return out
}

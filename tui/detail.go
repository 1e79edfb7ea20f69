package tui

import (
	"encoding/binary"
	"errors"
)

// A message's detail record is what the messages pane and the filter do not
// need for every row: exact lengths, the last packet and time, frame
// headers, anomaly references and the payload bytes. It is written to the
// spill stream (spill.go) when the message arrives and read back on demand
// (detail pane, previews of visible rows, payload filters and search, save,
// copy, export). It is compact (about 20 bytes before the payload for a
// one-frame message; varints relative to the index record):
//
//	flags     byte     dHasClose | dHasAnoms
//	tLast     varint   last byte − first byte (msgRec.t), ns
//	length    uvarint  payload length after decompression
//	wire      uvarint  bytes on the wire
//	pkt1      varint   last packet − first packet (msgRec.pkt0)
//	nFrames   uvarint  frames the message was made of
//	anom0     uvarint  first anomaly in Model.anoms   } if dHasAnoms
//	nAnom     uvarint  anomalies kept                 }
//	close     uvarint  close code                     } if dHasClose
//	kFrames   uvarint  frame headers kept
//	payN      uvarint  payload bytes kept
//	kFrames × frame: payLen uvarint, pkt0 varint (− msgRec.pkt0),
//	          pkt1 varint (− frame pkt0), FIN | masked<<1 | rsv<<2 byte,
//	          opcode byte, header length byte, mask key [4] if masked
//	payN payload bytes
const (
	dHasClose = 1 << iota
	dHasAnoms
)

// Upper bounds of the encoded sizes (a uvarint takes at most 10 bytes).
const (
	maxDetailFixed = 1 + 10*10
	maxFrameRec    = 3*10 + 3 + 4
)

// noDetail marks a message whose detail record was not kept (spill limit
// or spill error).
const noDetail = ^uint64(0)

// previewBytes is how much payload a one-line preview needs at most
// (previewRunes of up to 4 bytes each).
const previewBytes = previewRunes * 4

// msgDetail is a decoded detail record.
type msgDetail struct {
	tLast, length, wire int64
	pkt1                uint64
	nFrames             uint32
	anom0               uint32
	payN                uint32 // payload bytes kept in the spill
	nAnom               uint16
	kFrames             uint16
	close               uint16
	hasClose            bool
	frames              []frameRec
	payload             []byte // the first len(payload) ≤ payN bytes kept
}

// partialPayload reports whether payload holds fewer bytes than were kept.
func (d *msgDetail) partialPayload() bool { return uint32(len(d.payload)) < d.payN }

// encodeDetailHeader appends the encoded detail record of d (without its
// payload) to b. r is the message's index record.
func encodeDetailHeader(b []byte, r *msgRec, d *msgDetail) []byte {
	var fl byte
	if d.hasClose {
		fl |= dHasClose
	}
	if d.nAnom > 0 {
		fl |= dHasAnoms
	}
	b = append(b, fl)
	b = binary.AppendVarint(b, d.tLast-r.t)
	b = binary.AppendUvarint(b, uint64(d.length))
	b = binary.AppendUvarint(b, uint64(d.wire))
	b = binary.AppendVarint(b, int64(d.pkt1-r.pkt0))
	b = binary.AppendUvarint(b, uint64(d.nFrames))
	if d.nAnom > 0 {
		b = binary.AppendUvarint(b, uint64(d.anom0))
		b = binary.AppendUvarint(b, uint64(d.nAnom))
	}
	if d.hasClose {
		b = binary.AppendUvarint(b, uint64(d.close))
	}
	b = binary.AppendUvarint(b, uint64(d.kFrames))
	b = binary.AppendUvarint(b, uint64(d.payN))
	for i := range d.frames {
		f := &d.frames[i]
		b = binary.AppendUvarint(b, f.payLen)
		b = binary.AppendVarint(b, int64(f.pkt0-r.pkt0))
		b = binary.AppendVarint(b, int64(f.pkt1-f.pkt0))
		bits := f.rsv << 2
		if f.fin {
			bits |= 1
		}
		if f.masked {
			bits |= 2
		}
		b = append(b, bits, f.op, f.headerLen)
		if f.masked {
			b = append(b, f.key[:]...)
		}
	}
	return b
}

// errShort: the buffer ends inside the record's header; read more.
var errShort = errors.New("tui: detail record: short buffer")

// decoder reads varints from a detail record.
type decoder struct {
	b   []byte
	n   int
	bad bool
}

func (x *decoder) uv() uint64 {
	v, k := binary.Uvarint(x.b[x.n:])
	if k <= 0 {
		x.bad = true
		return 0
	}
	x.n += k
	return v
}

func (x *decoder) v() int64 {
	v, k := binary.Varint(x.b[x.n:])
	if k <= 0 {
		x.bad = true
		return 0
	}
	x.n += k
	return v
}

func (x *decoder) byte() byte {
	if x.n >= len(x.b) {
		x.bad = true
		return 0
	}
	x.n++
	return x.b[x.n-1]
}

// decodeDetail decodes the record header at the start of b into d (the
// frames too if withFrames) and returns its length: the payload starts
// there. errShort means b ends inside the header; d.kFrames is then set if
// the fixed part was decoded (the header is at most maxDetailFixed +
// kFrames×maxFrameRec bytes).
func decodeDetail(b []byte, r *msgRec, d *msgDetail, withFrames bool) (int, error) {
	x := decoder{b: b}
	*d = msgDetail{}
	fl := x.byte()
	d.tLast = r.t + x.v()
	d.length = int64(x.uv())
	d.wire = int64(x.uv())
	d.pkt1 = r.pkt0 + uint64(x.v())
	d.nFrames = uint32(x.uv())
	if fl&dHasAnoms != 0 {
		d.anom0 = uint32(x.uv())
		d.nAnom = uint16(x.uv())
		if d.nAnom == 0 {
			d.anom0 = 0 // never written so (corrupt record)
		}
	}
	if fl&dHasClose != 0 {
		d.hasClose, d.close = true, uint16(x.uv())
	}
	d.kFrames = uint16(x.uv())
	d.payN = uint32(x.uv())
	if x.bad {
		d.kFrames = 0
		return 0, errShort
	}
	if withFrames {
		d.frames = make([]frameRec, d.kFrames)
	}
	for i := 0; i < int(d.kFrames); i++ {
		var f frameRec
		f.payLen = x.uv()
		f.pkt0 = r.pkt0 + uint64(x.v())
		f.pkt1 = f.pkt0 + uint64(x.v())
		bits := x.byte()
		f.fin, f.masked, f.rsv = bits&1 != 0, bits&2 != 0, bits>>2
		f.op, f.headerLen = x.byte(), x.byte()
		if f.masked {
			for k := range f.key {
				f.key[k] = x.byte()
			}
		}
		if withFrames {
			d.frames[i] = f
		}
	}
	if x.bad {
		return 0, errShort
	}
	return x.n, nil
}

// readDetail reads the detail record of r with at most maxPayload payload
// bytes (all kept bytes if maxPayload < 0). withFrames decodes the frame
// headers too.
func (s *snapshot) readDetail(r *msgRec, maxPayload int, withFrames bool) (*msgDetail, error) {
	if r.off == noDetail || s.sp == nil {
		return nil, errNoDetail
	}
	off := int64(r.off)
	end := s.sp.size()
	// One read covers the header, a few frames and a preview in the common
	// case; a second one fetches the rest.
	want := maxDetailFixed + 2*maxFrameRec
	if maxPayload > 0 {
		want += min(maxPayload, previewBytes)
	}
	buf := make([]byte, min(int64(want), end-off))
	if err := s.sp.readAt(buf, off); err != nil {
		return nil, err
	}
	d := new(msgDetail)
	n, err := decodeDetail(buf, r, d, withFrames)
	if err == errShort && int64(len(buf)) < end-off {
		buf = make([]byte, min(int64(maxDetailFixed+int(d.kFrames)*maxFrameRec), end-off))
		if err = s.sp.readAt(buf, off); err == nil {
			n, err = decodeDetail(buf, r, d, withFrames)
		}
	}
	if err != nil {
		return nil, err
	}
	p := int(d.payN)
	if maxPayload >= 0 {
		p = min(p, maxPayload)
	}
	if n+p <= len(buf) {
		d.payload = buf[n : n+p : n+p]
		return d, nil
	}
	d.payload = make([]byte, p)
	if err := s.sp.readAt(d.payload, off+int64(n)); err != nil {
		return nil, err
	}
	return d, nil
}

var errNoDetail = errors.New("tui: message details not kept (spill limit)")

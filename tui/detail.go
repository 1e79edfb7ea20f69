package tui

import (
	"encoding/binary"
	"fmt"
)

// A message's detail record is what the messages pane and the filter do not
// need for every row: exact lengths, the last packet and time, frame
// headers, anomaly references and the payload bytes. It is written to the
// spill stream (spill.go) when the message arrives and read back on demand
// (detail pane, previews of visible rows, payload filters and search, save,
// copy, export). Layout, little-endian:
//
//	 0 tLast   int64   last byte, Unix ns
//	 8 length  int64   payload length after decompression
//	16 wire    int64   bytes on the wire
//	24 pkt1    uint64  last packet
//	32 nFrames uint32  frames the message was made of
//	36 anom0   uint32  first anomaly in Model.anoms
//	40 payN    uint32  payload bytes kept (after the frames)
//	44 nAnom   uint16  anomalies kept
//	46 kFrames uint16  frame headers kept
//	48 close   uint16  close code
//	50 flags   uint8   dHasClose
//	51         uint8   reserved
//	52 kFrames × 32-byte frame headers, then payN payload bytes
//
// A frame header: payLen uint64, pkt0 uint64, pkt1 uint64, mask key [4],
// rsv, opcode, header length, FIN | masked<<1.
const (
	detailHdrLen = 52
	frameRecLen  = 32
	dHasClose    = 1
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

func (d *msgDetail) payloadOff() int { return detailHdrLen + int(d.kFrames)*frameRecLen }

// encodeDetailHeader appends the header and frame records of d to b.
func encodeDetailHeader(b []byte, d *msgDetail) []byte {
	var h [detailHdrLen]byte
	le := binary.LittleEndian
	le.PutUint64(h[0:], uint64(d.tLast))
	le.PutUint64(h[8:], uint64(d.length))
	le.PutUint64(h[16:], uint64(d.wire))
	le.PutUint64(h[24:], d.pkt1)
	le.PutUint32(h[32:], d.nFrames)
	le.PutUint32(h[36:], d.anom0)
	le.PutUint32(h[40:], d.payN)
	le.PutUint16(h[44:], d.nAnom)
	le.PutUint16(h[46:], d.kFrames)
	le.PutUint16(h[48:], d.close)
	if d.hasClose {
		h[50] = dHasClose
	}
	b = append(b, h[:]...)
	for i := range d.frames {
		f := &d.frames[i]
		var r [frameRecLen]byte
		le.PutUint64(r[0:], f.payLen)
		le.PutUint64(r[8:], f.pkt0)
		le.PutUint64(r[16:], f.pkt1)
		copy(r[24:28], f.key[:])
		r[28], r[29], r[30] = f.rsv, f.op, f.headerLen
		if f.fin {
			r[31] |= 1
		}
		if f.masked {
			r[31] |= 2
		}
		b = append(b, r[:]...)
	}
	return b
}

// decodeDetailHeader decodes the fixed header at the start of b.
func decodeDetailHeader(b []byte, d *msgDetail) error {
	if len(b) < detailHdrLen {
		return fmt.Errorf("tui: detail record: %d bytes, header needs %d", len(b), detailHdrLen)
	}
	le := binary.LittleEndian
	*d = msgDetail{
		tLast: int64(le.Uint64(b[0:])), length: int64(le.Uint64(b[8:])), wire: int64(le.Uint64(b[16:])),
		pkt1: le.Uint64(b[24:]), nFrames: le.Uint32(b[32:]), anom0: le.Uint32(b[36:]), payN: le.Uint32(b[40:]),
		nAnom: le.Uint16(b[44:]), kFrames: le.Uint16(b[46:]), close: le.Uint16(b[48:]), hasClose: b[50]&dHasClose != 0,
	}
	return nil
}

func decodeFrames(b []byte, n int) []frameRec {
	le := binary.LittleEndian
	out := make([]frameRec, n)
	for i := range out {
		r := b[i*frameRecLen:]
		f := &out[i]
		f.payLen, f.pkt0, f.pkt1 = le.Uint64(r[0:]), le.Uint64(r[8:]), le.Uint64(r[16:])
		copy(f.key[:], r[24:28])
		f.rsv, f.op, f.headerLen = r[28], r[29], r[30]
		f.fin, f.masked = r[31]&1 != 0, r[31]&2 != 0
	}
	return out
}

// readDetail reads the detail record of r with at most maxPayload payload
// bytes (all kept bytes if maxPayload < 0). withFrames decodes the frame
// headers too.
func (s *snapshot) readDetail(r *msgRec, maxPayload int, withFrames bool) (*msgDetail, error) {
	if r.off == noDetail || s.sp == nil {
		return nil, errNoDetail
	}
	// One read covers the header, one frame and a preview in the common
	// case; a second one fetches the rest.
	first := make([]byte, detailHdrLen+frameRecLen+max(0, min(maxPayload, previewBytes)))
	end := s.sp.size()
	if n := end - int64(r.off); n < int64(len(first)) {
		first = first[:max(0, n)]
	}
	if err := s.sp.readAt(first, int64(r.off)); err != nil {
		return nil, err
	}
	d := new(msgDetail)
	if err := decodeDetailHeader(first, d); err != nil {
		return nil, err
	}
	want := int(d.payN)
	if maxPayload >= 0 {
		want = min(want, maxPayload)
	}
	full := d.payloadOff() + want
	buf := first
	if full > len(first) {
		buf = make([]byte, full)
		copy(buf, first)
		if err := s.sp.readAt(buf[len(first):], int64(r.off)+int64(len(first))); err != nil {
			return nil, err
		}
	}
	buf = buf[:full]
	if withFrames {
		d.frames = decodeFrames(buf[detailHdrLen:], int(d.kFrames))
	}
	d.payload = buf[d.payloadOff():][:want:want]
	return d, nil
}

var errNoDetail = fmt.Errorf("tui: message details not kept (spill limit)")

package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html).
const (
	ngBlockSHB = 0x0a0d0d0a // section header
	ngBlockIDB = 0x00000001 // interface description
	ngBlockPB  = 0x00000002 // obsolete packet block
	ngBlockSPB = 0x00000003 // simple packet block
	ngBlockEPB = 0x00000006 // enhanced packet block

	ngByteOrderMagic = 0x1a2b3c4d
	ngMinSHBLen      = 28

	ngOptEnd      = 0
	ngOptTSResol  = 9
	ngOptTSOffset = 14

	// ngMaxInterfaces bounds the interface table of one section.
	ngMaxInterfaces = 1 << 16
)

// ngInterface is what an Interface Description Block declares.
type ngInterface struct {
	linkType uint16
	snaplen  int
	pow2     bool  // resolution is 2^-exp seconds instead of 10^-exp
	exp      uint8 // resolution exponent
	offset   int64 // seconds added to every timestamp
}

// time converts a timestamp in the interface's units to a time.Time.
func (ifc *ngInterface) time(ts uint64) time.Time {
	var sec, nsec uint64
	if ifc.pow2 {
		sec = ts >> ifc.exp
		frac := ts & (1<<ifc.exp - 1)
		hi, lo := bits.Mul64(frac, 1e9)
		nsec = lo>>ifc.exp | hi<<(64-ifc.exp)
		if ifc.exp == 0 {
			nsec = 0
		}
	} else {
		unit := pow10[ifc.exp]
		sec, nsec = ts/unit, ts%unit
		if ifc.exp <= 9 {
			nsec *= pow10[9-ifc.exp]
		} else {
			nsec /= pow10[ifc.exp-9]
		}
	}
	return time.Unix(int64(sec)+ifc.offset, int64(nsec))
}

var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

type ngReader struct {
	in       *input
	path     string
	order    binary.ByteOrder
	ifaces   []ngInterface
	limit    int // largest captured length accepted
	maxBlock int // largest block buffered whole
	pending  int
	lastTS   time.Time
}

func newNgReader(in *input, path string, limit, maxBlock int) *ngReader {
	return &ngReader{in: in, path: path, limit: limit, maxBlock: maxBlock, order: binary.LittleEndian}
}

func (r *ngReader) snaplen(lt uint16) int {
	for i := range r.ifaces {
		if r.ifaces[i].linkType == lt {
			return r.ifaces[i].snaplen
		}
	}
	return 0
}

func (r *ngReader) errorf(off int64, format string, args ...any) error {
	return &FormatError{r.path, off, fmt.Errorf(format, args...)}
}

func (r *ngReader) next(rec *record) error {
	for {
		if r.pending > 0 {
			n, err := r.in.skip(r.pending)
			r.pending -= n
			if err != nil {
				return &FormatError{r.path, r.in.off, err}
			}
		}
		off := r.in.off
		h, err := r.in.peek(12)
		if len(h) < 12 {
			if e := readFailure(err); e != nil {
				return &FormatError{r.path, off, e}
			}
			if len(h) == 0 {
				return io.EOF
			}
			if len(h) < 8 {
				return &FormatError{r.path, off, truncatedError("block header", len(h), 8)}
			}
		}
		typ := r.order.Uint32(h)
		if typ == ngBlockSHB {
			if len(h) < 12 {
				return &FormatError{r.path, off, truncatedError("section header block", len(h), ngMinSHBLen)}
			}
			switch {
			case binary.LittleEndian.Uint32(h[8:]) == ngByteOrderMagic:
				r.order = binary.LittleEndian
			case binary.BigEndian.Uint32(h[8:]) == ngByteOrderMagic:
				r.order = binary.BigEndian
			default:
				return r.errorf(off, "bad pcapng byte-order magic %#08x", binary.BigEndian.Uint32(h[8:]))
			}
		}
		blen := r.order.Uint32(h[4:])
		if blen < 12 || blen%4 != 0 {
			return r.errorf(off, "bad block length %d (block type %#x)", blen, typ)
		}
		switch typ {
		case ngBlockSHB, ngBlockIDB, ngBlockEPB, ngBlockSPB, ngBlockPB:
		default:
			// Not needed: skip without buffering, then check the trailer.
			n, err := r.in.skip(int(blen) - 4)
			if n < int(blen)-4 {
				if e := readFailure(err); e != nil {
					return &FormatError{r.path, off, e}
				}
				return &FormatError{r.path, off, truncatedError("block", n+4, int(blen))}
			}
			t, err := r.in.peek(4)
			if len(t) < 4 {
				if e := readFailure(err); e != nil {
					return &FormatError{r.path, off, e}
				}
				return &FormatError{r.path, off, truncatedError("block", int(blen)-4+len(t), int(blen))}
			}
			if tl := r.order.Uint32(t); tl != blen {
				return r.errorf(off, "block length mismatch: header %d, trailer %d", blen, tl)
			}
			r.pending = 4
			continue
		}
		if blen > uint32(r.maxBlock) {
			return r.errorf(off, "block length %d exceeds limit %d", blen, r.maxBlock)
		}
		n := int(blen)
		b, err := r.in.peek(n)
		if len(b) < n {
			if e := readFailure(err); e != nil {
				return &FormatError{r.path, off, e}
			}
			return &FormatError{r.path, off, truncatedError("block", len(b), n)}
		}
		if tl := r.order.Uint32(b[n-4:]); tl != blen {
			return r.errorf(off, "block length mismatch: header %d, trailer %d", blen, tl)
		}
		r.pending = n
		body := b[8 : n-4]
		switch typ {
		case ngBlockSHB:
			if n < ngMinSHBLen {
				return r.errorf(off, "section header block too short (%d bytes)", n)
			}
			if major := r.order.Uint16(body[4:]); major != 1 {
				return r.errorf(off, "unsupported pcapng version %d.%d", major, r.order.Uint16(body[6:]))
			}
			r.ifaces = r.ifaces[:0]
		case ngBlockIDB:
			if err := r.addInterface(off, body); err != nil {
				return err
			}
		case ngBlockEPB, ngBlockPB:
			if len(body) < 20 {
				return r.errorf(off, "packet block too short (%d bytes)", n)
			}
			var id uint32
			if typ == ngBlockEPB {
				id = r.order.Uint32(body)
			} else {
				id = uint32(r.order.Uint16(body))
			}
			if id >= uint32(len(r.ifaces)) {
				return r.errorf(off, "packet for undeclared interface %d (%d declared)", id, len(r.ifaces))
			}
			ifc := &r.ifaces[id]
			caplen := r.order.Uint32(body[12:])
			if caplen > uint32(len(body)-20) {
				return r.errorf(off, "captured length %d exceeds block length %d", caplen, blen)
			}
			if caplen > uint32(r.limit) {
				return r.errorf(off, "record length %d exceeds limit %d", caplen, r.limit)
			}
			ts := uint64(r.order.Uint32(body[4:]))<<32 | uint64(r.order.Uint32(body[8:]))
			rec.ts = ifc.time(ts)
			r.lastTS = rec.ts
			rec.data = body[20 : 20+caplen]
			rec.origLen = int(r.order.Uint32(body[16:]))
			rec.linkType, rec.known = ifc.linkType, true
			rec.offset = off
			return nil
		case ngBlockSPB:
			if len(body) < 4 {
				return r.errorf(off, "simple packet block too short (%d bytes)", n)
			}
			if len(r.ifaces) == 0 {
				return r.errorf(off, "simple packet block without an interface description")
			}
			ifc := &r.ifaces[0]
			wire := r.order.Uint32(body)
			caplen := len(body) - 4
			if uint64(wire) < uint64(caplen) {
				caplen = int(wire)
			}
			if ifc.snaplen > 0 && caplen > ifc.snaplen {
				caplen = ifc.snaplen
			}
			if caplen > r.limit {
				return r.errorf(off, "record length %d exceeds limit %d", caplen, r.limit)
			}
			// Simple packet blocks carry no timestamp: use the last one seen.
			rec.ts = r.lastTS
			rec.data = body[4 : 4+caplen]
			rec.origLen = int(wire)
			rec.linkType, rec.known = ifc.linkType, true
			rec.offset = off
			return nil
		}
	}
}

// addInterface parses an Interface Description Block body.
func (r *ngReader) addInterface(off int64, body []byte) error {
	if len(body) < 8 {
		return r.errorf(off, "interface description block too short")
	}
	if len(r.ifaces) >= ngMaxInterfaces {
		return r.errorf(off, "more than %d interfaces in a section", ngMaxInterfaces)
	}
	ifc := ngInterface{
		linkType: r.order.Uint16(body),
		snaplen:  int(r.order.Uint32(body[4:]) & 0x7fffffff),
		exp:      6,
	}
	opts := body[8:]
	for len(opts) >= 4 {
		code, l := r.order.Uint16(opts), int(r.order.Uint16(opts[2:]))
		opts = opts[4:]
		if code == ngOptEnd {
			break
		}
		if l > len(opts) {
			return r.errorf(off, "interface option %d overruns its block", code)
		}
		v := opts[:l]
		switch {
		case code == ngOptTSResol && l >= 1:
			ifc.pow2, ifc.exp = v[0]&0x80 != 0, v[0]&0x7f
			if (ifc.pow2 && ifc.exp > 63) || (!ifc.pow2 && ifc.exp > 19) {
				return r.errorf(off, "unsupported timestamp resolution %#x", v[0])
			}
		case code == ngOptTSOffset && l >= 8:
			ifc.offset = int64(r.order.Uint64(v))
		}
		pad := (l + 3) &^ 3
		if pad > len(opts) {
			pad = len(opts)
		}
		opts = opts[pad:]
	}
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

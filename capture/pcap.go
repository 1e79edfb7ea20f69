package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Classic pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html).
const (
	pcapMagicMicro     = 0xa1b2c3d4
	pcapMagicNano      = 0xa1b23c4d
	pcapMagicModified  = 0xa1b2cd34 // Alexey Kuznetzov's patched libpcap: 24-byte record headers
	pcapGlobalHdrLen   = 24
	pcapRecordHdrLen   = 16
	pcapLinkTypeMask   = 0x03ffffff // bits 26-31 carry FCS information
	pcapMaxMajorVerion = 2
)

// record is one packet record of a capture file. data points into the
// reader's buffer and is valid until the reader's next call.
type record struct {
	data     []byte
	origLen  int
	ts       time.Time
	linkType uint16
	known    bool // false: link type does not fit 16 bits (always unsupported)
	offset   int64
}

// recordReader reads packet records from a capture file format.
type recordReader interface {
	// next fills rec with the next packet record. It returns io.EOF at a clean
	// end of file, or an error (wrapped into *FormatError by the caller if it
	// is not one already).
	next(rec *record) error
	// snaplen is the snapshot length declared for linkType, 0 if unknown.
	snaplen(linkType uint16) int
}

type pcapReader struct {
	in       *input
	path     string
	order    binary.ByteOrder
	nano     bool
	hdrLen   int // record header length: 16, or 24 for the modified format
	linkType uint16
	known    bool
	fileSnap int
	limit    int // largest captured length accepted
	pending  int // bytes of the previous record still to skip
}

// newPcapReader parses the global header. in must be positioned at its start.
func newPcapReader(in *input, path string, limit int) (*pcapReader, error) {
	h, err := in.peek(pcapGlobalHdrLen)
	if len(h) < pcapGlobalHdrLen {
		if e := readFailure(err); e != nil {
			return nil, &FormatError{path, in.off, e}
		}
		return nil, &FormatError{path, in.off, truncatedError("pcap file header", len(h), pcapGlobalHdrLen)}
	}
	r := &pcapReader{in: in, path: path, limit: limit, hdrLen: pcapRecordHdrLen}
	switch {
	case binary.LittleEndian.Uint32(h) == pcapMagicMicro:
		r.order = binary.LittleEndian
	case binary.BigEndian.Uint32(h) == pcapMagicMicro:
		r.order = binary.BigEndian
	case binary.LittleEndian.Uint32(h) == pcapMagicNano:
		r.order, r.nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h) == pcapMagicNano:
		r.order, r.nano = binary.BigEndian, true
	case binary.LittleEndian.Uint32(h) == pcapMagicModified:
		r.order, r.hdrLen = binary.LittleEndian, 24
	case binary.BigEndian.Uint32(h) == pcapMagicModified:
		r.order, r.hdrLen = binary.BigEndian, 24
	default:
		return nil, &FormatError{path, in.off, fmt.Errorf("bad pcap magic %#08x", binary.BigEndian.Uint32(h))}
	}
	major := r.order.Uint16(h[4:])
	if major == 0 || major > pcapMaxMajorVerion {
		return nil, &FormatError{path, in.off, fmt.Errorf("unsupported pcap version %d.%d", major, r.order.Uint16(h[6:]))}
	}
	r.fileSnap = int(r.order.Uint32(h[16:]))
	lt := r.order.Uint32(h[20:]) & pcapLinkTypeMask
	r.linkType, r.known = uint16(lt), lt <= 0xffff
	if _, err := in.skip(pcapGlobalHdrLen); err != nil {
		return nil, &FormatError{path, in.off, err}
	}
	return r, nil
}

func (r *pcapReader) snaplen(uint16) int { return r.fileSnap }

func (r *pcapReader) next(rec *record) error {
	if r.pending > 0 {
		n, err := r.in.skip(r.pending)
		r.pending -= n
		if err != nil {
			return &FormatError{r.path, r.in.off, err}
		}
	}
	off := r.in.off
	h, err := r.in.peek(r.hdrLen)
	if len(h) < r.hdrLen {
		if len(h) == 0 && readFailure(err) == nil {
			return io.EOF
		}
		if e := readFailure(err); e != nil {
			return &FormatError{r.path, off, e}
		}
		return &FormatError{r.path, off, truncatedError("record header", len(h), r.hdrLen)}
	}
	o := r.order
	caplen := o.Uint32(h[8:])
	wire := o.Uint32(h[12:])
	if caplen == 0 {
		return &FormatError{r.path, off, fmt.Errorf("zero-length record (original length %d)", wire)}
	}
	if caplen > uint32(r.limit) {
		return &FormatError{r.path, off, fmt.Errorf("record length %d exceeds limit %d", caplen, r.limit)}
	}
	n := r.hdrLen + int(caplen)
	b, err := r.in.peek(n)
	if len(b) < n {
		if e := readFailure(err); e != nil {
			return &FormatError{r.path, off, e}
		}
		return &FormatError{r.path, off, truncatedError("record", len(b)-r.hdrLen, int(caplen))}
	}
	r.pending = n
	sec := int64(o.Uint32(b[0:]))
	frac := int64(o.Uint32(b[4:]))
	if !r.nano {
		frac *= 1000
	}
	rec.ts = time.Unix(sec, frac)
	rec.data = b[r.hdrLen:n]
	rec.origLen = int(wire)
	rec.linkType, rec.known = r.linkType, r.known
	rec.offset = off
	return nil
}

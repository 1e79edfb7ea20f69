package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Warner is implemented by Sources that have warnings to show the user once,
// such as packets skipped because their link type is not supported. File
// sources (OpenFile, OpenReader) implement it:
//
//	if w, ok := src.(capture.Warner); ok {
//		for _, msg := range w.Warnings() { fmt.Fprintln(os.Stderr, msg) }
//	}
//
// Call it after Next returned io.EOF (or any time: counts are as of the call).
type Warner interface {
	// Warnings returns one message per distinct problem, in order of first
	// occurrence, each with its count so far. The slice is newly allocated.
	Warnings() []string
}

// SkipCounter is implemented by file Sources (OpenFile, OpenReader): it
// breaks Stats.Skipped down by reason, e.g. for a verbose summary.
type SkipCounter interface {
	// SkipCounts returns the records skipped so far per reason ("not tcp",
	// "ip fragment", "headers truncated", "malformed headers", "not ip",
	// "unsupported link type", "filtered out"); only non-zero counts are
	// present. The map is newly allocated.
	SkipCounts() map[string]uint64
}

// minBufferSize is the smallest read buffer of a file source (a variable so
// that fuzz tests can use small buffers).
var minBufferSize = 1 << 20

// newFileFilter is set by vmfilter.go, which needs CompileFilter.
var newFileFilter func(expr string, snaplen int, rd recordReader) (*fileFilter, error)

// errClosed is returned by Next after Close.
var errClosed = errors.New("capture: source closed")

// OpenFile opens a pcap or pcapng capture file, optionally gzip-compressed
// (detected from its content, not its name). path "-" reads standard input.
// Damage in the file header is reported here as a *FormatError; damage
// further on is reported by Next after every packet before it.
//
// The returned Source also implements Warner and SkipCounter. Packets returned by its Next,
// and their Payload, point into buffers owned by the Source and are valid
// until the next call to Next: copy what must outlive it.
func OpenFile(path string, opts Options) (Source, error) {
	if path == "-" {
		return openReader(os.Stdin, path, opts, nil)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	s, err := openReader(f, path, opts, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// OpenReader is OpenFile for an already open stream; name is used in error
// messages. Closing the Source does not close r.
func OpenReader(r io.Reader, name string, opts Options) (Source, error) {
	return openReader(r, name, opts, nil)
}

// fileSource is the Source of OpenFile and OpenReader.
type fileSource struct {
	path   string
	in     input
	rd     recordReader
	file   io.Closer // closed by Close, may be nil
	gz     *gzip.Reader
	filter *fileFilter

	rec   record
	pkt   Packet
	stats Stats
	err   error // sticky: returned by every Next once set

	skips      [numSkipReasons]uint64
	cut        uint64            // TCP packets whose payload the snapshot length cut
	cutBytes   uint64            // payload bytes those lost
	unknownLT  map[uint32]uint64 // link type (uint32: may not fit 16 bits) -> packets skipped
	unknownOrd []uint32          // first-seen order of unknownLT keys
}

func openReader(r io.Reader, path string, opts Options, file io.Closer) (*fileSource, error) {
	snap := opts.snaplen()
	bufSize := max(minBufferSize, snap+64<<10)
	s := &fileSource{path: path, file: file}
	br := bufio.NewReaderSize(r, bufSize)
	magic, err := br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, gzErr := gzip.NewReader(br)
		if gzErr != nil {
			return nil, &FormatError{path, 0, fmt.Errorf("gzip: %w", gzErr)}
		}
		s.gz = gz
		br = bufio.NewReaderSize(gzipErrors{gz}, bufSize)
		magic, err = br.Peek(4)
	}
	s.in.br = br
	if len(magic) < 4 {
		if e := readFailure(err); e != nil {
			return nil, &FormatError{path, 0, e}
		}
		if len(magic) == 0 {
			return nil, &FormatError{path, 0, errors.New("empty file")}
		}
		return nil, &FormatError{path, 0, truncatedError("file header", len(magic), 4)}
	}
	if binary.BigEndian.Uint32(magic) == ngBlockSHB {
		s.rd = newNgReader(&s.in, path, snap, bufSize)
	} else {
		pr, err := newPcapReader(&s.in, path, snap)
		if err != nil {
			var fe *FormatError
			if errors.As(err, &fe) && !isPcapMagic(binary.BigEndian.Uint32(magic)) &&
				!isPcapMagic(binary.LittleEndian.Uint32(magic)) {
				fe.Err = fmt.Errorf("not a pcap or pcapng file (magic %#08x)", binary.BigEndian.Uint32(magic))
			}
			return nil, err
		}
		s.rd = pr
	}
	if opts.Filter != "" {
		if newFileFilter == nil {
			return nil, errors.New("capture: capture filters are not available in this build")
		}
		f, err := newFileFilter(opts.Filter, snap, s.rd)
		if err != nil {
			return nil, err
		}
		s.filter = f
		if pr, ok := s.rd.(*pcapReader); ok && pr.known {
			// One link type for the whole file: report a filter that cannot
			// be compiled for it now rather than at the first packet.
			if _, err := f.vm(pr.linkType); err != nil && SupportedLinkType(pr.linkType) {
				return nil, err
			}
		}
	}
	return s, nil
}

// Next returns the next TCP packet. Records that are not TCP over IPv4/IPv6
// (other protocols, IP fragments, headers cut by the snaplen, malformed
// headers, unsupported link types, packets rejected by Options.Filter) are
// counted in Stats.Skipped. At the end of the file it returns io.EOF; for a
// damaged file, a *FormatError after all packets before the damage; if
// Options.Filter cannot be compiled for a link type first met in the middle
// of a pcapng file, that error. Errors are sticky.
//
// The returned *Packet and its Payload are owned by the Source and valid
// until the next call to Next; it does not allocate.
func (s *fileSource) Next() (*Packet, error) {
	if s.err != nil {
		return nil, s.err
	}
	rec := &s.rec
	for {
		if err := s.rd.next(rec); err != nil {
			var fe *FormatError
			if err != io.EOF && !errors.As(err, &fe) {
				err = &FormatError{s.path, s.in.off, err}
			}
			s.err = err
			return nil, err
		}
		s.stats.Packets++
		s.stats.Bytes += uint64(len(rec.data))
		if !rec.known || !SupportedLinkType(rec.linkType) {
			s.skipLinkType(rec)
			continue
		}
		if s.filter != nil {
			ok, err := s.filter.match(rec)
			if err != nil {
				s.err = err
				return nil, err
			}
			if !ok {
				s.skip(skipFiltered)
				continue
			}
		}
		if r := decodePacket(&s.pkt, rec.linkType, rec.data, rec.origLen); r != decoded {
			s.skip(r)
			continue
		}
		if s.pkt.Missing > 0 {
			s.cut++
			s.cutBytes += uint64(s.pkt.Missing)
		}
		s.pkt.Num = s.stats.Packets
		s.pkt.Time = rec.ts
		s.stats.TCP++
		return &s.pkt, nil
	}
}

func (s *fileSource) skip(r skipReason) {
	s.skips[r]++
	s.stats.Skipped++
}

func (s *fileSource) skipLinkType(rec *record) {
	s.skip(skipLinkType)
	lt := uint32(rec.linkType)
	if !rec.known {
		lt = 1 << 31 // does not fit 16 bits: no valid link type
	}
	if s.unknownLT == nil {
		s.unknownLT = make(map[uint32]uint64)
	}
	if _, seen := s.unknownLT[lt]; !seen {
		s.unknownOrd = append(s.unknownOrd, lt)
	}
	s.unknownLT[lt]++
}

// Stats returns the counts so far. Skipped includes packets rejected by
// Options.Filter.
func (s *fileSource) Stats() Stats { return s.stats }

// Warnings implements Warner: one message per unsupported link type seen.
func (s *fileSource) Warnings() []string {
	var out []string
	for _, lt := range s.unknownOrd {
		n := s.unknownLT[lt]
		name := "invalid link type"
		if lt <= 0xffff {
			name = "unsupported link type " + linkTypeName(uint16(lt))
		}
		out = append(out, fmt.Sprintf("capture: %s: %s: %d packet%s skipped", s.path, name, n, plural(n)))
	}
	if s.cut > 0 {
		out = append(out, fmt.Sprintf("capture: %s: %d TCP packet%s cut by the snapshot length: %d payload bytes not captured (messages in them are incomplete or missing; capture with a larger snaplen, e.g. tcpdump -s 0)",
			s.path, s.cut, plural(s.cut), s.cutBytes))
	}
	if n := s.skips[skipTruncated]; n > 0 {
		out = append(out, fmt.Sprintf("capture: %s: %d packet%s skipped: headers cut by the snapshot length", s.path, n, plural(n)))
	}
	if n := s.skips[skipBadChecksum]; n > 0 {
		out = append(out, fmt.Sprintf("capture: %s: %d packet%s with a wrong TCP checksum skipped (damaged; a receiver drops them too): their bytes count as lost", s.path, n, plural(n)))
	}
	return out
}

// SkipCounts implements SkipCounter.
func (s *fileSource) SkipCounts() map[string]uint64 {
	m := make(map[string]uint64)
	for r, n := range s.skips {
		if n > 0 {
			m[skipReason(r).String()] = n
		}
	}
	return m
}

// Close releases the file. Next returns an error afterwards.
func (s *fileSource) Close() error {
	if s.err == errClosed {
		return nil
	}
	s.err = errClosed
	var err error
	if s.gz != nil {
		err = s.gz.Close()
	}
	if s.file != nil {
		if e := s.file.Close(); e != nil {
			err = e
		}
	}
	return err
}

func plural(n uint64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (r skipReason) String() string {
	switch r {
	case skipLinkType:
		return "unsupported link type"
	case skipNotIP:
		return "not ip"
	case skipNotTCP:
		return "not tcp"
	case skipFragment:
		return "ip fragment"
	case skipTruncated:
		return "headers truncated"
	case skipMalformed:
		return "malformed headers"
	case skipFiltered:
		return "filtered out"
	case skipBadChecksum:
		return "bad tcp checksum"
	}
	return "decoded"
}

var linkTypeNames = map[uint16]string{
	3: "AX25", 6: "IEEE802_5", 8: "SLIP", 9: "PPP", 10: "FDDI", 50: "PPP_HDLC", 51: "PPP_ETHER",
	104: "C_HDLC", 105: "IEEE802_11", 107: "FRELAY", 119: "PRISM_HEADER", 127: "IEEE802_11_RADIOTAP",
	138: "APPLE_IP_OVER_IEEE1394", 139: "MTP2_WITH_PHDR", 143: "DOCSIS", 163: "IEEE802_11_AVS",
	192: "PPI", 195: "IEEE802_15_4_WITHFCS", 197: "ERF", 201: "BLUETOOTH_HCI_H4_WITH_PHDR",
	220: "USB_LINUX_MMAPPED", 239: "NFLOG", 249: "NETANALYZER", 252: "WIRESHARK_UPPER_PDU",
	253: "NETLINK", 254: "BLUETOOTH_LINUX_MONITOR", 263: "IPOIB", 274: "EBHSCR",
}

func linkTypeName(lt uint16) string {
	if n, ok := linkTypeNames[lt]; ok {
		return fmt.Sprintf("%d (%s)", lt, n)
	}
	return fmt.Sprint(lt)
}

func isPcapMagic(m uint32) bool {
	return m == pcapMagicMicro || m == pcapMagicNano || m == pcapMagicModified
}

// gzipErrors labels the errors of a gzip stream, so that a cut or corrupt
// compressed file is not mistaken for a short capture file.
type gzipErrors struct{ r io.Reader }

func (g gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case err == io.ErrUnexpectedEOF:
		err = fmt.Errorf("%w gzip stream: %w", ErrTruncated, err)
	default:
		err = fmt.Errorf("gzip: %w", err)
	}
	return n, err
}

package capture

// DefaultSnaplen is the Snaplen used when Options.Snaplen is 0: the largest
// packet libpcap and Wireshark accept for common link types (256 KiB).
const DefaultSnaplen = 262144

// MaxSnaplen is the largest Snaplen accepted; larger values are clamped.
const MaxSnaplen = 16 << 20

// Options configures a Source. The zero value is valid: no filter, default limits.
type Options struct {
	// Filter is a tcpdump-syntax capture filter applied to every packet
	// ("" = all packets). For files it is compiled once per link type
	// encountered and run in userspace on each record's captured bytes.
	Filter string

	// Snaplen is the largest packet, in bytes, a Source handles.
	// Files: a record whose captured length exceeds it is a *FormatError
	// (it bounds the read buffer; nothing is allocated from a length read
	// off the file). Live: the capture length requested from the kernel.
	// 0 means DefaultSnaplen; values above MaxSnaplen are clamped.
	Snaplen int
}

// snaplen returns the effective Snaplen.
func (o Options) snaplen() int {
	switch {
	case o.Snaplen <= 0:
		return DefaultSnaplen
	case o.Snaplen > MaxSnaplen:
		return MaxSnaplen
	}
	return o.Snaplen
}

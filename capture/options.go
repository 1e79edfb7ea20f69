package capture

// DefaultSnaplen is the Snaplen used when Options.Snaplen is 0: the largest
// packet libpcap and Wireshark accept for common link types (256 KiB).
const DefaultSnaplen = 262144

// MaxSnaplen is the largest Snaplen accepted; larger values are clamped.
const MaxSnaplen = 16 << 20

// Options configures the file Sources of OpenFile and OpenReader (live
// capture has LiveOptions). The zero value is valid: no filter,
// DefaultSnaplen.
type Options struct {
	// Filter is a tcpdump-syntax capture filter applied to every packet
	// ("" = all packets). For files it is compiled once per link type
	// encountered (CompileFilter) and run in userspace on each record's
	// captured bytes (golang.org/x/net/bpf). Syntax errors are returned by
	// OpenFile/OpenReader; rejected packets count in Stats.Skipped.
	Filter string

	// Snaplen is the largest captured packet record, in bytes, a file may
	// hold: a longer record is a *FormatError. It sizes the read buffer
	// (Snaplen + 64 KiB, at least 1 MiB), so nothing is ever allocated from
	// a length read off the file. Raise it for captures of GRO/TSO
	// super-packets larger than 256 KiB. 0 means DefaultSnaplen; values
	// above MaxSnaplen are clamped.
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

package capture

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"
)

// DefaultLiveBufferSize is the kernel ring size used when
// LiveOptions.BufferSize is 0: 32 MiB, about 2 s of a 100,000 messages/s
// loopback load, so that a reader descheduled for a while on a busy machine
// loses nothing. The ring is memory-mapped: it counts in the resident size
// once used.
const DefaultLiveBufferSize = 32 << 20

// MaxLiveBufferSize bounds LiveOptions.BufferSize.
const MaxLiveBufferSize = 1 << 30

// LiveOptions configures OpenLive. The zero value is valid: no filter,
// DefaultSnaplen, not promiscuous, DefaultLiveBufferSize.
type LiveOptions struct {
	// Filter is a tcpdump-syntax capture filter (see CompileFilter). It runs
	// in the kernel, so rejected packets never reach wsscope.
	Filter string
	// Snaplen is the number of bytes kept of each packet (0 = DefaultSnaplen,
	// clamped to MaxSnaplen). The kernel truncates longer packets; the TCP
	// bytes cut off are reported in Packet.Missing.
	Snaplen int
	// Promisc puts the interface in promiscuous mode while capturing.
	Promisc bool
	// BufferSize is the size in bytes of the kernel ring buffer shared with
	// wsscope (0 = DefaultLiveBufferSize, clamped to MaxLiveBufferSize).
	// Packets arriving while it is full are dropped by the kernel and
	// counted in Stats().KernelDrops.
	BufferSize int
	// PollInterval is how often a blocked Next checks whether Close was
	// called (0 = 100ms). It is also the period of Tick.
	PollInterval time.Duration
	// Tick, if set, is called by Next on the goroutine calling Next, when
	// no packet arrived for PollInterval and, while packets flow, about
	// every PollInterval of packet time (before the packet is returned):
	// a chance to flush buffered output or expire idle state without a
	// goroutine of its own. now is the wall clock on a timeout, else the
	// timestamp of the packet about to be returned.
	Tick func(now time.Time)
	// RawPacket, if set, is called by Next with every packet read from the
	// ring (after the kernel filter, before decoding: TCP or not), e.g. to
	// save it to a file (wsscope -w). linkType is the link type data starts
	// with, origLen the packet's length on the wire; data is valid only
	// during the call. It runs on the goroutine calling Next.
	RawPacket func(linkType uint16, t time.Time, data []byte, origLen int)
}

func (o LiveOptions) snaplen() int {
	return Options{Snaplen: o.Snaplen}.snaplen()
}

func (o LiveOptions) bufferSize() int {
	switch {
	case o.BufferSize <= 0:
		return DefaultLiveBufferSize
	case o.BufferSize > MaxLiveBufferSize:
		return MaxLiveBufferSize
	}
	return o.BufferSize
}

func (o LiveOptions) pollInterval() time.Duration {
	if o.PollInterval <= 0 {
		return 100 * time.Millisecond
	}
	return o.PollInterval
}

// ErrLiveUnsupported is returned by OpenLive on systems other than Linux.
var ErrLiveUnsupported = errors.New("capture: live capture is only supported on Linux")

// ErrNoSuchInterface is wrapped by OpenLive errors for unknown interfaces.
var ErrNoSuchInterface = errors.New("no such network interface")

// permissionHint is appended to permission errors from OpenLive.
const permissionHint = "live capture needs root or CAP_NET_RAW (try: sudo setcap cap_net_raw,cap_net_admin=eip $(which wsscope))"

// LiveError is an error opening or reading a live capture on Iface.
type LiveError struct {
	Iface string
	Err   error // underlying error: a syscall.Errno, ErrNoSuchInterface, ...
}

func (e *LiveError) Error() string {
	var errno syscall.Errno
	if errors.As(e.Err, &errno) && (errno == syscall.EPERM || errno == syscall.EACCES) {
		return fmt.Sprintf("capture: %s: permission denied: %s", e.Iface, permissionHint)
	}
	return fmt.Sprintf("capture: %s: %v", e.Iface, e.Err)
}

// noSuchInterface returns the error for an unknown interface name, listing
// the available ones.
func noSuchInterface(name string) error {
	var names []string
	if ifs, err := Interfaces(); err == nil {
		for _, it := range ifs {
			names = append(names, it.Name)
		}
	}
	if len(names) == 0 {
		return &LiveError{Iface: name, Err: ErrNoSuchInterface}
	}
	return &LiveError{Iface: name, Err: fmt.Errorf("%w (available: %s)", ErrNoSuchInterface, strings.Join(names, ", "))}
}

func (e *LiveError) Unwrap() error { return e.Err }

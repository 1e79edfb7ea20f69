//go:build libpcap && cgo

package capture

// Live capture through libpcap (gopacket/pcap), for builds with
// `-tags libpcap` and cgo: libpcap compiles the filter itself (its full
// grammar, including vlan on Linux) and works on systems other than Linux.
// The default build uses the pure-Go AF_PACKET path in live_linux.go.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/pcap"
)

const (
	liveSupported = runtime.GOOS == "linux"
	liveBackend   = "libpcap"
)

type pcapSource struct {
	iface string
	lt    uint16
	h     *pcap.Handle

	mu     sync.Mutex
	hMu    sync.RWMutex
	closed atomic.Bool
	pkt    Packet
	tick   func(now time.Time) // LiveOptions.Tick
	every  time.Duration
	last   time.Time

	packets, bytes, tcp, skipped, drops atomic.Uint64
}

// OpenLive starts capturing on the named interface with libpcap ("any" or
// "" for all interfaces on Linux). See the AF_PACKET version for the
// behaviour of the returned Source, which this one shares.
func OpenLive(iface string, opts LiveOptions) (Source, error) {
	name := iface
	if name == "" {
		name = "any"
	}
	if name != "any" {
		if _, err := net.InterfaceByName(name); err != nil {
			return nil, noSuchInterface(name)
		}
	}
	ih, err := pcap.NewInactiveHandle(name)
	if err != nil {
		return nil, pcapError(name, err)
	}
	defer ih.CleanUp()
	for _, set := range []func() error{
		func() error { return ih.SetSnapLen(opts.snaplen()) },
		func() error { return ih.SetPromisc(opts.Promisc) },
		func() error { return ih.SetTimeout(opts.pollInterval()) },
		func() error { return ih.SetBufferSize(opts.bufferSize()) },
		func() error { return ih.SetImmediateMode(true) },
	} {
		if err := set(); err != nil {
			return nil, pcapError(name, err)
		}
	}
	h, err := ih.Activate()
	if err != nil {
		return nil, pcapError(name, err)
	}
	if opts.Filter != "" {
		if err := h.SetBPFFilter(opts.Filter); err != nil {
			h.Close()
			return nil, &FilterError{Expr: opts.Filter, Msg: "libpcap: " + err.Error()}
		}
	}
	lt := uint16(h.LinkType())
	if !SupportedLinkType(lt) {
		h.Close()
		return nil, &LiveError{Iface: name, Err: fmt.Errorf("link type %d is not supported", lt)}
	}
	return &pcapSource{iface: name, lt: lt, h: h, tick: opts.Tick, every: opts.pollInterval()}, nil
}

// pcapError turns libpcap's error text into a LiveError, recognising
// missing privileges.
func pcapError(iface string, err error) error {
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "permission") || strings.Contains(msg, "not permitted") {
		return &LiveError{Iface: iface, Err: fmt.Errorf("%w (%v)", syscall.EPERM, err)}
	}
	if strings.Contains(msg, "no such device") {
		return noSuchInterface(iface)
	}
	return &LiveError{Iface: iface, Err: err}
}

func (s *pcapSource) Next() (*Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.closed.Load() {
			return nil, io.EOF
		}
		data, ci, err := s.h.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, pcap.NextErrorTimeoutExpired) {
				if s.tick != nil && !s.closed.Load() {
					s.last = time.Now()
					s.tick(s.last)
				}
				continue
			}
			if s.closed.Load() {
				return nil, io.EOF
			}
			return nil, &LiveError{Iface: s.iface, Err: err}
		}
		n := s.packets.Add(1)
		s.bytes.Add(uint64(len(data)))
		if s.tick != nil {
			if d := ci.Timestamp.Sub(s.last); d >= s.every || d < -s.every {
				s.last = ci.Timestamp
				s.tick(ci.Timestamp)
			}
		}
		p := &s.pkt
		if r := decodePacket(p, s.lt, data, ci.Length); r != decoded {
			s.skipped.Add(1)
			continue
		}
		p.Num = n
		p.Time = ci.Timestamp
		s.tcp.Add(1)
		return p, nil
	}
}

func (s *pcapSource) Stats() Stats {
	s.hMu.RLock()
	if !s.closed.Load() {
		if st, err := s.h.Stats(); err == nil && st.PacketsDropped >= 0 {
			s.drops.Store(uint64(st.PacketsDropped))
		}
	}
	s.hMu.RUnlock()
	return Stats{
		Packets:     s.packets.Load(),
		Bytes:       s.bytes.Load(),
		TCP:         s.tcp.Load(),
		Skipped:     s.skipped.Load(),
		KernelDrops: s.drops.Load(),
	}
}

func (s *pcapSource) Close() error {
	s.Stats()
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	s.hMu.Lock()
	s.h.Close()
	s.hMu.Unlock()
	s.mu.Unlock()
	return nil
}

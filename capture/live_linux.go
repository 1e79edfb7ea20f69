//go:build linux && !(libpcap && cgo)

package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/net/bpf"
)

const (
	liveSupported = true
	liveBackend   = "afpacket"
)

// ARPHRD_* interface hardware types (from /sys/class/net/IFACE/type).
const (
	arphrdEther    = 1
	arphrdIEEE802  = 6
	arphrdRawIP    = 519
	arphrdLoopback = 772
	arphrdNone     = 65534
)

const (
	packetOutgoing = 4 // PACKET_OUTGOING, the sll_pkttype of packets sent by this host
	liveFrameSize  = 4096
	// The ring is made of blocks of at least liveMinBlockSize bytes that
	// each hold a whole packet of Snaplen (512 KiB for the default). The
	// kernel hands a block over when it is full or liveBlockTimeout after
	// its first packet, so a reader that stalls (a busy machine) survives
	// about min(blocks × timeout, ring size ÷ byte rate): many smaller
	// blocks and a timeout that is not too short keep sparse traffic from
	// wasting the ring. 50 ms bounds the latency added to live output.
	liveMinBlockSize = 256 << 10
	liveBlockTimeout = 50 * time.Millisecond
	liveDrainLimit   = 2 * time.Second
)

// liveSource reads packets from an AF_PACKET TPACKET_V3 ring.
type liveSource struct {
	iface string
	lt    uint16
	tp    *afpacket.TPacket
	raw   func(linkType uint16, t time.Time, data []byte, origLen int) // LiveOptions.RawPacket
	tick  func(now time.Time)                                          // LiveOptions.Tick
	every time.Duration                                                // Tick period
	last  time.Time                                                    // time of the last Tick

	mu     sync.Mutex   // held by Next while reading the ring
	tpMu   sync.RWMutex // guards tp against Close while Stats reads socket counters
	closed atomic.Bool
	pkt    Packet

	packets, bytes, tcp, skipped atomic.Uint64
	dropBase, drops              atomic.Uint64
}

// OpenLive starts capturing on the named interface ("any" or "" for all
// interfaces) through an AF_PACKET memory-mapped ring, with no cgo and no
// libpcap. The capture filter is compiled with CompileFilter for the
// interface's link type and attached to the socket, so it runs in the kernel;
// on loopback interfaces a prologue drops the outgoing copy of each packet,
// which AF_PACKET otherwise delivers twice. It needs root or CAP_NET_RAW.
//
// The returned Source numbers packets from 1 in arrival order, takes their
// timestamps from the ring, and fills Stats().KernelDrops with the total
// number of packets the kernel dropped because the ring was full. Close may
// be called from another goroutine to stop a blocked Next, which then
// returns io.EOF within LiveOptions.PollInterval.
func OpenLive(iface string, opts LiveOptions) (Source, error) {
	anyIface := iface == "" || iface == "any"
	name := iface
	if anyIface {
		name = "any"
	}
	var loopbacks []uint32
	isLoop := false
	if anyIface {
		ifs, err := net.Interfaces()
		if err != nil {
			return nil, &LiveError{Iface: name, Err: err}
		}
		for _, ifc := range ifs {
			if ifc.Flags&net.FlagLoopback != 0 {
				loopbacks = append(loopbacks, uint32(ifc.Index))
			}
		}
	} else {
		ifc, err := net.InterfaceByName(iface)
		if err != nil {
			return nil, noSuchInterface(name)
		}
		isLoop = ifc.Flags&net.FlagLoopback != 0
	}
	if usesVLAN(opts.Filter) {
		// The kernel strips 802.1Q tags before socket filters run, so
		// offline-compiled vlan tests would silently match nothing.
		return nil, &FilterError{Expr: opts.Filter, Msg: "\"vlan\" is not supported in live capture filters on Linux (the kernel strips VLAN tags before filtering)", Unsupported: true}
	}
	lt, sockType := liveLinkType(iface, anyIface)
	snap := opts.snaplen()
	prog, err := CompileFilter(opts.Filter, lt, snap)
	if err != nil {
		return nil, err
	}
	switch {
	case isLoop:
		prog = append(loopbackPrologue(), prog...)
	case len(loopbacks) > 0:
		prog = append(anyLoopbackPrologue(loopbacks), prog...)
	}
	if len(prog) > maxBPFInsns {
		return nil, &FilterError{Expr: opts.Filter, Msg: "program too long for the kernel"}
	}

	block := liveMinBlockSize
	for block < snap+liveFrameSize {
		block *= 2
	}
	nblocks := opts.bufferSize() / block
	if nblocks < 2 {
		nblocks = 2
	}
	tpOpts := []interface{}{
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptSocketType(sockType),
		afpacket.OptFrameSize(liveFrameSize),
		afpacket.OptBlockSize(block),
		afpacket.OptNumBlocks(nblocks),
		afpacket.OptBlockTimeout(liveBlockTimeout),
		afpacket.OptPollTimeout(opts.pollInterval()),
	}
	if !anyIface {
		tpOpts = append(tpOpts, afpacket.OptInterface(iface))
	}
	tp, err := afpacket.NewTPacket(tpOpts...)
	if err != nil {
		return nil, &LiveError{Iface: name, Err: err}
	}
	s := &liveSource{iface: name, lt: lt, tp: tp, raw: opts.RawPacket, tick: opts.Tick, every: opts.pollInterval()}
	// The socket was bound before any filter was attached: drop what the
	// ring caught meanwhile, with a reject-all filter in place (as libpcap).
	if err := tp.SetBPF([]bpf.RawInstruction{{Op: bpfRET, K: 0}}); err != nil {
		tp.Close()
		return nil, &LiveError{Iface: name, Err: fmt.Errorf("attaching filter: %w", err)}
	}
	deadline := time.Now().Add(liveDrainLimit)
	for time.Now().Before(deadline) {
		if _, _, err := tp.ZeroCopyReadPacketData(); err != nil {
			break // afpacket.ErrTimeout: the ring is empty
		}
	}
	if err := tp.SetBPF(prog); err != nil {
		tp.Close()
		return nil, &LiveError{Iface: name, Err: fmt.Errorf("attaching filter: %w", err)}
	}
	if _, v3, err := tp.SocketStats(); err == nil {
		s.dropBase.Store(uint64(v3.Drops()))
	}
	if opts.Promisc && !anyIface {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, &LiveError{Iface: name, Err: fmt.Errorf("promiscuous mode: %w", err)}
		}
	}
	return s, nil
}

// usesVLAN reports whether the filter expression uses the vlan keyword.
func usesVLAN(expr string) bool {
	toks, err := lex(expr)
	if err != nil {
		return false // CompileFilter reports it
	}
	for _, t := range toks {
		if isWord(t, "vlan") {
			return true
		}
	}
	return false
}

// loopbackPrologue drops packets whose sll_pkttype is PACKET_OUTGOING:
// AF_PACKET on lo delivers each packet once outgoing and once incoming.
func loopbackPrologue() []bpf.RawInstruction {
	return mustAssemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: packetOutgoing, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
	})
}

// anyLoopbackPrologue drops outgoing packets on the given loopback
// interfaces, for captures on all interfaces.
func anyLoopbackPrologue(idx []uint32) []bpf.RawInstruction {
	ins := []bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: packetOutgoing, SkipTrue: uint8(len(idx) + 3)},
		bpf.LoadExtension{Num: bpf.ExtInterfaceIndex},
	}
	for i, x := range idx {
		ins = append(ins, bpf.JumpIf{Cond: bpf.JumpEqual, Val: x, SkipTrue: uint8(len(idx) - i)})
	}
	ins = append(ins, bpf.Jump{Skip: 1}, bpf.RetConstant{Val: 0})
	return mustAssemble(ins)
}

func mustAssemble(ins []bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(ins)
	if err != nil {
		panic("capture: " + err.Error())
	}
	return raw
}

// liveLinkType returns the link type packets of iface are read with and the
// socket type: Ethernet-like interfaces with their link header, raw-IP
// interfaces as they are, anything else (and "any") at the network layer.
func liveLinkType(iface string, anyIface bool) (uint16, afpacket.OptSocketType) {
	if anyIface {
		return LinkTypeRaw, afpacket.SocketDgram
	}
	b, err := os.ReadFile("/sys/class/net/" + iface + "/type")
	if err != nil {
		return LinkTypeRaw, afpacket.SocketDgram
	}
	t, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return LinkTypeRaw, afpacket.SocketDgram
	}
	switch t {
	case arphrdEther, arphrdIEEE802, arphrdLoopback:
		return LinkTypeEthernet, afpacket.SocketRaw
	case arphrdNone, arphrdRawIP:
		return LinkTypeRaw, afpacket.SocketRaw
	}
	return LinkTypeRaw, afpacket.SocketDgram
}

// Next returns the next TCP packet. Packet.Payload points into the kernel
// ring and is valid only until the next call to Next.
func (s *liveSource) Next() (*Packet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.closed.Load() {
			return nil, io.EOF
		}
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, afpacket.ErrTimeout) {
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
		if s.raw != nil {
			s.raw(s.lt, ci.Timestamp, data, ci.Length)
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

// Stats returns the counters so far; KernelDrops is the total since
// OpenLive. It is safe to call from another goroutine than Next.
func (s *liveSource) Stats() Stats {
	s.tpMu.RLock()
	if !s.closed.Load() {
		if _, v3, err := s.tp.SocketStats(); err == nil {
			if d, base := uint64(v3.Drops()), s.dropBase.Load(); d >= base {
				s.drops.Store(d - base)
			}
		}
	}
	s.tpMu.RUnlock()
	return Stats{
		Packets:     s.packets.Load(),
		Bytes:       s.bytes.Load(),
		TCP:         s.tcp.Load(),
		Skipped:     s.skipped.Load(),
		KernelDrops: s.drops.Load(),
	}
}

// Close stops the capture and releases the ring. It may be called while
// another goroutine is blocked in Next.
func (s *liveSource) Close() error {
	s.Stats() // keep the final drop count
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	s.tpMu.Lock()
	s.tp.Close()
	s.tpMu.Unlock()
	s.mu.Unlock()
	return nil
}

//go:build linux

package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

type seenPkt struct {
	Packet
	payload []byte
}

// captureExchange opens lo with filter (a format string taking the port),
// runs a small TCP exchange on 127.0.0.1 and returns the captured packets.
func captureExchange(t *testing.T, iface, filter string) (got []seenPkt, port int, st Stats, start, end time.Time) {
	t.Helper()
	if testing.Short() {
		t.Skip("live capture test skipped in -short mode")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port = ln.Addr().(*net.TCPAddr).Port
	src, err := OpenLive(iface, LiveOptions{Filter: fmt.Sprintf(filter, port)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		for {
			p, err := src.Next()
			if err != nil {
				done <- err
				return
			}
			mu.Lock()
			got = append(got, seenPkt{Packet: *p, payload: bytes.Clone(p.Payload)})
			mu.Unlock()
		}
	}()
	start = time.Now()
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		n, err := io.ReadFull(c, buf[:len("hello from client")])
		if err != nil {
			srvErr <- err
			return
		}
		if string(buf[:n]) != "hello from client" {
			srvErr <- fmt.Errorf("server read %q", buf[:n])
			return
		}
		_, err = c.Write([]byte("hello from server"))
		srvErr <- err
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("hello from client")); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, len("hello from server"))
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatal(err)
	}
	if err := <-srvErr; err != nil {
		t.Fatal(err)
	}
	c.Close()
	end = time.Now()
	// Let the ring deliver the last segments (block retire timeout 20ms).
	time.Sleep(300 * time.Millisecond)
	st = src.Stats()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("Next after Close: %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after Close")
	}
	mu.Lock()
	defer mu.Unlock()
	return got, port, st, start, end
}

func TestLiveLoopbackExchange(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
	for _, iface := range []string{"lo", "any"} {
		t.Run(iface, func(t *testing.T) { testLiveExchange(t, iface) })
	}
}

func testLiveExchange(t *testing.T, iface string) {
	got, port, st, start, end := captureExchange(t, iface, "tcp port %d")
	if len(got) < 6 {
		t.Fatalf("captured %d packets, want at least 6 (handshake, 2 data, FINs)", len(got))
	}
	type key struct {
		src, dst string
		seq, ack uint32
		flags    TCPFlags
		payload  string
	}
	seen := map[key]int{}
	var c2s, s2c []byte
	syn, synack, fin := 0, 0, 0
	for i, p := range got {
		if p.Num != uint64(i+1) {
			t.Errorf("packet %d: Num = %d, want %d", i, p.Num, i+1)
		}
		if i > 0 && p.Time.Before(got[i-1].Time) {
			t.Errorf("packet %d: time %v before previous %v", i, p.Time, got[i-1].Time)
		}
		if p.Time.Before(start.Add(-time.Second)) || p.Time.After(end.Add(time.Second)) {
			t.Errorf("packet %d: time %v outside the exchange [%v, %v]", i, p.Time, start, end)
		}
		if p.Src.Port() != uint16(port) && p.Dst.Port() != uint16(port) {
			t.Errorf("packet %d: %v > %v does not match the filter", i, p.Src, p.Dst)
		}
		k := key{p.Src.String(), p.Dst.String(), p.Seq, p.Ack, p.Flags, string(p.payload)}
		seen[k]++
		if seen[k] == 2 {
			t.Errorf("packet %d delivered twice: %+v", i, k)
		}
		if p.Dst.Port() == uint16(port) {
			c2s = append(c2s, p.payload...)
		} else {
			s2c = append(s2c, p.payload...)
		}
		switch {
		case p.Flags&FlagSYN != 0 && p.Flags&FlagACK == 0:
			syn++
		case p.Flags&FlagSYN != 0:
			synack++
		}
		if p.Flags&FlagFIN != 0 {
			fin++
		}
	}
	if string(c2s) != "hello from client" || string(s2c) != "hello from server" {
		t.Errorf("payloads: client->server %q, server->client %q", c2s, s2c)
	}
	if syn != 1 || synack != 1 || fin != 2 {
		t.Errorf("SYN %d, SYN-ACK %d, FIN %d; want 1, 1, 2", syn, synack, fin)
	}
	if st.TCP < 6 || st.Packets < st.TCP || st.Bytes == 0 {
		t.Errorf("stats %+v inconsistent with %d packets", st, len(got))
	}
	if st.KernelDrops != 0 {
		t.Errorf("KernelDrops = %d for a tiny exchange", st.KernelDrops)
	}
}

// TestLiveKernelByteFilter checks a tcp[13] byte test runs in the kernel:
// only the SYN and SYN-ACK of the exchange may arrive.
func TestLiveKernelByteFilter(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
	got, _, st, _, _ := captureExchange(t, "lo", "tcp port %d and tcp[tcpflags] & tcp-syn != 0")
	if len(got) != 2 {
		t.Fatalf("captured %d packets, want SYN and SYN-ACK only: %+v", len(got), got)
	}
	for _, p := range got {
		if p.Flags&FlagSYN == 0 {
			t.Errorf("non-SYN packet passed the kernel filter: %+v", p.Packet)
		}
	}
	if st.Packets != 2 {
		t.Errorf("Stats().Packets = %d, want 2 (the kernel filter drops the rest)", st.Packets)
	}
}

func TestLiveCloseUnblocksNext(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
	src, err := OpenLive("lo", LiveOptions{Filter: "tcp port 1 and tcp port 2", PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := src.Next()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("Next = %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked after Close")
	}
	if err := src.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_ = src.Stats()
}

func TestOpenLiveErrors(t *testing.T) {
	_, err := OpenLive("nosuchif0", LiveOptions{})
	if !errors.Is(err, ErrNoSuchInterface) || !strings.HasPrefix(err.Error(), "capture: nosuchif0: no such network interface (available: ") || !strings.Contains(err.Error(), "lo") {
		t.Errorf("unknown interface: %v", err)
	}
	if liveBackend == "afpacket" {
		_, err = OpenLive("lo", LiveOptions{Filter: "tcp prot 80"})
		var fe *FilterError
		if !errors.As(err, &fe) || err.Error() != `capture: filter "tcp prot 80": position 5: unknown keyword "prot"` {
			t.Errorf("bad filter: %v", err)
		}
		_, err = OpenLive("lo", LiveOptions{Filter: "vlan and tcp"})
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "kernel strips VLAN tags") {
			t.Errorf("vlan filter: %v", err)
		}
	} else if unix.Geteuid() == 0 {
		_, err = OpenLive("lo", LiveOptions{Filter: "tcp prot 80"})
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("bad filter with libpcap: %v", err)
		}
	}
	want := "capture: eth0: permission denied: live capture needs root or CAP_NET_RAW (try: sudo setcap cap_net_raw,cap_net_admin=eip $(which wsscope))"
	for _, errno := range []unix.Errno{unix.EPERM, unix.EACCES} {
		e := &LiveError{Iface: "eth0", Err: errno}
		if e.Error() != want {
			t.Errorf("%v: %q, want %q", errno, e.Error(), want)
		}
		if !errors.Is(e, errno) {
			t.Errorf("%v: errors.Is fails", errno)
		}
	}
}

// TestOpenLiveWithoutCapNetRaw drops CAP_NET_RAW from one locked OS thread
// and checks that OpenLive reports the permission problem clearly.
func TestOpenLiveWithoutCapNetRaw(t *testing.T) {
	if unix.Geteuid() != 0 {
		// Unprivileged: the real thing.
		_, err := OpenLive("lo", LiveOptions{})
		if err == nil || !strings.Contains(err.Error(), "permission denied: live capture needs root or CAP_NET_RAW") {
			t.Fatalf("OpenLive without privileges: %v", err)
		}
		return
	}
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread, with its reduced capabilities, exits
		// with the goroutine.
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			errc <- fmt.Errorf("capget: %v", err)
			return
		}
		data[0].Effective &^= 1 << unix.CAP_NET_RAW
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			errc <- fmt.Errorf("capset: %v", err)
			return
		}
		src, err := OpenLive("lo", LiveOptions{})
		if err == nil {
			src.Close()
			errc <- errors.New("OpenLive succeeded without CAP_NET_RAW")
			return
		}
		errc <- err
	}()
	err := <-errc
	want := "capture: lo: permission denied: live capture needs root or CAP_NET_RAW (try: sudo setcap cap_net_raw,cap_net_admin=eip $(which wsscope))"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestInterfacesListsLoopback(t *testing.T) {
	ifs, err := Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var lo *Interface
	for i := range ifs {
		if ifs[i].Name == "lo" {
			lo = &ifs[i]
		}
	}
	if lo == nil {
		t.Fatalf("lo not listed: %+v", ifs)
	}
	if !lo.Loopback || !lo.Up || lo.Index <= 0 || !strings.Contains(lo.Flags, "loopback") {
		t.Errorf("lo: %+v", *lo)
	}
	found := false
	for _, a := range lo.Addrs {
		found = found || a == "127.0.0.1/8"
	}
	if !found {
		t.Errorf("lo addresses %v lack 127.0.0.1/8", lo.Addrs)
	}
	if last := ifs[len(ifs)-1]; last.Name != "any" {
		t.Errorf("last interface %q, want the any pseudo-interface", last.Name)
	}
}

// TestLiveSnaplen: the kernel truncates packets to Snaplen and the cut TCP
// bytes are reported in Missing.
func TestLiveSnaplen(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	src, err := OpenLive("lo", LiveOptions{Filter: fmt.Sprintf("tcp dst port %d", port), Snaplen: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("0123456789"), 50)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		p, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Payload) == 0 && p.Missing == 0 {
			continue
		}
		if len(p.Payload)+p.Missing != len(msg) || p.Missing == 0 {
			t.Fatalf("payload %d bytes + missing %d, want %d with some missing", len(p.Payload), p.Missing, len(msg))
		}
		if !bytes.Equal(p.Payload, msg[:len(p.Payload)]) {
			t.Fatalf("payload %q is not a prefix of the message", p.Payload)
		}
		// 14 Ethernet + 20 IPv4 + TCP header (with options) + payload = 100
		if len(p.Payload) >= 100-14-20-20 {
			t.Fatalf("captured %d payload bytes with snaplen 100", len(p.Payload))
		}
		return
	}
	t.Fatal("data segment not captured")
}

// TestLiveKernelDrops fills a small ring without reading it and checks the
// kernel's drop count is reported, as a running total.
func TestLiveKernelDrops(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
	if testing.Short() {
		t.Skip("floods loopback; skipped in -short mode")
	}
	rx, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	port := rx.LocalAddr().(*net.UDPAddr).Port
	src, err := OpenLive("lo", LiveOptions{Filter: fmt.Sprintf("udp dst port %d", port), BufferSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tx, err := net.Dial("udp4", rx.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	go io.Copy(io.Discard, readerOf(rx))
	buf := make([]byte, 8000)
	var first uint64
	for i := 0; i < 4000; i++ { // ~32 MB into a 1 MiB ring nobody reads
		tx.Write(buf)
		if i == 2000 {
			first = src.Stats().KernelDrops
		}
	}
	time.Sleep(100 * time.Millisecond)
	st := src.Stats()
	if st.KernelDrops == 0 {
		t.Fatalf("no kernel drops after overfilling the ring: %+v", st)
	}
	if st.KernelDrops < first {
		t.Fatalf("KernelDrops went from %d to %d: not a running total", first, st.KernelDrops)
	}
	if again := src.Stats().KernelDrops; again < st.KernelDrops {
		t.Fatalf("KernelDrops went from %d to %d on a second call", st.KernelDrops, again)
	}
	t.Logf("kernel drops: %d after 2000 datagrams, %d after 4000", first, st.KernelDrops)
}

type packetReader struct{ c net.PacketConn }

func (r packetReader) Read(b []byte) (int, error) {
	n, _, err := r.c.ReadFrom(b)
	return n, err
}

func readerOf(c net.PacketConn) io.Reader { return packetReader{c} }

// TestLiveTick: LiveOptions.Tick runs on the goroutine calling Next, every
// PollInterval while nothing arrives, and while packets flow about every
// PollInterval of packet time, with the timestamp of the packet Next then
// returns.
func TestLiveTick(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(io.Discard, c)
	}()
	// Longer than the ring's block timeout, so that while packets flow
	// every tick comes from a packet, not from a poll timeout.
	const every = 100 * time.Millisecond
	var (
		ticks   []time.Time
		inNext  bool // set around Next by the reading goroutine
		outside int  // ticks while that goroutine was not in Next
	)
	src, err := OpenLive("lo", LiveOptions{
		Filter:       fmt.Sprintf("tcp port %d", ln.Addr().(*net.TCPAddr).Port),
		PollInterval: every,
		Tick: func(now time.Time) {
			// Unsynchronised on purpose: with -race, a Tick from
			// another goroutine than Next's is reported.
			if !inNext {
				outside++
			}
			ticks = append(ticks, now)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	type result struct {
		ticks   int       // ticks so far, after Next returned
		tickAt  time.Time // the tick made during this Next, if any
		pktTime time.Time
		err     error
	}
	results := make(chan result, 10000)
	go func() {
		for {
			before := len(ticks)
			inNext = true
			p, err := src.Next()
			inNext = false
			r := result{ticks: len(ticks), err: err}
			if err == nil {
				r.pktTime = p.Time
				if len(ticks) > before {
					r.tickAt = ticks[len(ticks)-1]
				}
			}
			results <- r
			if err != nil {
				return
			}
		}
	}()

	// Nothing arrives for 10 intervals: ticks on poll timeouts.
	time.Sleep(10 * every)
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	first := <-results
	if first.err != nil {
		t.Fatal(first.err)
	}
	// Counts, not rates: a loaded machine may run the reader late, but
	// ten idle intervals must give more than one tick.
	if first.ticks < 2 {
		t.Errorf("%d ticks in %v without packets, want about 10 (at least 2)", first.ticks, 10*every)
	}
	// Then a packet every 2 ms for 10 intervals.
	flowStart := time.Now()
	for time.Since(flowStart) < 10*every {
		conn.Write([]byte("tick"))
		time.Sleep(2 * time.Millisecond)
	}
	conn.Close()
	flowTicks := 0
	deadline := time.After(10 * time.Second)
	for done := false; !done; {
		select {
		case r := <-results:
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !r.tickAt.IsZero() && r.tickAt.After(flowStart) {
				flowTicks++
				if !r.tickAt.Equal(r.pktTime) {
					t.Errorf("tick at %v, then Next returned a packet of %v: want the packet's time", r.tickAt, r.pktTime)
				}
			}
			done = r.pktTime.After(flowStart.Add(10 * every))
		case <-deadline:
			done = true
		}
	}
	if flowTicks < 2 {
		t.Errorf("%d ticks while packets flowed for %v, want about 10 (at least 2)", flowTicks, 10*every)
	}
	src.Close()
	for r := range results {
		if r.err != nil {
			break
		}
	}
	if outside != 0 {
		t.Errorf("%d ticks outside Next", outside)
	}
}

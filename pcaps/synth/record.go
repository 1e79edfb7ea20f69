package synth

import (
	"context"
	"net"
	"net/netip"
	"sync"
)

// Recorder records the bytes written on one TCP connection, in order, as
// the Chunks of a [Conn]. It is safe for concurrent use.
//
// Two ways to record:
//   - Wrap each endpoint's net.Conn with [Recorder.Wrap], giving the side
//     it belongs to. Only writes are recorded, so chunk boundaries are the
//     exact Write calls of each library. A write is recorded before it is
//     passed to the network, so the order of chunks respects causality (a
//     reply is never recorded before the bytes it answers).
//   - Wrap only the client's net.Conn with [Recorder.WrapClient]: writes are
//     client→server, reads are server→client. Reads may merge or split the
//     server's writes.
//
// The recorded data is a copy; callers may reuse their buffers.
type Recorder struct {
	mu   sync.Mutex
	conn Conn
	n    [2]int64
}

// NewRecorder returns a Recorder for a connection between client and server.
// The addresses only label the result; they may be changed later on the
// returned Conn.
func NewRecorder(client, server netip.AddrPort) *Recorder {
	return &Recorder{conn: Conn{Client: client, Server: server}}
}

func (r *Recorder) record(d Dir, p []byte) {
	if len(p) == 0 {
		return
	}
	r.mu.Lock()
	r.conn.Chunks = append(r.conn.Chunks, Chunk{Dir: d, Data: append([]byte(nil), p...)})
	r.n[d] += int64(len(p))
	r.mu.Unlock()
}

// Offset returns how many bytes have been recorded in direction d so far.
// Calling it before and after a library's send gives the range of that
// message's bytes (see [Sent]).
func (r *Recorder) Offset(d Dir) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[d]
}

// Conn returns a copy of what has been recorded so far. The chunk data is
// shared with the Recorder and must not be modified.
func (r *Recorder) Conn() *Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.conn
	c.Chunks = append([]Chunk(nil), r.conn.Chunks...)
	return &c
}

// Wrap returns c with every Write recorded as sent in direction side.
func (r *Recorder) Wrap(c net.Conn, side Dir) net.Conn {
	return &recConn{Conn: c, r: r, wdir: side, recRead: false}
}

// WrapClient returns the client's c with writes recorded as client→server
// and reads as server→client.
func (r *Recorder) WrapClient(c net.Conn) net.Conn {
	return &recConn{Conn: c, r: r, wdir: ClientToServer, recRead: true}
}

type recConn struct {
	net.Conn
	r       *Recorder
	wdir    Dir
	recRead bool
}

func (c *recConn) Write(p []byte) (int, error) {
	// Record first: once the bytes are on the wire the peer may answer, and
	// its answer must be recorded after them.
	c.r.record(c.wdir, p)
	n, err := c.Conn.Write(p)
	if n < len(p) {
		c.r.unrecord(c.wdir, p[n:])
	}
	return n, err
}

// unrecord removes the unwritten tail of the last chunk sent in direction d.
func (r *Recorder) unrecord(d Dir, tail []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.conn.Chunks) - 1; i >= 0; i-- {
		ch := &r.conn.Chunks[i]
		if ch.Dir != d {
			continue
		}
		ch.Data = ch.Data[:len(ch.Data)-len(tail)]
		r.n[d] -= int64(len(tail))
		if len(ch.Data) == 0 {
			r.conn.Chunks = append(r.conn.Chunks[:i], r.conn.Chunks[i+1:]...)
		}
		return
	}
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.recRead && n > 0 {
		c.r.record(ServerToClient, p[:n])
	}
	return n, err
}

// Session records every connection between clients it dials and a server
// listening on a wrapped listener, matching the two ends of a connection by
// the client's address. Use [Session.Listener] for the server and
// [Session.DialContext] as the client's dial function.
type Session struct {
	mu    sync.Mutex
	recs  map[string]*Recorder
	order []*Recorder
}

// NewSession returns an empty Session.
func NewSession() *Session { return &Session{recs: make(map[string]*Recorder)} }

// recorder returns the Recorder for the connection whose client end is
// clientAddr, creating it on first use.
func (s *Session) recorder(clientAddr, serverAddr net.Addr) *Recorder {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := clientAddr.String()
	if r, ok := s.recs[key]; ok {
		return r
	}
	r := NewRecorder(addrPort(clientAddr), addrPort(serverAddr))
	s.recs[key] = r
	s.order = append(s.order, r)
	return r
}

func addrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// RecorderFor returns the Recorder of the connection c (either end of a
// connection made through this Session), or nil if unknown.
func (s *Session) RecorderFor(c net.Conn) *Recorder {
	if rc, ok := c.(*recConn); ok {
		return rc.r
	}
	return nil
}

// Listener wraps l so that accepted connections record their writes as
// server→client.
func (s *Session) Listener(l net.Listener) net.Listener { return &recListener{Listener: l, s: s} }

type recListener struct {
	net.Listener
	s *Session
}

func (l *recListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	r := l.s.recorder(c.RemoteAddr(), c.LocalAddr())
	return r.Wrap(c, ServerToClient), nil
}

// DialContext dials addr over TCP and records the connection's writes as
// client→server. It has the signature of net.Dialer.DialContext.
func (s *Session) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	r := s.recorder(c.LocalAddr(), c.RemoteAddr())
	return r.Wrap(c, ClientToServer), nil
}

// Conns returns a snapshot of every recorded connection, in the order the
// connections were first seen.
func (s *Session) Conns() []*Conn {
	s.mu.Lock()
	recs := append([]*Recorder(nil), s.order...)
	s.mu.Unlock()
	out := make([]*Conn, len(recs))
	for i, r := range recs {
		out[i] = r.Conn()
	}
	return out
}

// Recorders returns the Recorders in the order the connections were first
// seen.
func (s *Session) Recorders() []*Recorder {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Recorder(nil), s.order...)
}

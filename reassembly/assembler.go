package reassembly

import (
	"net/netip"
	"slices"
	"time"

	"github.com/wsscope/wsscope/capture"
)

// EndReuse ends a connection whose 4-tuple was taken over by a new
// connection (a SYN with a different initial sequence number) before it
// closed.
const EndReuse EndReason = "reuse"

// Assembler reassembles TCP connections and detects WebSocket handshakes. It
// is not safe for concurrent use; all Handler calls are made from the
// goroutine calling Add, Flush and Close, in an order that depends only on
// the packets given.
type Assembler struct {
	cfg   Config
	h     Handler
	conns map[flowKey]*conn

	// LRU list of live (not closed) connections, least recently active
	// first.
	lru connList
	// Closed connections kept for ClosedTimeout to absorb late packets,
	// oldest first (their lastSeen is the time they closed).
	closed connList

	last    *conn
	lastKey flowKey

	nextID    uint64
	nextSeq   uint64
	lastFlush time.Time
	stats     Stats
	hdrs      []rawHeader // scratch for header parsing
	freeRings [][]byte    // released conflict rings for reuse (at most maxFreeRings)
	cut       bool        // the header block being parsed lost its end
}

type flowKey struct{ a, b netip.AddrPort }

// connList is a doubly linked list of connections through conn.prev/next.
// A connection is in exactly one list: Assembler.lru while live,
// Assembler.closed once closed.
type connList struct{ head, tail *conn }

func (l *connList) pushBack(c *conn) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *connList) unlink(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

// New returns an Assembler delivering to h.
func New(cfg Config, h Handler) *Assembler {
	return &Assembler{
		cfg:   cfg.withDefaults(),
		h:     h,
		conns: make(map[flowKey]*conn),
	}
}

// Config returns the configuration in effect (defaults filled in).
func (a *Assembler) Config() Config { return a.cfg }

// Stats returns counters of what the Assembler has seen so far.
func (a *Assembler) Stats() Stats { return a.stats }

// connection states
const (
	csActive  uint8 = iota // handshake detection or WebSocket
	csIgnored              // not HTTP/WebSocket: only lifecycle is tracked
	csClosed               // over; a small tombstone kept ClosedTimeout to absorb late packets
)

type conn struct {
	key        flowKey
	seq        uint64 // creation order
	prev, next *conn
	lastSeen   time.Time
	born       uint64 // number of the packet that created it
	lastPkt    uint64 // number of its latest packet
	pkts       uint64
	state      uint8
	ws         bool // the WebSocket phase has begun (both directions)
	ending     bool // end in progress
	synSide    int8 // side that sent a SYN without ACK, -1 unknown
	clientSide int8 // -1 unknown
	finFlags   [2]bool
	half       [2]half
	buffered   int // out-of-order bytes of both halves
	http       *httpConn
	ups        []*upgrade
	cur        *upgrade // upgrade whose streams are being delivered / awaited
	preAnoms   []Anomaly
	preSides   []int8
}

type upgrade struct {
	pub      Conn
	hs       Handshake
	reported bool
	ended    bool
	anoms    []Anomaly
	// serverSide is the flow side (0/1) of the server.
	serverSide int
}

func makeKey(src, dst netip.AddrPort) (flowKey, int) {
	if src.Compare(dst) <= 0 {
		return flowKey{src, dst}, 0
	}
	return flowKey{dst, src}, 1
}

func (k flowKey) addr(side int) netip.AddrPort {
	if side == 0 {
		return k.a
	}
	return k.b
}

// Add processes one packet. p and its Payload are not retained.
func (a *Assembler) Add(p *capture.Packet) {
	a.stats.Packets++
	at := Meta{Time: p.Time, Packet: p.Num}
	a.Tick(p.Time)
	key, side := makeKey(p.Src, p.Dst)
	var c *conn
	if a.last != nil && a.lastKey == key {
		c = a.last
	} else {
		c = a.conns[key]
	}
	syn := p.Flags&capture.FlagSYN != 0
	hasData := len(p.Payload) > 0 || p.Missing > 0
	if c != nil && syn && c.state != csClosed && a.isReuse(c, side, p) {
		a.end(c, EndReuse, at)
		a.remove(c)
		c = nil
	} else if c != nil && c.state == csClosed && syn {
		a.remove(c)
		c = nil
	}
	if c == nil {
		if !syn && !hasData {
			a.stats.Stray++
			return
		}
		c = a.newConn(key)
		c.born = p.Num
	}
	a.last, a.lastKey = c, key
	if c.state == csClosed {
		return // a late packet, absorbed by the tombstone
	}
	c.lastSeen = p.Time
	c.lastPkt = p.Num
	c.pkts++
	a.touch(c)
	switch c.state {
	case csIgnored:
		a.lifecycleOnly(c, side, p, at)
		return
	}
	a.packet(c, side, p, at)
}

// isReuse reports whether a SYN on an existing connection starts a new one.
func (a *Assembler) isReuse(c *conn, side int, p *capture.Packet) bool {
	h := &c.half[side]
	if h.synSeen {
		return h.isn != p.Seq
	}
	if h.init && p.Flags&capture.FlagACK == 0 {
		// A SYN after data was seen without one: a new connection
		// unless it is the (unseen) original SYN retransmitted late.
		return p.Seq+1 != h.next || h.delivered
	}
	return false
}

func (a *Assembler) newConn(key flowKey) *conn {
	if len(a.conns) >= a.cfg.MaxConns {
		// Tombstones of closed connections go first, then the least
		// recently active connection.
		if t := a.closed.head; t != nil {
			a.remove(t)
		} else if victim := a.lru.head; victim != nil {
			a.stats.Evicted++
			a.stats.Limits++
			a.anomaly(victim, -1, "limit", "warning", "flow table full (MaxConns): connection evicted", Meta{Time: victim.lastSeen})
			a.end(victim, EndLimit, Meta{Time: victim.lastSeen})
			a.remove(victim)
		}
	}
	c := &conn{key: key, seq: a.nextSeq, synSide: -1, clientSide: -1}
	a.nextSeq++
	a.conns[key] = c
	a.stats.Flows++
	a.lru.pushBack(c)
	return c
}

// touch marks a live connection as the most recently active.
func (a *Assembler) touch(c *conn) {
	if a.lru.tail == c {
		return
	}
	a.lru.unlink(c)
	a.lru.pushBack(c)
}

// remove drops c from the flow table.
func (a *Assembler) remove(c *conn) {
	if c.state == csClosed {
		a.closed.unlink(c)
	} else {
		a.lru.unlink(c)
	}
	if a.conns[c.key] == c {
		delete(a.conns, c.key)
	}
	if a.last == c {
		a.last = nil
	}
}

// lifecycleOnly tracks FIN/RST of an ignored connection.
func (a *Assembler) lifecycleOnly(c *conn, side int, p *capture.Packet, at Meta) {
	if p.Flags&capture.FlagRST != 0 {
		a.end(c, EndRST, at)
		return
	}
	if p.Flags&capture.FlagFIN != 0 {
		c.finFlags[side] = true
		if c.finFlags[0] && c.finFlags[1] {
			a.end(c, EndFIN, at)
		}
	}
}

func (a *Assembler) packet(c *conn, side int, p *capture.Packet, at Meta) {
	h := &c.half[side]
	seq := p.Seq
	if p.Flags&capture.FlagSYN != 0 {
		if p.Flags&capture.FlagACK == 0 && c.synSide < 0 {
			c.synSide = int8(side)
		}
		if !h.synSeen {
			h.synSeen = true
			h.isn = seq
			if !h.init {
				h.init = true
				h.next = seq + 1
			}
		}
		seq++
	}
	if p.Flags&capture.FlagACK != 0 {
		a.ack(c, 1-side, p.Ack)
	}
	if len(p.Payload) > 0 || p.Missing > 0 || p.Flags&capture.FlagFIN != 0 {
		c.finFlags[side] = c.finFlags[side] || p.Flags&capture.FlagFIN != 0
		a.segment(c, side, seq, p.Payload, p.Missing, p.Flags&capture.FlagFIN != 0, at)
		if c.state != csActive {
			return
		}
	}
	if p.Flags&capture.FlagRST != 0 {
		// A reset far outside the sender's sequence space is stale (or
		// forged): ignored rather than cutting the streams.
		if d := int32(seq - h.next); !h.init || (d > -rstWindow && d < rstWindow) {
			a.end(c, EndRST, at)
			return
		}
	}
	// Holes the peer acknowledged are given up when no progress was made
	// for ReorderWindow packets of the connection.
	for s := 0; s < 2; s++ {
		hh := &c.half[s]
		if !hh.init || hh.done || !hh.ackSeen || !seqGT(hh.ackEnd(), hh.next) {
			hh.holeMark = 0
			continue
		}
		if hh.holeMark == 0 {
			hh.holeMark = c.pkts
			continue
		}
		if c.pkts-hh.holeMark >= uint64(a.cfg.ReorderWindow) {
			hh.holeMark = 0
			a.giveUpTo(c, s, hh.ackEnd(), at)
			if c.state != csActive {
				return
			}
		}
	}
}

// ack records that the peer acknowledged data of side s up to ack.
func (a *Assembler) ack(c *conn, s int, ack uint32) {
	h := &c.half[s]
	if !h.init {
		return
	}
	if !h.ackSeen || seqGT(ack, h.ack) {
		h.ack = ack
		h.ackSeen = true
		a.acked(h)
	}
}

// Tick advances the capture clock to now exactly as Add does for a packet
// at now, ending idle connections when a Flush is due (every IdleTimeout/4
// of capture time, or when time steps back by more than IdleTimeout). Add
// calls it; an Assembler given only some of a capture's packets (one shard
// of several, each with its own Assembler) is ticked with the time of every
// packet it is not given, so that it flushes at the same packets as a
// single Assembler given all of them.
func (a *Assembler) Tick(now time.Time) {
	// Tombstones of closed connections expire after ClosedTimeout.
	for t := a.closed.head; t != nil && now.Sub(t.lastSeen) >= a.cfg.ClosedTimeout; t = a.closed.head {
		a.remove(t)
	}
	if a.lastFlush.IsZero() {
		a.lastFlush = now
	} else if d := now.Sub(a.lastFlush); d >= a.cfg.IdleTimeout/4 || d < -a.cfg.IdleTimeout {
		a.Flush(now)
	}
}

// Flush ends connections idle since before now minus IdleTimeout
// (WebSocketIdleTimeout for upgraded ones). Add calls it as capture time
// advances; call it for live captures on a timer.
func (a *Assembler) Flush(now time.Time) {
	a.lastFlush = now
	cut := now.Add(-a.cfg.IdleTimeout)
	cutWS := now.Add(-a.cfg.WebSocketIdleTimeout)
	for t := a.closed.head; t != nil && now.Sub(t.lastSeen) >= a.cfg.ClosedTimeout; t = a.closed.head {
		a.remove(t)
	}
	for c := a.lru.head; c != nil; {
		if !c.lastSeen.Before(cut) {
			break
		}
		next := c.next
		if c.ws && c.state == csActive && !c.lastSeen.Before(cutWS) {
			c = next // a quiet WebSocket: kept longer
			continue
		}
		a.end(c, EndTimeout, Meta{Time: c.lastSeen})
		a.remove(c)
		c = next
	}
}

// Close ends every connection with EndCapture (in order of creation); at is
// the position of the end of the capture. The Assembler is empty afterwards.
func (a *Assembler) Close(at Meta) {
	var open []*conn
	for c := a.lru.head; c != nil; c = c.next {
		open = append(open, c)
	}
	slices.SortFunc(open, func(x, y *conn) int {
		switch {
		case x.seq < y.seq:
			return -1
		case x.seq > y.seq:
			return 1
		}
		return 0
	})
	for _, c := range open {
		a.end(c, EndCapture, at)
	}
	for c := a.lru.head; c != nil; c = a.lru.head {
		a.remove(c)
	}
	for c := a.closed.head; c != nil; c = a.closed.head {
		a.remove(c)
	}
	clear(a.conns)
	a.conns = make(map[flowKey]*conn) // a map never shrinks: start afresh
}

// end finishes a connection: outstanding holes are handed on as gaps,
// pending handshakes reported, End called for each upgrade.
func (a *Assembler) end(c *conn, why EndReason, at Meta) {
	if c.state == csClosed {
		return
	}
	c.ending = true
	for _, u := range c.ups {
		// Known while the end flushes data (see Conn.Born).
		u.pub.Born, u.pub.Last = c.born, c.lastPkt
	}
	if c.state == csActive {
		for s := 0; s < 2 && c.state == csActive; s++ {
			a.giveUpAll(c, s, at)
		}
		if c.state == csActive && c.http != nil && !c.ws {
			// A 101 held back waiting for a request that never came.
			c.http.forceInfer = true
			a.pump(c)
		}
	}
	a.freeBuffers(c)
	if c.state == csIgnored && len(c.ups) == 0 {
		a.close(c, at)
		return
	}
	a.close(c, at)
	for _, u := range c.ups {
		if u.ended {
			continue
		}
		if !u.reported {
			a.addUpAnomaly(u, -1, "handshake-no-response", "warning", "connection ended before the server answered the upgrade request", at)
			a.report(c, u)
		}
		u.ended = true
		u.pub.Born, u.pub.Last = c.born, c.lastPkt
		a.h.End(&u.pub, why, at)
	}
	// Only a tombstone remains: the upgrades (handshakes, anomalies) are
	// released.
	clear(c.ups)
	c.ups, c.cur = nil, nil
}

// close turns c into a tombstone: moved from the LRU list to the closed
// list, where it absorbs late packets for ClosedTimeout.
func (a *Assembler) close(c *conn, at Meta) {
	a.lru.unlink(c)
	c.state = csClosed
	c.preAnoms, c.preSides = nil, nil
	if t := at.Time; !t.IsZero() && t.After(c.lastSeen) {
		c.lastSeen = t
	}
	a.closed.pushBack(c)
}

func (a *Assembler) freeBuffers(c *conn) {
	for s := 0; s < 2; s++ {
		h := &c.half[s]
		for i := range h.ooo {
			a.stats.BufferedBytes -= int64(h.ooo[i].size)
		}
		c.buffered = 0
		h.ooo = nil
		a.releaseRing(h)
		if c.http != nil {
			a.stats.BufferedBytes -= int64(len(c.http.side[s].pend))
		}
	}
	c.http = nil
}

// ignore puts a connection into the cheap ignored state.
func (a *Assembler) ignore(c *conn) {
	if c.state != csActive {
		return
	}
	a.freeBuffers(c)
	c.state = csIgnored
	if len(c.ups) == 0 {
		a.stats.Ignored++
	}
}

func (a *Assembler) dir(c *conn, side int) Dir {
	if side >= 0 && c.clientSide >= 0 && side != int(c.clientSide) {
		return FromServer
	}
	return FromClient
}

// anomaly reports a finding for the connection: to its current upgrade if
// there is one, else it is kept (a few) for the next upgrade detected.
func (a *Assembler) anomaly(c *conn, side int, code, sev, detail string, at Meta) {
	u := c.cur
	if u == nil && len(c.ups) > 0 {
		u = c.ups[len(c.ups)-1]
	}
	if u == nil || u.ended {
		if len(c.preAnoms) < 8 {
			c.preAnoms = append(c.preAnoms, Anomaly{Code: code, Detail: detail, Severity: sev, At: at})
			c.preSides = append(c.preSides, int8(side))
		}
		return
	}
	a.addUpAnomaly(u, side, code, sev, detail, at)
	if u.reported {
		a.flushAnoms(c, u)
	}
}

func (a *Assembler) addUpAnomaly(u *upgrade, side int, code, sev, detail string, at Meta) {
	d := FromClient
	if side >= 0 && side == u.serverSide {
		d = FromServer
	}
	u.anoms = append(u.anoms, Anomaly{Code: code, Detail: detail, Severity: sev, Dir: d, At: at, Both: side < 0})
}

func (a *Assembler) flushAnoms(c *conn, u *upgrade) {
	for i := range u.anoms {
		a.h.Anomaly(&u.pub, u.anoms[i])
	}
	u.anoms = u.anoms[:0]
}

// report calls Handshake for u, then its pending anomalies.
func (a *Assembler) report(c *conn, u *upgrade) {
	if u.reported {
		return
	}
	u.reported = true
	a.findings(u) // security findings (findings.go), once per handshake
	if u.hs.Upgraded {
		a.stats.WebSockets++
	}
	a.h.Handshake(&u.pub, &u.hs)
	a.flushAnoms(c, u)
}

// rstWindow is how far from the expected sequence number a RST may be.
const rstWindow = 1 << 20

func seqGT(a, b uint32) bool { return int32(a-b) > 0 }
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }

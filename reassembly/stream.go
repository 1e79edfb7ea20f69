package reassembly

// half is one direction of a TCP connection: the bytes sent by one side.
type half struct {
	init      bool   // next is valid
	synSeen   bool   //
	isn       uint32 // initial sequence number (when synSeen)
	next      uint32 // next sequence number expected
	delivered bool   // some payload was delivered or given up
	finSeen   bool
	finSeq    uint32 // sequence number of the FIN
	done      bool   // FIN consumed
	ackSeen   bool
	ack       uint32 // highest acknowledgement by the peer
	holeMark  uint64 // conn packet count when the peer acked past a hole; 0 none
	ooo       []seg  // out-of-order segments, sorted, not overlapping
	ring      []byte // last delivered bytes not yet acknowledged by the peer (up to ConflictWindow), grown as data is delivered
	ringLen   int    // valid bytes in ring, ending at next
}

// seg is a buffered out-of-order segment: data followed by missing bytes
// (not captured), starting at seq.
type seg struct {
	seq     uint32
	data    []byte
	missing int
	size    int // bytes accounted in the buffers
	at      Meta
}

func (s *seg) end() uint32 { return s.seq + uint32(len(s.data)+s.missing) }

// ackEnd is how far the peer acknowledged this half's data (capped at FIN).
func (h *half) ackEnd() uint32 {
	e := h.ack
	if !h.ackSeen {
		return h.next
	}
	if h.finSeen && seqGT(e, h.finSeq) {
		e = h.finSeq
	}
	return e
}

// piece returns the part [from,to) of a segment starting at seq with data and
// a missing tail, as data plus missing count.
func piece(seq uint32, data []byte, from, to uint32) ([]byte, int) {
	o1, o2 := int(from-seq), int(to-seq)
	d1, d2 := min(o1, len(data)), min(o2, len(data))
	d := data[d1:d2]
	return d, (o2 - o1) - len(d)
}

// segment processes payload bytes (data then missing) of side s at seq, and a
// FIN after them when fin.
func (a *Assembler) segment(c *conn, s int, seq uint32, data []byte, missing int, fin bool, at Meta) {
	h := &c.half[s]
	if !h.init {
		h.init = true
		h.next = seq
	}
	n := len(data) + missing
	if fin && !h.finSeen {
		h.finSeen = true
		h.finSeq = seq + uint32(n)
	}
	if h.done {
		return
	}
	if n == 1 && seq+1 == h.next && h.delivered {
		// TCP keep-alive probe: one garbage byte just below next.
		n = 0
	}
	if n > 0 {
		end := seq + uint32(n)
		switch {
		case !seqGT(end, h.next):
			a.checkOld(c, s, seq, data, end, at)
		case seqLT(seq, h.next):
			d, m := piece(seq, data, seq, h.next)
			_ = m
			a.checkOld(c, s, seq, d, h.next, at)
			data, missing = piece(seq, data, h.next, end)
			seq = h.next
			a.inOrder(c, s, seq, data, missing, at)
		case seq == h.next:
			a.inOrder(c, s, seq, data, missing, at)
		default:
			a.insert(c, s, seq, data, missing, at)
		}
		if c.state != csActive {
			return
		}
	}
	a.drain(c, s, at)
}

// inOrder delivers a segment starting at h.next without copying, up to the
// first buffered segment; the rest is merged into the buffer.
func (a *Assembler) inOrder(c *conn, s int, seq uint32, data []byte, missing int, at Meta) {
	h := &c.half[s]
	end := seq + uint32(len(data)+missing)
	if len(h.ooo) > 0 && seqLT(h.ooo[0].seq, end) {
		cut := h.ooo[0].seq
		d, m := piece(seq, data, seq, cut)
		rd, rm := piece(seq, data, cut, end)
		a.deliver(c, s, d, m, at)
		if c.state != csActive {
			return
		}
		a.insert(c, s, cut, rd, rm, at)
		return
	}
	a.deliver(c, s, data, missing, at)
}

// deliver hands on data then a gap of missing bytes at h.next and advances.
func (a *Assembler) deliver(c *conn, s int, data []byte, missing int, at Meta) {
	h := &c.half[s]
	if len(data) > 0 {
		h.next += uint32(len(data))
		h.delivered = true
		h.holeMark = 0 // progress: the reorder window restarts
		a.remember(c, h, data)
		a.data(c, s, data, at)
		if c.state != csActive {
			return
		}
	}
	if missing > 0 {
		a.gap(c, s, int64(missing), at)
	}
}

// gap hands on n lost bytes at h.next and advances.
func (a *Assembler) gap(c *conn, s int, n int64, at Meta) {
	h := &c.half[s]
	h.next += uint32(n)
	h.delivered = true
	h.holeMark = 0
	h.ringLen = 0
	a.stats.Gaps++
	a.stats.GapBytes += uint64(n)
	a.gapData(c, s, n, at)
}

// maxFreeRings bounds the conflict rings an Assembler keeps for reuse after
// the peer acknowledged their bytes (at most 64 × ConflictWindow bytes).
const maxFreeRings = 64

// acked is called when the peer's acknowledgement of h advanced: bytes it
// acknowledged are no longer kept for conflict checks (a receiver discards
// retransmitted bytes it already acknowledged, so they cannot change what
// it has), and a ring left with none is released for reuse.
func (a *Assembler) acked(h *half) {
	if h.ring == nil {
		return
	}
	if d := int32(h.next - h.ack); d <= 0 {
		a.releaseRing(h)
	} else if int(d) < h.ringLen {
		h.ringLen = int(d)
	}
}

// releaseRing drops h's conflict ring, keeping a few for reuse.
func (a *Assembler) releaseRing(h *half) {
	if h.ring != nil && len(a.freeRings) < maxFreeRings {
		a.freeRings = append(a.freeRings, h.ring)
	}
	h.ring, h.ringLen = nil, 0
}

// remember keeps the last delivered bytes for conflict checks.
func (a *Assembler) remember(c *conn, h *half, data []byte) {
	w := a.cfg.ConflictWindow
	if w <= 0 {
		return
	}
	if len(data) > w {
		data = data[len(data)-w:]
	}
	// data ends at h.next (already advanced).
	start := h.next - uint32(len(data))
	if h.ring == nil && len(a.freeRings) > 0 {
		n := len(a.freeRings) - 1
		h.ring, h.ringLen = a.freeRings[n], 0
		a.freeRings[n] = nil
		a.freeRings = a.freeRings[:n]
	}
	if need := min(h.ringLen+len(data), w); len(h.ring) < need {
		// The ring grows with what was delivered (powers of two up to
		// w), so that a table full of connections that sent a few bytes
		// (handshakes, floods) does not hold w bytes each.
		n := max(len(h.ring), 64)
		for n < need {
			n <<= 1
		}
		ring := make([]byte, min(n, w))
		for i, p := 0, start-uint32(h.ringLen); i < h.ringLen; i, p = i+1, p+1 {
			ring[int(p)&(len(ring)-1)] = h.ring[int(p)&(len(h.ring)-1)]
		}
		h.ring = ring
	}
	w = len(h.ring)
	i := int(start) & (w - 1)
	k := copy(h.ring[i:], data)
	copy(h.ring, data[k:])
	h.ringLen = min(h.ringLen+len(data), w)
}

// checkOld compares a retransmission of already delivered bytes [seq,end)
// with what was delivered, as far as the ring remembers.
func (a *Assembler) checkOld(c *conn, s int, seq uint32, data []byte, end uint32, at Meta) {
	h := &c.half[s]
	if h.ringLen == 0 || len(data) == 0 {
		return
	}
	lo := h.next - uint32(h.ringLen)
	from, to := seq, seq+uint32(len(data))
	if seqLT(from, lo) {
		from = lo
	}
	if seqGT(to, h.next) {
		to = h.next
	}
	if !seqLT(from, to) {
		return
	}
	w := len(h.ring)
	d := data[from-seq : to-seq]
	i := int(from) & (w - 1)
	first := min(len(d), w-i)
	if string(h.ring[i:i+first]) != string(d[:first]) || string(h.ring[:len(d)-first]) != string(d[first:]) {
		a.conflict(c, s, from, at)
	}
}

func (a *Assembler) conflict(c *conn, s int, seq uint32, at Meta) {
	a.stats.Conflicts++
	a.anomaly(c, s, "retransmission-conflict", "error",
		"retransmitted bytes differ from the first copy (kept the first)", at)
}

// insert buffers (copies) the parts of [seq, seq+len+missing) not already
// buffered, checking overlaps for conflicts. Delivered bytes must have been
// trimmed by the caller.
func (a *Assembler) insert(c *conn, s int, seq uint32, data []byte, missing int, at Meta) {
	h := &c.half[s]
	end := seq + uint32(len(data)+missing)
	cur := seq
	i := 0
	for i < len(h.ooo) && seqLT(cur, end) {
		e := &h.ooo[i]
		eEnd := e.end()
		if !seqGT(eEnd, cur) {
			i++
			continue
		}
		if !seqLT(e.seq, end) {
			break
		}
		if seqLT(cur, e.seq) {
			d, m := piece(seq, data, cur, e.seq)
			a.addSeg(c, h, i, cur, d, m, at)
			i++ // the new segment is at i; e moved to i+1
			e = &h.ooo[i]
		}
		// overlap [max(cur,e.seq), min(end,eEnd))
		from, to := cur, end
		if seqLT(from, e.seq) {
			from = e.seq
		}
		if seqGT(to, eEnd) {
			to = eEnd
		}
		nd, _ := piece(seq, data, from, to)
		od, _ := piece(e.seq, e.data, from, to)
		if k := min(len(nd), len(od)); string(nd[:k]) != string(od[:k]) {
			a.conflict(c, s, from, at)
		}
		cur = eEnd
		i++
	}
	if seqLT(cur, end) {
		d, m := piece(seq, data, cur, end)
		a.addSeg(c, h, i, cur, d, m, at)
	}
	a.checkBuffers(c, s, at)
}

func (a *Assembler) addSeg(c *conn, h *half, i int, seq uint32, data []byte, missing int, at Meta) {
	cp := make([]byte, len(data))
	copy(cp, data)
	sg := seg{seq: seq, data: cp, missing: missing, size: len(cp), at: at}
	h.ooo = append(h.ooo, seg{})
	copy(h.ooo[i+1:], h.ooo[i:])
	h.ooo[i] = sg
	c.buffered += sg.size
	a.stats.BufferedBytes += int64(sg.size)
	if a.stats.BufferedBytes > a.stats.MaxBufferedObs {
		a.stats.MaxBufferedObs = a.stats.BufferedBytes
	}
}

// checkBuffers enforces MaxBufferedPerConn and MaxBufferedTotal by giving up
// the first hole of side s.
func (a *Assembler) checkBuffers(c *conn, s int, at Meta) {
	h := &c.half[s]
	hit := false
	for (c.buffered > a.cfg.MaxBufferedPerConn || a.stats.BufferedBytes > a.cfg.MaxBufferedTotal) && len(h.ooo) > 0 {
		if !hit {
			hit = true
			a.stats.Limits++
			a.anomaly(c, s, "limit", "warning", "out-of-order buffer limit reached: hole given up", at)
		}
		a.gap(c, s, int64(h.ooo[0].seq-h.next), at)
		if c.state != csActive {
			return
		}
		a.drain(c, s, at)
		if c.state != csActive {
			return
		}
	}
}

// drain delivers buffered segments that are now in order, and consumes the
// FIN when its turn comes.
func (a *Assembler) drain(c *conn, s int, at Meta) {
	h := &c.half[s]
	for len(h.ooo) > 0 {
		e := h.ooo[0]
		if seqGT(e.seq, h.next) {
			break
		}
		copy(h.ooo, h.ooo[1:])
		h.ooo = h.ooo[:len(h.ooo)-1]
		c.buffered -= e.size
		a.stats.BufferedBytes -= int64(e.size)
		end := e.end()
		if seqGT(end, h.next) {
			d, m := piece(e.seq, e.data, h.next, end)
			a.deliver(c, s, d, m, e.at)
			if c.state != csActive {
				return
			}
		}
	}
	if len(h.ooo) == 0 && cap(h.ooo) > 64 {
		h.ooo = nil
	}
	if h.finSeen && !h.done && !seqLT(h.next, h.finSeq) {
		h.done = true
		h.holeMark = 0
		a.halfDone(c, s, at)
	}
}

// giveUpTo hands on holes before upto as gaps.
func (a *Assembler) giveUpTo(c *conn, s int, upto uint32, at Meta) {
	h := &c.half[s]
	for !h.done && seqLT(h.next, upto) {
		target := upto
		if len(h.ooo) > 0 && seqLT(h.ooo[0].seq, target) {
			target = h.ooo[0].seq
		}
		if seqGT(target, h.next) {
			a.gap(c, s, int64(target-h.next), at)
			if c.state != csActive {
				return
			}
		}
		a.drain(c, s, at)
		if c.state != csActive {
			return
		}
	}
}

// giveUpAll hands on every hole before buffered data or a seen FIN.
func (a *Assembler) giveUpAll(c *conn, s int, at Meta) {
	h := &c.half[s]
	if !h.init || h.done {
		return
	}
	upto := h.next
	if n := len(h.ooo); n > 0 {
		upto = h.ooo[n-1].end()
	}
	if h.finSeen && seqGT(h.finSeq, upto) {
		upto = h.finSeq
	}
	if h.ackSeen && seqGT(h.ackEnd(), upto) {
		upto = h.ackEnd()
	}
	a.giveUpTo(c, s, upto, at)
}

// halfDone is called when side s's FIN was consumed.
func (a *Assembler) halfDone(c *conn, s int, at Meta) {
	if c.half[0].done && c.half[1].done && !c.ending {
		a.end(c, EndFIN, at)
	}
}

// data routes in-order bytes of side s.
func (a *Assembler) data(c *conn, s int, data []byte, at Meta) {
	if c.ws && !c.http.side[s].queued() {
		a.h.Data(&c.cur.pub, a.dir(c, s), data, at)
		return
	}
	a.httpData(c, s, data, at)
}

// gapData routes a gap of side s.
func (a *Assembler) gapData(c *conn, s int, n int64, at Meta) {
	if c.ws && !c.http.side[s].queued() {
		a.h.Gap(&c.cur.pub, a.dir(c, s), n, at)
		return
	}
	a.httpGap(c, s, n, at)
}

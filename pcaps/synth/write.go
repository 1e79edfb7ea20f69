package synth

import (
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"github.com/gopacket/gopacket"
)

// pkt is one TCP segment before link/IP serialisation.
type pkt struct {
	conn     int
	dir      Dir // sender
	syn, fin bool
	rst, psh bool
	ackf     bool
	seq, ack uint32
	payload  []byte
	off      int64 // stream offset of payload[0] in direction dir
	dataIdx  int   // index among data segments of dir; -1 for no payload
	drop     bool
}

// Write writes conns as one capture file to w. It returns what it wrote,
// including the byte ranges damaged on purpose by opts. The conns are not
// modified.
func Write(w io.Writer, conns []*Conn, opts Options) (Result, error) {
	var res Result
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed5eed))
	for i, c := range conns {
		if err := checkConn(c); err != nil {
			return res, fmt.Errorf("synth: conn %d: %w", i, err)
		}
	}
	res.ISN = make([][2]uint32, len(conns))
	for i := range conns {
		res.ISN[i] = pickISN(rng, i)
	}
	drop := make(map[SegRef]bool, len(opts.Drop))
	for _, r := range opts.Drop {
		drop[r] = true
	}
	per := make([][]*pkt, len(conns))
	for i, c := range conns {
		ps, err := buildConn(i, c, res.ISN[i], opts.mss())
		if err != nil {
			return res, fmt.Errorf("synth: conn %d: %w", i, err)
		}
		ps = damage(ps, rng, drop, &opts, &res)
		per[i] = ps
	}
	order := interleave(per, opts.Interleave, rng)

	out := w
	var gz *gzip.Writer
	if opts.Gzip {
		gz = gzip.NewWriter(w)
		out = gz
	}
	fw, err := newFileWriter(out, conns, &opts)
	if err != nil {
		return res, err
	}
	fr := newFramer(conns, &opts)
	ts := opts.Start
	if ts.IsZero() {
		ts = BaseTime
	}
	for _, p := range order {
		data, err := fr.frame(p)
		if err != nil {
			return res, err
		}
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}
		if opts.Snaplen > 0 && len(data) > opts.Snaplen {
			ci.CaptureLength = opts.Snaplen
			if cut := int64(len(data) - opts.Snaplen); len(p.payload) > 0 {
				n := min(cut, int64(len(p.payload)))
				res.Damage = append(res.Damage, Damage{Conn: p.conn, Dir: p.dir,
					Offset: p.off + int64(len(p.payload)) - n, Len: n})
			}
			data = data[:opts.Snaplen]
		}
		if err := fw.write(ci, data, conns[p.conn].Interface); err != nil {
			return res, fmt.Errorf("synth: writing packet %d: %w", res.Packets, err)
		}
		res.Packets++
		ts = ts.Add(opts.step())
	}
	if err := fw.flush(); err != nil {
		return res, fmt.Errorf("synth: %w", err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return res, fmt.Errorf("synth: gzip: %w", err)
		}
	}
	res.Damage = mergeDamage(res.Damage)
	return res, nil
}

func checkConn(c *Conn) error {
	if !c.Client.IsValid() || !c.Server.IsValid() {
		return fmt.Errorf("invalid address %v -> %v", c.Client, c.Server)
	}
	if c.Client.Addr().Unmap().Is4() != c.Server.Addr().Unmap().Is4() {
		return fmt.Errorf("mixed IPv4/IPv6 addresses %v -> %v", c.Client, c.Server)
	}
	return nil
}

// pickISN returns seeded ISNs; even-numbered connections start within 4 KiB
// of 2^32 so that their sequence numbers wrap during the first data.
func pickISN(rng *rand.Rand, i int) [2]uint32 {
	if i%2 == 0 {
		return [2]uint32{-uint32(1 + rng.IntN(4096)), -uint32(1 + rng.IntN(4096))}
	}
	return [2]uint32{rng.Uint32(), rng.Uint32()}
}

// buildConn lays out the undamaged packets of one connection.
func buildConn(ci int, c *Conn, isn [2]uint32, mss int) ([]*pkt, error) {
	var ps []*pkt
	nxt := [2]uint32{isn[0] + 1, isn[1] + 1}
	var off [2]int64
	var nData [2]int
	add := func(p *pkt) { p.conn = ci; p.dataIdx = -1; ps = append(ps, p) }
	add(&pkt{dir: ClientToServer, syn: true, seq: isn[0]})
	add(&pkt{dir: ServerToClient, syn: true, ackf: true, seq: isn[1], ack: nxt[0]})
	add(&pkt{dir: ClientToServer, ackf: true, seq: nxt[0], ack: nxt[1]})
	for k, ch := range c.Chunks {
		d := ch.Dir
		if d > ServerToClient {
			return nil, fmt.Errorf("chunk %d: bad direction %d", k, d)
		}
		data := ch.Data
		sizes := ch.Segments
		for len(data) > 0 {
			n := mss
			if len(sizes) > 0 {
				n = sizes[0]
				sizes = sizes[1:]
				if n <= 0 {
					return nil, fmt.Errorf("chunk %d: segment size %d", k, n)
				}
			}
			n = min(n, len(data))
			p := &pkt{dir: d, ackf: true, seq: nxt[d], ack: nxt[1-d], payload: data[:n], off: off[d]}
			add(p)
			p.dataIdx = nData[d]
			nData[d]++
			nxt[d] += uint32(n)
			off[d] += int64(n)
			data = data[n:]
			if len(data) == 0 {
				p.psh = true
			}
		}
		// The receiver acknowledges unless its next segment (the next
		// chunk) carries the acknowledgement anyway.
		if k+1 >= len(c.Chunks) || c.Chunks[k+1].Dir == d {
			add(&pkt{dir: 1 - d, ackf: true, seq: nxt[1-d], ack: nxt[d]})
		}
	}
	switch c.Close {
	case CloseFIN, CloseServerFIN:
		a := ClientToServer
		if c.Close == CloseServerFIN {
			a = ServerToClient
		}
		b := 1 - a
		add(&pkt{dir: a, fin: true, ackf: true, seq: nxt[a], ack: nxt[b]})
		nxt[a]++
		add(&pkt{dir: b, fin: true, ackf: true, seq: nxt[b], ack: nxt[a]})
		nxt[b]++
		add(&pkt{dir: a, ackf: true, seq: nxt[a], ack: nxt[b]})
	case CloseRST:
		add(&pkt{dir: ClientToServer, rst: true, ackf: true, seq: nxt[0], ack: nxt[1]})
	case CloseNone:
	default:
		return nil, fmt.Errorf("unknown close %d", c.Close)
	}
	return ps, nil
}

// damage applies drops, reordering, duplication and handshake omission to
// one connection's packets, recording dropped ranges in res.
func damage(ps []*pkt, rng *rand.Rand, drop map[SegRef]bool, o *Options, res *Result) []*pkt {
	out := ps[:0:0]
	for _, p := range ps {
		if p.dataIdx >= 0 {
			if drop[SegRef{Conn: p.conn, Dir: p.dir, Index: p.dataIdx}] || (o.DropProb > 0 && rng.Float64() < o.DropProb) {
				res.Damage = append(res.Damage, Damage{Conn: p.conn, Dir: p.dir, Offset: p.off, Len: int64(len(p.payload))})
				continue
			}
		}
		out = append(out, p)
	}
	ps = out
	if o.OmitHandshakeSYN && len(ps) >= 3 {
		ps = ps[3:]
	}
	if o.Reorder > 0 {
		for i := 0; i+1 < len(ps); i++ {
			a, b := ps[i], ps[i+1]
			if a.dataIdx >= 0 && b.dataIdx >= 0 && a.dir == b.dir && rng.Float64() < o.Reorder {
				ps[i], ps[i+1] = b, a
				i++
			}
		}
	}
	if o.Duplicate > 0 {
		out := make([]*pkt, 0, len(ps))
		var pending *pkt
		for _, p := range ps {
			out = append(out, p)
			if pending != nil {
				out = append(out, pending)
				pending = nil
			}
			if p.dataIdx >= 0 && rng.Float64() < o.Duplicate {
				cp := *p
				if rng.IntN(2) == 0 {
					out = append(out, &cp)
				} else {
					pending = &cp
				}
			}
		}
		if pending != nil {
			out = append(out, pending)
		}
		ps = out
	}
	return ps
}

// interleave merges the per-connection packet lists into one.
func interleave(per [][]*pkt, mode Interleave, rng *rand.Rand) []*pkt {
	var out []*pkt
	switch mode {
	case Sequential:
		for _, ps := range per {
			out = append(out, ps...)
		}
	case Random:
		idx := make([]int, len(per))
		var live []int
		for i, ps := range per {
			if len(ps) > 0 {
				live = append(live, i)
			}
		}
		for len(live) > 0 {
			k := rng.IntN(len(live))
			c := live[k]
			out = append(out, per[c][idx[c]])
			idx[c]++
			if idx[c] == len(per[c]) {
				live = slices.Delete(live, k, k+1)
			}
		}
	default:
		for j := 0; ; j++ {
			any := false
			for _, ps := range per {
				if j < len(ps) {
					out = append(out, ps[j])
					any = true
				}
			}
			if !any {
				break
			}
		}
	}
	return out
}

// mergeDamage sorts damage by connection, direction and offset and merges
// overlapping or adjacent ranges.
func mergeDamage(ds []Damage) []Damage {
	if len(ds) == 0 {
		return nil
	}
	slices.SortFunc(ds, func(a, b Damage) int {
		if a.Conn != b.Conn {
			return a.Conn - b.Conn
		}
		if a.Dir != b.Dir {
			return int(a.Dir) - int(b.Dir)
		}
		switch {
		case a.Offset < b.Offset:
			return -1
		case a.Offset > b.Offset:
			return 1
		}
		return 0
	})
	out := ds[:1]
	for _, d := range ds[1:] {
		last := &out[len(out)-1]
		if d.Conn == last.Conn && d.Dir == last.Dir && d.Offset <= last.Offset+last.Len {
			last.Len = max(last.Len, d.Offset+d.Len-last.Offset)
			continue
		}
		out = append(out, d)
	}
	return out
}

// SegmentIndex returns the index of the data segment (as counted by SegRef)
// that carries byte off of direction d of c when written with the given
// MSS, or -1 if off is beyond the data.
func SegmentIndex(c *Conn, d Dir, off int64, mss int) int {
	if mss <= 0 {
		mss = 1448
	}
	idx := 0
	var pos int64
	for _, ch := range c.Chunks {
		if ch.Dir != d {
			continue
		}
		rest := len(ch.Data)
		sizes := ch.Segments
		for rest > 0 {
			n := mss
			if len(sizes) > 0 {
				n, sizes = sizes[0], sizes[1:]
			}
			n = min(n, rest)
			if off >= pos && off < pos+int64(n) {
				return idx
			}
			pos += int64(n)
			rest -= n
			idx++
		}
	}
	return -1
}

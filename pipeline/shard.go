package pipeline

// A sharded run (Options.Shards > 1) spreads connections over goroutines:
//
//   - The reader (one goroutine) calls Source.Next, copies each packet into a
//     pooled batch (one payload buffer per batch, no per-packet allocation)
//     and marks it with its shard: a hash of the unordered TCP 4-tuple, so
//     both directions of a connection go to the same shard. Every batch goes
//     to every shard.
//   - Each shard (one goroutine each) has its own reassembly.Assembler and
//     wsdecode decoders. It Adds the packets of its batch that are its own
//     and Ticks its Assembler with the time of the others, so that idle
//     timeouts fire at the same packets as in a serial run. It records what
//     its handler produces as events (payloads copied: the decoders reuse
//     their buffers), each tagged with its place in the serial order.
//   - The merger (Run's goroutine) takes the shards' events for a batch and
//     delivers them to the Sink in that order, assigning connection IDs and
//     keeping Summaries and Stats as the serial run does (deliverer).
//
// The place of an event in the serial order is (packet, phase, key, order
// within its shard):
//
//   - phaseFlush: idle connections ended when the packet's time made a flush
//     due, which a serial Assembler does before the packet itself. All
//     shards may end connections there; one Assembler ends them least
//     recently active first, so the events of each ended connection are
//     keyed by its latest packet (reassembly.Conn.Last), a different packet
//     for every connection.
//   - phasePacket: what the packet itself caused; all from the shard that
//     owns the packet.
//   - phaseClose: the end of the capture (after the last packet), where one
//     Assembler ends connections in order of creation: keyed by the packet
//     that created each (reassembly.Conn.Born).
//
// Connection IDs: an Assembler numbers upgrades as it detects them (the
// request), which may be long before it reports them (Handshake, once the
// response is seen). Shards record a detect event where their Assembler's
// Stats.Upgrades grew; the merger numbers detections in merged order and
// maps each shard's own IDs to those numbers, so IDs are those of a serial
// run.
//
// Exactness limits, documented in Options.Shards: MaxConns and
// MaxBufferedTotal are divided among the shards, so eviction and buffer
// limits can hit at other points than in a serial run (with no limit hit
// the output is identical). A serial flush ends the least recently active
// connections up to the first that is not idle; a shard does the same among
// its own connections, which is the same set unless the capture's
// timestamps step back (a later packet with an earlier time) across the
// idle cut-off at a flush.

import (
	"context"
	"encoding/binary"
	"math"
	"net/netip"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

const (
	// firstBatch and maxBatch bound the packets of a batch: batches start
	// small (short captures and cancellation see little read-ahead) and
	// double up to maxBatch.
	firstBatch = 16
	maxBatch   = 512
	// batchBytes is the payload capacity of a pooled batch; a packet
	// larger than that gets a batch of its own, with a buffer to fit.
	batchBytes = 256 << 10
	// evQueue is how many batches of events a shard may hold ready for the
	// merger.
	evQueue = 4
	// maxPreformat is the largest payload rendered on a shard; larger
	// messages are delivered with Message, so that the Sink may write
	// them out as it likes (streaming) rather than render them in memory.
	maxPreformat = 1 << 20
	// keepArena is the largest event buffer kept for reuse after a batch
	// (a huge message's copy is dropped, not kept for the run).
	keepArena = 1 << 20
)

// Variables for tests (small values exercise chunks and budget waits).
var (
	// maxPending bounds the bytes of events the shards hold for the
	// merger (see budget).
	maxPending int64 = 8 << 20
	// chunkBytes bounds a shard's events for one batch: once they hold
	// more (evBatch.recorded; the budget counts capacities), the shard hands them
	// to the merger as a chunk and records the rest of the batch in a new
	// one. Without it a batch of a few compressed packets could become
	// tens of MiB of messages held at once (issue 7: 48 inflated 1 MiB
	// messages from 79 KB of capture).
	chunkBytes int64 = 256 << 10
)

// batch is a run of consecutive packets of the capture, read-only once
// sent; every shard sees it.
type batch struct {
	pkts  []capture.Packet // Payload slices point into buf
	owner []uint8          // shard of each packet
	buf   []byte
	refs  atomic.Int32 // shards yet to process it
	seq   uint64       // batches before it
	final bool         // the last batch: shards Close after it
	last  reassembly.Meta
}

// sharded is one sharded run.
type sharded struct {
	n      int
	shards []*shard
	free   chan *batch   // batches back from the shards
	done   chan struct{} // closed when the merger returns
	budget budget        // bytes of events waiting for the merger
	nsent  uint64        // batches sent
	nbatch int           // batches allocated

	// Written by the reader before it sends the final batch.
	err   error
	stats Stats
	last  reassembly.Meta
}

func runSharded(ctx context.Context, src capture.Source, opts Options, n int, sink Sink) (Stats, error) {
	cfg := reassembly.New(opts.Reassembly, nil).Config()
	cfg.MaxConns = max(1, (cfg.MaxConns+n-1)/n)
	cfg.MaxBufferedTotal = max(1, cfg.MaxBufferedTotal/int64(n))
	pool := n + 4
	ms, _ := sink.(MessageFormatter)
	if ms != nil && ms.NewMessageFormatter() == nil {
		ms = nil
	}
	r := &sharded{
		n:    n,
		free: make(chan *batch, pool),
		done: make(chan struct{}),
	}
	r.budget.init(maxPending, n)
	defer func() {
		close(r.done)
		r.budget.stop()
	}()
	for i := 0; i < n; i++ {
		s := &shard{
			id:   uint8(i),
			in:   make(chan *batch, pool),
			out:  make(chan *evBatch, evQueue),
			free: make(chan *evBatch, evQueue+2),
			done: r.done,
			pool: r.free,
			bud:  &r.budget,
		}
		s.rec.shard = s
		if ms != nil {
			s.rec.format = ms.NewMessageFormatter()
		}
		s.h = handler{decCfg: opts.Decode, out: &s.rec}
		s.asm = reassembly.New(cfg, &s.h)
		r.shards = append(r.shards, s)
		// Profiles tell the stages apart by the label wsscope-stage.
		go pprof.Do(ctx, pprof.Labels("wsscope-stage", "shard", "wsscope-shard", strconv.Itoa(i)), func(context.Context) { s.run() })
	}
	go pprof.Do(ctx, pprof.Labels("wsscope-stage", "reader"), func(ctx context.Context) { r.read(ctx, src, pool) })
	m := newMerger(r, sink)
	m.d.fmtSink = ms
	var (
		st  Stats
		err error
	)
	pprof.Do(ctx, pprof.Labels("wsscope-stage", "merger"), func(context.Context) { st, err = m.run() })
	r.recycle()
	if err == nil {
		// Cancelled while the merger delivered what the reader had
		// read before.
		err = ctx.Err()
	}
	return st, err
}

// read is the reader goroutine.
func (r *sharded) read(ctx context.Context, src capture.Source, pool int) {
	size := firstBatch
	b := r.get(pool)
	if b == nil {
		return
	}
	quit := false // the merger is gone: nothing more to send
	last, err := readPackets(ctx, src, &r.stats, func(p *capture.Packet) bool {
		if len(b.pkts) >= size || len(b.pkts) > 0 && len(b.buf)+len(p.Payload) > cap(b.buf) {
			if !r.send(b) {
				quit = true
				return false
			}
			size = min(2*size, maxBatch)
			if ctx.Err() != nil {
				b = nil // err is set from ctx below
				return false
			}
			if b = r.get(pool); b == nil {
				quit = true
				return false
			}
		}
		if len(p.Payload) > cap(b.buf) {
			b.buf = make([]byte, 0, len(p.Payload))
		}
		off := len(b.buf)
		b.buf = append(b.buf, p.Payload...)
		b.pkts = append(b.pkts, *p)
		b.pkts[len(b.pkts)-1].Payload = b.buf[off:len(b.buf):len(b.buf)]
		b.owner = append(b.owner, uint8(flowHash(p.Src, p.Dst)%uint64(r.n)))
		return true
	})
	if quit {
		return
	}
	if b == nil {
		if b = r.get(pool); b == nil {
			return
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	r.err, r.last = err, last
	r.stats.Capture = src.Stats()
	b.final, b.last = true, last
	r.send(b)
}

// get returns an empty batch: a new one while fewer than pool exist, else
// one the shards are done with. It returns nil when the run is over.
func (r *sharded) get(pool int) *batch {
	if r.nbatch < pool {
		select {
		case b := <-r.free:
			return b
		default:
		}
		r.nbatch++
		if b, ok := batchPool.Get().(*batch); ok {
			return b
		}
		return &batch{
			pkts:  make([]capture.Packet, 0, maxBatch),
			owner: make([]uint8, 0, maxBatch),
			buf:   make([]byte, 0, batchBytes),
		}
	}
	select {
	case b := <-r.free:
		return b
	case <-r.done:
		return nil
	}
}

// send hands b to every shard; false when the run is over.
func (r *sharded) send(b *batch) bool {
	b.seq = r.nsent
	r.nsent++
	b.refs.Store(int32(r.n))
	for _, s := range r.shards {
		select {
		case s.in <- b:
		case <-r.done:
			return false
		}
	}
	return true
}

// batchPool and evPool keep batches and event buffers across runs (tests,
// benchmarks, a TUI reloading a file): a run allocates a few MiB of them.
var (
	batchPool sync.Pool
	evPool    sync.Pool
)

// recycle puts the batches and event buffers of a finished run back into
// the pools.
func (r *sharded) recycle() {
	for {
		select {
		case b := <-r.free:
			batchPool.Put(b)
			continue
		default:
		}
		break
	}
	for _, s := range r.shards {
		for {
			select {
			case e := <-s.free:
				evPool.Put(e)
				continue
			default:
			}
			break
		}
	}
}

// release is called by each shard when done with b; the last one returns
// it to the pool.
func (b *batch) release(pool chan<- *batch) {
	if b.refs.Add(-1) != 0 {
		return
	}
	if cap(b.buf) > batchBytes {
		b.buf = make([]byte, 0, batchBytes)
	}
	b.pkts, b.owner, b.buf = b.pkts[:0], b.owner[:0], b.buf[:0]
	b.final = false
	select {
	case pool <- b:
	default:
	}
}

// flowHash hashes the unordered pair of endpoints (the same value for both
// directions of a connection).
func flowHash(a, b netip.AddrPort) uint64 {
	return endHash(a) + endHash(b)
}

func endHash(ap netip.AddrPort) uint64 {
	x := ap.Addr().As16()
	hi := binary.LittleEndian.Uint64(x[:8])
	lo := binary.LittleEndian.Uint64(x[8:])
	h := (lo ^ uint64(ap.Port())<<48 ^ uint64(ap.Port())) * 0x9E3779B97F4A7C15
	h ^= hi * 0xC2B2AE3D27D4EB4F
	h ^= h >> 29
	h *= 0x94D049BB133111EB
	return h ^ h>>32
}

// Event phases, in serial order within a packet.
const (
	phaseFlush uint8 = iota
	phasePacket
	phaseClose
)

// Event kinds.
const (
	evDetect  uint8 = iota // x upgrades detected
	evOpen                 // pc opened; x is the shard's Conn.ID
	evMessage              // x indexes evBatch.msgs
	evAnomaly              // x indexes evBatch.anoms
	evEnd                  // x indexes evBatch.ends
)

// event is one output of a shard, placed in the serial order by (pos,
// phase, key) and, within a shard, by its index.
type event struct {
	key   uint64
	x     uint64
	pc    *Conn
	pos   uint32 // packet index in the batch; math.MaxUint32 for phaseClose
	phase uint8
	kind  uint8
}

// shardMsg is a recorded message: m with its slices held as offsets into the
// evBatch's arenas (set up again by the merger).
type shardMsg struct {
	m                                          wsdecode.Message
	payOff, payLen, frOff, frLen, anOff, anLen int
	preOff, preLen                             int // rendered by the Sink's MessageFormatter
	payNil                                     bool
	formatted                                  bool // pre holds it: MessageFormatted
}

type endRec struct {
	why reassembly.EndReason
	at  reassembly.Meta
}

// evBatch is a shard's output for one batch.
type evBatch struct {
	evs    []event
	msgs   []shardMsg
	anoms  []Anomaly
	ends   []endRec
	pay    []byte
	frames []wsdecode.Frame
	manoms []wsdecode.Anomaly
	pre    []byte // messages rendered by the Sink's MessageFormatter

	bytes int64            // held against the budget
	more  bool             // a chunk: more events of the same batch follow
	final bool             // the shard has closed its Assembler
	stats reassembly.Stats // set when final
}

func (e *evBatch) reset() {
	if cap(e.pay) > keepArena {
		e.pay = nil
	}
	if cap(e.pre) > keepArena {
		e.pre = nil
	}
	e.pre = e.pre[:0]
	clear(e.evs) // drop *Conn references
	e.evs, e.msgs, e.anoms, e.ends = e.evs[:0], e.msgs[:0], e.anoms[:0], e.ends[:0]
	e.pay, e.frames, e.manoms = e.pay[:0], e.frames[:0], e.manoms[:0]
	e.more, e.final, e.stats = false, false, reassembly.Stats{}
	if cap(e.msgs) > 4*maxBatch {
		e.msgs, e.frames, e.manoms = nil, nil, nil
	}
}

// size is the memory e holds, for the budget: its byte arenas by capacity
// (what a copy really occupies, append's headroom included) and its records
// by length.
func (e *evBatch) size() int64 {
	return int64(cap(e.pay)+cap(e.pre)) + e.records()
}

// recorded is what was recorded into e (arenas by length): what decides a
// chunk, so that an arena kept from an earlier batch (up to keepArena) does
// not cut every message into a chunk of its own.
func (e *evBatch) recorded() int64 {
	return int64(len(e.pay)+len(e.pre)) + e.records()
}

func (e *evBatch) records() int64 {
	return int64(len(e.frames)*int(unsafe.Sizeof(wsdecode.Frame{})) +
		len(e.manoms)*int(unsafe.Sizeof(wsdecode.Anomaly{})) +
		len(e.msgs)*int(unsafe.Sizeof(shardMsg{})) +
		len(e.anoms)*int(unsafe.Sizeof(Anomaly{})) +
		len(e.evs)*int(unsafe.Sizeof(event{})))
}

// shard reassembles and decodes the connections that hash to it.
type shard struct {
	id   uint8
	in   chan *batch
	out  chan *evBatch
	free chan *evBatch // back from the merger
	done chan struct{}
	pool chan *batch
	bud  *budget
	asm  *reassembly.Assembler
	h    handler
	rec  recorder
}

// newEv returns an empty evBatch.
func (s *shard) newEv() *evBatch {
	select {
	case eb := <-s.free:
		return eb
	default:
	}
	if eb, _ := evPool.Get().(*evBatch); eb != nil {
		return eb
	}
	return &evBatch{}
}

// send hands eb (events of batch seq) to the merger once the budget lets
// it; false when the run is over.
func (s *shard) send(seq uint64, eb *evBatch) bool {
	eb.bytes = eb.size()
	if !s.bud.acquire(seq, int(s.id), eb.bytes) {
		return false
	}
	select {
	case s.out <- eb:
		return true
	case <-s.done:
		return false
	}
}

func (s *shard) run() {
	for {
		var b *batch
		select {
		case b = <-s.in:
		case <-s.done:
			return
		}
		rc := &s.rec
		rc.cur, rc.seq = s.newEv(), b.seq
		for i := range b.pkts {
			if rc.over {
				return
			}
			p := &b.pkts[i]
			rc.pos, rc.phase, rc.group = uint32(i), phaseFlush, len(rc.cur.evs)
			s.asm.Tick(p.Time)
			if len(rc.cur.evs) > rc.group {
				rc.detect()
				rc.closeGroup(math.MaxUint64)
			}
			if b.owner[i] == s.id {
				rc.phase = phasePacket
				s.asm.Add(p)
				rc.detect()
			}
		}
		final, last, seq := b.final, b.last, b.seq
		b.release(s.pool)
		if final {
			rc.pos, rc.phase, rc.group = math.MaxUint32, phaseClose, len(rc.cur.evs)
			s.asm.Close(last)
			rc.detect()
			rc.closeGroup(math.MaxUint64)
			rc.cur.final, rc.cur.stats = true, s.asm.Stats()
		}
		if rc.over || !s.send(seq, rc.cur) {
			return
		}
		rc.cur = nil
		if final {
			return
		}
	}
}

// recorder is a shard's output: it records events into the current
// evBatch.
type recorder struct {
	shard    *shard
	cur      *evBatch
	pos      uint32
	phase    uint8
	group    int    // first event of the current flush/close group
	detected uint64 // upgrades reported by detect events
	seq      uint64 // the batch being recorded
	over     bool   // the run ended while a chunk waited: record no more
	// format renders messages for the Sink's MessageFormatted (nil: the
	// merger calls Message).
	format func(dst []byte, m *wsdecode.Message) []byte
}

func (r *recorder) add(kind uint8, pc *Conn, x uint64) {
	r.cur.evs = append(r.cur.evs, event{x: x, pc: pc, pos: r.pos, phase: r.phase, kind: kind})
}

// detect records upgrades the Assembler detected since the last call.
func (r *recorder) detect() {
	if n := r.shard.asm.Stats().Upgrades; n > r.detected {
		r.add(evDetect, nil, n-r.detected)
		r.detected = n
	}
}

// closeGroup keys the events since the group began (flush and close
// phases) and starts a new group.
func (r *recorder) closeGroup(key uint64) {
	evs := r.cur.evs
	if r.phase == phasePacket {
		return
	}
	for i := r.group; i < len(evs); i++ {
		evs[i].key = key
	}
	r.group = len(evs)
}

func (r *recorder) open(pc *Conn, id uint64) {
	r.detect()
	r.add(evOpen, pc, id)
}

func (r *recorder) message(pc *Conn, m *wsdecode.Message) {
	e := r.cur
	e.msgs = append(e.msgs, shardMsg{})
	mr := &e.msgs[len(e.msgs)-1]
	mr.m = *m
	mr.m.Payload, mr.m.Frames, mr.m.Anomalies = nil, nil, nil
	if len(m.Anomalies) > 0 {
		mr.anOff, mr.anLen = len(e.manoms), len(m.Anomalies)
		e.manoms = append(e.manoms, m.Anomalies...)
	}
	if r.format != nil && len(m.Payload) <= maxPreformat {
		// The Sink renders the payload and frames: not kept.
		mr.formatted = true
		mr.preOff = len(e.pre)
		e.pre = r.format(e.pre, m)
		mr.preLen = len(e.pre) - mr.preOff
	} else {
		mr.payNil = m.Payload == nil
		mr.payOff, mr.payLen = len(e.pay), len(m.Payload)
		e.pay = append(e.pay, m.Payload...)
		mr.frOff, mr.frLen = len(e.frames), len(m.Frames)
		e.frames = append(e.frames, m.Frames...)
	}
	r.add(evMessage, pc, uint64(len(e.msgs)-1))
	if e.recorded() > chunkBytes {
		r.chunk()
	}
}

// chunk hands the events recorded so far to the merger, as a chunk of the
// current batch, where that is possible: between packets' events (phase
// packet), or in a flush or close group, whose key is then known from the
// connection being ended (the Assembler ends one connection at a time, all
// its events followed by its End; see recorder.end). It waits for the
// budget (see budget.acquire).
func (r *recorder) chunk() {
	if r.over {
		r.cur.reset() // nobody will read them
		return
	}
	if r.phase != phasePacket {
		c := r.shard.h.cur
		if c == nil || c.Last == 0 {
			return // not ending: no key yet
		}
		if r.phase == phaseFlush {
			r.closeGroup(c.Last)
		} else {
			r.closeGroup(c.Born)
		}
	}
	e := r.cur
	e.more = true
	if !r.shard.send(r.seq, e) {
		r.over = true
		e.reset()
		return
	}
	r.cur = r.shard.newEv()
	r.group = 0
}

func (r *recorder) anomaly(pc *Conn, a *Anomaly) {
	e := r.cur
	e.anoms = append(e.anoms, *a)
	r.add(evAnomaly, pc, uint64(len(e.anoms)-1))
}

func (r *recorder) end(pc *Conn, c *reassembly.Conn, why reassembly.EndReason, at reassembly.Meta) {
	e := r.cur
	r.detect()
	e.ends = append(e.ends, endRec{why: why, at: at})
	r.add(evEnd, pc, uint64(len(e.ends)-1))
	switch r.phase {
	case phaseFlush:
		r.closeGroup(c.Last)
	case phaseClose:
		r.closeGroup(c.Born)
	}
}

// budget bounds the bytes of events the shards have recorded and the
// merger has not delivered yet (a burst of huge messages, e.g. inflated
// ones, would otherwise pile up in every shard's queue). A shard that would
// exceed it waits, unless nothing is pending, or its events belong to the
// batch the merger is merging (front) and the merger holds nothing else of
// that shard's: the merger waits for a shard's next chunk of the front
// batch only once it has released the previous one, so that chunk always
// passes and the wait cannot deadlock. The bound is max plus one chunk per
// shard (chunkBytes plus the last message recorded).
type budget struct {
	mu    sync.Mutex
	cond  sync.Cond
	used  int64
	held  []int64 // used, per shard
	max   int64
	front uint64 // the batch the merger is merging next
	done  bool
}

func (b *budget) init(max int64, shards int) {
	b.max = max
	b.held = make([]int64, shards)
	b.cond.L = &b.mu
}

// acquire takes n bytes for events of batch seq recorded by shard; false
// when the run is over.
func (b *budget) acquire(seq uint64, shard int, n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.done && b.used > 0 && b.used+n > b.max && (seq > b.front || b.held[shard] > 0) {
		b.cond.Wait()
	}
	b.used += n
	b.held[shard] += n
	return !b.done
}

// release returns n bytes of shard's once the merger has delivered them.
func (b *budget) release(shard int, n int64) {
	b.mu.Lock()
	b.used -= n
	b.held[shard] -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

// advance records that the batches before front were delivered.
func (b *budget) advance(front uint64) {
	b.mu.Lock()
	b.front = front
	b.mu.Unlock()
	b.cond.Broadcast()
}

// stop wakes every waiting shard for good.
func (b *budget) stop() {
	b.mu.Lock()
	b.done = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

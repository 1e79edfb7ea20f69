package pipeline

import (
	"reflect"

	"github.com/wsscope/wsscope/reassembly"
)

// merger delivers the shards' events to the Sink in serial order (see
// shard.go). It runs on Run's goroutine.
type merger struct {
	r   *sharded
	d   deliverer
	cur []*evBatch // the shards' events for the current batch
	at  []int      // next event of each
	// ids maps each shard's Conn.ID to the run's: the merger numbers
	// detections in merged order (nextID) and each shard's in its own
	// order (local).
	ids     []map[uint64]uint64
	local   []uint64
	nextID  uint64
	msg     shardMsg // the message being delivered
	batches uint64   // batches delivered
}

func newMerger(r *sharded, sink Sink) *merger {
	m := &merger{
		r:     r,
		d:     deliverer{sink: sink},
		cur:   make([]*evBatch, r.n),
		at:    make([]int, r.n),
		ids:   make([]map[uint64]uint64, r.n),
		local: make([]uint64, r.n),
	}
	for i := range m.ids {
		m.ids[i] = map[uint64]uint64{}
	}
	return m
}

// before reports whether event a comes before b in serial order (a and b
// from different shards).
func before(a, b *event) bool {
	if a.pos != b.pos {
		return a.pos < b.pos
	}
	if a.phase != b.phase {
		return a.phase < b.phase
	}
	return a.key < b.key
}

func (m *merger) run() (Stats, error) {
	var rs reassembly.Stats
	for {
		for i, s := range m.r.shards {
			m.cur[i], m.at[i] = <-s.out, 0
		}
		m.merge()
		final := false
		for i := range m.r.shards {
			eb := m.cur[i]
			if final = eb.final; final {
				rs = addStats(rs, eb.stats)
			}
			m.done(i)
		}
		m.batches++
		m.r.budget.advance(m.batches)
		if final {
			break
		}
	}
	// The reader wrote these before sending the final batch.
	st := m.r.stats
	d := &m.d
	d.stats.Packets, d.stats.Bytes, d.stats.Capture = st.Packets, st.Bytes, st.Capture
	d.stats.Reassembly = rs
	d.stats.Shards = m.r.n
	d.captureAnomalies(m.r.last)
	return d.stats, m.r.err
}

// merge delivers the events of the current batch: repeatedly the earliest
// head among the shards, and from that shard every event up to the next
// shard's head.
func (m *merger) merge() {
	n := len(m.cur)
	for {
		// A shard's chunk used up: its next one (see recorder.chunk).
		for i := 0; i < n; i++ {
			for m.at[i] == len(m.cur[i].evs) && m.cur[i].more {
				m.done(i)
				m.cur[i], m.at[i] = <-m.r.shards[i].out, 0
			}
		}
		best := -1
		for i := 0; i < n; i++ {
			if m.at[i] < len(m.cur[i].evs) && (best < 0 || before(&m.cur[i].evs[m.at[i]], &m.cur[best].evs[m.at[best]])) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		// The earliest head of the other shards bounds the run.
		var bound *event
		for i := 0; i < n; i++ {
			if i != best && m.at[i] < len(m.cur[i].evs) {
				if e := &m.cur[i].evs[m.at[i]]; bound == nil || before(e, bound) {
					bound = e
				}
			}
		}
		eb, evs := m.cur[best], m.cur[best].evs
		k := m.at[best]
		for k < len(evs) && (bound == nil || !before(bound, &evs[k])) {
			m.deliver(best, eb, &evs[k])
			k++
		}
		m.at[best] = k
	}
}

// done releases shard i's current events (delivered) and returns them for
// reuse.
func (m *merger) done(i int) {
	eb := m.cur[i]
	m.r.budget.release(i, eb.bytes)
	eb.reset()
	select {
	case m.r.shards[i].free <- eb:
	default:
	}
	m.cur[i] = nil
}

func (m *merger) deliver(s int, eb *evBatch, e *event) {
	switch e.kind {
	case evDetect:
		for j := uint64(0); j < e.x; j++ {
			m.local[s]++
			m.nextID++
			m.ids[s][m.local[s]] = m.nextID
		}
	case evOpen:
		id := m.ids[s][e.x]
		delete(m.ids[s], e.x)
		m.d.open(e.pc, id)
	case evMessage:
		mr := &eb.msgs[e.x]
		msg := &mr.m
		if !mr.payNil && !mr.formatted {
			msg.Payload = eb.pay[mr.payOff : mr.payOff+mr.payLen : mr.payOff+mr.payLen]
		}
		if mr.frLen > 0 {
			msg.Frames = eb.frames[mr.frOff : mr.frOff+mr.frLen : mr.frOff+mr.frLen]
		}
		if mr.anLen > 0 {
			msg.Anomalies = eb.manoms[mr.anOff : mr.anOff+mr.anLen : mr.anOff+mr.anLen]
		}
		if mr.formatted {
			m.d.messageFormatted(e.pc, msg, eb.pre[mr.preOff:mr.preOff+mr.preLen:mr.preOff+mr.preLen])
		} else {
			m.d.message(e.pc, msg)
		}
	case evAnomaly:
		m.d.anomaly(e.pc, &eb.anoms[e.x])
	case evEnd:
		en := &eb.ends[e.x]
		m.d.end(e.pc, nil, en.why, en.at)
	}
}

// addStats sums the counters of two Assemblers (every integer field, so
// that counters added to reassembly.Stats are summed too).
func addStats(a, b reassembly.Stats) reassembly.Stats {
	va, vb := reflect.ValueOf(&a).Elem(), reflect.ValueOf(b)
	for i := 0; i < va.NumField(); i++ {
		switch f := va.Field(i); f.Kind() {
		case reflect.Uint64, reflect.Uint32, reflect.Uint, reflect.Uint16, reflect.Uint8:
			f.SetUint(f.Uint() + vb.Field(i).Uint())
		case reflect.Int64, reflect.Int32, reflect.Int, reflect.Int16, reflect.Int8:
			f.SetInt(f.Int() + vb.Field(i).Int())
		}
	}
	return a
}

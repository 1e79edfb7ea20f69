package tui

import (
	"sync"
	"sync/atomic"
	"time"
)

// Work that reads many payloads from the spill (payload filters, search,
// export) runs on background goroutines so that the UI never freezes on a
// large capture. A job never touches the UI's state: it works on copies
// (snapshot, view; both append-only and safe to read concurrently) and
// posts its results to the mailbox; the ticker notices the post and the
// next refresh, on the event goroutine, applies them. A job is cancelled by
// its stop flag (a new filter or search, Esc, quitting); Run waits for the
// jobs to end before it returns.

// Inline limits: below these, work is done at once on the event goroutine
// (a small capture, or the few messages appended since the last tick).
const (
	inlineIndexScan   = 1 << 20 // messages filtered by index fields only
	inlinePayloadScan = 16 << 10

	scanBatch = 64 << 10 // messages per posted batch
)

// inlineSearch is how long a search runs on the event goroutine before it
// moves to a background job (a variable for tests).
var inlineSearch = 30 * time.Millisecond

type scanResult struct {
	gen     int
	idx     []uint32
	scanned int
	done    bool // the job ended (caught up or stopped)
}

type findResult struct {
	gen int
	msg int64 // message index found, -1 none
}

// mailbox carries job results to the event goroutine.
type mailbox struct {
	mu     sync.Mutex
	scans  []scanResult
	finds  []findResult
	notes  []string
	posted atomic.Uint64 // bumped at every post (the ticker polls it)
}

func (b *mailbox) post(f func()) {
	b.mu.Lock()
	f()
	b.mu.Unlock()
	b.posted.Add(1)
}

// job is one background goroutine with a stop flag.
type job struct {
	stopped atomic.Bool
	done    chan struct{}
}

func (j *job) stop() {
	if j != nil {
		j.stopped.Store(true)
	}
}

func (j *job) running() bool {
	if j == nil {
		return false
	}
	select {
	case <-j.done:
		return false
	default:
		return true
	}
}

// start runs f on a new goroutine tracked by u.jobs.
func (u *ui) start(f func(j *job)) *job {
	j := &job{done: make(chan struct{})}
	u.jobs.Add(1)
	go func() {
		defer u.jobs.Done()
		f(j)
		close(j.done)
		u.box.posted.Add(1) // one more refresh sees the job ended
	}()
	return j
}

// stopJobs stops every job and waits for them (Run's exit).
func (u *ui) stopJobs() {
	u.scanJob.stop()
	u.findJob.stop()
	u.exportJob.stop()
	u.jobs.Wait()
}

// scanView brings u.view up to date with u.snap: inline when little is
// left to scan, else on a background job that posts batches.
func (u *ui) scanView() {
	left := u.snap.nMsgs() - u.view.scanned
	if left <= 0 || u.scanJob.running() {
		return
	}
	limit := inlineIndexScan
	if u.view.filter.needsPayload() {
		limit = inlinePayloadScan
	}
	if u.view.all || left <= limit {
		u.viewGrew(u.view.sync(&u.snap))
		return
	}
	gen, f, from := u.viewGen, u.view.filter, u.view.scanned
	m, box := u.m, &u.box
	u.scanJob = u.start(func(j *job) {
		for !j.stopped.Load() {
			s := m.snapshot()
			to := s.nMsgs()
			if from >= to {
				break
			}
			v := msgView{filter: f, scanned: from}
			v.syncTo(&s, min(to, from+scanBatch), j.stopped.Load)
			r := scanResult{gen: gen, idx: make([]uint32, v.rows()), scanned: v.scanned}
			for i := range r.idx {
				r.idx[i] = v.at(i)
			}
			from = v.scanned
			box.post(func() { box.scans = append(box.scans, r) })
		}
		box.post(func() { box.scans = append(box.scans, scanResult{gen: gen, scanned: from, done: true}) })
	})
}

// drain applies the posted job results (event goroutine).
func (u *ui) drain() {
	b := &u.box
	b.mu.Lock()
	scans, finds, notes := b.scans, b.finds, b.notes
	b.scans, b.finds, b.notes = nil, nil, nil
	b.mu.Unlock()
	added := 0
	for _, r := range scans {
		if r.gen != u.viewGen || r.scanned < u.view.scanned {
			continue
		}
		for _, i := range r.idx {
			if int(i) >= u.view.scanned {
				u.view.add(i)
				added++
			}
		}
		u.view.scanned = r.scanned
	}
	u.viewGrew(added)
	for _, f := range finds {
		if f.gen != u.findGen {
			continue
		}
		u.searching = false
		if f.msg < 0 {
			u.status.notify("not found: " + u.search.text)
			continue
		}
		if r := u.view.rowOf(uint32(f.msg)); r < u.view.rows() {
			u.selectRow(r)
		}
	}
	for _, n := range notes {
		u.status.notify(n)
	}
}

// viewGrew follows new rows (follow mode) and resolves a selection waiting
// for its message to be scanned (applyFilter).
func (u *ui) viewGrew(added int) {
	if added > 0 && u.follow {
		u.msgs.table.Select(u.view.rows(), 0)
		u.msgs.table.ScrollToEnd()
	}
	if u.pendingSel >= 0 {
		r := u.view.rowOf(uint32(u.pendingSel))
		switch {
		case r < u.view.rows():
			u.pendingSel = -1
			u.selectRow(r)
		case u.view.scanned >= u.snap.nMsgs() && !u.scanJob.running():
			u.pendingSel = -1
			u.selectRow(u.view.rows() - 1)
		}
	}
}

// scanProgress returns the share of messages scanned by a filter still
// being applied in the background, and whether one is.
func (u *ui) scanProgress() (int, bool) {
	n := u.snap.nMsgs()
	if !u.scanJob.running() || n == 0 {
		return 0, false
	}
	return u.view.scanned * 100 / n, true
}

// startFind searches from row in direction dir: inline for a few
// milliseconds, then on a background job (the UI says "searching…").
func (u *ui) startFind(row, dir int) {
	u.findJob.stop()
	u.findGen++
	q := u.search
	deadline := time.Now().Add(inlineSearch)
	r := q.find(&u.snap, &u.view, row, dir, func() bool { return time.Now().After(deadline) })
	switch {
	case r >= 0:
		u.searching = false
		u.selectRow(r)
		return
	case r == -1:
		u.searching = false
		u.status.notify("not found: " + q.text)
		return
	}
	u.searching = true
	gen, s, v, box := u.findGen, u.snap, u.view, &u.box
	u.findJob = u.start(func(j *job) {
		r := q.find(&s, &v, row, dir, j.stopped.Load)
		if r == -2 {
			return
		}
		msg := int64(-1)
		if r >= 0 {
			msg = int64(v.at(r))
		}
		box.post(func() { box.finds = append(box.finds, findResult{gen: gen, msg: msg}) })
	})
}

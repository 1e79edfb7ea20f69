package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/pcaps/synth"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// shardCounts are the shard counts every equivalence check compares with
// the serial run.
var shardCounts = []int{2, 3, 4}

// runShards runs the source open returns with opts.Shards = 1 and then with
// each of shardCounts, and fails unless every run gave the same Sink calls
// (every field of every call: recSink.full), Stats (but Shards and the
// per-shard MaxBufferedObs) and error. It returns the serial run.
func runShards(t testing.TB, opts Options, open func() capture.Source) (*recSink, Stats, error) {
	t.Helper()
	run := func(n int) (*recSink, Stats, error) {
		src := open()
		defer src.Close()
		sink := newRecSink(t)
		o := opts
		o.Shards = n
		st, err := Run(context.Background(), src, o, sink)
		if st.Shards != n {
			t.Errorf("Stats.Shards %d, want %d", st.Shards, n)
		}
		return sink, st, err
	}
	sink, st, err := run(1)
	for _, n := range shardCounts {
		s2, st2, err2 := run(n)
		compareRuns(t, n, sink, s2)
		if fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Errorf("%d shards: error %v, serial %v", n, err2, err)
		}
		a, b := st, st2
		a.Shards, b.Shards = 0, 0
		a.Reassembly.MaxBufferedObs, b.Reassembly.MaxBufferedObs = 0, 0
		if a != b {
			t.Errorf("%d shards: stats\n%+v\nserial\n%+v", n, b, a)
		}
	}
	return sink, st, err
}

// compareRuns fails at the first Sink call that differs.
func compareRuns(t testing.TB, n int, serial, sharded *recSink) {
	t.Helper()
	a, b := serial.full, sharded.full
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			t.Errorf("%d shards: Sink call %d of %d differs:\n got %.400s\nwant %.400s", n, i, len(a), b[i], a[i])
			return
		}
	}
	if len(a) != len(b) {
		t.Errorf("%d shards: %d Sink calls, serial %d", n, len(b), len(a))
	}
}

// TestShardsManyConns: hundreds of interleaved connections (requests and
// responses of different connections interleaved, so upgrades are detected
// and reported in different orders; reordering, duplicates, losses) give
// the same Sink calls for every shard count.
func TestShardsManyConns(t *testing.T) {
	for _, o := range []synth.Options{
		{Interleave: synth.Random, Seed: 11},
		{Interleave: synth.Random, Seed: 12, Reorder: 0.2, Duplicate: 0.2, DropProb: 0.01, MSS: 300},
		{Interleave: synth.RoundRobin, OmitHandshakeSYN: true, MSS: 500},
	} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			data, _ := craftCapture(t, 300, 4, 600, o)
			sink, st, err := runBytes(t, data)
			if err != nil || st.WebSockets < 290 || len(sink.open) != 0 {
				t.Fatalf("err %v, %d websockets, %d open", err, st.WebSockets, len(sink.open))
			}
			ids := make([]uint64, 0, len(sink.conns))
			for _, c := range sink.conns {
				ids = append(ids, c.ID)
			}
			slices.Sort(ids)
			if ids[0] != 1 || ids[len(ids)-1] != uint64(len(ids)) {
				t.Errorf("IDs %v...", ids[:5])
			}
		})
	}
}

// TestShardsIdleTimeouts: connections that stay open end by idle timeout at
// flushes whose ended connections come from every shard; they must end in
// the serial order (least recently active first) with the same packets.
func TestShardsIdleTimeouts(t *testing.T) {
	var cs []*synth.Conn
	for i := 0; i < 120; i++ {
		c, _ := craftConn(i, 1+i%3, 80)
		// Two out of three connections never close; a few of them
		// are not WebSockets (no 101).
		if i%3 != 0 {
			c.Close = synth.CloseNone
			c.Chunks = c.Chunks[:len(c.Chunks)-2]
		}
		if i%10 == 5 {
			c.Chunks[1].Data = []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			c.Chunks = c.Chunks[:2]
		}
		cs = append(cs, c)
	}
	for _, interleave := range []synth.Interleave{synth.Sequential, synth.Random} {
		var buf bytes.Buffer
		if _, err := synth.Write(&buf, cs, synth.Options{Interleave: interleave, Seed: 5, Step: time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		opts := Options{Reassembly: reassembly.Config{IdleTimeout: 40 * time.Millisecond, WebSocketIdleTimeout: 60 * time.Millisecond}}
		sink, _, err := runShards(t, opts, func() capture.Source {
			src, err := capture.OpenReader(bytes.NewReader(data), "idle.pcap", capture.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return src
		})
		if err != nil {
			t.Fatal(err)
		}
		timeouts := 0
		for _, c := range sink.conns {
			if c.Summary.EndReason == reassembly.EndTimeout {
				timeouts++
			}
		}
		if timeouts < 20 {
			t.Errorf("interleave %v: only %d idle timeouts", interleave, timeouts)
		}
		t.Logf("interleave %v: %d conns, %d idle timeouts, %d calls", interleave, len(sink.conns), timeouts, len(sink.full))
	}
}

// TestShardsSourceError: a source error after some packets (a damaged
// file) is returned after everything before it was delivered, the same for
// every shard count; truncated mid-connection, connections end with
// capture-end.
func TestShardsSourceError(t *testing.T) {
	data, _ := craftCapture(t, 40, 5, 300, synth.Options{Interleave: synth.Random, Seed: 3})
	pk := packetsOf(t, data)
	ferr := &capture.FormatError{Path: "x", Offset: 99, Err: errors.New("bad record")}
	for _, cut := range []int{len(pk), len(pk) / 2, len(pk) / 3, 1, 0} {
		sink, _, err := runShards(t, Options{}, func() capture.Source { return &sliceSource{pkts: pk[:cut], err: ferr} })
		if !errors.Is(err, ferr) || len(sink.open) != 0 {
			t.Errorf("cut %d: err %v, %d open", cut, err, len(sink.open))
		}
	}
	// A real file cut short: the capture reader's own error.
	for _, cut := range []int{len(data) / 2, len(data) - 7} {
		sink, _, err := runShards(t, Options{}, func() capture.Source {
			src, err := capture.OpenReader(bytes.NewReader(data[:cut]), "cut.pcap", capture.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return src
		})
		var fe *capture.FormatError
		if !errors.As(err, &fe) && err != nil {
			t.Errorf("cut %d: err %v", cut, err)
		}
		if len(sink.open) != 0 || len(sink.conns) == 0 {
			t.Errorf("cut %d: %d conns, %d open", cut, len(sink.conns), len(sink.open))
		}
	}
}

// TestShardsCancel: cancelling stops reading early; every opened
// connection is still ended and Run returns ctx.Err().
func TestShardsCancel(t *testing.T) {
	data, _ := craftCapture(t, 8, 2000, 100, synth.Options{})
	pk := packetsOf(t, data)
	for _, n := range []int{1, 2, 3, 4} {
		ctx, cancel := context.WithCancel(context.Background())
		sink := &cancelSink{recSink: newRecSink(t), cancel: cancel, after: 3}
		st, err := Run(ctx, &sliceSource{pkts: pk}, Options{Shards: n}, sink)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%d shards: err %v", n, err)
		}
		if st.Packets >= uint64(len(pk)) || len(sink.open) != 0 {
			t.Errorf("%d shards: processed %d of %d packets, %d conns open", n, st.Packets, len(pk), len(sink.open))
		}
		for _, c := range sink.conns {
			if c.Summary.EndReason != reassembly.EndCapture {
				t.Errorf("%d shards: conn %d ended %s", n, c.ID, c.Summary.EndReason)
			}
		}
	}
	// Cancelled before the first packet.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, n := range []int{1, 2} {
		_, err := Run(ctx, &sliceSource{pkts: pk}, Options{Shards: n}, newRecSink(t))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%d shards: err %v", n, err)
		}
	}
}

// TestShardsEviction: MaxConns is divided among the shards; evictions are
// still reported once, as the last call.
func TestShardsEviction(t *testing.T) {
	data, _ := craftCapture(t, 12, 2, 50, synth.Options{})
	for _, n := range []int{1, 2, 3} {
		src, err := capture.OpenReader(bytes.NewReader(data), "x", capture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sink := newRecSink(t)
		st, err := Run(context.Background(), src, Options{Shards: n, Reassembly: reassembly.Config{MaxConns: 3}}, sink)
		if err != nil || st.Reassembly.Evicted == 0 || len(sink.open) != 0 {
			t.Fatalf("%d shards: err %v stats %+v", n, err, st.Reassembly)
		}
		if last := sink.calls[len(sink.calls)-1]; !strings.HasPrefix(last, "anom 0 limit") {
			t.Errorf("%d shards: last call %q", n, last)
		}
	}
}

// TestFlowHashSymmetric: both directions of a connection go to the same
// shard.
func TestFlowHashSymmetric(t *testing.T) {
	data, _ := craftCapture(t, 50, 1, 10, synth.Options{})
	counts := map[uint64]int{}
	for _, p := range packetsOf(t, data) {
		if flowHash(p.Src, p.Dst) != flowHash(p.Dst, p.Src) {
			t.Fatalf("hash of %v→%v differs from reverse", p.Src, p.Dst)
		}
		counts[flowHash(p.Src, p.Dst)%2]++
	}
	if counts[0] == 0 || counts[1] == 0 {
		t.Errorf("50 connections all in one of 2 shards: %v", counts)
	}
}

// fmtSink is a recSink that also implements MessageFormatter: a sharded run
// renders messages on the shards; what reaches MessageFormatted must be
// the rendering of the message delivered with it.
type fmtSink struct {
	*recSink
	formatted int
}

// render is the formatter: every field, the payload and frames last.
func render(dst []byte, m *wsdecode.Message) []byte {
	mm := *m
	mm.Payload, mm.Frames = nil, nil
	return fmt.Appendf(dst, "%+v|%q|%+v", mm, m.Payload, m.Frames)
}

func (s *fmtSink) NewMessageFormatter() func(dst []byte, m *wsdecode.Message) []byte { return render }

func (s *fmtSink) Message(c *Conn, m *wsdecode.Message) {
	s.full = append(s.full, fmt.Sprintf("msg %d %s %+v", c.ID, render(nil, m), c.Summary))
}

func (s *fmtSink) MessageFormatted(c *Conn, m *wsdecode.Message, pre []byte) {
	if m.Payload != nil || m.Frames != nil {
		s.t.Errorf("MessageFormatted with payload or frames")
	}
	if want := render(nil, m); !bytes.HasPrefix(pre, want[:len(want)-len("|\"\"|[]")]) {
		s.t.Errorf("preformatted %.200s\nfor message %.200s", pre, want)
	}
	s.formatted++
	s.full = append(s.full, fmt.Sprintf("msg %d %s %+v", c.ID, pre, c.Summary))
}

// TestShardsMessageFormatter: with a Sink implementing MessageFormatter,
// sharded runs deliver every message through MessageFormatted, rendered
// from the same message, and the calls are those of the serial run.
func TestShardsMessageFormatter(t *testing.T) {
	data, _ := craftCapture(t, 60, 4, 500, synth.Options{Interleave: synth.Random, Seed: 4, Reorder: 0.2})
	var serial *recSink
	for _, n := range []int{1, 2, 3} {
		src, err := capture.OpenReader(bytes.NewReader(data), "x", capture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sink := &fmtSink{recSink: newRecSink(t)}
		if _, err := Run(context.Background(), src, Options{Shards: n}, sink); err != nil {
			t.Fatal(err)
		}
		switch {
		case n == 1:
			serial = sink.recSink
			if sink.formatted != 0 {
				t.Errorf("serial run preformatted %d messages", sink.formatted)
			}
		case sink.formatted != countMsgs(serial.full) || sink.formatted < 400:
			t.Errorf("%d shards: %d of %d messages preformatted", n, sink.formatted, countMsgs(serial.full))
		default:
			compareRuns(t, n, serial, sink.recSink)
		}
	}
}

func countMsgs(full []string) int {
	n := 0
	for _, c := range full {
		if strings.HasPrefix(c, "msg ") {
			n++
		}
	}
	return n
}

// TestBudget: a shard waits while the pending events exceed the budget,
// except for events of the batch the merger is merging when the merger
// holds nothing else of that shard's, and stop releases waiters.
func TestBudget(t *testing.T) {
	var b budget
	b.init(100, 2)
	if !b.acquire(0, 0, 80) || !b.acquire(0, 1, 80) { // front batch, nothing held: passes
		t.Fatal("acquire failed")
	}
	got := make(chan bool)
	wait := func(what string) {
		t.Helper()
		select {
		case <-got:
			t.Fatalf("%s did not wait", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
	go func() { got <- b.acquire(0, 0, 10) }() // front, but shard 0 holds a chunk
	wait("a second chunk of the front batch")
	b.release(0, 80) // the merger delivered shard 0's first chunk
	if ok := <-got; !ok {
		t.Fatal("acquire failed after release")
	}
	go func() { got <- b.acquire(1, 0, 20) }() // 90 + 20 > 100, not the front
	wait("acquire beyond the budget")
	b.release(1, 80)
	b.release(0, 10)
	b.advance(1) // batch 0 delivered
	if ok := <-got; !ok {
		t.Fatal("acquire failed after release")
	}
	go func() { got <- b.acquire(3, 1, 95) }() // 20 + 95 > 100: waits
	wait("acquire beyond the budget")
	b.stop()
	if <-got {
		t.Error("acquire after stop reported success")
	}
}

// TestShardsChunks reruns the equivalence checks with a shard handing its
// events over after every message (chunkBytes 1) and a budget of a few
// KiB, so that chunks cut packets' events, flush groups (idle timeouts)
// and close groups (capture end, holes given up), and shards wait for the
// budget within the batch the merger is merging: the Sink calls must stay
// those of the serial run, without deadlock.
func TestShardsChunks(t *testing.T) {
	defer func(c, p int64) { chunkBytes, maxPending = c, p }(chunkBytes, maxPending)
	chunkBytes, maxPending = 1, 4<<10
	t.Run("ManyConns", TestShardsManyConns)
	t.Run("IdleTimeouts", TestShardsIdleTimeouts)
	t.Run("SourceError", TestShardsSourceError)
	t.Run("MessageFormatter", TestShardsMessageFormatter)
	t.Run("Cancel", TestShardsCancel)
}

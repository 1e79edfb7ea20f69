package tui

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

const benchMessages = 200_000

// benchPayload is a typical ~100-byte JSON message.
func benchPayload(i int) []byte {
	return fmt.Appendf(nil, `{"type":"trade","seq":%d,"sym":"BTC-USD","px":%d.25,"qty":%d,"side":"buy","ts":1732536000%03d}`, i, 90000+i%1000, i%17, i%1000)
}

// loadModel feeds n messages over 10 connections, reusing the message
// buffers as the pipeline does.
func loadModel(tb testing.TB, m *Model, n int) {
	f := newFeeder(m)
	var conns []*pipeline.Conn
	for i := 0; i < 10; i++ {
		conns = append(conns, f.open(fmt.Sprintf("h%d.example", i), "/ws", true, nil, wsdecode.Deflate{}))
	}
	msg := &wsdecode.Message{Frames: make([]wsdecode.Frame, 1)}
	for i := 0; i < n; i++ {
		p := benchPayload(i)
		at := wsdecode.Meta{Time: t0.Add(msgTick(i)), Packet: uint64(i + 100)}
		dir := wsdecode.Dir(i & 1)
		op := wsdecode.OpText
		if i%50 == 0 {
			op = wsdecode.OpPing
		}
		*msg = wsdecode.Message{Dir: dir, Opcode: op, Payload: p, Len: int64(len(p)), WireLen: int64(len(p) + 6),
			First: at, Last: at, Masked: dir == 0, Frames: msg.Frames[:1]}
		msg.Frames[0] = wsdecode.Frame{Fin: true, Opcode: op, Masked: dir == 0, PayloadLen: uint64(len(p)), HeaderLen: 6, First: at, Last: at}
		if i%1000 == 0 {
			msg.Anomalies = []wsdecode.Anomaly{{Code: "invalid-utf8", Detail: "bad", Dir: dir, At: at}}
		}
		m.Message(conns[i%10], msg)
	}
}

func msgTick(i int) time.Duration { return time.Duration(i) * 50 * time.Microsecond }

// BenchmarkModelLoad measures feeding the model (the analysis goroutine's
// cost per message) and the memory kept per message.
func BenchmarkModelLoad(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload(123456))) * benchMessages)
	var perMsg float64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, off0 := offheapMapped()
		m := NewModel(ModelOptions{})
		loadModel(b, m, benchMessages)
		runtime.GC()
		runtime.ReadMemStats(&after)
		_, off1 := offheapMapped()
		perMsg = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)+off1-off0) / benchMessages
		runtime.KeepAlive(m)
		m.Close()
	}
	b.ReportMetric(perMsg, "bytes/msg")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchMessages, "ns/msg")
}

// BenchmarkDrawMessages loads 200,000 messages, then scrolls through the
// messages pane, one full application draw per op, on a simulation screen.
func BenchmarkDrawMessages(b *testing.B) {
	for _, tc := range []struct {
		name string
		size [2]int
		step int // rows moved per frame
	}{{"80x24/jump", [2]int{80, 24}, 7919}, {"80x24/step", [2]int{80, 24}, 1}, {"200x60/jump", [2]int{200, 60}, 7919}, {"200x60/step", [2]int{200, 60}, 1}} {
		size := tc.size
		b.Run(tc.name, func(b *testing.B) {
			m := NewModel(ModelOptions{})
			loadModel(b, m, benchMessages)
			s := tcell.NewSimulationScreen("UTF-8")
			if err := s.Init(); err != nil {
				b.Fatal(err)
			}
			s.SetSize(size[0], size[1])
			u := newUI(m, Options{NoFollow: true})
			u.setScreen(s)
			u.app.ForceDraw()
			if got := u.view.rows(); got != benchMessages {
				b.Fatalf("view has %d rows", got)
			}
			b.ReportAllocs()
			b.SetBytes(int64(size[0] * size[1])) // cells per frame
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// step 1 scrolls like j; a large step jumps like PgDn/G/g,
				// forcing new rows (cells, detail) every frame.
				u.msgs.table.Select(1+(i*tc.step)%benchMessages, 0)
				u.app.ForceDraw()
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/frame")
			var row int
			row, _ = u.msgs.table.GetSelection()
			if row < 1 {
				b.Fatal("no selection")
			}
		})
	}
}

// BenchmarkLiveTick measures the UI goroutine's work for one refresh tick at
// 20,000 messages/s and 15 Hz: 1,334 new messages (appended to a model of
// 200,000+, not timed) synced into a filtered view, follow mode selecting
// the newest, the detail re-rendered, and a full draw.
func BenchmarkLiveTick(b *testing.B) {
	m := NewModel(ModelOptions{})
	loadModel(b, m, benchMessages)
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		b.Fatal(err)
	}
	s.SetSize(120, 40)
	u := newUI(m, Options{})
	u.setScreen(s)
	u.setFilter("-ctl re:sym")
	u.app.ForceDraw()
	conn := &pipeline.Conn{ID: 99}
	m.ConnOpen(conn)
	msg := &wsdecode.Message{Frames: make([]wsdecode.Frame, 1)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer() // feeding happens on the analysis goroutine
		for k := 0; k < 1334; k++ {
			p := benchPayload(k)
			*msg = wsdecode.Message{Opcode: wsdecode.OpText, Payload: p, Len: int64(len(p)), Frames: msg.Frames[:1]}
			m.Message(conn, msg)
		}
		b.StartTimer()
		u.refresh()
		u.app.ForceDraw()
	}
	b.StopTimer()
	if !u.follow {
		b.Fatal("follow mode lost")
	}
}

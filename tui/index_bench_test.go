package tui

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/export"
	"github.com/wsscope/wsscope/pipeline"
)

// BenchmarkIndexCapture measures indexing throughput: a generated capture
// (bench/out/t-*.pcap, made by bench/gencap; skipped when missing) read
// through the real pipeline into the TUI's model ("model": index records
// in memory, details to the spill file), next to the same run into the
// JSON Lines writer to io.Discard ("json", what wsscope --json does). The
// model should cost no more than the JSON export (issue 6: the UI indexes
// at no less than half the export speed). cpu-ns/op is reported too: on a
// shared machine wall time overstates the cost.
func BenchmarkIndexCapture(b *testing.B) {
	for _, kind := range []string{"small", "mix", "large", "deflate"} {
		path := "../bench/out/t-" + kind + ".pcap"
		fi, err := os.Stat(path)
		if err != nil {
			continue
		}
		for _, sinkName := range []string{"model", "json"} {
			b.Run(kind+"/"+sinkName, func(b *testing.B) {
				b.SetBytes(fi.Size())
				b.ReportAllocs()
				var msgs uint64
				cpu0 := cpuTime()
				for i := 0; i < b.N; i++ {
					src, err := capture.OpenFile(path, capture.Options{})
					if err != nil {
						b.Fatal(err)
					}
					var sink pipeline.Sink
					var m *Model
					var jw *export.JSONWriter
					if sinkName == "model" {
						m = NewModel(ModelOptions{})
						sink = m
					} else {
						jw = export.NewJSONWriter(io.Discard)
						sink = jw
					}
					st, err := pipeline.Run(context.Background(), src, pipeline.Options{}, sink)
					src.Close()
					if err != nil {
						b.Fatal(err)
					}
					msgs = st.Messages
					if m != nil {
						if _, n, _ := m.Counts(); n != msgs {
							b.Fatalf("model has %d messages, pipeline %d", n, msgs)
						}
						m.Close()
					} else {
						jw.Flush()
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(msgs)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

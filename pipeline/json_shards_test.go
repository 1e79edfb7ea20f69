package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/export"
	"github.com/wsscope/wsscope/pcaps/synth"
	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

// TestShardsJSON: the JSON Lines export (messages rendered on the shards
// through pipeline.MessageFormatter) is byte-identical for every shard
// count, on hundreds of interleaved connections with damage.
func TestShardsJSON(t *testing.T) {
	many, _ := pipeline.CraftCapture(t, 400, 5, 300, synth.Options{Interleave: synth.Random, Seed: 21, Reorder: 0.1, Duplicate: 0.1, DropProb: 0.005, MSS: 400})
	// Messages over 1 MiB are not preformatted (Message instead).
	huge, _ := pipeline.CraftCapture(t, 6, 2, 1<<20+100, synth.Options{Interleave: synth.Random, Seed: 2})
	for _, c := range []struct {
		data []byte
		min  int
	}{{many, 3000}, {huge, 24}} {
		shardsJSON(t, c.data, c.min)
	}
}

func shardsJSON(t *testing.T, data []byte, minMsgs int) {
	run := func(shards int, wrap bool) []byte {
		src, err := capture.OpenReader(bytes.NewReader(data), "many.pcap", capture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var out bytes.Buffer
		w := export.NewJSONWriter(&out)
		var sink pipeline.Sink = w
		if wrap {
			sink = export.Tee(w, discard{}) // no MessageFormatter: merger renders
		}
		if _, err := pipeline.Run(context.Background(), src, pipeline.Options{Shards: shards}, sink); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	want := run(1, false)
	if n := bytes.Count(want, []byte(`{"record":"message"`)); n < minMsgs {
		t.Fatalf("only %d message records", n)
	}
	for _, shards := range []int{2, 3, 4} {
		for _, wrap := range []bool{false, true} {
			if got := run(shards, wrap); !bytes.Equal(got, want) {
				t.Errorf("%d shards (preformatted %v): JSON differs from the serial run at byte %s", shards, !wrap, firstDiff(got, want))
			}
		}
	}
}

func firstDiff(a, b []byte) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			lo := max(0, i-80)
			return fmt.Sprintf("%d: %q vs %q", i, a[lo:min(len(a), i+80)], b[lo:min(len(b), i+80)])
		}
	}
	return fmt.Sprintf("%d (lengths %d, %d)", min(len(a), len(b)), len(a), len(b))
}

type discard struct{}

func (discard) ConnOpen(*pipeline.Conn)                   {}
func (discard) Message(*pipeline.Conn, *wsdecode.Message) {}
func (discard) Anomaly(*pipeline.Conn, *pipeline.Anomaly) {}
func (discard) ConnEnd(*pipeline.Conn)                    {}

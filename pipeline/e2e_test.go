package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/pcaps/synth"
	"github.com/wsscope/wsscope/wsdecode"
)

// Recordings of real library exchanges, made once per test binary.
var (
	recOnce sync.Once
	recs    map[string]*synth.Recording
	recErr  error
)

func recordings(t testing.TB) map[string]*synth.Recording {
	t.Helper()
	recOnce.Do(func() {
		ctx := context.Background()
		recs = map[string]*synth.Recording{}
		for name, f := range map[string]func(context.Context) (*synth.Recording, error){
			"chat-deflate":        synth.ChatDeflate,
			"no-context-takeover": synth.NoContextTakeover,
			"fragmented":          synth.Fragmented,
			"binary":              synth.Binary,
			"plain":               synth.Plain,
			"refused":             synth.Refused,
			"ipv6":                synth.IPv6Chat,
			"many":                func(ctx context.Context) (*synth.Recording, error) { return synth.ManyConns(ctx, 6) },
		} {
			r, err := f(ctx)
			if err != nil {
				recErr = fmt.Errorf("%s: %w", name, err)
				return
			}
			recs[name] = r
		}
		recs["small-window"] = synth.SmallWindow(1)
	})
	if recErr != nil {
		t.Skipf("recording real WebSocket exchanges on loopback failed: %v", recErr)
	}
	return recs
}

func writeCapture(t testing.TB, rec *synth.Recording, opts synth.Options) ([]byte, synth.Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := synth.Write(&buf, rec.Conns, opts)
	if err != nil {
		t.Fatalf("synth.Write: %v", err)
	}
	return buf.Bytes(), res
}

// runBytes runs a capture in memory with 1 shard and checks that every
// other shard count gives the same Sink calls (runShards); it returns the
// 1-shard run.
func runBytes(t testing.TB, data []byte) (*recSink, Stats, error) {
	t.Helper()
	return runShards(t, Options{}, func() capture.Source {
		src, err := capture.OpenReader(bytes.NewReader(data), "test.pcap", capture.Options{})
		if err != nil {
			t.Fatalf("OpenReader: %v", err)
		}
		return src
	})
}

type msgKey struct {
	conn *Conn
	dir  wsdecode.Dir
	op   wsdecode.Opcode
	p    string
}

// verify checks the decoded messages against what the libraries sent:
// every undamaged message of a direction without damage before it is
// decoded byte-exactly, and every decoded message that is not marked
// (Incomplete, Truncated or with anomalies) was really sent.
func verify(t *testing.T, rec *synth.Recording, res synth.Result, sink *recSink) (exact, marked int) {
	t.Helper()
	byAddr := map[[2]string]*Conn{}
	for _, c := range sink.conns {
		byAddr[[2]string{c.Client.String(), c.Server.String()}] = c
	}
	firstDamage := map[[2]int]int64{} // conn,dir → offset of first damage
	for _, d := range res.Damage {
		k := [2]int{d.Conn, int(d.Dir)}
		if o, ok := firstDamage[k]; !ok || d.Offset < o {
			firstDamage[k] = d.Offset
		}
	}
	got := map[msgKey]int{}
	resynced := map[msgKey]bool{}
	for _, m := range sink.msgs {
		if m.afterResync {
			resynced[msgKey{m.conn, m.dir, m.op, string(m.payload)}] = true
		}
		if !m.marked() {
			got[msgKey{m.conn, m.dir, m.op, string(m.payload)}]++
		} else {
			marked++
		}
	}
	sent := map[msgKey]int{}
	for _, s := range rec.Sent {
		rc := rec.Conns[s.Conn]
		pc := byAddr[[2]string{rc.Client.String(), rc.Server.String()}]
		k := msgKey{pc, wsdecode.Dir(s.From), wsdecode.Opcode(s.Opcode), string(s.Payload)}
		sent[k]++
		fd, damaged := firstDamage[[2]int{s.Conn, int(s.From)}]
		mustDecode := !damaged || s.Offset+s.Len <= fd
		if !mustDecode {
			continue
		}
		if pc == nil {
			t.Errorf("conn %d (%v→%v) not reported", s.Conn, rc.Client, rc.Server)
			continue
		}
		if got[k] == 0 {
			t.Errorf("conn %d %v: %v message of %d bytes not decoded exactly: %.60q", s.Conn, k.dir, k.op, len(s.Payload), s.Payload)
			continue
		}
		got[k]--
		sent[k]--
		exact++
	}
	for k, n := range got {
		if n > 0 && sent[k] < n {
			// Including after a resynchronisation: wsdecode marks the
			// frames it finds by search (resync-guess) until confirmed.
			t.Errorf("unmarked decoded message was not sent: conn %d %v %v %.60q (after resync: %v)", k.conn.ID, k.dir, k.op, k.p, resynced[k])
		}
	}
	return exact, marked
}

func TestEndToEnd(t *testing.T) {
	recs := recordings(t)
	type variant struct {
		name string
		opts synth.Options
	}
	variants := []variant{
		{"pcap-ethernet", synth.Options{}},
		{"pcap-nano-bigendian-vlan", synth.Options{Format: synth.PcapNano, Link: synth.LinkVLAN}},
		{"pcapng", synth.Options{Format: synth.PcapNG}},
		{"sll", synth.Options{Link: synth.LinkSLL}},
		{"sll2-pcapng", synth.Options{Format: synth.PcapNG, Link: synth.LinkSLL2}},
		{"raw-small-mss", synth.Options{Link: synth.LinkRaw, MSS: 100}},
		{"sequential", synth.Options{Interleave: synth.Sequential}},
		{"random-interleave", synth.Options{Interleave: synth.Random, Seed: 3}},
		{"reordered", synth.Options{Reorder: 0.4, Seed: 1, MSS: 200}},
		{"duplicated", synth.Options{Duplicate: 0.4, Seed: 2, MSS: 200}},
		{"reordered-duplicated", synth.Options{Reorder: 0.3, Duplicate: 0.3, Seed: 5, MSS: 300}},
		{"no-syn", synth.Options{OmitHandshakeSYN: true}},
		{"drop-one", synth.Options{MSS: 200, Drop: []synth.SegRef{{Conn: 0, Dir: synth.ServerToClient, Index: 4}}}},
		{"drop-random", synth.Options{MSS: 200, DropProb: 0.05, Seed: 9}},
		{"snaplen-200", synth.Options{Snaplen: 200}},
		{"snaplen-200-small-mss", synth.Options{Snaplen: 200, MSS: 120}},
	}
	for _, name := range sortedKeys(recs) {
		rec := recs[name]
		for _, v := range variants {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				data, res := writeCapture(t, rec, v.opts)
				sink, st, err := runBytes(t, data)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				exact, marked := verify(t, rec, res, sink)
				if len(res.Damage) == 0 && marked > 0 {
					// Only libraries' own oddities may be marked.
					for _, m := range sink.msgs {
						if m.marked() {
							t.Logf("marked message without damage: conn %d %v %v anomalies %v incomplete %v", m.conn.ID, m.dir, m.op, m.anoms, m.incomplete)
						}
					}
				}
				if len(sink.open) != 0 {
					t.Errorf("%d connections never ended", len(sink.open))
				}
				if st.Packets != uint64(res.Packets) && v.opts.Snaplen == 0 {
					t.Errorf("Stats.Packets %d, wrote %d", st.Packets, res.Packets)
				}
				t.Logf("%d conns, %d messages (%d exact, %d marked), %d anomalies, damage %d ranges", len(sink.conns), len(sink.msgs), exact, marked, st.Anomalies, len(res.Damage))
			})
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

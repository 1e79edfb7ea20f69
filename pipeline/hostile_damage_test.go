package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/pcaps/hostile"
	"github.com/wsscope/wsscope/pcaps/synth"
	"github.com/wsscope/wsscope/wsdecode"
)

// inOrder checks that the unmarked messages of each connection and
// direction are byte-identical to sent messages, in the order they were
// sent (a subsequence of what was sent): a message emitted without an
// anomaly is never damaged, invented or out of place. It returns the
// number of unmarked messages checked and those that failed.
func inOrder(rec *synth.Recording, sink *recSink) (checked int, bad []string) {
	byAddr := map[[2]string]int{}
	for i, c := range rec.Conns {
		byAddr[[2]string{c.Client.String(), c.Server.String()}] = i
	}
	type key struct {
		conn int
		dir  wsdecode.Dir
	}
	sent := map[key][]synth.Sent{}
	for _, s := range synth.OrderSent(rec.Sent) {
		k := key{s.Conn, wsdecode.Dir(s.From)}
		sent[k] = append(sent[k], s)
	}
	pos := map[key]int{}
	for _, m := range sink.msgs {
		if m.marked() {
			continue
		}
		ci, ok := byAddr[[2]string{m.conn.Client.String(), m.conn.Server.String()}]
		if !ok {
			bad = append(bad, fmt.Sprintf("unmarked message on unknown connection %v→%v", m.conn.Client, m.conn.Server))
			continue
		}
		checked++
		k := key{ci, m.dir}
		list, found := sent[k], false
		for j := pos[k]; j < len(list); j++ {
			if wsdecode.Opcode(list[j].Opcode) == m.op && bytes.Equal(list[j].Payload, m.payload) {
				pos[k], found = j+1, true
				break
			}
		}
		if !found {
			bad = append(bad, fmt.Sprintf("conn %d %v: unmarked %v message of %d bytes not sent (or out of order): %.60q", ci, m.dir, m.op, len(m.payload), m.payload))
		}
	}
	return checked, bad
}

// undamagedMissing lists the sent messages the damage did not reach that
// were not decoded exactly. Damage reaches a message of a direction when it
// lies before the message's end in that direction, and every message of a
// connection when it hits either side's handshake (without the 101 or the
// request there is no WebSocket to decode).
func undamagedMissing(rec *synth.Recording, res synth.Result, sink *recSink) []string {
	byAddr := map[[2]string]*Conn{}
	for _, c := range sink.conns {
		byAddr[[2]string{c.Client.String(), c.Server.String()}] = c
	}
	hsEnd := map[[2]int]int64{} // conn,dir → offset of its first message
	for _, s := range rec.Sent {
		k := [2]int{s.Conn, int(s.From)}
		if o, ok := hsEnd[k]; !ok || s.Offset < o {
			hsEnd[k] = s.Offset
		}
	}
	first := map[[2]int]int64{}
	hsHit := map[int]bool{}
	for _, d := range res.Damage {
		k := [2]int{d.Conn, int(d.Dir)}
		if o, ok := first[k]; !ok || d.Offset < o {
			first[k] = d.Offset
		}
		if e, ok := hsEnd[k]; !ok || d.Offset < e {
			hsHit[d.Conn] = true
		}
	}
	type mk struct {
		c  *Conn
		d  wsdecode.Dir
		op wsdecode.Opcode
		p  string
	}
	got := map[mk]int{}
	for _, m := range sink.msgs {
		if !m.marked() {
			got[mk{m.conn, m.dir, m.op, string(m.payload)}]++
		}
	}
	var out []string
	for _, s := range rec.Sent {
		if hsHit[s.Conn] {
			continue
		}
		if fd, ok := first[[2]int{s.Conn, int(s.From)}]; ok && s.Offset+s.Len > fd {
			continue
		}
		rc := rec.Conns[s.Conn]
		k := mk{byAddr[[2]string{rc.Client.String(), rc.Server.String()}], wsdecode.Dir(s.From), wsdecode.Opcode(s.Opcode), string(s.Payload)}
		if k.c == nil || got[k] == 0 {
			out = append(out, fmt.Sprintf("conn %d %v: %v message of %d bytes before any damage not decoded exactly: %.60q", s.Conn, k.d, k.op, len(s.Payload), s.Payload))
			continue
		}
		got[k]--
	}
	return out
}

// TestHostileDamageProperty damages real library recordings at random
// (seeded): dropped, duplicated and reordered segments and combinations.
// Properties: every message emitted without an anomaly is byte-identical
// to one that was sent, in order (inOrder); every sent message of a
// connection and direction the damage did not reach is decoded exactly
// (undamagedMissing); the run ends every connection.
func TestHostileDamageProperty(t *testing.T) {
	recs := recordings(t)
	seeds := 4
	if testing.Short() {
		seeds = 3
	}
	kinds := []struct {
		name string
		opts func(seed int64) synth.Options
	}{
		{"drop", func(s int64) synth.Options { return synth.Options{MSS: 200, DropProb: 0.03, Seed: s} }},
		{"dup", func(s int64) synth.Options { return synth.Options{MSS: 300, Duplicate: 0.5, Seed: s} }},
		{"reorder", func(s int64) synth.Options { return synth.Options{MSS: 250, Reorder: 0.5, Seed: s} }},
		{"all", func(s int64) synth.Options {
			return synth.Options{MSS: 150, DropProb: 0.02, Duplicate: 0.2, Reorder: 0.2, Seed: s, Interleave: synth.Random}
		}},
		{"snaplen", func(s int64) synth.Options { return synth.Options{MSS: 400, Snaplen: 120 + int(s)*37, Seed: s} }},
	}
	total, totalMarked := 0, 0
	for _, name := range []string{"plain", "chat-deflate", "fragmented", "binary", "many", "no-context-takeover"} {
		rec := recs[name]
		for _, k := range kinds {
			for seed := int64(1); seed <= int64(seeds); seed++ {
				data, res := writeCapture(t, rec, k.opts(seed))
				sink, _, err := runBytes(t, data)
				if err != nil {
					t.Fatalf("%s/%s/%d: Run: %v", name, k.name, seed, err)
				}
				checked, bad := inOrder(rec, sink)
				for _, b := range bad {
					t.Errorf("%s/%s seed %d: %s", name, k.name, seed, b)
				}
				for _, b := range undamagedMissing(rec, res, sink) {
					t.Errorf("%s/%s seed %d: %s", name, k.name, seed, b)
				}
				for _, m := range sink.msgs {
					if m.marked() {
						totalMarked++
					}
				}
				if len(sink.open) != 0 {
					t.Errorf("%s/%s seed %d: %d connections never ended", name, k.name, seed, len(sink.open))
				}
				total += checked
			}
		}
	}
	t.Logf("%d unmarked messages checked against what was sent, %d marked", total, totalMarked)
}

// TestHostileTruncatedCapture cuts capture files at many places: Run
// returns the file's error after delivering everything before the cut,
// every unmarked message is one that was sent, in order, and every
// connection is ended.
func TestHostileTruncatedCapture(t *testing.T) {
	recs := recordings(t)
	for _, name := range []string{"chat-deflate", "fragmented", "many"} {
		rec := recs[name]
		for _, format := range []synth.Format{synth.PcapMicro, synth.PcapNG} {
			data, _ := writeCapture(t, rec, synth.Options{Format: format, MSS: 300})
			for i := 1; i < 40; i++ {
				cut := len(data) * i / 40
				src, err := capture.OpenReader(bytes.NewReader(data[:cut]), "cut.pcap", capture.Options{})
				if err != nil {
					continue // cut inside the file header
				}
				sink := newRecSink(t)
				_, err = Run(context.Background(), src, Options{}, sink)
				src.Close()
				if err == nil && cut < len(data) {
					// A cut on a record boundary is a valid, shorter file.
					t.Logf("%s format %d cut %d: no error (record boundary)", name, format, cut)
				}
				_, bad := inOrder(rec, sink)
				for _, b := range bad {
					t.Errorf("%s format %d cut at %d/%d: %s", name, format, cut, len(data), b)
				}
				if len(sink.open) != 0 {
					t.Errorf("%s cut at %d: %d connections never ended", name, cut, len(sink.open))
				}
			}
		}
	}
}

// TestHostileBitFlips flips random bits (seeded) in captures of real
// traffic. Nothing may crash, every connection is ended, and every message
// emitted without an anomaly is one that was sent, in order: a flip inside
// a TCP segment makes its checksum wrong, and capture skips it (its
// receiver dropped it too) so its bytes become a gap. Before capture
// verified checksums, about half of these runs emitted unmarked messages
// with flipped payload bytes.
func TestHostileBitFlips(t *testing.T) {
	recs := recordings(t)
	seeds := 20
	if testing.Short() {
		seeds = 8
	}
	var runs, wrong, errs int
	for _, name := range []string{"chat-deflate", "fragmented", "binary", "many"} {
		rec := recs[name]
		for _, format := range []synth.Format{synth.PcapMicro, synth.PcapNG} {
			data, _ := writeCapture(t, rec, synth.Options{Format: format, MSS: 500})
			for seed := range uint64(seeds) {
				flipped := hostile.FlipBits(data, seed, 1+int(seed%4), 24)
				src, err := capture.OpenReader(bytes.NewReader(flipped), "flip.pcap", capture.Options{})
				if err != nil {
					errs++
					continue
				}
				sink := newRecSink(t)
				if _, err := Run(context.Background(), src, Options{}, sink); err != nil {
					errs++
				}
				src.Close()
				runs++
				_, bad := inOrder(rec, sink)
				if len(bad) > 0 {
					wrong++
					t.Errorf("%s format %d seed %d: %d unmarked messages differ from what was sent (first: %s)", name, format, seed, len(bad), bad[0])
				}
				if len(sink.open) != 0 {
					t.Errorf("%s seed %d: %d connections never ended", name, seed, len(sink.open))
				}
			}
		}
	}
	t.Logf("%d runs (%d ended with a file error), %d with unmarked messages that differ from what was sent", runs, errs, wrong)
}

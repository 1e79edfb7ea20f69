package tui

import (
	"bytes"
	"math"
	"reflect"
	"runtime"
	"testing"

	"github.com/wsscope/wsscope/wsdecode"
)

// TestDetailRecordRoundTrip encodes detail records with boundary values and
// decodes them back, whole and from every truncation (which must say
// errShort, never panic or succeed with wrong values).
func TestDetailRecordRoundTrip(t *testing.T) {
	r := &msgRec{t: 1_700_000_000_000_000_000, pkt0: 1000}
	for _, tc := range []struct {
		name string
		d    msgDetail
	}{
		{"minimal", msgDetail{tLast: r.t, pkt1: r.pkt0}},
		{"one masked frame", msgDetail{tLast: r.t + 5, length: 90, wire: 96, pkt1: r.pkt0, nFrames: 1, kFrames: 1, payN: 90,
			frames: []frameRec{{payLen: 90, pkt0: r.pkt0, pkt1: r.pkt0, key: [4]byte{1, 2, 3, 4}, rsv: 4, op: 1, headerLen: 6, fin: true, masked: true}}}},
		{"close and anomalies", msgDetail{tLast: r.t, length: 5, wire: 7, pkt1: r.pkt0 + 3, nFrames: 1, anom0: 123456, nAnom: 0xffff,
			close: 1000, hasClose: true, payN: 5, kFrames: 1, frames: []frameRec{{payLen: 5, pkt0: r.pkt0 + 3, pkt1: r.pkt0 + 3, op: 8, headerLen: 2, fin: true}}}},
		{"extremes", msgDetail{tLast: r.t - 1e9, length: math.MaxInt64, wire: math.MaxInt64, pkt1: 0, nFrames: math.MaxUint32,
			anom0: math.MaxUint32, nAnom: 1, payN: math.MaxUint32, kFrames: 2, frames: []frameRec{
				{payLen: math.MaxUint64, pkt0: math.MaxUint64, pkt1: 0, rsv: 7, op: 0xf, headerLen: 14, fin: true, masked: true, key: [4]byte{0xff, 0, 0xff, 0}},
				{payLen: 0, pkt0: 0, pkt1: math.MaxUint64, op: 0},
			}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := encodeDetailHeader(nil, r, &tc.d)
			if len(enc) > maxDetailFixed+int(tc.d.kFrames)*maxFrameRec {
				t.Errorf("encoded %d bytes, bound %d", len(enc), maxDetailFixed+int(tc.d.kFrames)*maxFrameRec)
			}
			var got msgDetail
			n, err := decodeDetail(append(enc, "payload"...), r, &got, true)
			if err != nil || n != len(enc) {
				t.Fatalf("decode: %d, %v (encoded %d)", n, err, len(enc))
			}
			want := tc.d
			if want.frames == nil {
				want.frames = []frameRec{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
			}
			for cut := 0; cut < len(enc); cut++ {
				if _, err := decodeDetail(enc[:cut], r, &got, true); err != errShort {
					t.Fatalf("cut at %d of %d: %v, want errShort", cut, len(enc), err)
				}
			}
		})
	}
	if testing.Verbose() {
		one := encodeDetailHeader(nil, r, &msgDetail{tLast: r.t, length: 90, wire: 96, pkt1: r.pkt0, nFrames: 1, kFrames: 1, payN: 90,
			frames: []frameRec{{payLen: 90, pkt0: r.pkt0, pkt1: r.pkt0, key: [4]byte{1, 2, 3, 4}, op: 1, headerLen: 6, fin: true, masked: true}}})
		t.Logf("a one-frame masked message's record header: %d bytes", len(one))
	}
}

// FuzzDetailRecord: decoding arbitrary bytes never panics, and never reads
// past the buffer; a successful decode re-encodes to the same bytes.
func FuzzDetailRecord(f *testing.F) {
	r := &msgRec{t: 1e18, pkt0: 77}
	f.Add(encodeDetailHeader(nil, r, &msgDetail{tLast: r.t, length: 3, kFrames: 1, payN: 3, nFrames: 1, frames: []frameRec{{fin: true, masked: true}}}))
	f.Add([]byte{3, 0, 0, 0, 0, 0, 1, 1, 5, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var d msgDetail
		n, err := decodeDetail(b, r, &d, true)
		if err != nil {
			return
		}
		if n > len(b) || len(d.frames) != int(d.kFrames) {
			t.Fatalf("n %d of %d, frames %d/%d", n, len(b), len(d.frames), d.kFrames)
		}
		// Varints have several encodings of one value (non-minimal
		// forms decode too): compare values, not bytes.
		var again msgDetail
		enc := encodeDetailHeader(nil, r, &d)
		if m, err := decodeDetail(enc, r, &again, true); err != nil || m != len(enc) || !reflect.DeepEqual(again, d) {
			t.Fatalf("re-encode of %x: %x decodes to %+v (%v), want %+v", b[:n], enc, again, err, d)
		}
	})
}

// TestMemoryPerMessage feeds 1,000,000 messages and measures (runtime
// MemStats plus the off-heap index blocks) what the model keeps in memory
// per message: the target is at most 64 bytes (issue 6); the index record
// is 40. Payloads and frames are in the spill file, whose size is reported.
func TestMemoryPerMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("feeds a million messages")
	}
	const n = 1_000_000
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, off0 := offheapMapped()
	m := NewModel(ModelOptions{})
	defer m.Close()
	loadModel(t, m, n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	_, off1 := offheapMapped()
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	per := float64(heap+off1-off0) / n
	s := m.snapshot()
	t.Logf("%d messages: Go heap +%d B, off-heap index +%d B: %.1f B/message in memory; spill file %d B (%.1f B/message with %d-byte payloads)",
		n, heap, off1-off0, per, s.sp.size(), float64(s.sp.size())/n, len(benchPayload(n/2)))
	if per > 64 {
		t.Errorf("%.1f bytes per message in memory, want ≤ 64", per)
	}
	// Everything is still there: spot-check payloads read back.
	for _, i := range []int{0, n / 3, n - 1} {
		d, err := s.readDetail(s.msg(i), -1, true)
		if err != nil || !bytes.Equal(d.payload, benchPayload(i)) || len(d.frames) != 1 {
			t.Fatalf("message %d: %v %q", i, err, d.payload)
		}
	}
	if s.msg(50).op != uint8(wsdecode.OpPing) {
		t.Error("opcode lost")
	}
}

package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/wsdecode"
)

// jsonLines decodes every line of out, failing on invalid JSON.
func jsonLines(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		line := sc.Bytes()
		if !json.Valid(line) {
			t.Fatalf("invalid JSON line: %s", line)
		}
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestJSONWriterRecords(t *testing.T) {
	var out bytes.Buffer
	j := NewJSONWriter(&out)
	c := testConn(7)
	j.ConnOpen(c)

	j.Message(c, textMsg(wsdecode.FromClient, "hello \"wörld\"\n"))

	bin := textMsg(wsdecode.FromServer, "")
	bin.Opcode = wsdecode.OpBinary
	bin.Payload = []byte{0, 1, 2, 0xff}
	bin.Len, bin.WireLen, bin.Compressed = 4, 3, true
	bin.Frames = make([]wsdecode.Frame, 3)
	j.Message(c, bin)

	badText := textMsg(wsdecode.FromServer, "ok\xffno")
	badText.Anomalies = []wsdecode.Anomaly{{Code: "invalid-utf8", Detail: "byte 2 \x1b"}}
	j.Message(c, badText)

	cl := textMsg(wsdecode.FromClient, "\x03\xe8bye")
	cl.Opcode, cl.HasCloseCode, cl.CloseCode, cl.CloseReason = wsdecode.OpClose, true, 1000, "bye"
	j.Message(c, cl)

	empty := textMsg(wsdecode.FromServer, "")
	empty.Opcode = wsdecode.OpClose
	j.Message(c, empty)

	rsv := textMsg(wsdecode.FromServer, "x")
	rsv.Opcode = 3
	rsv.Incomplete, rsv.Truncated = true, true
	j.Message(c, rsv)

	j.Anomaly(c, &pipeline.Anomaly{Code: "gap", Detail: "12 bytes lost", Severity: "warning", From: "client", Packet: 17, Time: t0})
	j.Anomaly(nil, &pipeline.Anomaly{Code: "truncated-capture", Severity: "error"})
	endConn(c)
	j.ConnEnd(c)
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}

	recs := jsonLines(t, out.Bytes())
	if len(recs) != 10 {
		t.Fatalf("got %d records, want 10:\n%s", len(recs), out.String())
	}
	for i, r := range recs {
		for _, k := range []string{"record", "conn", "client", "server", "ts"} {
			if _, ok := r[k]; !ok {
				t.Errorf("record %d lacks %q: %v", i, k, r)
			}
		}
	}
	open := recs[0]
	if open["record"] != "connection" || open["state"] != "open" || open["conn"] != json.Number("7") ||
		open["client"] != "10.0.0.1:50312" || open["server"] != "[2001:db8::1]:8080" ||
		open["ts"] != "2026-11-25T18:47:51.123456789Z" || open["accept_valid"] != true ||
		open["subprotocol"] != "chat" || open["version"] != "13" || open["origin"] != "http://example.com" {
		t.Errorf("open record: %v", open)
	}
	req := open["request"].(map[string]any)
	hdrs := req["headers"].([]any)
	if len(hdrs) != 9 || hdrs[8].([]any)[1] != "two\x1b[31m" || hdrs[7].([]any)[0] != "X-Dup" {
		t.Errorf("request headers lost order/duplicates/bytes: %v", hdrs)
	}
	if resp := open["response"].(map[string]any); resp["status"] != json.Number("101") {
		t.Errorf("response: %v", resp)
	}
	defl := open["extensions"].(map[string]any)["deflate"].(map[string]any)
	if defl["mode"] != "permessage-deflate" || defl["server_no_context_takeover"] != true ||
		defl["client_no_context_takeover"] != false || defl["server_max_window_bits"] != json.Number("15") {
		t.Errorf("deflate: %v", defl)
	}

	m := recs[1]
	if m["record"] != "message" || m["from"] != "client" || m["opcode"] != "text" || m["text"] != "hello \"wörld\"\n" ||
		m["len"] != json.Number("15") || m["masked"] != true || m["compressed"] != false ||
		m["ts"] != "2026-11-25T18:47:51.125456789Z" {
		t.Errorf("text message: %v", m)
	}
	if p := m["packets"].([]any); p[0] != json.Number("8") || p[1] != json.Number("9") {
		t.Errorf("packets: %v", p)
	}
	if _, ok := m["incomplete"]; ok {
		t.Errorf("incomplete present when false: %v", m)
	}

	b := recs[2]
	if b["opcode"] != "binary" || b["data"] != base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff}) ||
		b["frames"] != json.Number("3") || b["compressed"] != true || b["from"] != "server" {
		t.Errorf("binary: %v", b)
	}
	if _, ok := b["text"]; ok {
		t.Errorf("binary has text: %v", b)
	}

	bt := recs[3]
	if bt["data"] != base64.StdEncoding.EncodeToString([]byte("ok\xffno")) || bt["text"] != nil {
		t.Errorf("invalid UTF-8 text must go to data: %v", bt)
	}
	an := bt["anomalies"].([]any)[0].(map[string]any)
	if an["code"] != "invalid-utf8" || an["detail"] != "byte 2 \x1b" {
		t.Errorf("anomalies: %v", an)
	}

	if cr := recs[4]; cr["opcode"] != "close" || cr["close_code"] != json.Number("1000") || cr["close_reason"] != "bye" ||
		cr["data"] != base64.StdEncoding.EncodeToString([]byte("\x03\xe8bye")) {
		t.Errorf("close: %v", cr)
	}
	if ce := recs[5]; ce["close_code"] != nil || ce["data"] != "" {
		t.Errorf("empty close: %v", ce)
	}
	if rr := recs[6]; rr["opcode"] != json.Number("3") || rr["incomplete"] != true || rr["truncated"] != true {
		t.Errorf("reserved: %v", rr)
	}
	if a := recs[7]; a["record"] != "anomaly" || a["code"] != "gap" || a["severity"] != "warning" ||
		a["from"] != "client" || a["packet"] != json.Number("17") || a["conn"] != json.Number("7") {
		t.Errorf("anomaly: %v", a)
	}
	if a := recs[8]; a["conn"] != nil || a["client"] != nil || a["ts"] != nil || a["from"] != nil || a["packet"] != nil {
		t.Errorf("capture anomaly: %v", a)
	}
	end := recs[9]
	sum := end["summary"].(map[string]any)
	if end["state"] != "closed" || end["ts"] != "2026-11-25T18:47:53.123456789Z" || sum["end"] != "fin" ||
		sum["messages"].(map[string]any)["server"] != json.Number("4") ||
		sum["close_codes"].(map[string]any)["client"] != json.Number("1000") ||
		sum["close_codes"].(map[string]any)["server"] != nil {
		t.Errorf("end: %v", end)
	}
}

func TestJSONNastyPayloads(t *testing.T) {
	var out bytes.Buffer
	j := NewJSONWriter(&out)
	c := testConn(1)
	for _, p := range nastyPayloads {
		m := textMsg(wsdecode.FromServer, p)
		m.Anomalies = []wsdecode.Anomaly{{Code: "x", Detail: p}}
		j.Message(c, m)
		m.Opcode = wsdecode.OpBinary
		j.Message(c, m)
	}
	j.Flush()
	recs := jsonLines(t, out.Bytes())
	if len(recs) != 2*len(nastyPayloads) {
		t.Fatalf("%d records", len(recs))
	}
	for _, c := range out.Bytes() {
		if (c < 0x20 && c != '\n') || c == 0x7f {
			t.Fatalf("raw control byte %#x in JSON output", c)
		}
	}
	for i, p := range nastyPayloads {
		for k, r := range recs[2*i : 2*i+2] {
			var got []byte
			if s, ok := r["text"].(string); ok {
				got = []byte(s)
			} else {
				got, _ = base64.StdEncoding.DecodeString(r["data"].(string))
			}
			if string(got) != p {
				t.Errorf("payload %d/%d: got %q want %q", i, k, got, p)
			}
		}
	}
}

type errWriter struct{ n int }

func (e *errWriter) Write(p []byte) (int, error) {
	e.n++
	return 0, io.ErrClosedPipe
}

func TestJSONWriterStickyError(t *testing.T) {
	ew := &errWriter{}
	j := NewJSONWriter(ew)
	c := testConn(1)
	big := strings.Repeat("x", 100<<10) // larger than the bufio buffer
	for i := 0; i < 5; i++ {
		j.Message(c, textMsg(0, big))
	}
	if j.Err() == nil || j.Flush() == nil {
		t.Fatal("write error not reported")
	}
	if ew.n != 1 {
		t.Errorf("kept writing after an error: %d writes", ew.n)
	}
}

func TestJSONWriterZeroAllocs(t *testing.T) {
	j := NewJSONWriter(io.Discard)
	c := testConn(1)
	j.ConnOpen(c)
	msgs := []*wsdecode.Message{textMsg(0, `{"type":"chat","text":"héllo wörld","n":42}`), textMsg(1, "pong")}
	bin := textMsg(1, "\x00\x01binary\xff")
	bin.Opcode = wsdecode.OpBinary
	msgs = append(msgs, bin)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		m := msgs[i%len(msgs)]
		m.Last.Time = m.Last.Time.Add(time.Millisecond)
		j.Message(c, m)
		i++
	})
	if allocs != 0 {
		t.Errorf("JSONWriter.Message allocates %.1f times per message, want 0", allocs)
	}
}

func benchMessages(b *testing.B, m *wsdecode.Message) {
	j := NewJSONWriter(io.Discard)
	c := testConn(1)
	j.ConnOpen(c)
	b.SetBytes(int64(len(m.Payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.Last.Time = m.Last.Time.Add(time.Microsecond)
		j.Message(c, m)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkJSONWriterText100(b *testing.B) {
	benchMessages(b, textMsg(0, strings.Repeat(`{"k":"v","n":1} `, 7)[:100]))
}

func BenchmarkJSONWriterTextUnicode100(b *testing.B) {
	benchMessages(b, textMsg(0, strings.Repeat("héllo wörld ", 7)))
}

func BenchmarkJSONWriterBinary100(b *testing.B) {
	m := textMsg(1, strings.Repeat("\x00\x01\x02\x03", 25))
	m.Opcode = wsdecode.OpBinary
	benchMessages(b, m)
}

func BenchmarkJSONWriterText4K(b *testing.B) {
	benchMessages(b, textMsg(1, strings.Repeat("abcdefgh", 512)))
}

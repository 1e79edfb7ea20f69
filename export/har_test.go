package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/wsscope/wsscope/wsdecode"
)

// checkHAR12 checks the structure HAR 1.2 requires of a log with WebSocket
// entries and returns the decoded document.
func checkHAR12(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("HAR is not JSON: %v\n%s", err, data)
	}
	log, ok := doc["log"].(map[string]any)
	if !ok {
		t.Fatal("no log object")
	}
	if log["version"] != "1.2" {
		t.Errorf("log.version = %v", log["version"])
	}
	cr, _ := log["creator"].(map[string]any)
	if _, ok := cr["name"].(string); !ok {
		t.Errorf("creator.name missing: %v", log["creator"])
	}
	if _, ok := cr["version"].(string); !ok {
		t.Errorf("creator.version missing")
	}
	entries, ok := log["entries"].([]any)
	if !ok {
		t.Fatal("log.entries is not an array")
	}
	need := func(obj map[string]any, where string, keys ...string) {
		for _, k := range keys {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s lacks required %q", where, k)
			}
		}
	}
	for _, e := range entries {
		e := e.(map[string]any)
		need(e, "entry", "startedDateTime", "time", "request", "response", "cache", "timings")
		if s, _ := e["startedDateTime"].(string); s != "" {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				t.Errorf("startedDateTime %q: %v", s, err)
			}
		}
		req := e["request"].(map[string]any)
		need(req, "request", "method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize")
		resp := e["response"].(map[string]any)
		need(resp, "response", "status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL", "headersSize", "bodySize")
		need(resp["content"].(map[string]any), "content", "size", "mimeType")
		need(e["timings"].(map[string]any), "timings", "send", "wait", "receive")
		for _, arr := range []any{req["cookies"], req["headers"], req["queryString"], resp["cookies"], resp["headers"]} {
			for _, nv := range arr.([]any) {
				need(nv.(map[string]any), "name/value pair", "name", "value")
			}
		}
		if e["_resourceType"] != "websocket" {
			t.Errorf("_resourceType = %v", e["_resourceType"])
		}
		msgs, ok := e["_webSocketMessages"].([]any)
		if !ok {
			t.Errorf("_webSocketMessages missing")
		}
		for _, m := range msgs {
			need(m.(map[string]any), "websocket message", "type", "time", "opcode", "data")
		}
	}
	return doc
}

func TestHARWriter(t *testing.T) {
	var out bytes.Buffer
	h := NewHARWriter(&out, "wsscope", "test")
	c := testConn(1)
	c2 := testConn(2)
	c2.Handshake.Status, c2.Handshake.Upgraded, c2.Handshake.Reason = 403, false, "Forbidden"
	h.ConnOpen(c)
	h.ConnOpen(c2)
	h.Message(c, textMsg(wsdecode.FromClient, "hi \x1b there"))
	bin := textMsg(wsdecode.FromServer, "\x00\xff")
	bin.Opcode = wsdecode.OpBinary
	h.Message(c, bin)
	bad := textMsg(wsdecode.FromServer, "bad\xff")
	h.Message(c, bad)
	ping := textMsg(wsdecode.FromServer, "p")
	ping.Opcode = wsdecode.OpPing
	h.Message(c, ping)
	endConn(c2)
	h.ConnEnd(c2) // ends first: written first
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	doc := checkHAR12(t, out.Bytes())
	entries := doc["log"].(map[string]any)["entries"].([]any)
	if len(entries) != 2 {
		t.Fatalf("%d entries", len(entries))
	}
	refused := entries[0].(map[string]any)
	if refused["response"].(map[string]any)["status"] != json.Number("403") {
		t.Errorf("refused entry: %v", refused["response"])
	}
	e := entries[1].(map[string]any)
	req := e["request"].(map[string]any)
	if req["url"] != "ws://example.com:8080/chat?room=a%20b&x=1" || req["method"] != "GET" {
		t.Errorf("request: %v", req)
	}
	if q := req["queryString"].([]any); len(q) != 2 || q[0].(map[string]any)["value"] != "a b" {
		t.Errorf("queryString: %v", q)
	}
	if ck := req["cookies"].([]any); len(ck) != 2 || ck[1].(map[string]any)["name"] != "b" {
		t.Errorf("cookies: %v", ck)
	}
	if e["startedDateTime"] != "2026-11-25T18:47:51.123456789Z" {
		t.Errorf("startedDateTime %v", e["startedDateTime"])
	}
	if w := e["timings"].(map[string]any)["wait"]; w != json.Number("1.5") {
		t.Errorf("wait = %v", w)
	}
	msgs := e["_webSocketMessages"].([]any)
	if len(msgs) != 3 {
		t.Fatalf("messages: %v", msgs)
	}
	m0 := msgs[0].(map[string]any)
	if m0["type"] != "send" || m0["opcode"] != json.Number("1") || m0["data"] != "hi \x1b there" || m0["time"] != json.Number("1795632471.125456") {
		t.Errorf("msg 0: %v", m0)
	}
	m1 := msgs[1].(map[string]any)
	if m1["type"] != "receive" || m1["opcode"] != json.Number("2") || m1["data"] != base64.StdEncoding.EncodeToString([]byte("\x00\xff")) {
		t.Errorf("msg 1: %v", m1)
	}
	m2 := msgs[2].(map[string]any)
	if m2["_encoding"] != "base64" || m2["data"] != base64.StdEncoding.EncodeToString([]byte("bad\xff")) {
		t.Errorf("msg 2: %v", m2)
	}
}

func TestHARWriterEmptyAndLimit(t *testing.T) {
	var out bytes.Buffer
	h := NewHARWriter(&out, "wsscope", "test")
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	doc := checkHAR12(t, out.Bytes())
	if n := len(doc["log"].(map[string]any)["entries"].([]any)); n != 0 {
		t.Errorf("%d entries in empty HAR", n)
	}

	out.Reset()
	h = NewHARWriter(&out, "wsscope", "test")
	h.MaxBuffered = 10
	c := testConn(1)
	h.ConnOpen(c)
	h.Message(c, textMsg(0, "12345678"))
	h.Message(c, textMsg(0, "12345678")) // over the limit: left out
	h.ConnEnd(c)
	h.ConnOpen(testConn(2))
	h.Message(testConn(2), textMsg(0, "12345678")) // buffer released by ConnEnd: kept
	h.Close()
	doc = checkHAR12(t, out.Bytes())
	es := doc["log"].(map[string]any)["entries"].([]any)
	e0, e1 := es[0].(map[string]any), es[1].(map[string]any)
	if len(e0["_webSocketMessages"].([]any)) != 1 || e0["comment"] == nil {
		t.Errorf("limit not applied/reported: %v", e0)
	}
	if len(e1["_webSocketMessages"].([]any)) != 1 {
		t.Errorf("buffer not released: %v", e1)
	}
}

package export

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// TestSecurityFields checks the JSON fields of security findings: anomaly
// records and message anomalies get "category":"security" and a "risk";
// other anomalies are written exactly as before.
func TestSecurityFields(t *testing.T) {
	var out bytes.Buffer
	j := NewJSONWriter(&out)
	c := testConn(1)
	j.ConnOpen(c)
	j.Anomaly(c, &pipeline.Anomaly{Code: reassembly.CodeCSWSHCrossOrigin, Detail: "d", Severity: "error", Packet: 6, Time: t0})
	j.Anomaly(c, &pipeline.Anomaly{Code: reassembly.CodeRefused, Detail: "d", Severity: "warning", From: "server", Packet: 6, Time: t0})
	j.Anomaly(c, &pipeline.Anomaly{Code: wsdecode.CodeMaskKeyRepeated, Detail: "d", Severity: "warning", From: "client", Packet: 9, Time: t0})
	m := textMsg(wsdecode.FromClient, "hi")
	m.Masked = false
	m.Anomalies = []wsdecode.Anomaly{{Code: wsdecode.CodeUnmaskedClient, Detail: "u"}, {Code: wsdecode.CodeInvalidUTF8, Detail: "x"}}
	j.Message(c, m)
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	type anom struct {
		Code     string  `json:"code"`
		Severity string  `json:"severity"`
		Category *string `json:"category"`
		Risk     *string `json:"risk"`
	}
	want := []struct{ code, sev, risk string }{
		{reassembly.CodeCSWSHCrossOrigin, "error", "high"},
		{reassembly.CodeRefused, "warning", ""},
		{wsdecode.CodeMaskKeyRepeated, "warning", "medium"},
	}
	for i, w := range want {
		var a anom
		if err := json.Unmarshal([]byte(lines[1+i]), &a); err != nil {
			t.Fatalf("line %d: %v", 1+i, err)
		}
		if a.Code != w.code || a.Severity != w.sev {
			t.Errorf("line %d: %+v", 1+i, a)
		}
		if w.risk == "" {
			if a.Category != nil || a.Risk != nil || strings.Contains(lines[1+i], "category") {
				t.Errorf("line %d: security fields on a non-security anomaly: %s", 1+i, lines[1+i])
			}
		} else if a.Category == nil || *a.Category != "security" || a.Risk == nil || *a.Risk != w.risk {
			t.Errorf("line %d: want category security, risk %s: %s", 1+i, w.risk, lines[1+i])
		}
	}
	var msg struct {
		Anomalies []anom `json:"anomalies"`
	}
	if err := json.Unmarshal([]byte(lines[4]), &msg); err != nil {
		t.Fatal(err)
	}
	if len(msg.Anomalies) != 2 || msg.Anomalies[0].Risk == nil || *msg.Anomalies[0].Risk != "medium" ||
		*msg.Anomalies[0].Category != "security" || msg.Anomalies[1].Risk != nil {
		t.Errorf("message anomalies: %s", lines[4])
	}
}

func TestSecurityText(t *testing.T) {
	var out bytes.Buffer
	w := NewTextWriter(&out)
	c := testConn(3)
	w.Anomaly(c, &pipeline.Anomaly{Code: reassembly.CodeCleartextAuth, Detail: "Authorization: Bearer readable", Severity: "error", From: "client", Packet: 4, Time: t0})
	w.Anomaly(c, &pipeline.Anomaly{Code: reassembly.CodeRefused, Detail: "no", Severity: "warning", From: "server", Packet: 5, Time: t0})
	w.Flush()
	got := out.String()
	for _, want := range []string{
		"#3 ! error SECURITY high cleartext-authorization (client, packet 4): Authorization: Bearer readable\n",
		"#3 ! warning handshake-refused (server, packet 5): no\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("text output lacks %q:\n%s", want, got)
		}
	}
}

// TestFindingsNeverShowSecrets runs the handshake findings of a request full
// of credentials through every writer: the anomaly output (JSON anomaly
// records, text "!" lines) must not contain any secret, while the findings
// are there.
func TestFindingsNeverShowSecrets(t *testing.T) {
	secrets := []string{"s3cr3tCookieValue", "dXNlcjpodW50ZXIy", "hunter2", "tok123456789", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"}
	hs := testConn(1).Handshake
	hs.URI = "/ws?room=1&access_token=tok123456789&password=hunter2&eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"
	hs.Origin = "http://attacker.example"
	hs.RequestHeaders = append(hs.RequestHeaders,
		reassembly.Header{Name: "Cookie", Value: "sid=s3cr3tCookieValue; s3cr3tCookieValue"},
		reassembly.Header{Name: "Authorization", Value: "Basic dXNlcjpodW50ZXIy"},
		reassembly.Header{Name: "Proxy-Authorization", Value: "tok123456789"},
		reassembly.Header{Name: "Origin", Value: hs.Origin})
	hs.ResponseHeaders = append(hs.ResponseHeaders, reassembly.Header{Name: "Set-Cookie", Value: "sid=s3cr3tCookieValue; HttpOnly"})
	fs := reassembly.Findings(hs)
	codes := map[string]bool{}
	for _, f := range fs {
		codes[f.Code] = true
	}
	for _, code := range []string{reassembly.CodeCSWSHCrossOrigin, reassembly.CodeCleartextAuth, reassembly.CodeCleartextCookie, reassembly.CodeCleartextQueryToken} {
		if !codes[code] {
			t.Errorf("finding %s missing: %v", code, fs)
		}
	}
	var js, txt bytes.Buffer
	jw, tw := NewJSONWriter(&js), NewTextWriter(&txt)
	c := testConn(1)
	for _, f := range fs {
		a := &pipeline.Anomaly{Code: f.Code, Detail: f.Detail, Severity: f.Severity, From: "client", Packet: f.At.Packet, Time: f.At.Time}
		jw.Anomaly(c, a)
		tw.Anomaly(c, a)
	}
	jw.Flush()
	tw.Flush()
	for _, out := range []string{js.String(), txt.String()} {
		if strings.Count(out, "\n") != len(fs) {
			t.Errorf("want %d lines:\n%s", len(fs), out)
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("secret %q in output:\n%s", s, out)
			}
		}
	}
}

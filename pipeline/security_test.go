package pipeline

import (
	"strings"
	"testing"

	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

func TestKeyReuse(t *testing.T) {
	conn := func(id uint64, key string) *Conn {
		return &Conn{ID: id, Handshake: &reassembly.Handshake{Key: key, KeyValid: key != "bad",
			RequestAt: reassembly.Meta{Packet: id * 10}}}
	}
	var k keyReuse
	if _, ok := k.check(conn(1, "x3JJHMbDL1EzLkh9GBhXDw==")); ok {
		t.Fatal("first use reported")
	}
	if _, ok := k.check(conn(2, "AQIDBAUGBwgJCgsMDQ4PEA==")); ok {
		t.Fatal("other key reported")
	}
	a, ok := k.check(conn(3, " x3JJHMbDL1EzLkh9GBhXDw== "))
	if !ok || a.Code != reassembly.CodeKeyReused || a.From != "client" || a.Packet != 30 || !strings.Contains(a.Detail, "connection #1") {
		t.Errorf("reuse: %v %+v", ok, a)
	}
	if _, ok := k.check(conn(4, "bad")); ok {
		t.Error("invalid key reported")
	}
	if _, ok := k.check(&Conn{ID: 5}); ok {
		t.Error("connection without handshake reported")
	}
}

// TestSecurityRiskConsistent checks that every security code has a risk and
// that the severity the producers give the new codes follows it.
func TestSecurityRiskConsistent(t *testing.T) {
	cases := map[string]string{ // code → severity given by its producer
		reassembly.CodeCSWSHCrossOrigin:          "error",
		reassembly.CodeCSWSHNoOrigin:             "warning",
		reassembly.CodeCSWSHCrossOriginToken:     "info",
		reassembly.CodeCleartextAuth:             "error",
		reassembly.CodeCleartextCookie:           "warning",
		reassembly.CodeCleartextQueryToken:       "warning",
		reassembly.CodeCleartextSubprotocolToken: "warning",
		reassembly.CodeKeyReused:                 "info",
		wsdecode.CodeMaskKeyZero:                 Severity(wsdecode.CodeMaskKeyZero),
		wsdecode.CodeMaskKeyRepeated:             Severity(wsdecode.CodeMaskKeyRepeated),
	}
	for code, sev := range cases {
		r := SecurityRisk(code)
		if r == "" {
			t.Errorf("%s: no risk", code)
		}
		if RiskSeverity(r) != sev {
			t.Errorf("%s: severity %s, but risk %s maps to %s", code, sev, r, RiskSeverity(r))
		}
	}
	// Findings produced by reassembly carry those severities.
	hs := &reassembly.Handshake{Method: "GET", URI: "/?token=x", Host: "a.example", Origin: "http://b.example", Status: 101, Upgraded: true,
		Key: reassembly.SampleKey, RequestHeaders: []reassembly.Header{{Name: "Cookie", Value: "a=1"}, {Name: "Authorization", Value: "Bearer x"}}}
	for _, f := range reassembly.Findings(hs) {
		if want, ok := cases[f.Code]; !ok || f.Severity != want {
			t.Errorf("%s: severity %q, want %q", f.Code, f.Severity, want)
		}
	}
	// Existing protocol codes keep their severity and get a risk.
	for _, code := range []string{reassembly.CodeBadKey, reassembly.CodeWrongAccept, wsdecode.CodeUnmaskedClient} {
		if SecurityRisk(code) == "" {
			t.Errorf("%s: no risk", code)
		}
	}
	for _, code := range []string{wsdecode.CodeGap, reassembly.CodeRefused, "", "nonsense"} {
		if SecurityRisk(code) != "" {
			t.Errorf("%s: risk %q", code, SecurityRisk(code))
		}
	}
}

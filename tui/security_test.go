package tui

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// secretHandshake is an accepted upgrade carrying a cookie from a foreign
// origin (cswsh-cross-origin, cleartext-cookie).
func secretHandshake(host string) *reassembly.Handshake {
	return &reassembly.Handshake{
		Method: "GET", URI: "/ws?access_token=tok-SECRET-1", Proto: "HTTP/1.1",
		RequestHeaders: []reassembly.Header{
			{Name: "Host", Value: host}, {Name: "Upgrade", Value: "websocket"}, {Name: "Connection", Value: "Upgrade"},
			{Name: "Sec-WebSocket-Key", Value: "x3JJHMbDL1EzLkh9GBhXDw=="}, {Name: "Sec-WebSocket-Version", Value: "13"},
			{Name: "Origin", Value: "http://evil.example"}, {Name: "Cookie", Value: "sid=cookie-SECRET-2"},
		},
		Status: 101, Reason: "Switching Protocols", ResponseProto: "HTTP/1.1",
		ResponseHeaders: []reassembly.Header{{Name: "Upgrade", Value: "websocket"}, {Name: "Connection", Value: "Upgrade"},
			{Name: "Sec-WebSocket-Accept", Value: "HSmrc0sMlYUkAGmm5OPpG2HaGWk="}},
		Host: host, Origin: "http://evil.example", Key: "x3JJHMbDL1EzLkh9GBhXDw==", KeyValid: true, Version: "13",
		Accept: "HSmrc0sMlYUkAGmm5OPpG2HaGWk=", AcceptValid: true, Upgraded: true,
		RequestAt: reassembly.Meta{Time: t0, Packet: 4}, ResponseAt: reassembly.Meta{Time: t0, Packet: 5},
	}
}

func TestConnFindings(t *testing.T) {
	c := &connView{id: 1, hs: secretHandshake("chat.example")}
	// The pipeline reports the handshake findings as anomalies too: they must
	// not be listed twice. A masking finding comes only as an anomaly.
	for _, a := range reassembly.Findings(c.hs) {
		c.anoms = append(c.anoms, anomRec{code: a.Code, detail: a.Detail, severity: a.Severity, pkt: a.At.Packet})
	}
	c.anoms = append(c.anoms,
		anomRec{code: wsdecode.CodeMaskKeyZero, detail: "3 of 9 [red]frames\x1b[2J", severity: "warning", from: "client", pkt: 7},
		anomRec{code: "gap", detail: "not security", severity: "warning"})
	fs := connFindings(c)
	var codes []string
	for _, f := range fs {
		codes = append(codes, f.code)
	}
	want := []string{reassembly.CodeCSWSHCrossOrigin, reassembly.CodeCleartextCookie, reassembly.CodeCleartextQueryToken, wsdecode.CodeMaskKeyZero}
	if strings.Join(codes, " ") != strings.Join(want, " ") {
		t.Errorf("findings %v, want %v (highest risk first, no duplicates)", codes, want)
	}
	if topRisk(fs) != pipeline.RiskHigh || securityMark(topRisk(fs)) != "SEC high" {
		t.Errorf("top risk %q", topRisk(fs))
	}
	txt := securityText(c)
	for _, w := range []string{"Security findings (4, highest risk", "HIGH", "cswsh-cross-origin", "mask-key-zero (client, packet 7)"} {
		if !strings.Contains(txt, w) {
			t.Errorf("security text lacks %q:\n%s", w, txt)
		}
	}
	for _, bad := range []string{"SECRET", "\x1b", "[red]frames"} {
		if strings.Contains(txt, bad) {
			t.Errorf("security text contains %q:\n%s", bad, txt)
		}
	}
	// Without findings: nothing.
	plain := &connView{id: 2, hs: secretHandshake("chat.example")}
	plain.hs.Origin = "http://chat.example"
	plain.hs.URI = "/ws"
	plain.hs.RequestHeaders = plain.hs.RequestHeaders[:6]
	plain.hs.RequestHeaders[5] = reassembly.Header{Name: "Origin", Value: "http://chat.example"}
	if fs := connFindings(plain); len(fs) != 0 || securityText(plain) != "" {
		t.Errorf("plain connection has findings %v", fs)
	}
}

// TestSecurityMarkOnScreen checks that the connections pane marks the
// connection with a security finding, and not the other one.
func TestSecurityMarkOnScreen(t *testing.T) {
	m := NewModel(ModelOptions{})
	bad := &pipeline.Conn{ID: 1, Client: netip.MustParseAddrPort("10.0.0.1:40001"), Server: netip.MustParseAddrPort("10.0.0.2:8080"),
		Handshake: secretHandshake("hijack.example"), Start: t0, Summary: pipeline.Summary{CloseCodes: [2]int{-1, -1}}}
	okHS := secretHandshake("fine.example")
	okHS.Origin = "http://fine.example"
	okHS.URI = "/ws"
	okHS.RequestHeaders = okHS.RequestHeaders[:5]
	good := &pipeline.Conn{ID: 2, Client: netip.MustParseAddrPort("10.0.0.3:40002"), Server: netip.MustParseAddrPort("10.0.0.2:8080"),
		Handshake: okHS, Start: t0, Summary: pipeline.Summary{CloseCodes: [2]int{-1, -1}}}
	m.ConnOpen(bad)
	m.ConnOpen(good)
	m.Anomaly(good, &pipeline.Anomaly{Code: wsdecode.CodeMaskKeyRepeated, Detail: "5 of 6", Severity: "warning", From: "client", Packet: 9, Time: t0})
	h := startUI(t, m, 140, 30, Options{})
	h.waitText("SEC high")
	if l := h.line("hijack.example"); !strings.Contains(l, "SEC high") {
		t.Errorf("hijack row lacks the mark: %q", l)
	}
	if l := h.line("fine.example"); !strings.Contains(l, "SEC med") || strings.Contains(l, "high") {
		t.Errorf("fine row (repeated masking keys only) = %q", l)
	}
	// Selecting the connection shows its findings in the detail pane, first.
	h.key(tcell.KeyBacktab)
	h.waitText("▶ Connections")
	h.keys("j")
	scr := h.waitText("Security findings (3, highest risk HIGH)")
	for _, want := range []string{"HIGH error cswsh-cross-origin (packet 5)", "MEDIUM warning cleartext-cookie (client, packet 4)"} {
		if !strings.Contains(scr, want) {
			t.Errorf("detail lacks %q:\n%s", want, scr)
		}
	}
	if i, j := strings.Index(scr, "Security findings"), strings.Index(scr, "Request"); j >= 0 && i > j {
		t.Error("security findings not shown before the handshake")
	}
	h.keys("j")
	h.waitText("Security findings (1, highest risk MEDIUM)")
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"github.com/wsscope/wsscope/pcaps/synth"
)

// Secrets the clients below send; no anomaly record or text "!" line may
// show them (connection records carry the headers as captured).
var e2eSecrets = []string{"SESSION-9c1e0b7f", "TOKEN-5a2d44e1", "CSRF-77aa31"}

// recordSecurity records, over real loopback TCP, three connections to a
// gorilla server whose Upgrader accepts any Origin (CheckOrigin returns
// true), except for the path /private which it refuses with 403:
//
//  1. a gorilla client with a session cookie and a foreign Origin, token in
//     the query: cross-site WebSocket hijacking risk, accepted;
//  2. a coder client with the same cookie and its own Origin spelled in
//     another case with the default port made explicit: no CSWSH;
//  3. a gorilla client with a cookie and no Origin, refused with 403: no
//     CSWSH (the server did not accept it), but the cookie crossed the wire.
func recordSecurity(t *testing.T) *synth.Recording {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var h *synth.Harness
	h, err := synth.NewHarness(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/private" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		up := gorilla.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			h.Fail(err)
			return
		}
		defer c.Close()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(typ, p); err != nil {
				h.Fail(err)
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	cookie := "session=SESSION-9c1e0b7f; csrftoken=CSRF-77aa31"
	h.Fail(func() error {
		dial, recf := h.Dialer()
		d := gorilla.Dialer{NetDialContext: dial, HandshakeTimeout: 5 * time.Second}
		hdr := http.Header{"Origin": {"http://evil.example"}, "Cookie": {cookie}}
		c, resp, err := d.DialContext(ctx, "ws://chat.example:8080/ws?room=7&access_token=TOKEN-5a2d44e1", hdr)
		if err != nil {
			return fmt.Errorf("gorilla dial: %w", err)
		}
		resp.Body.Close()
		h.Label(recf(), "192.0.2.10:51000", "192.0.2.1:8080", "gorilla client, cookie, foreign Origin")
		if err := c.WriteMessage(gorilla.TextMessage, []byte("hello from evil.example")); err != nil {
			return err
		}
		if _, _, err := c.ReadMessage(); err != nil {
			return err
		}
		c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
		c.ReadMessage() // the close echo
		return c.Close()
	}())
	h.Fail(func() error {
		hc, recf := h.HTTPClient()
		c, _, err := coder.Dial(ctx, "ws://chat.example:8080/ws", &coder.DialOptions{HTTPClient: hc,
			HTTPHeader: http.Header{"Origin": {"HTTP://Chat.EXAMPLE:8080"}, "Cookie": {cookie}}})
		if err != nil {
			return fmt.Errorf("coder dial: %w", err)
		}
		h.Label(recf(), "192.0.2.11:51001", "192.0.2.1:8080", "coder client, cookie, same Origin")
		if err := c.Write(ctx, coder.MessageText, []byte("hello from chat.example")); err != nil {
			return err
		}
		if _, _, err := c.Read(ctx); err != nil {
			return err
		}
		return c.Close(coder.StatusNormalClosure, "")
	}())
	h.Fail(func() error {
		dial, recf := h.Dialer()
		d := gorilla.Dialer{NetDialContext: dial, HandshakeTimeout: 5 * time.Second}
		_, resp, err := d.DialContext(ctx, "ws://chat.example:8080/private", http.Header{"Cookie": {cookie}})
		if resp != nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			return fmt.Errorf("/private: upgrade succeeded")
		}
		h.Label(recf(), "192.0.2.12:51002", "192.0.2.1:8080", "gorilla client, cookie, no Origin, refused")
		return nil
	}())
	rec, err := h.Finish(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestSecurityFindingsEndToEnd records real clients, writes the capture and
// checks wsscope's security findings in JSON and text output: the expected
// findings on the expected connections and nothing else, and no secret in
// any finding.
func TestSecurityFindingsEndToEnd(t *testing.T) {
	rec := recordSecurity(t)
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, rec.Conns, synth.Options{Seed: 11}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "security.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runArgs(t, nil, "-r", path, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	type anomaly struct {
		Record   string  `json:"record"`
		Conn     *uint64 `json:"conn"`
		Code     string  `json:"code"`
		Detail   string  `json:"detail"`
		Severity string  `json:"severity"`
		Category string  `json:"category"`
		Risk     string  `json:"risk"`
		From     *string `json:"from"`
	}
	var got []string
	details := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var a anomaly
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("invalid JSON %q: %v", line, err)
		}
		if a.Record != "anomaly" {
			continue
		}
		for _, s := range e2eSecrets {
			if strings.Contains(line, s) {
				t.Errorf("secret %q in anomaly record %s", s, line)
			}
		}
		if a.Category == "" {
			continue // not a security finding
		}
		from := "null"
		if a.From != nil {
			from = *a.From
		}
		k := fmt.Sprintf("#%d %s %s %s/%s %s", *a.Conn, from, a.Code, a.Category, a.Risk, a.Severity)
		got = append(got, k)
		details[k] = a.Detail
	}
	want := []string{
		"#1 client cleartext-cookie security/medium warning",
		"#1 client cleartext-query-token security/medium warning",
		"#1 null cswsh-cross-origin security/high error",
		"#2 client cleartext-cookie security/medium warning",
		"#3 client cleartext-cookie security/medium warning",
	}
	if !slices.Equal(got, want) {
		t.Errorf("security findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for k, sub := range map[string]string{
		want[0]: "Cookie session, csrftoken readable",
		want[1]: "parameter access_token in",
		want[2]: `Origin "http://evil.example" is not the Host "chat.example:8080"`,
	} {
		if !strings.Contains(details[k], sub) {
			t.Errorf("%s: detail %q lacks %q", k, details[k], sub)
		}
	}

	code, txt, stderr := runArgs(t, nil, "-r", path, "--text")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	n := 0
	for _, line := range strings.Split(txt, "\n") {
		if !strings.Contains(line, " ! ") {
			continue
		}
		t.Log(line)
		if strings.Contains(line, " SECURITY ") {
			n++
		}
		for _, s := range e2eSecrets {
			if strings.Contains(line, s) {
				t.Errorf("secret %q in text line %q", s, line)
			}
		}
	}
	if n != len(want) {
		t.Errorf("%d SECURITY lines in text output, want %d:\n%s", n, len(want), txt)
	}
	if !strings.Contains(txt, "#1 ! error SECURITY high cswsh-cross-origin") {
		t.Errorf("text output lacks the CSWSH line:\n%s", txt)
	}
}

package reassembly

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestOriginMatchesHost(t *testing.T) {
	tests := []struct {
		origin, host string
		same         bool
	}{
		{"http://chat.example", "chat.example", true},
		{"http://Chat.Example", "CHAT.example", true},
		{"https://chat.example", "chat.example", true},        // TLS terminated before the captured hop
		{"https://chat.example", "chat.example:443", true},    // explicit default port
		{"http://chat.example:80", "chat.example", true},      // explicit default port in Origin
		{"http://chat.example", "chat.example:80", true},      //
		{"https://chat.example:443", "chat.example:80", true}, // 80 and 443 both default
		{"http://chat.example:8080", "chat.example:8080", true},
		{"http://chat.example:08080", "chat.example:8080", true},
		{"http://chat.example.", "chat.example", true}, // trailing dot
		{"ws://chat.example", "chat.example", true},
		{"http://[2001:DB8::1]:9001", "[2001:db8::1]:9001", true},
		{"http://[2001:db8:0:0::1]", "[2001:db8::1]", true},
		{"http://[::ffff:192.0.2.1]:8080", "192.0.2.1:8080", true},
		{"http://user@chat.example", "chat.example", true},
		{" http://chat.example ", "chat.example", true},
		{"http://chat.example", "chat.example:8080", false}, // port differs
		{"http://chat.example:8080", "chat.example:9090", false},
		{"http://chat.example:8080", "chat.example", false},
		{"http://evil.example", "chat.example", false},
		{"http://chat.example.evil.example", "chat.example", false},
		{"http://evilchat.example", "chat.example", false},
		{"null", "chat.example", false},
		{"NULL", "chat.example", false},
		{"chat.example", "chat.example", false}, // not an origin
		{"http://", "chat.example", false},
		{"http://chat.example", "", false},
		{"http://[2001:db8::2]", "[2001:db8::1]", false},
		{"http://chat.example:99999", "chat.example", false},
		{"http://chat.example", "chat.example:x", false},
		{"http://[2001:db8::1", "[2001:db8::1]", false},
	}
	for _, tc := range tests {
		same, why := originMatchesHost(tc.origin, tc.host)
		if same != tc.same {
			t.Errorf("originMatchesHost(%q, %q) = %v (%s), want %v", tc.origin, tc.host, same, why, tc.same)
		}
		if !same && why == "" {
			t.Errorf("originMatchesHost(%q, %q): no reason given", tc.origin, tc.host)
		}
	}
}

// hsOf builds a parsed handshake from raw request and response heads (the
// response may be empty: no answer seen).
func hsOf(t *testing.T, req, resp string) *Handshake {
	t.Helper()
	hs := &Handshake{}
	line, hdrs, ok := parseHead([]byte(req), nil)
	m, u, p, ok2 := parseRequestLine(line)
	if !ok || !ok2 {
		t.Fatalf("bad request %q", req)
	}
	setRequest(hs, m, u, p, hdrs, Meta{Packet: 4})
	if resp != "" {
		line, hdrs, ok = parseHead([]byte(resp), nil)
		proto, st, reason, ok2 := parseStatusLine(line)
		if !ok || !ok2 {
			t.Fatalf("bad response %q", resp)
		}
		setResponse(hs, proto, st, reason, hdrs, Meta{Packet: 5})
		hs.Upgraded = st == 101
	}
	return hs
}

func req(uri string, hdrs ...string) string {
	return "GET " + uri + " HTTP/1.1\r\nHost: chat.example:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nSec-WebSocket-Version: 13\r\n" + strings.Join(hdrs, "") + "\r\n"
}

const (
	resp101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n\r\n"
	resp403 = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
)

// secrets appear in the table's requests; no finding may show them.
var secrets = []string{"s3cr3t-cookie-value", "c2VjcmV0LXVzZXI6aHVudGVyMg==", "tok-9f8e7d6c5b4a", "hunter2",
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.sig-abcdef123456", "ya29.bare-secret-no-scheme", "dG9rLTlmOGU3ZDZjNWI0YQ"}

func TestFindings(t *testing.T) {
	tests := []struct {
		name    string
		req     string
		resp    string
		cut     bool
		want    map[string]string // code → substring of its detail
		notWant []string
	}{
		{name: "cross-origin cookie accepted", req: req("/ws", "Origin: http://evil.example\r\n", "Cookie: sid=s3cr3t-cookie-value; theme=dark\r\n"), resp: resp101,
			want: map[string]string{CodeCSWSHCrossOrigin: `Origin "http://evil.example" is not the Host "chat.example:8080"`, CodeCleartextCookie: "Cookie sid, theme"}},
		{name: "cross-origin authorization accepted", req: req("/ws", "Origin: https://evil.example\r\n", "Authorization: Basic c2VjcmV0LXVzZXI6aHVudGVyMg==\r\n"), resp: resp101,
			want: map[string]string{CodeCSWSHCrossOrigin: "carrying Authorization", CodeCleartextAuth: "Authorization: Basic"}},
		{name: "same origin with case and default port is not cswsh", req: strings.Replace(req("/ws", "Origin: HTTP://CHAT.example\r\n", "Cookie: a=s3cr3t-cookie-value\r\n"), "chat.example:8080", "chat.example:80", 1), resp: resp101,
			want: map[string]string{CodeCleartextCookie: "Cookie a"}, notWant: []string{CodeCSWSHCrossOrigin, CodeCSWSHNoOrigin}},
		{name: "same origin with port", req: req("/ws", "Origin: http://chat.example:8080\r\n", "Cookie: a=s3cr3t-cookie-value\r\n"), resp: resp101,
			notWant: []string{CodeCSWSHCrossOrigin, CodeCSWSHNoOrigin}},
		{name: "refused upgrade is not cswsh", req: req("/ws", "Cookie: sid=s3cr3t-cookie-value\r\n"), resp: resp403,
			want: map[string]string{CodeCleartextCookie: "sid"}, notWant: []string{CodeCSWSHCrossOrigin, CodeCSWSHNoOrigin}},
		{name: "refused cross-origin is not cswsh", req: req("/ws", "Origin: http://evil.example\r\n", "Cookie: sid=s3cr3t-cookie-value\r\n"), resp: resp403,
			notWant: []string{CodeCSWSHCrossOrigin, CodeCSWSHNoOrigin}},
		{name: "no answer is not cswsh", req: req("/ws", "Cookie: sid=s3cr3t-cookie-value\r\n"),
			want: map[string]string{CodeCleartextCookie: "sid"}, notWant: []string{CodeCSWSHCrossOrigin, CodeCSWSHNoOrigin}},
		{name: "cookie without origin accepted", req: req("/ws", "Cookie: sid=s3cr3t-cookie-value\r\n"), resp: resp101,
			want: map[string]string{CodeCSWSHNoOrigin: "without an Origin header"}},
		{name: "cut request: missing origin unknown", req: req("/ws", "Cookie: sid=s3cr3t-cookie-value\r\n"), resp: resp101, cut: true,
			want: map[string]string{CodeCleartextCookie: "sid"}, notWant: []string{CodeCSWSHNoOrigin}},
		{name: "hybi Sec-WebSocket-Origin", req: req("/ws", "Sec-WebSocket-Origin: http://evil.example\r\n", "Cookie: sid=s3cr3t-cookie-value\r\n"), resp: resp101,
			want: map[string]string{CodeCSWSHCrossOrigin: "evil.example"}},
		{name: "null origin", req: req("/ws", "Origin: null\r\n", "Cookie: sid=s3cr3t-cookie-value\r\n"), resp: resp101,
			want: map[string]string{CodeCSWSHCrossOrigin: "opaque"}},
		{name: "cross origin without credentials", req: req("/ws", "Origin: http://evil.example\r\n"), resp: resp101,
			notWant: []string{CodeCSWSHCrossOrigin, CodeCSWSHNoOrigin, CodeCSWSHCrossOriginToken, CodeCleartextCookie, CodeCleartextAuth, CodeCleartextQueryToken}},
		{name: "query token cross origin", req: req("/ws?room=1&access_token=tok-9f8e7d6c5b4a", "Origin: http://evil.example\r\n"), resp: resp101,
			want:    map[string]string{CodeCSWSHCrossOriginToken: "query token", CodeCleartextQueryToken: "parameter access_token in"},
			notWant: []string{CodeCSWSHCrossOrigin}},
		{name: "query token without origin is normal", req: req("/ws?token=tok-9f8e7d6c5b4a"), resp: resp101,
			want: map[string]string{CodeCleartextQueryToken: "token"}, notWant: []string{CodeCSWSHNoOrigin, CodeCSWSHCrossOriginToken}},
		{name: "query names", req: req("/ws?room=1&API_KEY=tok-9f8e7d6c5b4a&password=hunter2&x=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.sig-abcdef123456&author=me&session%5Fid=hunter2&auth=tok-9f8e7d6c5b4a#frag=hunter2"), resp: resp101,
			want: map[string]string{CodeCleartextQueryToken: "API_KEY, password, x, session_id, auth in"}},
		{name: "nameless query values never shown", req: req("/ws?tok-9f8e7d6c5b4a&eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.sig-abcdef123456&=hunter2"), resp: resp101,
			want: map[string]string{CodeCleartextQueryToken: "(unnamed JWT) in"}},
		{name: "no query token", req: req("/ws?room=general&user=bob&author=x"), resp: resp101,
			notWant: []string{CodeCleartextQueryToken}},
		{name: "bearer scheme", req: req("/ws", "authorization: bearer tok-9f8e7d6c5b4a\r\n"), resp: resp101,
			want: map[string]string{CodeCleartextAuth: "Authorization: Bearer readable", CodeCSWSHNoOrigin: "Authorization"}},
		{name: "bare credential without scheme", req: req("/ws", "Authorization: ya29.bare-secret-no-scheme\r\n"), resp: resp101,
			want: map[string]string{CodeCleartextAuth: "(no scheme: a bare credential)"}},
		{name: "unknown scheme", req: req("/ws", "Authorization: hunter2 tok-9f8e7d6c5b4a\r\n"), resp: resp101,
			want: map[string]string{CodeCleartextAuth: "(unrecognised scheme)"}},
		{name: "proxy authorization is cleartext, not ambient", req: req("/ws", "Origin: http://evil.example\r\n", "Proxy-Authorization: Basic c2VjcmV0LXVzZXI6aHVudGVyMg==\r\n"), resp: resp101,
			want: map[string]string{CodeCleartextAuth: "Proxy-Authorization: Basic"}, notWant: []string{CodeCSWSHCrossOrigin, CodeCSWSHNoOrigin}},
		{name: "cookie without name never shown", req: req("/ws", "Cookie: s3cr3t-cookie-value; a=hunter2; =hunter2\r\n"), resp: resp101,
			want: map[string]string{CodeCleartextCookie: "Cookie (unnamed), a readable"}},
		{name: "set-cookie in 101", req: req("/ws", "Origin: http://chat.example:8080\r\n"),
			resp: strings.Replace(resp101, "\r\n\r\n", "\r\nSet-Cookie: sid=s3cr3t-cookie-value; HttpOnly; Path=/\r\nSet-Cookie: lang=en\r\n\r\n", 1),
			want: map[string]string{CodeCleartextCookie: "Set-Cookie sid, lang"}},
		{name: "k8s bearer subprotocol", req: req("/ws", "Sec-WebSocket-Protocol: v4.channel.k8s.io, base64url.bearer.authorization.k8s.io.dG9rLTlmOGU3ZDZjNWI0YQ\r\n"), resp: resp101,
			want: map[string]string{CodeCleartextSubprotocolToken: "Kubernetes bearer token"}},
		{name: "jwt subprotocol", req: req("/ws", "Sec-WebSocket-Protocol: access_token, eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.sig-abcdef123456\r\n"), resp: resp101,
			want: map[string]string{CodeCleartextSubprotocolToken: "JWT-shaped"}},
		{name: "plain subprotocols", req: req("/ws", "Sec-WebSocket-Protocol: chat, v4.channel.k8s.io, graphql-ws\r\n"), resp: resp101,
			notWant: []string{CodeCleartextSubprotocolToken}},
		{name: "sample nonce", req: strings.Replace(req("/ws"), "x3JJHMbDL1EzLkh9GBhXDw==", SampleKey, 1), resp: resp101,
			want: map[string]string{CodeKeyReused: "sample nonce"}},
		{name: "plain handshake has no findings", req: req("/ws", "Origin: http://chat.example:8080\r\n"), resp: resp101,
			notWant: []string{CodeCSWSHCrossOrigin, CodeCSWSHNoOrigin, CodeCSWSHCrossOriginToken, CodeCleartextCookie, CodeCleartextAuth, CodeCleartextQueryToken, CodeKeyReused}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := hsOf(t, tc.req, tc.resp)
			hs.RequestCut = tc.cut
			fs := Findings(hs)
			got := map[string]int{}
			for _, f := range fs {
				t.Logf("%s %s: %s", f.Severity, f.Code, f.Detail)
				got[f.Code]++
				if sub, ok := tc.want[f.Code]; ok && !strings.Contains(f.Detail, sub) {
					t.Errorf("%s: detail %q lacks %q", f.Code, f.Detail, sub)
				}
				for _, s := range secrets {
					if strings.Contains(f.Detail, s) {
						t.Errorf("%s: detail shows a secret: %q", f.Code, f.Detail)
					}
				}
				if f.Severity == "" || f.Detail == "" || f.At.Packet == 0 {
					t.Errorf("%s: incomplete finding %+v", f.Code, f)
				}
			}
			for code := range tc.want {
				if code == CodeCleartextCookie && strings.Contains(tc.req, "Cookie") && strings.Contains(tc.resp, "Set-Cookie") {
					continue
				}
				if got[code] != 1 {
					t.Errorf("%s reported %d times, want once; findings: %v", code, got[code], fs)
				}
			}
			for _, code := range tc.notWant {
				if got[code] != 0 {
					t.Errorf("unexpected %s: %v", code, fs)
				}
			}
		})
	}
}

// TestFindingsThroughAssembler checks that the Assembler reports the
// findings once per handshake, after Handshake, on the right connection.
func TestFindingsThroughAssembler(t *testing.T) {
	client := req("/ws?token=tok-9f8e7d6c5b4a", "Origin: http://evil.example\r\n", "Cookie: sid=s3cr3t-cookie-value\r\n") + "\x81\x80abcd"
	server := resp101 + "\x81\x02hi"
	for _, seg := range []int{1, 7, 1 << 20} {
		r := exchange(t, Config{}, client, server, seg)
		var codes []string
		for _, a := range r.anoms {
			codes = append(codes, a.Code)
		}
		want := []string{CodeCleartextCookie, CodeCleartextQueryToken, CodeCSWSHCrossOrigin}
		if !slices.Equal(codes, want) {
			t.Errorf("seg %d: anomalies %v, want %v", seg, codes, want)
		}
		if i := slices.Index(r.events, "anomaly "+CodeCSWSHCrossOrigin); i < 0 || !strings.HasPrefix(r.events[0], "hs 1 true 101") {
			t.Errorf("seg %d: events %v", seg, r.events)
		}
	}
}

// TestFindingsNoResponse checks that a request the server never answered
// still has its cleartext findings (and no CSWSH).
func TestFindingsNoResponse(t *testing.T) {
	r := exchange(t, Config{}, req("/ws", "Origin: http://evil.example\r\n", "Cookie: sid=s3cr3t-cookie-value\r\n"), "", 1<<20)
	if !r.has(CodeNoResponse) || !r.has(CodeCleartextCookie) || r.has(CodeCSWSHCrossOrigin) {
		t.Errorf("anomalies %v, want handshake-no-response and cleartext-cookie, no cswsh", r.codes())
	}
}

func TestKeySet(t *testing.T) {
	key := func(i int) *Handshake {
		b := fmt.Sprintf("key-%012d", i) // 16 bytes
		hs := hsOf(t, strings.Replace(req("/"), "x3JJHMbDL1EzLkh9GBhXDw==", b64(b), 1), "")
		if !hs.KeyValid {
			t.Fatalf("test key %q invalid", hs.Key)
		}
		return hs
	}
	s := NewKeySet(4)
	for i := 1; i <= 4; i++ {
		if _, ok := s.Check(key(i), uint64(i)); ok {
			t.Fatalf("fresh key %d reported", i)
		}
	}
	a, ok := s.Check(key(2), 10)
	if !ok || a.Code != CodeKeyReused || !strings.Contains(a.Detail, "connection #2") || a.At.Packet != 4 {
		t.Errorf("reuse of key 2: %v %+v", ok, a)
	}
	// A reuse is not remembered as a new first use.
	if a, ok := s.Check(key(2), 11); !ok || !strings.Contains(a.Detail, "#2") {
		t.Errorf("second reuse: %v %+v", ok, a)
	}
	// Bounded: key 5 evicts key 1, the oldest.
	s.Check(key(5), 5)
	if s.Len() != 4 {
		t.Errorf("Len %d, want 4", s.Len())
	}
	if _, ok := s.Check(key(1), 12); ok {
		t.Error("evicted key still found")
	}
	if _, ok := s.Check(key(5), 13); !ok {
		t.Error("key 5 not found")
	}
	// Invalid keys and missing requests are ignored.
	bad := hsOf(t, strings.Replace(req("/"), "x3JJHMbDL1EzLkh9GBhXDw==", "c2hvcnQ=", 1), "")
	s.Check(bad, 20)
	if _, ok := s.Check(bad, 21); ok {
		t.Error("invalid key tracked")
	}
	if _, ok := s.Check(&Handshake{}, 22); ok {
		t.Error("empty handshake reported")
	}
	// Many keys stay within the bound.
	big := NewKeySet(100)
	for i := 0; i < 1000; i++ {
		big.Check(key(i), uint64(i+1))
	}
	if big.Len() != 100 || len(big.ring) != 100 {
		t.Errorf("Len %d ring %d, want 100", big.Len(), len(big.ring))
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// BenchmarkFindings measures the findings of one handshake, with and
// without credentials (bytes: the request head).
func BenchmarkFindings(b *testing.B) {
	for _, c := range []struct{ name, req string }{
		{"plain", req("/ws", "Origin: http://chat.example:8080\r\n")},
		{"credentials", req("/ws?room=1&access_token=x", "Origin: http://evil.example\r\n", "Cookie: a=1; b=2; session=3\r\n", "Authorization: Bearer x\r\n")},
	} {
		b.Run(c.name, func(b *testing.B) {
			t := &testing.T{}
			hs := hsOf(t, c.req, resp101)
			b.SetBytes(int64(len(c.req)))
			b.ReportAllocs()
			for b.Loop() {
				if fs := Findings(hs); len(fs) == 0 && c.name != "plain" {
					b.Fatal("no findings")
				}
			}
		})
	}
}

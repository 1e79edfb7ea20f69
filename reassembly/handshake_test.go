package reassembly

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/capture"
)

func TestAcceptFor(t *testing.T) {
	// RFC 6455 §1.3 example.
	if got := AcceptFor("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptFor = %q", got)
	}
}

// exchange runs one connection with the given client and server bytes (each
// split into segments of size seg) and returns the recorder.
func exchange(t *testing.T, cfg Config, client, server string, seg int) *recorder {
	return exchangeOrder(t, cfg, client, server, seg, false)
}

// exchangeOrder is exchange, optionally with all client segments first.
func exchangeOrder(t *testing.T, cfg Config, client, server string, seg int, clientFirst bool) *recorder {
	t.Helper()
	f := newFlow(1000, 5000)
	pk := f.handshake()
	if clientFirst {
		for i := 0; i < len(client); i += seg {
			pk = append(pk, f.c(i, client[i:min(len(client), i+seg)]))
		}
		for i := 0; i < len(server); i += seg {
			pk = append(pk, f.s(i, server[i:min(len(server), i+seg)]))
		}
		r, _ := run(t, cfg, pk)
		return r
	}
	for i := 0; i < max(len(client), len(server)); i += seg {
		if i < len(client) {
			pk = append(pk, f.c(i, client[i:min(len(client), i+seg)]))
		}
		if i < len(server) {
			pk = append(pk, f.s(i, server[i:min(len(server), i+seg)]))
		}
	}
	r, _ := run(t, cfg, pk)
	return r
}

func TestHandshakes(t *testing.T) {
	std := upgradeReq("")
	cases := []struct {
		name       string
		client     string
		server     string
		conns      int
		upgraded   bool // of the last conn
		codes      []string
		notCodes   []string
		clientData string // WebSocket bytes of the last conn
		serverData string
		check      func(t *testing.T, hs *Handshake)
	}{
		{name: "valid", client: upgradeReq("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n") + "\x81\x80abcd",
			server: upgradeResp("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n") + "\x81\x02hi",
			conns:  1, upgraded: true, clientData: "\x81\x80abcd", serverData: "\x81\x02hi",
			notCodes: []string{CodeWrongAccept, CodeBadKey, CodeUnrequestedProtocol, CodeUnrequestedExt, CodeOldVersion},
			check: func(t *testing.T, hs *Handshake) {
				if hs.Subprotocol != "chat" || len(hs.AcceptedExtensions) != 1 || hs.AcceptedExtensions[0] != "permessage-deflate" ||
					len(hs.Protocols) != 2 || hs.Origin != "http://example.com" || hs.Version != "13" || !hs.KeyValid || !hs.AcceptValid ||
					hs.Status != 101 || hs.Reason != "Switching Protocols" || hs.Method != "GET" || len(hs.Extensions) != 1 {
					t.Errorf("handshake %+v", hs)
				}
			}},
		{name: "wrong accept", client: std, server: strings.Replace(upgradeResp(""), testAccept, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1) + "\x81\x00",
			conns: 1, upgraded: true, codes: []string{CodeWrongAccept}, serverData: "\x81\x00",
			check: func(t *testing.T, hs *Handshake) {
				if hs.AcceptValid {
					t.Error("AcceptValid")
				}
			}},
		{name: "missing accept", client: std, server: strings.Replace(upgradeResp(""), "Sec-WebSocket-Accept: "+testAccept+"\r\n", "", 1),
			conns: 1, upgraded: true, codes: []string{CodeMissingAccept}},
		{name: "bad key", client: strings.Replace(std, testKey, "c2hvcnQ=", 1), server: upgradeResp(""),
			conns: 1, upgraded: true, codes: []string{CodeBadKey, CodeWrongAccept},
			check: func(t *testing.T, hs *Handshake) {
				if hs.KeyValid {
					t.Error("KeyValid")
				}
			}},
		{name: "hybi-07", client: strings.Replace(std, "Version: 13", "Version: 7", 1), server: upgradeResp(""),
			conns: 1, upgraded: true, codes: []string{CodeOldVersion}, notCodes: []string{CodeBadVersion}},
		{name: "hybi-10", client: strings.Replace(std, "Version: 13", "Version: 8", 1), server: upgradeResp(""),
			conns: 1, upgraded: true, codes: []string{CodeOldVersion}, notCodes: []string{CodeBadVersion}},
		{name: "version 12", client: strings.Replace(std, "Version: 13", "Version: 12", 1), server: "HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13\r\nContent-Length: 3\r\n\r\nbad",
			conns: 1, upgraded: false, codes: []string{CodeBadVersion, CodeRefused}},
		{name: "missing upgrade and connection headers", client: strings.Replace(strings.Replace(std, "Upgrade: websocket\r\n", "", 1), "Connection: Upgrade\r\n", "Connection: keep-alive\r\n", 1),
			server: strings.Replace(upgradeResp(""), "Connection: Upgrade", "Connection: keep-alive, Upgrade", 1),
			conns:  1, upgraded: true, codes: []string{CodeMissingUpgrade, CodeMissingConnection}},
		{name: "case-insensitive token lists", client: strings.Replace(strings.Replace(std, "Upgrade: websocket", "upgrade: WebSocket", 1), "Connection: Upgrade", "connection: keep-alive, UPGRADE", 1),
			server: upgradeResp(""), conns: 1, upgraded: true, notCodes: []string{CodeMissingUpgrade, CodeMissingConnection}},
		{name: "refused 403", client: std + "garbage after", server: "HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden",
			conns: 1, upgraded: false, codes: []string{CodeRefused}},
		{name: "101 to another protocol", client: "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", server: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\nPRI",
			conns: 0},
		{name: "pipelined keep-alive requests then upgrade",
			client: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\nPOST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
				"GET /d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + std + "\x81\x80abcd",
			server: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789" +
				"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n" +
				"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nHTTP/\r\n0\r\nTrailer: x\r\n\r\n" +
				"HTTP/1.1 204 No Content\r\n\r\n" + upgradeResp("") + "\x81\x02hi",
			conns: 1, upgraded: true, clientData: "\x81\x80abcd", serverData: "\x81\x02hi"},
		{name: "refused then upgraded on the same connection",
			client: std + std + "\x81\x80abcd",
			server: "HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nauth" + upgradeResp("") + "\x88\x00",
			conns:  2, upgraded: true, clientData: "\x81\x80abcd", serverData: "\x88\x00"},
		{name: "101 and first frame in one segment", client: std, server: upgradeResp("") + "\x81\x05hello\x81\x01!",
			conns: 1, upgraded: true, serverData: "\x81\x05hello\x81\x01!"},
		{name: "bare LF line endings", client: strings.ReplaceAll(std, "\r\n", "\n"), server: strings.ReplaceAll(upgradeResp(""), "\r\n", "\n") + "\x81\x00",
			conns: 1, upgraded: true, serverData: "\x81\x00"},
		{name: "folded header", client: strings.Replace(std, "Origin: http://example.com\r\n", "Origin: http://exa\r\n mple.com\r\n", 1), server: upgradeResp(""),
			conns: 1, upgraded: true, check: func(t *testing.T, hs *Handshake) {
				if hs.Origin != "http://exa mple.com" {
					t.Errorf("origin %q", hs.Origin)
				}
			}},
		{name: "unrequested subprotocol and extension", client: std, server: upgradeResp("Sec-WebSocket-Protocol: other\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"),
			conns: 1, upgraded: true, codes: []string{CodeUnrequestedProtocol, CodeUnrequestedExt}},
		{name: "response never came", client: std, server: "", conns: 1, upgraded: false, codes: []string{CodeNoResponse}},
		{name: "1 MB request header", client: strings.Replace(std, "Origin:", "X-Big: "+strings.Repeat("a", 1<<20)+"\r\nOrigin:", 1), server: upgradeResp(""),
			conns: 1, upgraded: false, codes: []string{CodeLimit}},
		{name: "1 MB response header", client: std, server: strings.Replace(upgradeResp(""), "Upgrade:", "X-Big: "+strings.Repeat("a", 1<<20)+"\r\nUpgrade:", 1),
			conns: 1, upgraded: false, codes: []string{CodeLimit}},
		{name: "plain HTTP without body length is ignored", client: "GET / HTTP/1.0\r\n\r\n", server: "HTTP/1.0 200 OK\r\n\r\nbody until close " + upgradeResp(""), conns: 0},
	}
	for _, tc := range cases {
		for _, seg := range []int{1 << 30, 13, 1} {
			if seg == 1 && len(tc.client)+len(tc.server) > 1<<16 {
				continue
			}
			r := exchange(t, Config{}, tc.client, tc.server, seg)
			name := tc.name
			if len(r.conns) != tc.conns {
				t.Errorf("%s/seg %d: %d conns, want %d: %v", name, seg, len(r.conns), tc.conns, r.events)
				continue
			}
			if tc.conns == 0 {
				continue
			}
			id := uint64(tc.conns)
			hs := r.hs[id]
			if hs.Upgraded != tc.upgraded {
				t.Errorf("%s/seg %d: Upgraded %v: %v", name, seg, hs.Upgraded, r.events)
			}
			for _, code := range tc.codes {
				if !r.has(code) {
					t.Errorf("%s/seg %d: missing %s; got %v", name, seg, code, r.codes())
				}
			}
			for _, code := range tc.notCodes {
				if r.has(code) {
					t.Errorf("%s/seg %d: unexpected %s", name, seg, code)
				}
			}
			if got := r.data(id, FromClient); got != tc.clientData {
				t.Errorf("%s/seg %d: client data %q want %q", name, seg, got, tc.clientData)
			}
			if got := r.data(id, FromServer); got != tc.serverData {
				t.Errorf("%s/seg %d: server data %q want %q", name, seg, got, tc.serverData)
			}
			if tc.check != nil {
				tc.check(t, hs)
			}
			if r.conns[0].Client != netipFlowClient() {
				t.Errorf("%s: client %v", name, r.conns[0].Client)
			}
		}
	}
}

func netipFlowClient() netip.AddrPort { return newFlow(0, 0).cli }

func itoa(n int) string { return strconv.Itoa(n) }

// TestHandshakeDamage: handshakes whose bytes were partly not captured.
func TestHandshakeDamage(t *testing.T) {
	req, resp := upgradeReq(""), upgradeResp("")
	// Snaplen cut the end of both handshake packets.
	f := newFlow(1000, 5000)
	pk := f.handshake()
	p1 := f.c(0, req)
	p1.Payload, p1.Missing = p1.Payload[:120], len(req)-120
	p2 := f.s(0, resp)
	p2.Payload, p2.Missing = p2.Payload[:60], len(resp)-60
	pk = append(pk, p1, p2, f.c(len(req), "\x81\x80abcd"), f.s(len(resp), "\x81\x02hi"))
	r, _ := run(t, Config{}, pk)
	if len(r.conns) != 1 || !r.hs[1].Upgraded || !r.has(CodeHandshakeGap) {
		t.Fatalf("cut handshake: %v %v", r.events, r.codes())
	}
	if got := r.data(1, FromClient); got != "<g"+itoa(len(req)-120)+">\x81\x80abcd" {
		t.Errorf("client %q", got)
	}
	if got := r.data(1, FromServer); got != "<g"+itoa(len(resp)-60)+">\x81\x02hi" {
		t.Errorf("server %q", got)
	}

	// The request segment was lost entirely (SYN seen), acked by the server.
	f = newFlow(1000, 5000)
	pk = f.handshake()
	pk = append(pk, f.s(0, resp), f.c(len(req), "\x81\x80abcd"))
	for i := 0; i <= DefaultReorderWindow; i++ {
		pk = append(pk, f.pkt(false, f.isnS+1+uint32(len(resp)), f.isnC+1+uint32(len(req)+6), capture.FlagACK, "", 0))
	}
	r, _ = run(t, Config{}, pk)
	if len(r.conns) != 1 || !r.hs[1].Upgraded || !r.has(CodeNoRequest) {
		t.Fatalf("lost request: %v", r.events)
	}
	if got := r.data(1, FromClient); got != "<g"+itoa(len(req))+">\x81\x80abcd" {
		t.Errorf("lost request: client %q", got)
	}
}

func TestAnomalyDirections(t *testing.T) {
	r := exchange(t, Config{}, strings.Replace(upgradeReq(""), "Version: 13", "Version: 8", 1), "", 1<<20)
	for _, a := range r.anoms {
		switch a.Code {
		case CodeNoResponse:
			if !a.Both {
				t.Errorf("%s not connection-level", a.Code)
			}
		case CodeOldVersion:
			if a.Both || a.Dir != FromClient {
				t.Errorf("%s: %+v", a.Code, a)
			}
		}
	}
	r = exchange(t, Config{}, upgradeReq(""), strings.Replace(upgradeResp(""), testAccept, "x", 1), 1<<20)
	if len(r.anoms) == 0 || r.anoms[0].Code != CodeWrongAccept || r.anoms[0].Dir != FromServer || r.anoms[0].Both {
		t.Errorf("wrong accept: %+v", r.anoms)
	}
}

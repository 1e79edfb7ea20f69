package synth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
)

// Scenario runners: each runs real libraries over loopback TCP and returns
// the recording. Addresses are relabelled to fixed documentation addresses
// so output depends only on the libraries' random keys and masks.

const finishTimeout = 15 * time.Second

// chatMessages is a chat-like, repetitive JSON exchange (so that context
// takeover matters), with short messages below coder's 128-byte
// compression threshold mixed in.
func chatMessages() []string {
	users := []string{"alice", "bob", "carol"}
	var out []string
	out = append(out, `{"type":"join","room":"general","user":"alice"}`)
	for i := range 6 {
		u := users[i%len(users)]
		out = append(out, fmt.Sprintf(`{"type":"message","room":"general","user":%q,"id":%d,"text":"hello everyone, this is message number %d from %s in the general room","ts":"2026-01-02T03:04:%02dZ"}`, u, 100+i, i, u, 10+i))
		if i == 2 {
			out = append(out, "typing…")
		}
	}
	out = append(out, `{"type":"leave","room":"general","user":"alice"}`)
	return out
}

// ChatDeflate runs a coder client against a coder server, both with
// permessage-deflate and context takeover (coder compresses messages of 128
// bytes or more; shorter ones go uncompressed). The client pings once,
// and closes with 1000.
func ChatDeflate(ctx context.Context) (*Recording, error) {
	h, err := NewHarness(func(w http.ResponseWriter, r *http.Request) {
		h := harnessOf(r)
		h.coderServer(w, r, serverCfg{coderMode: coder.CompressionContextTakeover})
	})
	if err != nil {
		return nil, err
	}
	err = func() error {
		c, rec, err := h.coderClient(ctx, "ws://chat.example:8080/chat", coder.CompressionContextTakeover, 0)
		if err != nil {
			return err
		}
		h.Label(rec, "192.0.2.10:51000", "192.0.2.1:8080", "coder client ↔ coder server, permessage-deflate with context takeover both ways")
		for i, m := range chatMessages() {
			if i == 3 {
				if err := coderPing(ctx, h, rec, c, ClientToServer); err != nil {
					return err
				}
			}
			if err := h.coderExchange(ctx, c, rec, coder.MessageText, []byte(m), nil, false); err != nil {
				return err
			}
		}
		return h.coderClose(c, rec)
	}()
	h.Fail(err)
	return h.Finish(finishTimeout)
}

// NoContextTakeover runs two connections with permessage-deflate and no
// context takeover in both directions: gorilla client ↔ gorilla server
// (gorilla compresses every message), and coder client ↔ coder server in
// CompressionNoContextTakeover mode with threshold 1.
func NoContextTakeover(ctx context.Context) (*Recording, error) {
	h, err := NewHarness(func(w http.ResponseWriter, r *http.Request) {
		h := harnessOf(r)
		if r.URL.Path == "/coder" {
			h.coderServer(w, r, serverCfg{coderMode: coder.CompressionNoContextTakeover, coderThresh: 1})
			return
		}
		h.gorillaServer(w, r, serverCfg{compress: true})
	})
	if err != nil {
		return nil, err
	}
	msgs := chatMessages()
	h.Fail(func() error {
		c, rec, err := h.gorillaClient(ctx, "ws://nct.example:8080/gorilla", true, 0)
		if err != nil {
			return err
		}
		h.Label(rec, "192.0.2.10:51000", "192.0.2.1:8080", "gorilla ↔ gorilla, permessage-deflate, no context takeover both ways")
		for _, m := range msgs {
			if err := h.gorillaExchange(c, rec, gorilla.TextMessage, []byte(m), nil, false); err != nil {
				return err
			}
		}
		return h.gorillaClose(c, rec)
	}())
	h.Fail(func() error {
		c, rec, err := h.coderClient(ctx, "ws://nct.example:8080/coder", coder.CompressionNoContextTakeover, 1)
		if err != nil {
			return err
		}
		h.Label(rec, "192.0.2.11:51001", "192.0.2.1:8080", "coder ↔ coder, permessage-deflate, no context takeover both ways")
		for _, m := range msgs {
			if err := h.coderExchange(ctx, c, rec, coder.MessageText, []byte(m), nil, false); err != nil {
				return err
			}
		}
		return h.coderClose(c, rec)
	}())
	return h.Finish(finishTimeout)
}

// Fragmented runs fragmented messages with pings between fragments, both
// directions: gorilla ↔ gorilla with a 64-byte write buffer (gorilla cuts a
// frame whenever its buffer fills) and NextWriter writes, and coder ↔ coder
// whose Writer emits one frame per Write.
func Fragmented(ctx context.Context) (*Recording, error) {
	frag := func(int) []int { return []int{100, 100, 100, 100, 100} }
	h, err := NewHarness(func(w http.ResponseWriter, r *http.Request) {
		h := harnessOf(r)
		if r.URL.Path == "/coder" {
			h.coderServer(w, r, serverCfg{fragment: frag, pingsBetween: true})
			return
		}
		h.gorillaServer(w, r, serverCfg{writeBuf: 64, fragment: frag, pingsBetween: true})
	})
	if err != nil {
		return nil, err
	}
	long := func(i int) []byte {
		return []byte(strings.Repeat(fmt.Sprintf("fragment test %d; ", i), 25))
	}
	h.Fail(func() error {
		c, rec, err := h.gorillaClient(ctx, "ws://frag.example:8080/gorilla", false, 64)
		if err != nil {
			return err
		}
		h.Label(rec, "192.0.2.10:51000", "192.0.2.1:8080", "gorilla ↔ gorilla, 64-byte write buffer, NextWriter with pings between fragments")
		for i := range 3 {
			typ := gorilla.TextMessage
			if i == 2 {
				typ = gorilla.BinaryMessage
			}
			if err := h.gorillaExchange(c, rec, typ, long(i), []int{100, 100, 100, 100}, true); err != nil {
				return err
			}
		}
		return h.gorillaClose(c, rec)
	}())
	h.Fail(func() error {
		c, rec, err := h.coderClient(ctx, "ws://frag.example:8080/coder", coder.CompressionDisabled, 0)
		if err != nil {
			return err
		}
		h.Label(rec, "192.0.2.11:51001", "192.0.2.1:8080", "coder ↔ coder, Writer with one frame per Write, pings between fragments")
		for i := range 3 {
			typ := coder.MessageText
			if i == 2 {
				typ = coder.MessageBinary
			}
			if err := h.coderExchange(ctx, c, rec, typ, long(10+i), []int{50, 150, 100, 100}, true); err != nil {
				return err
			}
		}
		return h.coderClose(c, rec)
	}())
	return h.Finish(finishTimeout)
}

// BinarySizes are the payload sizes of Binary: every length-encoding
// boundary of RFC 6455.
var BinarySizes = []int{0, 1, 125, 126, 127, 65535, 65536}

// Binary sends binary messages of BinarySizes from a gorilla client to a
// gorilla server, which echoes each.
func Binary(ctx context.Context) (*Recording, error) {
	h, err := NewHarness(func(w http.ResponseWriter, r *http.Request) {
		harnessOf(r).gorillaServer(w, r, serverCfg{})
	})
	if err != nil {
		return nil, err
	}
	h.Fail(func() error {
		c, rec, err := h.gorillaClient(ctx, "ws://bin.example:8080/bin", false, 0)
		if err != nil {
			return err
		}
		h.Label(rec, "192.0.2.10:51000", "192.0.2.1:8080", "gorilla ↔ gorilla, binary messages at length-encoding boundaries, echoed")
		for _, n := range BinarySizes {
			if err := h.gorillaExchange(c, rec, gorilla.BinaryMessage, pattern(n), nil, false); err != nil {
				return err
			}
		}
		return h.gorillaClose(c, rec)
	}())
	return h.Finish(finishTimeout)
}

// pattern returns n deterministic bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + n + i>>8)
	}
	return b
}

// Plain runs an uncompressed exchange of multi-segment messages (gorilla
// client ↔ coder server): texts of 10…5000 bytes and a 3000-byte binary,
// each echoed/answered. It is the base of the damaged-* captures.
func Plain(ctx context.Context) (*Recording, error) {
	h, err := NewHarness(func(w http.ResponseWriter, r *http.Request) {
		harnessOf(r).coderServer(w, r, serverCfg{})
	})
	if err != nil {
		return nil, err
	}
	h.Fail(func() error {
		c, rec, err := h.gorillaClient(ctx, "ws://plain.example:8080/plain", false, 0)
		if err != nil {
			return err
		}
		h.Label(rec, "192.0.2.10:51000", "192.0.2.1:8080", "gorilla client ↔ coder server, uncompressed text and binary up to 5000 bytes")
		for i, n := range []int{10, 200, 1500, 3000, 5000} {
			msg := []byte(strings.Repeat(fmt.Sprintf("line %d of message %d. ", i, i), n/20+1)[:n])
			if err := h.gorillaExchange(c, rec, gorilla.TextMessage, msg, nil, false); err != nil {
				return err
			}
		}
		if err := h.gorillaExchange(c, rec, gorilla.BinaryMessage, pattern(3000), nil, false); err != nil {
			return err
		}
		return h.gorillaClose(c, rec)
	}())
	return h.Finish(finishTimeout)
}

// Refused records three HTTP connections to one port that do not become
// WebSockets: a gorilla client refused with 403, a hand-written upgrade
// request with Sec-WebSocket-Version: 12 that gorilla's Upgrader answers
// with 400, and a plain GET answered 200.
func Refused(ctx context.Context) (*Recording, error) {
	h, err := NewHarness(func(w http.ResponseWriter, r *http.Request) {
		h := harnessOf(r)
		switch r.URL.Path {
		case "/forbidden":
			http.Error(w, "forbidden", http.StatusForbidden)
		case "/ws":
			up := gorilla.Upgrader{}
			if c, err := up.Upgrade(w, r, nil); err == nil {
				c.Close()
				h.Fail(errors.New("refused: upgrade unexpectedly succeeded"))
			}
		default:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "hello, plain HTTP\n")
		}
	})
	if err != nil {
		return nil, err
	}
	h.Fail(func() error {
		_, rec, err := h.gorillaClient(ctx, "ws://refused.example:8080/forbidden", false, 0)
		if !errors.Is(err, gorilla.ErrBadHandshake) {
			return fmt.Errorf("refused: want bad handshake, got %v", err)
		}
		h.Label(rec, "192.0.2.10:51000", "192.0.2.1:8080", "gorilla client, upgrade refused with 403")
		return nil
	}())
	h.Fail(func() error {
		hc, recf := h.HTTPClient()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://refused.example:8080/ws", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "12")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			return fmt.Errorf("refused: version 12: status %d, want 400", resp.StatusCode)
		}
		h.Label(recf(), "192.0.2.11:51001", "192.0.2.1:8080", "upgrade with Sec-WebSocket-Version: 12, refused with 400 by gorilla")
		return nil
	}())
	h.Fail(func() error {
		hc, recf := h.HTTPClient()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://refused.example:8080/", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		h.Label(recf(), "192.0.2.12:51002", "192.0.2.1:8080", "plain HTTP GET answered 200 (no upgrade)")
		return nil
	}())
	return h.Finish(finishTimeout)
}

// ManyConns runs n concurrent connections (alternating gorilla and coder
// clients and servers, a few text messages each) labelled with server ports
// 80, 8080, 9000 and 3000 in turn.
func ManyConns(ctx context.Context, n int) (*Recording, error) {
	h, err := NewHarness(func(w http.ResponseWriter, r *http.Request) {
		h := harnessOf(r)
		if strings.HasPrefix(r.URL.Path, "/c") {
			h.coderServer(w, r, serverCfg{})
			return
		}
		h.gorillaServer(w, r, serverCfg{})
	})
	if err != nil {
		return nil, err
	}
	ports := []int{80, 8080, 9000, 3000}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			port := ports[i%len(ports)]
			client := fmt.Sprintf("198.51.100.%d:%d", 10+i, 40000+i)
			server := fmt.Sprintf("198.51.100.1:%d", port)
			msgs := []string{fmt.Sprintf("hello from client %d", i), fmt.Sprintf(`{"client":%d,"n":2}`, i), strings.Repeat(fmt.Sprint(i), 300)}
			if i%2 == 0 {
				c, rec, err := h.gorillaClient(ctx, fmt.Sprintf("ws://many.example:%d/g%d", port, i), false, 0)
				if err != nil {
					h.Fail(err)
					return
				}
				h.Label(rec, client, server, fmt.Sprintf("gorilla ↔ gorilla #%d", i))
				for _, m := range msgs {
					if err := h.gorillaExchange(c, rec, gorilla.TextMessage, []byte(m), nil, false); err != nil {
						h.Fail(err)
						return
					}
				}
				h.Fail(h.gorillaClose(c, rec))
				return
			}
			c, rec, err := h.coderClient(ctx, fmt.Sprintf("ws://many.example:%d/c%d", port, i), coder.CompressionDisabled, 0)
			if err != nil {
				h.Fail(err)
				return
			}
			h.Label(rec, client, server, fmt.Sprintf("coder ↔ coder #%d", i))
			for _, m := range msgs {
				if err := h.coderExchange(ctx, c, rec, coder.MessageText, []byte(m), nil, false); err != nil {
					h.Fail(err)
					return
				}
			}
			h.Fail(h.coderClose(c, rec))
		}()
	}
	wg.Wait()
	return h.Finish(finishTimeout)
}

// IPv6Chat runs an uncompressed gorilla ↔ gorilla chat (with a ping) and
// labels it with IPv6 addresses and port 9001.
func IPv6Chat(ctx context.Context) (*Recording, error) {
	h, err := NewHarness(func(w http.ResponseWriter, r *http.Request) {
		harnessOf(r).gorillaServer(w, r, serverCfg{})
	})
	if err != nil {
		return nil, err
	}
	h.Fail(func() error {
		c, rec, err := h.gorillaClient(ctx, "ws://[2001:db8::1]:9001/chat", false, 0)
		if err != nil {
			return err
		}
		h.Label(rec, "[2001:db8::10]:51000", "[2001:db8::1]:9001", "gorilla ↔ gorilla over IPv6, port 9001, uncompressed")
		for i, m := range chatMessages() {
			if i == 2 {
				p := []byte("are you there?")
				if err := h.Track(rec, ClientToServer, OpPing, p, func() error {
					return c.WriteControl(gorilla.PingMessage, p, time.Now().Add(ctlTimeout))
				}); err != nil {
					return err
				}
			}
			if err := h.gorillaExchange(c, rec, gorilla.TextMessage, []byte(m), nil, false); err != nil {
				return err
			}
		}
		return h.gorillaClose(c, rec)
	}())
	return h.Finish(finishTimeout)
}

// harnessOf returns the Harness serving r.
func harnessOf(r *http.Request) *Harness {
	h, _ := r.Context().Value(harnessKey{}).(*Harness)
	return h
}

package wsdecode

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"
)

// recConn records the bytes of the client side of a real connection: Write
// calls are client→server, Read results are server→client.
type recConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
	reads  [][]byte
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, bytes.Clone(p))
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.reads = append(c.reads, bytes.Clone(p[:n]))
		c.mu.Unlock()
	}
	return n, err
}

// expMsg is a message given to (or produced by) the library.
type expMsg struct {
	op      Opcode
	payload []byte
	any     bool // payload chosen by the library (coder's ping, auto replies)
}

// testPayloads is the message mix each side sends.
func testPayloads(seed int64) []expMsg {
	rnd := rand.New(rand.NewSource(seed))
	bin := make([]byte, 70000)
	rnd.Read(bin)
	var big strings.Builder
	for big.Len() < 200000 {
		fmt.Fprintf(&big, `{"seq":%d,"name":"wörld-%d","ok":true,"emoji":"😀"}`+"\n", big.Len(), rnd.Intn(1000))
	}
	return []expMsg{
		{op: OpText, payload: []byte("hello")},
		{op: OpBinary, payload: bin[:1000]},
		{op: OpText, payload: []byte(big.String())}, // written in several Writes
		{op: OpText, payload: []byte{}},
		{op: OpBinary, payload: bin},
		{op: OpText, payload: []byte(strings.Repeat("repetitive text compresses well. ", 300))},
		{op: OpText, payload: []byte("héllo again, €uro ✓")},
		// Repeats: under context takeover these refer to earlier messages.
		{op: OpText, payload: []byte(strings.Repeat("repetitive text compresses well. ", 300))},
		{op: OpText, payload: []byte(big.String()[:5000])},
	}
}

// splitWrites writes p in several parts (fragments for the libraries).
func splitWrites(w interface{ Write([]byte) (int, error) }, p []byte) error {
	cuts := []int{0, len(p) / 7, len(p) / 3, len(p)/3 + 1, len(p) / 2, len(p)}
	for i := 1; i < len(cuts); i++ {
		if _, err := w.Write(p[cuts[i-1]:cuts[i]]); err != nil {
			return err
		}
	}
	return nil
}

// decodeRecording skips the handshakes in a recording, negotiates deflate
// from the 101 response and decodes both directions.
func decodeRecording(t *testing.T, rc *recConn, wantMode DeflateMode) (*rec, Deflate) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	cw := bytes.Join(rc.writes, nil)
	sr := bytes.Join(rc.reads, nil)
	reqEnd := bytes.Index(cw, []byte("\r\n\r\n"))
	respEnd := bytes.Index(sr, []byte("\r\n\r\n"))
	if reqEnd < 0 || respEnd < 0 {
		t.Fatalf("handshake not found")
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(sr[:respEnd+4])), nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("101 response: %v %v", err, resp)
	}
	d, anoms := NegotiatedDeflate(resp.Header.Values("Sec-WebSocket-Extensions"))
	if len(anoms) > 0 || d.Mode != wantMode {
		t.Fatalf("NegotiatedDeflate(%q) = %+v %v; want mode %d", resp.Header.Values("Sec-WebSocket-Extensions"), d, anoms, wantMode)
	}
	r := &rec{}
	c := NewConn(Config{Deflate: d}, r)
	var pkt uint64
	feed := func(dir Dir, chunks [][]byte, skip int) {
		for _, ch := range chunks {
			if skip >= len(ch) {
				skip -= len(ch)
				continue
			}
			pkt++
			c.Feed(dir, ch[skip:], Meta{Time: time.Unix(0, int64(pkt)), Packet: pkt})
			skip = 0
		}
	}
	feed(FromClient, rc.writes, reqEnd+4)
	feed(FromServer, rc.reads, respEnd+4)
	c.Close(Meta{Packet: pkt + 1})

	// The same bytes in 3-byte chunks must decode identically.
	r3 := &rec{}
	c3 := NewConn(Config{Deflate: d}, r3)
	pkt = 0
	feedChunks(c3, FromClient, cw[reqEnd+4:], 3, &pkt)
	feedChunks(c3, FromServer, sr[respEnd+4:], 3, &pkt)
	c3.Close(Meta{})
	if got, want := r3.summary(), r.summary(); got != want {
		t.Errorf("3-byte chunks decode differently")
	}
	frag := false
	for _, m := range r.msgs {
		frag = frag || len(m.Frames) > 1
	}
	if !frag {
		t.Errorf("no fragmented message in the recording")
	}
	return r, d
}

// checkRecording compares the decoded messages of dir with want.
func checkRecording(t *testing.T, r *rec, dir Dir, want []expMsg) {
	t.Helper()
	var got []Message
	for _, m := range r.msgs {
		if m.Dir == dir {
			got = append(got, m)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%v: %d messages, want %d\n%.3000s", dir, len(got), len(want), r.summary())
	}
	for i, w := range want {
		m := got[i]
		if m.Opcode != w.op || (!w.any && !bytes.Equal(m.Payload, w.payload)) || m.Incomplete || m.Truncated || len(m.Anomalies) > 0 {
			t.Errorf("%v message %d: op %d len %d inc %v tr %v anomalies %v; want op %d len %d",
				dir, i, m.Opcode, len(m.Payload), m.Incomplete, m.Truncated, m.Anomalies, w.op, len(w.payload))
		}
		if m.Masked != (dir == FromClient) {
			t.Errorf("%v message %d: masked=%v", dir, i, m.Masked)
		}
	}
	if len(r.anoms) > 0 {
		t.Errorf("stream anomalies: %v", r.anoms)
	}
}

func TestGorilla(t *testing.T) {
	for _, tc := range []struct {
		name     string
		compress bool
		level    int
		wbuf     int
	}{
		{"plain", false, 0, 0},
		{"plain-small-frames", false, 0, 512},
		{"deflate-no-context-takeover", true, 1, 0},
		{"deflate-best", true, 9, 700},
		{"deflate-huffman-only", true, -2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) { runGorilla(t, tc.compress, tc.level, tc.wbuf) })
	}
}

func runGorilla(t *testing.T, compress bool, level, wbuf int) {
	clientMsgs := testPayloads(1)
	serverMsgs := testPayloads(2)
	send := func(c *websocket.Conn, msgs []expMsg) error {
		for i, m := range msgs {
			if compress && level == 1 {
				// Mix compressed and uncompressed messages (RSV1 per message).
				c.EnableWriteCompression(i%3 != 1)
			}
			if i == 2 {
				w, err := c.NextWriter(int(m.op))
				if err != nil {
					return err
				}
				if err := splitWrites(w, m.payload); err != nil {
					return err
				}
				if err := w.Close(); err != nil {
					return err
				}
				continue
			}
			if err := c.WriteMessage(int(m.op), m.payload); err != nil {
				return err
			}
		}
		return nil
	}
	srvErr := make(chan error, 1)
	up := websocket.Upgrader{EnableCompression: compress, WriteBufferSize: wbuf}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		if compress {
			c.SetCompressionLevel(level)
		}
		for range clientMsgs {
			if _, _, err := c.ReadMessage(); err != nil { // answers the ping with a pong
				srvErr <- err
				return
			}
		}
		if err := send(c, serverMsgs); err != nil {
			srvErr <- err
			return
		}
		for {
			if _, _, err := c.ReadMessage(); err != nil { // answers the close
				break
			}
		}
		srvErr <- nil
	}))
	defer srv.Close()

	var rc *recConn
	d := websocket.Dialer{
		EnableCompression: compress,
		WriteBufferSize:   wbuf,
		NetDial: func(network, addr string) (net.Conn, error) {
			c, err := net.Dial(network, addr)
			if err != nil {
				return nil, err
			}
			rc = &recConn{Conn: c}
			return rc, nil
		},
	}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if compress {
		c.SetCompressionLevel(level)
	}
	if err := send(c, clientMsgs[:3]); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteControl(websocket.PingMessage, []byte("p1"), time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := send(c, clientMsgs[3:]); err != nil {
		t.Fatal(err)
	}
	for range serverMsgs {
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "done ✓")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, 4001) {
		t.Fatalf("close: %v", err)
	}
	c.Close()
	if err := <-srvErr; err != nil {
		t.Fatal(err)
	}

	mode := DeflateNone
	if compress {
		mode = PerMessageDeflate
	}
	r, neg := decodeRecording(t, rc, mode)
	if compress && !(neg.ClientNoContextTakeover && neg.ServerNoContextTakeover) {
		t.Errorf("gorilla negotiates no context takeover: %+v", neg)
	}
	wantC := append(append(append([]expMsg{}, clientMsgs[:3]...), expMsg{op: OpPing, payload: []byte("p1")}), clientMsgs[3:]...)
	wantC = append(wantC, expMsg{op: OpClose, payload: []byte("\x0f\xa1done ✓")})
	wantS := append([]expMsg{{op: OpPong, payload: []byte("p1")}}, serverMsgs...)
	wantS = append(wantS, expMsg{op: OpClose, payload: []byte("\x0f\xa1")})
	checkRecording(t, r, FromClient, wantC)
	checkRecording(t, r, FromServer, wantS)
	checkCompressed(t, r, compress)
}

// checkCompressed asserts that compression really happened when negotiated
// (so the test exercises the inflater) and never otherwise.
func checkCompressed(t *testing.T, r *rec, negotiated bool) {
	t.Helper()
	n := 0
	for _, m := range r.msgs {
		if m.Compressed {
			n++
		}
	}
	if negotiated && n == 0 {
		t.Errorf("no compressed message decoded")
	}
	if !negotiated && n > 0 {
		t.Errorf("%d compressed messages without negotiation", n)
	}
}

func TestCoder(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode coder.CompressionMode
	}{
		{"disabled", coder.CompressionDisabled},
		{"no-context-takeover", coder.CompressionNoContextTakeover},
		{"context-takeover", coder.CompressionContextTakeover},
	} {
		t.Run(tc.name, func(t *testing.T) { runCoder(t, tc.mode) })
	}
}

func runCoder(t *testing.T, mode coder.CompressionMode) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	clientMsgs := testPayloads(3)
	serverMsgs := testPayloads(4)
	send := func(c *coder.Conn, msgs []expMsg) error {
		for i, m := range msgs {
			typ := coder.MessageText
			if m.op == OpBinary {
				typ = coder.MessageBinary
			}
			if i == 2 {
				w, err := c.Writer(ctx, typ)
				if err != nil {
					return err
				}
				if err := splitWrites(w, m.payload); err != nil {
					return err
				}
				if err := w.Close(); err != nil {
					return err
				}
				continue
			}
			if err := c.Write(ctx, typ, m.payload); err != nil {
				return err
			}
		}
		return nil
	}
	srvErr := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, &coder.AcceptOptions{CompressionMode: mode})
		if err != nil {
			srvErr <- err
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 24)
		for range clientMsgs {
			if _, _, err := c.Read(ctx); err != nil {
				srvErr <- err
				return
			}
		}
		if err := send(c, serverMsgs); err != nil {
			srvErr <- err
			return
		}
		for {
			if _, _, err := c.Read(ctx); err != nil {
				break
			}
		}
		srvErr <- nil
	}))
	defer srv.Close()

	var rc *recConn
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		rc = &recConn{Conn: c}
		return rc, nil
	}}}
	c, _, err := coder.Dial(ctx, srv.URL, &coder.DialOptions{HTTPClient: hc, CompressionMode: mode})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 24)
	got := make(chan int, len(serverMsgs)+1)
	go func() {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				close(got)
				return
			}
			got <- 1
		}
	}()
	if err := send(c, clientMsgs[:3]); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx); err != nil {
		select {
		case e := <-srvErr:
			t.Fatalf("ping: %v (server: %v)", err, e)
		case <-time.After(time.Second):
		}
		t.Fatal(err)
	}
	if err := send(c, clientMsgs[3:]); err != nil {
		t.Fatal(err)
	}
	for range serverMsgs {
		if _, ok := <-got; !ok {
			t.Fatal("client read ended early")
		}
	}
	if err := c.Close(coder.StatusGoingAway, "bye"); err != nil {
		t.Fatal(err)
	}
	if err := <-srvErr; err != nil {
		t.Fatal(err)
	}

	wantMode := PerMessageDeflate
	if mode == coder.CompressionDisabled {
		wantMode = DeflateNone
	}
	r, neg := decodeRecording(t, rc, wantMode)
	if mode == coder.CompressionNoContextTakeover && !(neg.ClientNoContextTakeover && neg.ServerNoContextTakeover) ||
		mode == coder.CompressionContextTakeover && (neg.ClientNoContextTakeover || neg.ServerNoContextTakeover) {
		t.Errorf("negotiated %+v for mode %v", neg, mode)
	}
	closeBody := []byte("\x03\xe9bye")
	wantC := append(append(append([]expMsg{}, clientMsgs[:3]...), expMsg{op: OpPing, any: true}), clientMsgs[3:]...)
	wantC = append(wantC, expMsg{op: OpClose, payload: closeBody})
	wantS := append([]expMsg{{op: OpPong, any: true}}, serverMsgs...)
	wantS = append(wantS, expMsg{op: OpClose, payload: closeBody})
	checkRecording(t, r, FromClient, wantC)
	checkRecording(t, r, FromServer, wantS)
	checkCompressed(t, r, mode != coder.CompressionDisabled)
	if mode == coder.CompressionContextTakeover {
		// The recording really depends on the shared history: decoding it
		// as if each message were independent must fail somewhere.
		rc.mu.Lock()
		streams := [2][]byte{bytes.Join(rc.writes, nil), bytes.Join(rc.reads, nil)}
		rc.mu.Unlock()
		for dir, b := range streams {
			b = b[bytes.Index(b, []byte("\r\n\r\n"))+4:]
			r := decode(Config{Deflate: Deflate{Mode: PerMessageDeflate, ServerNoContextTakeover: true, ClientNoContextTakeover: true}}, Dir(dir), b, 0)
			if !r.has(CodeInflateError) {
				t.Errorf("%v: context takeover not exercised: decodes without history", Dir(dir))
			}
		}
	}
	// The pong echoes the ping's payload.
	var ping, pong []byte
	for _, m := range r.msgs {
		switch m.Opcode {
		case OpPing:
			ping = m.Payload
		case OpPong:
			pong = m.Payload
		}
	}
	if !bytes.Equal(ping, pong) || len(ping) == 0 {
		t.Errorf("ping %q pong %q", ping, pong)
	}
}

package synth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
)

// Opcodes of RFC 6455 used in Sent.Opcode.
const (
	OpContinuation = 0
	OpText         = 1
	OpBinary       = 2
	OpClose        = 8
	OpPing         = 9
	OpPong         = 10
)

const ctlTimeout = 5 * time.Second

// reply is the server's answer to data message n (0-based) of a connection.
// Text replies are JSON; binary messages are echoed.
func reply(n int, opcode int, data []byte) []byte {
	if opcode == OpBinary {
		return data
	}
	if len(data) > 200 {
		return fmt.Appendf(nil, `{"seq":%d,"ok":true,"len":%d,"echo":%q}`, n, len(data), data)
	}
	return fmt.Appendf(nil, `{"seq":%d,"ok":true,"echo":%q}`, n, data)
}

// serverCfg configures the servers of the harness handlers.
type serverCfg struct {
	compress     bool // gorilla: offer compression
	coderMode    coder.CompressionMode
	coderThresh  int
	writeBuf     int               // gorilla write buffer size (fragmentation)
	fragment     func(n int) []int // split reply n into writes of these sizes (nil: one write)
	pingsBetween bool              // send a ping after every second fragment
}

// gorillaServer serves one WebSocket connection with gorilla: replies to each
// data message with reply(), answers pings and closes (tracked as Auto).
func (h *Harness) gorillaServer(w http.ResponseWriter, r *http.Request, cfg serverCfg) {
	up := gorilla.Upgrader{EnableCompression: cfg.compress, WriteBufferSize: cfg.writeBuf,
		CheckOrigin: func(*http.Request) bool { return true }}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		h.Fail(fmt.Errorf("gorilla server: %w", err))
		return
	}
	defer c.Close()
	rec := h.ServerRecorder(r)
	c.EnableWriteCompression(cfg.compress)
	c.SetPingHandler(func(data string) error {
		h.Auto(rec, ServerToClient, OpPong, []byte(data), false)
		return c.WriteControl(gorilla.PongMessage, []byte(data), time.Now().Add(ctlTimeout))
	})
	c.SetCloseHandler(func(code int, _ string) error {
		msg := gorilla.FormatCloseMessage(code, "")
		if code == gorilla.CloseNoStatusReceived {
			msg = nil
		}
		h.Auto(rec, ServerToClient, OpClose, msg, false)
		return c.WriteControl(gorilla.CloseMessage, msg, time.Now().Add(ctlTimeout))
	})
	for n := 0; ; n++ {
		typ, data, err := c.ReadMessage()
		if err != nil {
			if !gorilla.IsCloseError(err, gorilla.CloseNormalClosure, gorilla.CloseGoingAway) {
				h.Fail(fmt.Errorf("gorilla server read: %w", err))
			}
			return
		}
		out := reply(n, typ, data)
		var sizes []int
		if cfg.fragment != nil {
			sizes = cfg.fragment(n)
		}
		if err := h.Track(rec, ServerToClient, typ, out, func() error {
			return gorillaWrite(h, rec, c, ServerToClient, typ, out, sizes, cfg.pingsBetween)
		}); err != nil {
			h.Fail(fmt.Errorf("gorilla server write: %w", err))
			return
		}
	}
}

// gorillaWrite writes one message, in several Write calls of the given sizes
// (the rest in one) and with a tracked ping after every second write if
// pings is set.
func gorillaWrite(h *Harness, rec *Recorder, c *gorilla.Conn, from Dir, typ int, data []byte, sizes []int, pings bool) error {
	if len(sizes) == 0 {
		return c.WriteMessage(typ, data)
	}
	wr, err := c.NextWriter(typ)
	if err != nil {
		return err
	}
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if i < len(sizes) {
			n = min(sizes[i], n)
		}
		if _, err := wr.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
		if pings && i%2 == 1 && len(data) > 0 {
			p := fmt.Appendf(nil, "ping-%d", i)
			if err := h.Track(rec, from, OpPing, p, func() error {
				return c.WriteControl(gorilla.PingMessage, p, time.Now().Add(ctlTimeout))
			}); err != nil {
				return err
			}
		}
	}
	return wr.Close()
}

// coderServer serves one WebSocket connection with coder/websocket.
func (h *Harness) coderServer(w http.ResponseWriter, r *http.Request, cfg serverCfg) {
	rec := h.ServerRecorder(r)
	c, err := coder.Accept(w, r, &coder.AcceptOptions{
		CompressionMode: cfg.coderMode, CompressionThreshold: cfg.coderThresh,
		OnPingReceived: func(_ context.Context, p []byte) bool {
			h.Auto(rec, ServerToClient, OpPong, p, false)
			return true
		},
	})
	if err != nil {
		h.Fail(fmt.Errorf("coder server: %w", err))
		return
	}
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	for n := 0; ; n++ {
		typ, data, err := c.Read(ctx)
		if err != nil {
			if st := coder.CloseStatus(err); st != -1 {
				// coder echoes the peer's close code and reason.
				var ce coder.CloseError
				errors.As(err, &ce)
				h.Auto(rec, ServerToClient, OpClose, closePayload(int(ce.Code), ce.Reason), true)
			} else {
				h.Fail(fmt.Errorf("coder server read: %w", err))
			}
			return
		}
		op := OpText
		if typ == coder.MessageBinary {
			op = OpBinary
		}
		out := reply(n, op, data)
		var sizes []int
		if cfg.fragment != nil {
			sizes = cfg.fragment(n)
		}
		if err := h.Track(rec, ServerToClient, op, out, func() error {
			return coderWrite(ctx, h, rec, c, ServerToClient, typ, out, sizes, cfg.pingsBetween)
		}); err != nil {
			h.Fail(fmt.Errorf("coder server write: %w", err))
			return
		}
	}
}

// coderWrite writes one message with coder; with sizes, through a Writer
// (one frame per Write when uncompressed), with tracked pings between.
func coderWrite(ctx context.Context, h *Harness, rec *Recorder, c *coder.Conn, from Dir, typ coder.MessageType, data []byte, sizes []int, pings bool) error {
	if len(sizes) == 0 {
		return c.Write(ctx, typ, data)
	}
	wr, err := c.Writer(ctx, typ)
	if err != nil {
		return err
	}
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if i < len(sizes) {
			n = min(sizes[i], n)
		}
		if _, err := wr.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
		if pings && i%2 == 1 && len(data) > 0 {
			if err := coderPing(ctx, h, rec, c, from); err != nil {
				return err
			}
		}
	}
	return wr.Close()
}

// coderPing sends a ping without waiting for its pong (coder's Ping blocks
// until the pong is read, which needs this side to be reading): it starts
// Ping in a goroutine and returns once the ping is written. coder numbers
// its pings "1", "2", ... per connection.
func coderPing(ctx context.Context, h *Harness, rec *Recorder, c *coder.Conn, from Dir) error {
	before := rec.Offset(from)
	// The payload is the connection's ping counter; recover it from the
	// recorded frame once written.
	var payload []byte
	err := h.trackFunc(rec, from, OpPing, func() error {
		go func() {
			pctx, cancel := context.WithTimeout(ctx, ctlTimeout)
			defer cancel()
			if err := c.Ping(pctx); err != nil && ctx.Err() == nil {
				h.Fail(fmt.Errorf("coder ping: %w", err))
			}
		}()
		for deadline := time.Now().Add(ctlTimeout); rec.Offset(from) == before; {
			if time.Now().After(deadline) {
				return errors.New("synth: ping not written")
			}
			time.Sleep(time.Millisecond)
		}
		payload = lastFramePayload(rec, from, before)
		return nil
	}, func() []byte { return payload })
	// The write may have flushed buffered data frames ahead of the ping:
	// narrow the range to the ping frame itself.
	frame := int64(2 + len(payload))
	if from == ClientToServer {
		frame += 4
	}
	h.mu.Lock()
	if t := &h.sent[len(h.sent)-1]; t.rec == rec && t.Opcode == OpPing && t.Len > frame {
		t.Offset += t.Len - frame
		t.Len = frame
	}
	h.mu.Unlock()
	return err
}

// lastFramePayload returns the payload of the last control frame among the
// frames written in direction from since offset off (a frame boundary):
// coder buffers data frames of an open Writer and flushes them together
// with the ping.
func lastFramePayload(rec *Recorder, from Dir, off int64) []byte {
	b := rec.Conn().Bytes(from)
	if off > int64(len(b)) {
		return nil
	}
	f := b[off:]
	var last []byte
	for len(f) >= 2 {
		n, hl := int(f[1]&0x7f), 2
		switch n {
		case 126:
			if len(f) < 4 {
				return last
			}
			n, hl = int(f[2])<<8|int(f[3]), 4
		case 127:
			if len(f) < 10 {
				return last
			}
			n, hl = 0, 10
			for _, c := range f[2:10] {
				n = n<<8 | int(c)
			}
		}
		masked := f[1]&0x80 != 0
		if masked {
			hl += 4
		}
		if n < 0 || len(f) < hl+n {
			return last
		}
		if f[0]&0x08 != 0 { // control opcode
			p := append([]byte(nil), f[hl:hl+n]...)
			if masked {
				for i := range p {
					p[i] ^= f[hl-4+i%4]
				}
			}
			last = p
		}
		f = f[hl+n:]
	}
	return last
}

func closePayload(code int, reason string) []byte {
	if code == int(coder.StatusNoStatusRcvd) || code < 0 {
		return nil
	}
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

// gorillaClient dials url with gorilla through the harness.
func (h *Harness) gorillaClient(ctx context.Context, url string, compress bool, writeBuf int) (*gorilla.Conn, *Recorder, error) {
	dial, recf := h.Dialer()
	d := gorilla.Dialer{NetDialContext: dial, EnableCompression: compress, WriteBufferSize: writeBuf, HandshakeTimeout: ctlTimeout}
	c, resp, err := d.DialContext(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, recf(), err
	}
	rec := recf()
	c.EnableWriteCompression(compress)
	c.SetPingHandler(func(data string) error {
		h.Auto(rec, ClientToServer, OpPong, []byte(data), false)
		return c.WriteControl(gorilla.PongMessage, []byte(data), time.Now().Add(ctlTimeout))
	})
	c.SetCloseHandler(func(int, string) error { return nil })
	return c, rec, nil
}

// gorillaClose sends a tracked close 1000 "bye" and reads until the server's
// echo arrives.
func (h *Harness) gorillaClose(c *gorilla.Conn, rec *Recorder) error {
	msg := gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, "bye")
	if err := h.Track(rec, ClientToServer, OpClose, msg, func() error {
		return c.WriteControl(gorilla.CloseMessage, msg, time.Now().Add(ctlTimeout))
	}); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(ctlTimeout))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			c.Close()
			if gorilla.IsCloseError(err, gorilla.CloseNormalClosure) {
				return nil
			}
			return err
		}
	}
}

// gorillaExchange sends msg (tracked) and reads the server's reply.
func (h *Harness) gorillaExchange(c *gorilla.Conn, rec *Recorder, typ int, msg []byte, sizes []int, pings bool) error {
	if err := h.Track(rec, ClientToServer, typ, msg, func() error {
		return gorillaWrite(h, rec, c, ClientToServer, typ, msg, sizes, pings)
	}); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.ReadMessage()
	return err
}

// coderClient dials url with coder through the harness.
func (h *Harness) coderClient(ctx context.Context, url string, mode coder.CompressionMode, thresh int) (*coder.Conn, *Recorder, error) {
	hc, recf := h.HTTPClient()
	var rec *Recorder
	c, resp, err := coder.Dial(ctx, url, &coder.DialOptions{HTTPClient: hc, CompressionMode: mode, CompressionThreshold: thresh,
		OnPingReceived: func(_ context.Context, p []byte) bool {
			h.Auto(rec, ClientToServer, OpPong, p, false)
			return true
		}})
	if resp != nil && resp.Body != nil && err != nil {
		resp.Body.Close()
	}
	rec = recf()
	return c, rec, err
}

// coderExchange sends msg (tracked) and reads the reply.
func (h *Harness) coderExchange(ctx context.Context, c *coder.Conn, rec *Recorder, typ coder.MessageType, msg []byte, sizes []int, pings bool) error {
	op := OpText
	if typ == coder.MessageBinary {
		op = OpBinary
	}
	if err := h.Track(rec, ClientToServer, op, msg, func() error {
		return coderWrite(ctx, h, rec, c, ClientToServer, typ, msg, sizes, pings)
	}); err != nil {
		return err
	}
	_, r, err := c.Reader(ctx)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, r)
	return err
}

// coderClose closes with 1000 "bye" (tracked); coder waits for the echo.
func (h *Harness) coderClose(c *coder.Conn, rec *Recorder) error {
	return h.Track(rec, ClientToServer, OpClose, closePayload(1000, "bye"), func() error {
		return c.Close(coder.StatusNormalClosure, "bye")
	})
}

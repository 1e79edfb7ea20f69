package synth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Recording is the outcome of a scenario: the recorded connections and the
// application-level messages each side was asked to send (plus replies the
// libraries sent on their own, marked Auto).
type Recording struct {
	Conns []*Conn
	Sent  []Sent
	// Notes has one human-readable description per connection.
	Notes []string
	// Crafted is set when the bytes were built by hand, not by a library.
	Crafted bool
}

// Harness runs real WebSocket libraries against each other over loopback
// TCP and records every connection (both ends' writes, see [Recorder.Wrap]).
// The server is an http.Server on 127.0.0.1; clients dial it through
// [Harness.Dialer], whatever host their URL names, so HTTP Host headers
// stay deterministic.
type Harness struct {
	sess *Session
	ln   net.Listener
	srv  *http.Server
	wg   sync.WaitGroup

	mu      sync.Mutex
	labels  map[*Recorder]label
	sent    []trackedSent
	errs    []error
	servErr error
}

type trackedSent struct {
	Sent
	rec  *Recorder
	tail bool // Offset is resolved at Finish: the frame is the last bytes of its direction
}

type label struct {
	client, server netip.AddrPort
	note           string
}

type ctxKey struct{}

type harnessKey struct{}

// Label sets the addresses the connection of rec gets in the recording (the
// real ones are 127.0.0.1 with ephemeral ports) and a note describing it.
// If every connection is labelled, Finish orders them by client address.
func (h *Harness) Label(rec *Recorder, client, server string, note string) {
	l := label{client: netip.MustParseAddrPort(client), server: netip.MustParseAddrPort(server), note: note}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.labels == nil {
		h.labels = make(map[*Recorder]label)
	}
	h.labels[rec] = l
}

// NewHarness starts a server whose requests are handled by handler. The
// handler can find its connection's Recorder with [Harness.ServerRecorder].
func NewHarness(handler http.HandlerFunc) (*Harness, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("synth: listen: %w", err)
	}
	h := &Harness{sess: NewSession(), ln: ln}
	h.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.wg.Add(1)
			defer h.wg.Done()
			// Keep output deterministic: no Date header.
			w.Header()["Date"] = nil
			handler(w, r)
		}),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			ctx = context.WithValue(ctx, harnessKey{}, h)
			return context.WithValue(ctx, ctxKey{}, h.sess.RecorderFor(c))
		},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		err := h.srv.Serve(h.sess.Listener(ln))
		if !errors.Is(err, http.ErrServerClosed) {
			h.mu.Lock()
			h.servErr = err
			h.mu.Unlock()
		}
	}()
	return h, nil
}

// ServerRecorder returns the Recorder of the connection r arrived on.
func (h *Harness) ServerRecorder(r *http.Request) *Recorder {
	rec, _ := r.Context().Value(ctxKey{}).(*Recorder)
	return rec
}

// Addr returns the real address the server listens on.
func (h *Harness) Addr() string { return h.ln.Addr().String() }

// Dialer returns a dial function that connects to the harness's server
// whatever address it is given, and a function returning the Recorder of
// the last connection it made. Use one Dialer per client.
func (h *Harness) Dialer() (dial func(ctx context.Context, network, addr string) (net.Conn, error), rec func() *Recorder) {
	var mu sync.Mutex
	var last *Recorder
	dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		c, err := h.sess.DialContext(ctx, "tcp", h.ln.Addr().String())
		if err != nil {
			return nil, err
		}
		mu.Lock()
		last = h.sess.RecorderFor(c)
		mu.Unlock()
		return c, nil
	}
	rec = func() *Recorder {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
	return dial, rec
}

// HTTPClient returns an http.Client whose connections go to the harness's
// server (recorded), and the Recorder accessor of its Dialer. Keep-alives
// are disabled so each request is its own connection.
func (h *Harness) HTTPClient() (*http.Client, func() *Recorder) {
	dial, rec := h.Dialer()
	return &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}, rec
}

// Track calls send and records it as message (from, opcode, payload) on the
// connection of rec, with the range of bytes send wrote.
func (h *Harness) Track(rec *Recorder, from Dir, opcode int, payload []byte, send func() error) error {
	if rec == nil {
		return errors.New("synth: Track: nil recorder")
	}
	off := rec.Offset(from)
	err := send()
	end := rec.Offset(from)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sent = append(h.sent, trackedSent{Sent: Sent{From: from, Opcode: opcode,
		Payload: append([]byte(nil), payload...), Offset: off, Len: end - off}, rec: rec})
	return err
}

// trackFunc is Track with a payload known only after send returns.
func (h *Harness) trackFunc(rec *Recorder, from Dir, opcode int, send func() error, payload func() []byte) error {
	off := rec.Offset(from)
	err := send()
	end := rec.Offset(from)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sent = append(h.sent, trackedSent{Sent: Sent{From: from, Opcode: opcode,
		Payload: payload(), Offset: off, Len: end - off}, rec: rec})
	return err
}

// Auto records a control frame the library sends by itself (a pong, a close
// echo) of frameLen bytes starting now in direction from. If tail is set the
// frame is taken to be the last frameLen bytes that direction sent before
// Finish (use for a close echo, whose write time is not observable).
func (h *Harness) Auto(rec *Recorder, from Dir, opcode int, payload []byte, tail bool) {
	if rec == nil {
		return
	}
	n := int64(2 + len(payload))
	if from == ClientToServer {
		n += 4 // mask key
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sent = append(h.sent, trackedSent{Sent: Sent{From: from, Opcode: opcode, Payload: append([]byte(nil), payload...),
		Offset: rec.Offset(from), Len: n, Auto: true}, rec: rec, tail: tail})
}

// Fail records an error from a goroutine of the scenario; Finish returns it.
func (h *Harness) Fail(err error) {
	if err == nil {
		return
	}
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
}

// Finish waits for the server's handlers (at most timeout), stops the
// server, and returns the recording. Sent messages are in the order they
// were tracked; Sent.Conn indexes Recording.Conns.
func (h *Harness) Finish(timeout time.Duration) (*Recording, error) {
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		h.Fail(errors.New("synth: server handlers did not finish"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = h.srv.Shutdown(ctx)
	recs := h.sess.Recorders()
	h.mu.Lock()
	defer h.mu.Unlock()
	all := len(h.labels) == len(recs)
	for _, r := range recs {
		if _, ok := h.labels[r]; !ok {
			all = false
		}
	}
	if all {
		slices.SortStableFunc(recs, func(a, b *Recorder) int {
			return h.labels[a].client.Compare(h.labels[b].client)
		})
	}
	idx := make(map[*Recorder]int, len(recs))
	rec := &Recording{}
	for i, r := range recs {
		idx[r] = i
		c := r.Conn()
		note := ""
		if l, ok := h.labels[r]; ok {
			c.Client, c.Server, note = l.client, l.server, l.note
		}
		rec.Conns = append(rec.Conns, c)
		rec.Notes = append(rec.Notes, note)
	}
	for _, t := range h.sent {
		s := t.Sent
		s.Conn = idx[t.rec]
		if t.tail {
			s.Offset = t.rec.Offset(s.From) - s.Len
		}
		rec.Sent = append(rec.Sent, s)
	}
	if h.servErr != nil {
		h.errs = append(h.errs, h.servErr)
	}
	return rec, errors.Join(h.errs...)
}

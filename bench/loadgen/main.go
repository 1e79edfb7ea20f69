// Command loadgen is a WebSocket load generator for the live-capture
// benchmark (issue 6/7): it runs a gorilla/websocket server and N client
// connections on the loopback interface, sends masked text messages from
// the clients at a target total rate for a while, closes every connection
// with a Close handshake, and prints what it sent, what the server received
// and the rate it achieved.
//
//	go run ./bench/loadgen -port 18765 -conns 8 -rate 100000 -size 100 -duration 10s [-deflate] [-batch 1]
//
// Both ends are real gorilla/websocket endpoints: the server reads and
// counts every message (so sent == received is checked too). Each client
// goroutine paces itself to rate/conns messages per second: it wakes about
// every millisecond and sends what is due, so a generator that cannot keep
// up sends as fast as it can and reports the lower rate it achieved. With
// -batch B a client writes B messages per TCP send (several WebSocket
// frames in one segment, as busy real servers do); with the default 1 every
// message is its own send and normally its own TCP segment (TCP_NODELAY).
// With -deflate the connections negotiate permessage-deflate (gorilla
// supports it without context takeover) and every message is compressed.
//
// The last line on stdout is a JSON summary (-json prints only that):
// sent, received, seconds, rate, cpu_seconds (user+system of this process),
// cpu_percent.
//
// loadgen -count reads wsscope --json records on stdin instead and prints
// "MESSAGES TEXT ANOMALIES" (message records, those with opcode text, anomaly
// records), the first five anomaly records going to stderr: bench/live.sh
// counts a long run's gigabytes of records with it, faster than awk.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

type result struct {
	Addr       string   `json:"addr"`
	Conns      int      `json:"conns"`
	TargetRate float64  `json:"target_rate"`
	Size       int      `json:"size"`
	Batch      int      `json:"batch"`
	Deflate    bool     `json:"deflate"`
	Sent       uint64   `json:"sent"`     // data messages written by the clients
	Received   uint64   `json:"received"` // data messages read by the server
	Seconds    float64  `json:"seconds"`  // from the first send to the last
	Rate       float64  `json:"rate"`     // sent / seconds
	CPUSeconds float64  `json:"cpu_seconds"`
	CPUPercent float64  `json:"cpu_percent"` // of one core, over the sending time
	Errors     []string `json:"errors,omitempty"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1", "address to listen on and connect to")
	port := flag.Int("port", 0, "TCP port of the server (0: any free port)")
	conns := flag.Int("conns", 8, "client connections")
	rate := flag.Float64("rate", 100000, "target total messages per second (all connections)")
	size := flag.Int("size", 100, "message size in bytes (text, before compression)")
	dur := flag.Duration("duration", 10*time.Second, "how long to send")
	deflate := flag.Bool("deflate", false, "negotiate permessage-deflate and compress every message")
	batch := flag.Int("batch", 1, "messages per TCP write")
	jsonOnly := flag.Bool("json", false, "print only the JSON summary")
	wait := flag.Duration("wait", 0, "pause between connecting and sending (lets a capture see the handshakes settle)")
	count := flag.Bool("count", false, "count wsscope --json records on stdin instead")
	flag.Parse()
	if *count {
		if err := countRecords(os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		return
	}
	if *conns < 1 || *rate <= 0 || *size < 16 || *batch < 1 || *dur <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -conns, -rate, -batch, -duration must be positive and -size at least 16")
		os.Exit(2)
	}
	res, err := runLoad(*addr, *port, *conns, *rate, *size, *batch, *deflate, *dur, *wait)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	js, _ := json.Marshal(res)
	if !*jsonOnly {
		fmt.Printf("loadgen: %s, %d conns, %d-byte messages, batch %d, deflate %v: sent %d, server received %d in %.2fs: %.0f msg/s (target %.0f), CPU %.2fs (%.0f%% of a core)\n",
			res.Addr, res.Conns, res.Size, res.Batch, res.Deflate, res.Sent, res.Received, res.Seconds, res.Rate, res.TargetRate, res.CPUSeconds, res.CPUPercent)
	}
	fmt.Println(string(js))
	if res.Sent != res.Received || len(res.Errors) > 0 {
		for _, e := range res.Errors {
			fmt.Fprintln(os.Stderr, "loadgen:", e)
		}
		if res.Sent != res.Received {
			fmt.Fprintf(os.Stderr, "loadgen: MISMATCH: sent %d, received %d\n", res.Sent, res.Received)
		}
		os.Exit(1)
	}
}

// server counts the data messages its connections read.
type server struct {
	up       websocket.Upgrader
	received atomic.Uint64
	wg       sync.WaitGroup
	mu       sync.Mutex
	errs     []string
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade replied with an error
	}
	s.wg.Add(1)
	defer s.wg.Done()
	defer c.Close()
	for {
		_, rd, err := c.NextReader()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				s.addErr("server: " + err.Error())
			}
			return
		}
		if _, err := io.Copy(io.Discard, rd); err != nil {
			s.addErr("server: " + err.Error())
			return
		}
		s.received.Add(1)
	}
}

func (s *server) addErr(e string) {
	s.mu.Lock()
	if len(s.errs) < 10 {
		s.errs = append(s.errs, e)
	}
	s.mu.Unlock()
}

// batchConn buffers writes once buffering is switched on (after the
// handshake), so that several frames leave in one send.
type batchConn struct {
	net.Conn
	bw        *bufio.Writer
	buffering bool
}

func (b *batchConn) Write(p []byte) (int, error) {
	if !b.buffering {
		return b.Conn.Write(p)
	}
	return b.bw.Write(p)
}

func runLoad(addr string, port, nconns int, rate float64, size, batch int, deflate bool, dur, wait time.Duration) (*result, error) {
	// A large receive buffer on the server side (inherited by accepted
	// sockets): many small segments otherwise fill the default one and
	// the zero-window probes stall the senders for hundreds of ms.
	lc := net.ListenConfig{Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<20)
		})
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	srv := &server{up: websocket.Upgrader{
		ReadBufferSize:    64 << 10,
		EnableCompression: deflate,
		CheckOrigin:       func(*http.Request) bool { return true },
	}}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	defer hs.Close()
	url := "ws://" + ln.Addr().String() + "/load"
	res := &result{Addr: ln.Addr().String(), Conns: nconns, TargetRate: rate, Size: size, Batch: batch, Deflate: deflate}

	// Connect everything first.
	type client struct {
		c  *websocket.Conn
		bc *batchConn
	}
	clients := make([]client, nconns)
	for i := range clients {
		var bc *batchConn
		d := websocket.Dialer{
			EnableCompression: deflate,
			WriteBufferSize:   size + 64,
			NetDialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
				var nd net.Dialer
				c, err := nd.DialContext(ctx, network, a)
				if err != nil {
					return nil, err
				}
				bc = &batchConn{Conn: c, bw: bufio.NewWriterSize(c, batch*(size+16)+64)}
				return bc, nil
			},
		}
		c, resp, err := d.Dial(url, nil)
		if err != nil {
			return nil, fmt.Errorf("connection %d: %w", i+1, err)
		}
		resp.Body.Close()
		if deflate {
			c.EnableWriteCompression(true)
		}
		bc.buffering = batch > 1
		clients[i] = client{c, bc}
	}
	if wait > 0 {
		time.Sleep(wait)
	}

	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	var sent atomic.Uint64
	var errMu sync.Mutex
	addErr := func(e string) {
		errMu.Lock()
		if len(res.Errors) < 10 {
			res.Errors = append(res.Errors, e)
		}
		errMu.Unlock()
	}
	per := rate / float64(nconns)
	start := time.Now()
	end := start.Add(dur)
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Add(1)
		go func(id int, c *websocket.Conn, bc *batchConn) {
			defer wg.Done()
			msg := make([]byte, 0, size)
			pad := padding(id)
			var n uint64
			for {
				now := time.Now()
				if !now.Before(end) {
					break
				}
				due := uint64(now.Sub(start).Seconds() * per)
				if n >= due {
					// Sleep until the next message is due, but at least
					// a millisecond: fewer wake-ups, small bursts.
					next := start.Add(time.Duration(float64(n+1) / per * float64(time.Second)))
					d := time.Until(next)
					if d < time.Millisecond {
						d = time.Millisecond
					}
					time.Sleep(d)
					continue
				}
				for n < due && time.Now().Before(end) {
					k := due - n
					if k > uint64(batch) {
						k = uint64(batch)
					}
					for j := uint64(0); j < k; j++ {
						msg = message(msg[:0], id, n+j, size, pad)
						if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
							addErr(fmt.Sprintf("client %d: %v", id, err))
							return
						}
					}
					if bc.buffering {
						if err := bc.bw.Flush(); err != nil {
							addErr(fmt.Sprintf("client %d: %v", id, err))
							return
						}
					}
					n += k
					sent.Add(k)
				}
			}
		}(i+1, cl.c, cl.bc)
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := tv(ru1.Utime) + tv(ru1.Stime) - tv(ru0.Utime) - tv(ru0.Stime)
	res.Sent = sent.Load()
	res.Rate = float64(res.Sent) / res.Seconds
	res.CPUSeconds = cpu
	res.CPUPercent = 100 * cpu / res.Seconds

	// Close handshake: client Close, server echoes it (gorilla's default
	// close handler), client reads it.
	for i, cl := range clients {
		cl.bc.buffering = false
		cl.bc.bw.Flush()
		err := cl.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done"), time.Now().Add(5*time.Second))
		if err != nil {
			addErr(fmt.Sprintf("client %d: close: %v", i+1, err))
		}
	}
	for i, cl := range clients {
		cl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := cl.c.NextReader(); err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) {
					addErr(fmt.Sprintf("client %d: waiting for the server's close: %v", i+1, err))
				}
				break
			}
		}
		cl.c.Close()
	}
	srv.wg.Wait()
	res.Received = srv.received.Load()
	res.Errors = append(res.Errors, srv.errs...)
	return res, nil
}

// countRecords is -count.
func countRecords(r io.Reader, out, errw io.Writer) error {
	var msgs, texts, anoms uint64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	msgPrefix, anomPrefix, text := []byte(`{"record":"message"`), []byte(`{"record":"anomaly"`), []byte(`"opcode":"text"`)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, msgPrefix):
			msgs++
			if bytes.Contains(line, text) {
				texts++
			}
		case bytes.HasPrefix(line, anomPrefix):
			if anoms++; anoms <= 5 {
				fmt.Fprintf(errw, "%s\n", line)
			}
		}
	}
	fmt.Fprintln(out, msgs, texts, anoms)
	return sc.Err()
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// padding returns 4 KiB of printable filler, different per connection.
func padding(id int) []byte {
	p := make([]byte, 4096)
	x := uint32(id)*2654435761 + 1
	for i := range p {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = 'a' + byte(x%26)
	}
	return p
}

// message appends a JSON text message of exactly size bytes:
// {"conn":ID,"seq":N,"pad":"..."}.
func message(b []byte, id int, seq uint64, size int, pad []byte) []byte {
	b = append(b, `{"conn":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"pad":"`...)
	off := int(seq*7) % 2048
	for len(b) < size-2 {
		n := size - 2 - len(b)
		if n > len(pad)-off {
			n = len(pad) - off
		}
		b = append(b, pad[off:off+n]...)
		off = 0
	}
	b = append(b, `"}`...)
	if len(b) > size {
		// Very small sizes: the header alone is longer; keep it valid text.
		b = b[:size]
	}
	return b
}

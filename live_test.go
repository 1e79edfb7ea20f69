package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsscope/wsscope/capture"
)

// syncBuffer is a bytes.Buffer safe for a writer and a concurrent reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// skipUnlessLoCapture skips the test when this process cannot capture on
// the loopback interface (no permission, no AF_PACKET).
func skipUnlessLoCapture(t *testing.T) {
	t.Helper()
	probe, err := capture.OpenLive("lo", capture.LiveOptions{Filter: "tcp port 1"})
	if err != nil {
		t.Skipf("cannot capture on lo: %v", err)
	}
	probe.Close()
}

// TestLiveLoopback captures real gorilla/websocket traffic on lo with
// -i lo -c 2 -w FILE and a port filter: the messages are decoded live, -c
// stops the capture, and the saved pcapng holds the packets.
func TestLiveLoopback(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("live capture is Linux-only")
	}
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root or CAP_NET_RAW")
	}
	skipUnlessLoCapture(t)

	up := websocket.Upgrader{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			c.WriteMessage(typ, append([]byte("echo "), p...))
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	raw := filepath.Join(t.TempDir(), "live.pcapng")
	out, errb := &syncBuffer{}, &syncBuffer{}
	env := &environ{Stdin: strings.NewReader(""), Stdout: out, Stderr: errb}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-i", "lo", "--json", "-c", "2", "-w", raw, "tcp", "port", strconv.Itoa(port)}, env)
	}()

	// Open connections until wsscope has seen two messages: the capture
	// starts asynchronously, and a connection counts only if its handshake
	// was captured.
	url := "ws://" + ln.Addr().String() + "/live"
	var code int
	for i := 0; ; i++ {
		select {
		case code = <-done:
		case <-time.After(100 * time.Millisecond):
			c, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			c.WriteMessage(websocket.TextMessage, []byte("live "+strconv.Itoa(i)))
			c.ReadMessage()
			c.Close()
			continue
		}
		break
	}
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	recs := checkJSONLines(t, []byte(out.String()))
	var msgs []string
	for _, r := range recs {
		if r["record"] == "message" {
			msgs = append(msgs, r["from"].(string)+":"+r["text"].(string))
		}
	}
	if len(msgs) != 2 || !strings.HasPrefix(msgs[0], "client:live ") || !strings.HasPrefix(msgs[1], "server:echo live ") {
		t.Errorf("live messages %q\n%s", msgs, out.String())
	}
	if !strings.Contains(errb.String(), "packets captured") {
		t.Errorf("no capture statistics on stderr: %q", errb.String())
	}

	// The -w file is a valid pcapng with the connection in it.
	src, err := capture.OpenFile(raw, capture.Options{})
	if err != nil {
		t.Fatalf("-w file: %v", err)
	}
	defer src.Close()
	n := 0
	var payload bytes.Buffer
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("-w file: %v", err)
		}
		n++
		payload.Write(p.Payload)
	}
	if n == 0 || !bytes.Contains(payload.Bytes(), []byte("Upgrade: websocket")) {
		t.Errorf("-w file has %d TCP packets, handshake present: %v", n, bytes.Contains(payload.Bytes(), []byte("Upgrade: websocket")))
	}
}

// TestStdinStreaming: with -r - reading a pipe, records are written as soon
// as their packets have arrived, not when the input ends (tcpdump -w - |
// wsscope -r -).
func TestStdinStreaming(t *testing.T) {
	samples(t)
	capFile := "pcaps/chat-deflate.pcap" // small: its output fits the writer's buffer
	data, err := os.ReadFile(capFile)
	if err != nil {
		t.Skip(err)
	}
	_, want, _ := runArgs(t, nil, "-r", capFile, "--json")
	pr, pw := io.Pipe()
	out, errb := &syncBuffer{}, &syncBuffer{}
	env := &environ{Stdin: pr, Stdout: out, Stderr: errb}
	done := make(chan int)
	go func() { done <- run(context.Background(), []string{"-r", "-", "--json"}, env) }()
	half := len(data) * 2 / 3
	if _, err := pw.Write(data[:half]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), `"record":"message"`) {
		if time.Now().After(deadline) {
			pw.Close()
			t.Fatalf("no message written while the pipe stays open; output so far: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	pw.Write(data[half:])
	pw.Close()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if out.String() != want {
		t.Errorf("streamed output differs from the file's:\n%s", firstDiff(want, out.String()))
	}
}

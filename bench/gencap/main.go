// Command gencap writes large deterministic WebSocket captures for the
// wsscope benchmark (issue 6).
//
//	go run ./bench/gencap -kind small|deflate|large|mix -size 200MB -o FILE [-seed N]
//
// Kinds:
//
//	small    1000 concurrent connections of small masked/unmasked JSON text
//	         messages (servers push bursts of 1-8 ticks per write)
//	deflate  64 concurrent connections negotiating permessage-deflate with
//	         context takeover both ways: chat JSON of 40 B-3 KB compressed per
//	         direction by a persistent compress/flate writer (sync flush, tail
//	         00 00 ff ff stripped, RSV1 set)
//	large    32 concurrent connections of 64 KiB binary frames
//	mix      4000 concurrent connections on three ports: chat, binary
//	         streams, 64 KiB bulk frames, deflate chat, pings with pongs,
//	         fragmented messages (some with a ping between fragments),
//	         delayed ACKs
//
// Every connection has a three-way handshake, an HTTP Upgrade with a
// correct Sec-WebSocket-Accept, a close handshake (client Close, server
// Close) and a FIN exchange. Packets are Ethernet/IPv4/TCP with valid IPv4
// and TCP checksums and at most 1448 bytes of payload (MSS). Packets of
// concurrent connections are interleaved at random. Same arguments, same
// bytes.
//
// The counts of what was generated (messages, control frames, frames, ...)
// are written to FILE.meta.json and printed on stdout. With -zout Z, the
// compressed payload of every permessage-deflate message is also written to
// Z (records: uint32 LE stream id = connection*2+direction, uint32 LE
// length, bytes), for bench/inflate to time the inflation alone.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	kind := flag.String("kind", "small", "small, deflate, large or mix")
	sizeS := flag.String("size", "200MB", "approximate capture size (B, KB, MB, GB; KiB, MiB, GiB)")
	out := flag.String("o", "", "output pcap file (required)")
	seed := flag.Uint64("seed", 1, "random seed")
	zout := flag.String("zout", "", "also write each compressed message payload to this file (input of bench/inflate)")
	flag.Parse()
	size, err := parseSize(*sizeS)
	if err != nil || *out == "" || concurrency[*kind] == 0 {
		if err != nil {
			fmt.Fprintln(os.Stderr, "gencap:", err)
		}
		flag.Usage()
		os.Exit(2)
	}
	t0 := time.Now()
	m, err := generate(*kind, size, *seed, *out, *zout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
	js, _ := json.MarshalIndent(m, "", "  ")
	js = append(js, '\n')
	if err := os.WriteFile(*out+".meta.json", js, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
	os.Stdout.Write(js)
	el := time.Since(t0).Seconds()
	fmt.Fprintf(os.Stderr, "gencap: %s: %d bytes, %d packets, %d messages in %.2fs (%.0f MB/s)\n",
		*out, m.Bytes, m.Packets, m.Messages, el, float64(m.Bytes)/1e6/el)
}

// parseSize parses "200MB", "1.5GB", "64KiB" or a plain byte count.
func parseSize(s string) (int64, error) {
	units := []struct {
		suf string
		mul float64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1}}
	u := strings.ToUpper(strings.TrimSpace(s))
	mul := 1.0
	for _, x := range units {
		if strings.HasSuffix(u, x.suf) {
			u, mul = strings.TrimSpace(strings.TrimSuffix(u, x.suf)), x.mul
			break
		}
	}
	f, err := strconv.ParseFloat(u, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("bad -size %q", s)
	}
	return int64(f * mul), nil
}

// generate writes the capture and returns what it holds.
func generate(kind string, size int64, seed uint64, path, zpath string) (*meta, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	pw, err := newPcapWriter(f, start)
	if err != nil {
		return nil, err
	}
	g := &gen{kind: kind, rng: rand.New(rand.NewPCG(seed, 0x6e6373617073)), pw: pw}
	g.m = meta{Kind: kind, Seed: seed, TargetBytes: size, ByOpcode: map[string]int64{}, ServerPorts: []int{8080}}
	if zpath != "" {
		zf, err := os.Create(zpath)
		if err != nil {
			return nil, err
		}
		defer zf.Close()
		g.zout = bufio.NewWriterSize(zf, 1<<20)
	}
	if kind == "mix" {
		g.m.ServerPorts = []int{8080, 8081, 9001}
	}
	if kind == "large" || kind == "mix" {
		g.pool = make([]byte, 4<<20)
		for i := 0; i < len(g.pool); i += 8 {
			v := g.rng.Uint64()
			for j := range 8 {
				g.pool[i+j] = byte(v >> (8 * j))
			}
		}
	}
	for range concurrency[kind] {
		g.open = append(g.open, g.newConn())
	}
	g.m.MaxOpen = len(g.open)
	for len(g.open) > 0 {
		if !g.stop && pw.Bytes >= size {
			g.stop = true
		}
		i := g.rng.IntN(len(g.open))
		c := g.open[i]
		more, err := g.step(c)
		if err != nil {
			return nil, err
		}
		if more {
			continue
		}
		g.release(c)
		if g.stop {
			last := len(g.open) - 1
			g.open[i] = g.open[last]
			g.open = g.open[:last]
		} else {
			g.open[i] = g.newConn()
		}
		g.m.MaxOpen = max(g.m.MaxOpen, len(g.open))
	}
	if err := pw.flush(); err != nil {
		return nil, err
	}
	if g.zout != nil {
		if err := g.zout.Flush(); err != nil {
			return nil, err
		}
	}
	g.m.Bytes, g.m.Packets = pw.Bytes, pw.Packets
	return &g.m, f.Close()
}

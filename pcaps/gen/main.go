// Command gen regenerates the sample captures in pcaps/ from real WebSocket
// libraries (gorilla/websocket, coder/websocket) talking over loopback TCP,
// using pcaps/synth. Beside each capture NAME it writes NAME.sent.json, the
// ground truth of what each side was asked to send (see synth.Truth).
//
//	go run ./pcaps/gen [-out pcaps]
//
// Output is deterministic except for the libraries' random handshake keys
// and masking keys (and, for many-conns, which library's bytes the harness
// records first).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wsscope/wsscope/pcaps/synth"
)

type capture struct {
	name, desc string
	rec        *synth.Recording
	opts       synth.Options
}

func main() {
	out := flag.String("out", "pcaps", "output directory")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	must := func(r *synth.Recording, err error) *synth.Recording {
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		return r
	}
	chat := must(synth.ChatDeflate(ctx))
	plain := must(synth.Plain(ctx))
	// Drop the segment carrying the middle of the 5000-byte client message.
	var dropAt int64 = -1
	for _, s := range plain.Sent {
		if s.From == synth.ClientToServer && len(s.Payload) == 5000 {
			dropAt = s.Offset + s.Len/2
		}
	}
	dropIdx := synth.SegmentIndex(plain.Conns[0], synth.ClientToServer, dropAt, 0)
	if dropAt < 0 || dropIdx < 0 {
		return fmt.Errorf("plain recording has no 5000-byte client message")
	}
	frag := must(synth.Fragmented(ctx))
	// The same connections on two pcapng interfaces of different link types.
	twoLinks := *frag
	twoLinks.Conns = nil
	for i, c := range frag.Conns {
		cc := *c
		cc.Interface = i % 2
		twoLinks.Conns = append(twoLinks.Conns, &cc)
	}
	caps := []capture{
		{"chat-deflate.pcap", "chat with permessage-deflate, context takeover both ways (coder ↔ coder), a ping/pong, close 1000", chat, synth.Options{Seed: 1}},
		{"cooked.pcap", "chat-deflate.pcap's connection as Linux cooked capture v2 (SLL2)", chat, synth.Options{Seed: 2, Link: synth.LinkSLL2}},
		{"fragmented.pcap", "fragmented messages with pings between fragments, both directions (gorilla ↔ gorilla, coder ↔ coder)", frag, synth.Options{Seed: 3}},
		{"two-links.pcapng", "fragmented.pcap's two connections in pcapng on two interfaces: Ethernet (conn 0) and Linux cooked v2 (conn 1)", &twoLinks,
			synth.Options{Seed: 15, Format: synth.PcapNG, NgLinks: []synth.Link{synth.LinkEthernet, synth.LinkSLL2}}},
		{"deflate-small-window.pcap", "crafted: permessage-deflate with server_max_window_bits=9, client_max_window_bits=10", synth.SmallWindow(4), synth.Options{Seed: 4}},
		{"no-context-takeover.pcap", "permessage-deflate with no context takeover both ways (gorilla ↔ gorilla, coder ↔ coder)", must(synth.NoContextTakeover(ctx)), synth.Options{Seed: 5}},
		{"ipv6.pcapng", "IPv6, port 9001, pcapng, uncompressed chat with a ping (gorilla ↔ gorilla)", must(synth.IPv6Chat(ctx)), synth.Options{Seed: 6, Format: synth.PcapNG}},
		{"many-conns.pcap", "24 concurrent connections (gorilla and coder), server ports 80/8080/9000/3000, randomly interleaved", must(synth.ManyConns(ctx, 24)), synth.Options{Seed: 7, Interleave: synth.Random}},
		{"refused.pcap", "upgrade refused with 403, upgrade with version 12 refused with 400, plain HTTP GET, all to port 8080", must(synth.Refused(ctx)), synth.Options{Seed: 8, Interleave: synth.Sequential}},
		{"binary.pcap", "binary messages of 0, 1, 125, 126, 127, 65535, 65536 bytes, echoed (gorilla ↔ gorilla)", must(synth.Binary(ctx)), synth.Options{Seed: 9}},
		{"damaged-reorder.pcap", "plain exchange (gorilla client ↔ coder server) with adjacent data segments swapped (p=0.5)", plain, synth.Options{Seed: 10, Reorder: 0.5}},
		{"damaged-dup.pcap", "plain exchange with data segments retransmitted (p=0.3)", plain, synth.Options{Seed: 11, Duplicate: 0.3}},
		{"damaged-drop.pcap", "plain exchange with one client data segment (inside the 5000-byte text) missing", plain,
			synth.Options{Seed: 12, Drop: []synth.SegRef{{Conn: 0, Dir: synth.ClientToServer, Index: dropIdx}}}},
		{"damaged-snaplen.pcap", "plain exchange captured with snaplen 200", plain, synth.Options{Seed: 13, Snaplen: 200}},
		{"damaged-midstream.pcap", "plain exchange without the TCP three-way handshake (capture starts on an open connection)", plain, synth.Options{Seed: 14, OmitHandshakeSYN: true}},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, c := range caps {
		var buf bytes.Buffer
		res, err := synth.Write(&buf, c.rec.Conns, c.opts)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, c.name), buf.Bytes(), 0o644); err != nil {
			return err
		}
		var js bytes.Buffer
		if err := synth.NewTruth(c.name, c.desc, c.rec, res).WriteJSON(&js); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, c.name+".sent.json"), js.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Printf("%-28s %7d bytes %4d packets %2d conns %3d messages %d damaged ranges\n",
			c.name, buf.Len(), res.Packets, len(c.rec.Conns), len(c.rec.Sent), len(res.Damage))
	}
	return nil
}

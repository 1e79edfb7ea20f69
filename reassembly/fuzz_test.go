package reassembly

import (
	"slices"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/capture"
)

// FuzzAssembler has two modes chosen by the first control byte:
//   - even: the client and server streams (handshake + payload) are cut into
//     segments of fuzzed sizes, twice with different cuts (overlapping
//     retransmissions), then permuted and duplicated; the output must
//     equal the clean streams;
//   - odd: arbitrary packets (sequence numbers, flags, payloads, missing
//     bytes) must not panic and buffers stay within the limits.
func FuzzAssembler(f *testing.F) {
	f.Add([]byte{0, 5, 1, 9, 3, 200, 17, 4, 2}, []byte("\x81\x85abcdhello"))
	f.Add([]byte{2, 1, 1, 1, 1, 1, 1, 1, 1, 250, 251, 252}, []byte(strings.Repeat("payload ", 40)))
	f.Add([]byte{1, 0, 0, 0, 10, 2, 0, 0, 0, 0, 5, 18, 3, 1, 2, 3}, []byte("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"))
	f.Add([]byte{3, 255, 255, 255, 250, 2, 0, 0, 0, 20, 1, 24, 0, 9}, []byte("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\nxx"))
	f.Fuzz(func(t *testing.T, ctl []byte, payload []byte) {
		if len(ctl) == 0 || len(payload) > 1<<16 || len(ctl) > 4096 {
			return
		}
		if ctl[0]&1 == 0 {
			fuzzClean(t, ctl[1:], payload)
		} else {
			fuzzChaos(t, ctl[1:], payload)
		}
	})
}

type ctlReader struct {
	b []byte
	i int
}

func (c *ctlReader) next() int {
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[c.i%len(c.b)])
	c.i++
	return v
}

func fuzzClean(t *testing.T, ctl []byte, payload []byte) {
	req, resp := upgradeReq(""), upgradeResp("")
	cs, ss := req+string(payload), resp+strings.ToUpper(string(payload))
	f := newFlow(uint32(len(payload))*2654435761, 0xFFFFFF00)
	cr := &ctlReader{b: ctl}
	var segs []*capture.Packet
	cut := func(fromClient bool, s string) {
		for i := 0; i < len(s); {
			n := 1 + cr.next()%97
			n = min(n, len(s)-i)
			if fromClient {
				segs = append(segs, f.c(i, s[i:i+n]))
			} else {
				segs = append(segs, f.s(i, s[i:i+n]))
			}
			i += n
		}
	}
	cut(true, cs)
	cut(false, ss)
	if cr.next()&1 == 1 {
		cut(true, cs) // a second, differently cut copy
	}
	// permute by fuzzed swaps, duplicate some
	for k := 0; k < len(ctl) && len(segs) > 1; k++ {
		i, j := cr.next()%len(segs), cr.next()%len(segs)
		segs[i], segs[j] = segs[j], segs[i]
		if cr.next()%8 == 0 {
			segs = append(segs, segs[i])
		}
	}
	pk := append(f.handshake(), segs...)
	r, a := run(t, Config{}, pk)
	if len(r.conns) != 1 || !r.hs[1].Upgraded {
		t.Fatalf("no upgrade: %v", r.events)
	}
	if got := r.data(1, FromClient); got != string(payload) {
		t.Fatalf("client stream\n got %q\nwant %q", got, payload)
	}
	if got := r.data(1, FromServer); got != strings.ToUpper(string(payload)) {
		t.Fatalf("server stream\n got %q\nwant %q", got, strings.ToUpper(string(payload)))
	}
	if r.has(CodeConflict) || r.has(CodeLimit) {
		t.Fatalf("anomalies %v", r.codes())
	}
	if a.Stats().BufferedBytes != 0 {
		t.Fatal("buffers not released")
	}
}

func fuzzChaos(t *testing.T, ctl []byte, payload []byte) {
	cfg := Config{MaxBufferedPerConn: 300, MaxBufferedTotal: 1000, MaxHandshakeBytes: 200, MaxConns: 4, ReorderWindow: 3}
	r := newRecorder(t)
	a := New(cfg, r)
	f := newFlow(0, 0)
	cr := &ctlReader{b: ctl}
	for k := 0; k+6 <= len(ctl); k += 6 {
		fromClient := ctl[k]&1 == 0
		seq := uint32(ctl[k+1])<<24 | uint32(ctl[k+2])<<8 | uint32(ctl[k+3])
		flags := capture.TCPFlags(ctl[k+4]) & (capture.FlagFIN | capture.FlagSYN | capture.FlagRST | capture.FlagACK | capture.FlagPSH)
		n := int(ctl[k+5]) % (len(payload) + 1)
		off := cr.next() % (len(payload) - n + 1)
		p := f.pkt(fromClient, seq, seq^0x5a5a, flags, string(payload[off:off+n]), int(ctl[k]>>5))
		if ctl[k]&2 != 0 { // another 4-tuple
			p.Src = netipNext(p.Src)
		}
		a.Add(p)
		if st := a.Stats(); st.BufferedBytes > int64(cfg.MaxBufferedTotal) || st.BufferedBytes < 0 {
			t.Fatalf("buffered %d", st.BufferedBytes)
		}
		for _, c := range a.conns {
			if c.buffered > cfg.MaxBufferedPerConn {
				t.Fatalf("conn buffered %d", c.buffered)
			}
			if c.http != nil {
				for s := range c.http.side {
					if sd := &c.http.side[s]; sd.st != stWS && len(sd.pend) > cfg.MaxHandshakeBytes {
						t.Fatalf("held %d handshake bytes", len(sd.pend))
					}
				}
			}
		}
		if len(a.conns) > cfg.MaxConns {
			t.Fatalf("%d conns", len(a.conns))
		}
	}
	a.Close(Meta{})
	if a.Stats().BufferedBytes != 0 || len(a.conns) != 0 {
		t.Fatal("not released at Close")
	}
	for _, c := range r.conns {
		if _, ok := r.ends[c.ID]; !ok {
			t.Fatalf("conn %d never ended", c.ID)
		}
	}
}

// FuzzHandshake feeds arbitrary client and server bytes as one connection,
// whole and in 7-byte segments (all client bytes first): no panic, and the
// outcome does not depend on the segmentation.
func FuzzHandshake(f *testing.F) {
	f.Add(upgradeReq("")+"\x81\x80abcd", upgradeResp("")+"\x81\x00")
	f.Add(upgradeReq(""), "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno!")
	f.Add("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"+upgradeReq(""), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"+upgradeResp("")+"x")
	f.Add(strings.Replace(upgradeReq(""), "13", "8", 1), strings.Replace(upgradeResp(""), "s3p", "xxx", 1))
	f.Add("\x16\x03\x01", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
	f.Fuzz(func(t *testing.T, client, server string) {
		if len(client)+len(server) > 1<<15 {
			return
		}
		var logs [2]string
		for i, seg := range []int{1 << 30, 7} {
			r := exchangeOrder(t, Config{MaxHandshakeBytes: 4096}, client, server, seg, true)
			var b strings.Builder
			for _, e := range r.events {
				b.WriteString(e + "\n")
			}
			ids := make([]uint64, 0, len(r.hs))
			for id := range r.hs {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				hs := r.hs[id]
				b.WriteString(hs.Method + " " + hs.URI + " " + hs.Key + " " + hs.Accept + " " + strings.Join(hs.AcceptedExtensions, ",") + "\n")
				b.WriteString(r.data(id, FromClient) + "\n" + r.data(id, FromServer) + "\n")
			}
			logs[i] = b.String()
		}
		if logs[0] != logs[1] {
			t.Fatalf("outcome depends on segmentation:\nwhole:\n%s\n7-byte:\n%s", logs[0], logs[1])
		}
	})
}

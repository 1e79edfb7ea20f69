package synth

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// decoded is one frame-level event of a minimal reference decoder: a
// complete data message or a control frame, with where its frames ended.
type decoded struct {
	opcode  int
	payload []byte
	end     int64 // stream offset just after its last frame
}

// miniDecode decodes one direction's stream: the HTTP head, then RFC 6455
// frames; data messages are reassembled and inflated (RFC 7692) when RSV1
// is set. takeover keeps the inflater's window between messages; window
// caps the history handed to the inflater (0 = 32 KiB).
func miniDecode(stream []byte, fromClient, takeover bool, window int) ([]decoded, error) {
	head := bytes.Index(stream, []byte("\r\n\r\n"))
	if head < 0 {
		return nil, nil
	}
	if !bytes.Contains(stream[:head], []byte(" 101 ")) && !bytes.HasPrefix(stream, []byte("GET ")) {
		return nil, nil
	}
	if window == 0 {
		window = 32768
	}
	pos := head + 4
	var out []decoded
	var msg []byte
	msgOp, msgRSV := -1, false
	var hist []byte
	for pos < len(stream) {
		f := stream[pos:]
		if len(f) < 2 {
			return out, fmt.Errorf("truncated frame header at %d", pos)
		}
		fin, rsv1, op := f[0]&0x80 != 0, f[0]&0x40 != 0, int(f[0]&0x0f)
		masked := f[1]&0x80 != 0
		if masked != fromClient {
			return out, fmt.Errorf("frame at %d: masked=%v", pos, masked)
		}
		n, hl := int(f[1]&0x7f), 2
		switch n {
		case 126:
			n, hl = int(f[2])<<8|int(f[3]), 4
		case 127:
			n, hl = 0, 10
			for _, c := range f[2:10] {
				n = n<<8 | int(c)
			}
		}
		var key []byte
		if masked {
			key = f[hl : hl+4]
			hl += 4
		}
		if len(f) < hl+n {
			return out, fmt.Errorf("truncated frame at %d", pos)
		}
		p := append([]byte(nil), f[hl:hl+n]...)
		if masked {
			for i := range p {
				p[i] ^= key[i%4]
			}
		}
		pos += hl + n
		if op >= 8 {
			out = append(out, decoded{op, p, int64(pos)})
			continue
		}
		if op != 0 {
			msgOp, msgRSV, msg = op, rsv1, nil
		}
		msg = append(msg, p...)
		if !fin {
			continue
		}
		if msgRSV {
			dict := hist[max(0, len(hist)-window):]
			r := flate.NewReaderDict(io.MultiReader(bytes.NewReader(msg), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})), dict)
			plain, err := io.ReadAll(r)
			if err != nil {
				return out, fmt.Errorf("inflate message ending at %d: %w", pos, err)
			}
			msg = plain
		}
		// Only compressed messages go through the LZ77 window (RFC 7692
		// section 7.2.3.1 describes the window as that of the compressor).
		if takeover && msgRSV {
			hist = append(hist, msg...)
		}
		out = append(out, decoded{msgOp, msg, int64(pos)})
	}
	return out, nil
}

// checkRecording decodes every connection of rec and checks that the
// decoded messages, in order, are exactly rec.Sent of that direction and
// that each Sent's range ends where its last frame ends.
func checkRecording(t *testing.T, rec *Recording, window [2]int) {
	t.Helper()
	for ci, c := range rec.Conns {
		resp := c.Bytes(ServerToClient)
		hdrEnd := bytes.Index(resp, []byte("\r\n\r\n"))
		var ext string
		if hdrEnd > 0 {
			for _, l := range strings.Split(string(resp[:hdrEnd]), "\r\n") {
				if strings.HasPrefix(strings.ToLower(l), "sec-websocket-extensions:") {
					ext = strings.ToLower(l)
				}
			}
		}
		for d := range Dir(2) {
			takeover := !strings.Contains(ext, []string{"client_no_context_takeover", "server_no_context_takeover"}[d])
			got, err := miniDecode(c.Bytes(d), d == ClientToServer, takeover, window[d])
			if err != nil {
				t.Fatalf("conn %d %v: %v", ci, d, err)
			}
			var want []Sent
			for _, s := range NewTruthSent(rec, ci, d) {
				want = append(want, s)
			}
			if testing.Verbose() {
				for _, g := range got {
					t.Logf("decoded op %d len %d end %d", g.opcode, len(g.payload), g.end)
				}
				for _, w := range want {
					t.Logf("sent op %d len %d range %d+%d", w.Opcode, len(w.Payload), w.Offset, w.Len)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("conn %d %v: decoded %d messages, recording says %d sent", ci, d, len(got), len(want))
			}
			for i := range got {
				g, w := got[i], want[i]
				if g.opcode != w.Opcode || !bytes.Equal(g.payload, w.Payload) {
					t.Fatalf("conn %d %v msg %d: decoded op %d %q, sent op %d %q", ci, d, i, g.opcode, trunc(g.payload), w.Opcode, trunc(w.Payload))
				}
				if g.end != w.Offset+w.Len {
					t.Fatalf("conn %d %v msg %d (op %d): frames end at %d, Sent range ends at %d", ci, d, i, g.opcode, g.end, w.Offset+w.Len)
				}
			}
		}
	}
}

// NewTruthSent returns rec's messages of connection ci sent in direction d
// in the order NewTruth uses.
func NewTruthSent(rec *Recording, ci int, d Dir) []Sent {
	var out []Sent
	for _, s := range OrderSent(rec.Sent) {
		if s.Conn == ci && s.From == d {
			out = append(out, s)
		}
	}
	return out
}

func TestRecordingsMatchWire(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for name, run := range map[string]func(context.Context) (*Recording, error){
		"chat": ChatDeflate, "nct": NoContextTakeover, "frag": Fragmented, "bin": Binary,
		"plain": Plain, "refused": Refused, "ipv6": IPv6Chat,
		"many": func(ctx context.Context) (*Recording, error) { return ManyConns(ctx, 8) },
	} {
		t.Run(name, func(t *testing.T) {
			rec, err := run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			checkRecording(t, rec, [2]int{})
		})
	}
	t.Run("small-window", func(t *testing.T) {
		// The inflater only gets the negotiated window of history.
		checkRecording(t, SmallWindow(1), [2]int{1 << 10, 1 << 9})
	})
}

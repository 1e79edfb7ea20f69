package synth

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestScenariosSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for name, run := range map[string]func(context.Context) (*Recording, error){
		"chat": ChatDeflate, "nct": NoContextTakeover, "frag": Fragmented, "bin": Binary,
		"plain": Plain, "refused": Refused, "ipv6": IPv6Chat,
		"many": func(ctx context.Context) (*Recording, error) { return ManyConns(ctx, 6) },
	} {
		t.Run(name, func(t *testing.T) {
			rec, err := run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range rec.Conns {
				t.Logf("conn %d %v->%v chunks=%d c2s=%d s2c=%d %s", i, c.Client, c.Server, len(c.Chunks), len(c.Bytes(0)), len(c.Bytes(1)), rec.Notes[i])
			}
			for _, s := range rec.Sent {
				t.Logf("sent conn=%d %v op=%d len=%d auto=%v off=%d n=%d %q", s.Conn, s.From, s.Opcode, len(s.Payload), s.Auto, s.Offset, s.Len, trunc(s.Payload))
			}
			var buf bytes.Buffer
			if _, err := Write(&buf, rec.Conns, Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

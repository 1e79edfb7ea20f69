package export

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wsscope/wsscope/wsdecode"
)

// TestJSONStreamedPayloads: a payload above streamPayload is written in
// pieces, and the record is byte-identical to the one rendered whole, for
// text that escapes heavily (NULs: 6 output bytes per input byte), runes of
// every length straddling the piece boundaries, invalid UTF-8 (data path),
// and binary lengths that are not multiples of 3. The writer's own buffer
// stays small while it does so.
func TestJSONStreamedPayloads(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	runes := []string{"a", "\x00", "é", "€", "𝄞", "\"", "\\", "\u2028", "\x1b[2J"}
	mixed := func(n int) string {
		var sb strings.Builder
		for sb.Len() < n {
			sb.WriteString(runes[rng.IntN(len(runes))])
		}
		return sb.String()
	}
	cases := []struct {
		name   string
		op     wsdecode.Opcode
		pay    string
		isText bool
	}{
		{"nul-text", wsdecode.OpText, strings.Repeat("\x00", 3<<20), true},
		{"mixed-runes", wsdecode.OpText, mixed(streamPayload + 7*streamChunk + 5), true},
		// A 4-byte rune at every offset around the first piece boundary.
		{"rune-at-boundary-0", wsdecode.OpText, strings.Repeat("a", streamChunk-0) + strings.Repeat("𝄞", streamPayload/4), true},
		{"rune-at-boundary-1", wsdecode.OpText, strings.Repeat("a", streamChunk-1) + strings.Repeat("𝄞", streamPayload/4), true},
		{"rune-at-boundary-2", wsdecode.OpText, strings.Repeat("a", streamChunk-2) + strings.Repeat("𝄞", streamPayload/4), true},
		{"rune-at-boundary-3", wsdecode.OpText, strings.Repeat("a", streamChunk-3) + strings.Repeat("𝄞", streamPayload/4), true},
		{"invalid-utf8-text", wsdecode.OpText, mixed(streamPayload+100) + "\xff" + mixed(1000), false},
		{"binary-3n+1", wsdecode.OpBinary, mixed(streamPayload + 3*streamChunk + 1), false},
		{"binary-3n+2", wsdecode.OpBinary, mixed(streamPayload + 3*streamChunk + 2), false},
	}
	c := testConn(1)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := textMsg(wsdecode.FromServer, tc.pay)
			m.Opcode = tc.op
			if len(m.Payload) <= streamPayload {
				t.Fatalf("payload of %d bytes is not streamed", len(m.Payload))
			}
			var got bytes.Buffer
			j := NewJSONWriter(&got)
			j.Message(c, m)
			if err := j.Flush(); err != nil {
				t.Fatal(err)
			}
			if cap(j.buf) > 8*streamChunk {
				t.Errorf("writer buffer grew to %d bytes for a %d-byte payload", cap(j.buf), len(m.Payload))
			}
			// The whole rendering, as for a small payload.
			var tcache timeCache
			want := append([]byte(`{"record":"message",`), NewJSONWriter(&bytes.Buffer{}).connPrefix(c)...)
			want = append(appendMessage(want, &tcache, m), '\n')
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("streamed record differs from the whole rendering (%d vs %d bytes)", got.Len(), len(want))
			}
			recs := jsonLines(t, got.Bytes())
			_, isText := recs[0]["text"].(string)
			if isText != tc.isText {
				t.Errorf("text field present = %v, want %v", isText, tc.isText)
			}
		})
	}
}

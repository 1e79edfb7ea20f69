package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"unicode/utf8"
)

// MaxInlinePayload is the largest payload Truth stores inline (text or
// base64); longer payloads are given by length and SHA-256 only.
const MaxInlinePayload = 4096

// Truth is the ground truth written beside a sample capture as
// NAME.sent.json: the connections, the application-level messages each side
// was asked to send, and what the capture damaged.
type Truth struct {
	Capture     string         `json:"capture"`
	Description string         `json:"description"`
	Crafted     bool           `json:"crafted,omitempty"`
	Conns       []TruthConn    `json:"connections"`
	Messages    []TruthMessage `json:"messages"`
	Damage      []TruthDamage  `json:"damage,omitempty"`
}

// TruthConn describes one connection of a capture.
type TruthConn struct {
	Index  int    `json:"index"`
	Client string `json:"client"`
	Server string `json:"server"`
	Note   string `json:"note,omitempty"`
	// ClientISN and ServerISN are the initial sequence numbers in the capture.
	ClientISN uint32 `json:"client_isn"`
	ServerISN uint32 `json:"server_isn"`
}

// TruthMessage is one message (or control frame) a side sent.
type TruthMessage struct {
	Conn   int    `json:"conn"`
	From   string `json:"from"` // "client" or "server"
	Opcode int    `json:"opcode"`
	Len    int    `json:"len"`
	// Text is set for text messages of at most MaxInlinePayload bytes of
	// valid UTF-8; Base64 for other payloads of at most that size.
	Text   *string `json:"text,omitempty"`
	Base64 *[]byte `json:"base64,omitempty"`
	SHA256 string  `json:"sha256"`
	// Auto marks a control frame the library sent on its own (pong, close
	// echo).
	Auto bool `json:"auto,omitempty"`
	// StreamOffset and StreamLen locate the frames that carried the message
	// in the sender's byte stream (0 = first byte of the HTTP handshake).
	StreamOffset int64 `json:"stream_offset"`
	StreamLen    int64 `json:"stream_len"`
	// Damaged: some of those bytes are missing from the capture.
	Damaged bool `json:"damaged,omitempty"`
	// AfterDamage: an earlier part of the same direction is damaged (with
	// context takeover such messages cannot be inflated either).
	AfterDamage bool `json:"after_damage,omitempty"`
}

// TruthDamage is a Damage in JSON form.
type TruthDamage struct {
	Conn   int    `json:"conn"`
	From   string `json:"from"`
	Offset int64  `json:"offset"`
	Len    int64  `json:"len"`
}

func side(d Dir) string {
	if d == ClientToServer {
		return "client"
	}
	return "server"
}

// NewTruth builds the ground truth of capture name from a recording and the
// Result of writing it. Messages are ordered by connection, direction
// (client first), then by the stream position where each ends (the order a
// decoder completes them: pings inside a fragmented message come first).
func NewTruth(name, description string, rec *Recording, res Result) *Truth {
	t := &Truth{Capture: name, Description: description, Crafted: rec.Crafted}
	for i, c := range rec.Conns {
		tc := TruthConn{Index: i, Client: c.Client.String(), Server: c.Server.String()}
		if i < len(rec.Notes) {
			tc.Note = rec.Notes[i]
		}
		if i < len(res.ISN) {
			tc.ClientISN, tc.ServerISN = res.ISN[i][0], res.ISN[i][1]
		}
		t.Conns = append(t.Conns, tc)
	}
	sent := OrderSent(rec.Sent)
	for _, s := range sent {
		m := TruthMessage{Conn: s.Conn, From: side(s.From), Opcode: s.Opcode, Len: len(s.Payload),
			Auto: s.Auto, StreamOffset: s.Offset, StreamLen: s.Len}
		sum := sha256.Sum256(s.Payload)
		m.SHA256 = hex.EncodeToString(sum[:])
		if len(s.Payload) <= MaxInlinePayload {
			if s.Opcode == OpText && utf8.Valid(s.Payload) {
				txt := string(s.Payload)
				m.Text = &txt
			} else {
				p := slices.Clone(s.Payload)
				if p == nil {
					p = []byte{}
				}
				m.Base64 = &p
			}
		}
		m.Damaged = Damaged(s, res.Damage)
		for _, d := range res.Damage {
			if d.Conn == s.Conn && d.Dir == s.From && d.Offset < s.Offset {
				m.AfterDamage = true
			}
		}
		t.Messages = append(t.Messages, m)
	}
	for _, d := range res.Damage {
		t.Damage = append(t.Damage, TruthDamage{Conn: d.Conn, From: side(d.Dir), Offset: d.Offset, Len: d.Len})
	}
	return t
}

// OrderSent returns a copy of sent ordered by connection, direction (client
// first) and the stream offset where each message's frames end: the order
// in which a decoder completes them (pings inside a fragmented message come
// before it).
func OrderSent(sent []Sent) []Sent {
	out := slices.Clone(sent)
	slices.SortStableFunc(out, func(a, b Sent) int {
		if a.Conn != b.Conn {
			return a.Conn - b.Conn
		}
		if a.From != b.From {
			return int(a.From) - int(b.From)
		}
		ea, eb := a.Offset+a.Len, b.Offset+b.Len
		switch {
		case ea < eb:
			return -1
		case ea > eb:
			return 1
		}
		return 0
	})
	return out
}

// WriteJSON writes t as indented JSON.
func (t *Truth) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(t)
}

// ReadTruth reads a NAME.sent.json file.
func ReadTruth(path string) (*Truth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	var t Truth
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("synth: %s: %w", path, err)
	}
	return &t, nil
}

// Payload returns the message payload if it is stored inline.
func (m *TruthMessage) Payload() ([]byte, bool) {
	switch {
	case m.Text != nil:
		return []byte(*m.Text), true
	case m.Base64 != nil:
		return *m.Base64, true
	}
	return nil, false
}

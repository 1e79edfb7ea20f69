package tui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"
	"unicode/utf8"
)

// viewRecord is one line of the TUI's JSON Lines export of the current
// view. Field names follow export.JSONWriter's message records; "partial"
// says the payload holds only the bytes the TUI kept (see ModelOptions).
type viewRecord struct {
	Record     string       `json:"record"` // "message"
	Conn       uint64       `json:"conn"`
	Client     string       `json:"client"`
	Server     string       `json:"server"`
	TS         string       `json:"ts"`
	From       string       `json:"from"`
	Opcode     string       `json:"opcode"`
	Len        int64        `json:"len"`
	WireLen    int64        `json:"wire_len"`
	Frames     uint32       `json:"frames"`
	Compressed bool         `json:"compressed"`
	Masked     bool         `json:"masked"`
	Packets    [2]uint64    `json:"packets"`
	CloseCode  *uint16      `json:"close_code,omitempty"`
	Incomplete bool         `json:"incomplete,omitempty"`
	Truncated  bool         `json:"truncated,omitempty"`
	Partial    bool         `json:"partial,omitempty"`
	Anomalies  []viewAnomal `json:"anomalies,omitempty"`
	Text       *string      `json:"text,omitempty"`
	Data       []byte       `json:"data,omitempty"` // base64
}

type viewAnomal struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// writeViewJSONL writes the messages of v to path, one JSON object a line.
// It returns the number of records written.
func writeViewJSONL(path string, s *snapshot, v *msgView, conn func(int) connView) (n int, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("tui: export: %w", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	conns := map[uint32]connView{}
	for _, i := range v.idx {
		r := s.msg(int(i))
		c, ok := conns[r.conn]
		if !ok {
			c = conn(int(r.conn))
			conns[r.conn] = c
		}
		rec := viewRecord{
			Record: "message", Conn: c.id, Client: c.client.String(), Server: c.server.String(),
			TS: time.Unix(0, r.tLast).UTC().Format(time.RFC3339Nano), From: "client",
			Opcode: opName(r.op), Len: r.length, WireLen: r.wire, Frames: r.nFrames,
			Compressed: r.flags&fCompressed != 0, Masked: r.flags&fMasked != 0,
			Packets: [2]uint64{r.pkt0, r.pkt1}, Incomplete: r.flags&fIncomplete != 0,
			Truncated: r.flags&fTruncated != 0, Partial: r.flags&(fPayloadCut|fPayloadGone) != 0,
		}
		if r.dir == 1 {
			rec.From = "server"
		}
		if r.flags&fHasClose != 0 {
			code := r.close
			rec.CloseCode = &code
		}
		for _, a := range s.msgAnoms(r) {
			rec.Anomalies = append(rec.Anomalies, viewAnomal{a.code, a.detail})
		}
		p := s.payload(r)
		if r.op == 0x1 && utf8.Valid(p) {
			t := string(p)
			rec.Text = &t
		} else {
			rec.Data = p
		}
		if err = enc.Encode(&rec); err != nil {
			break
		}
		n++
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("tui: export: %w", err)
	}
	return n, nil
}

func (u *ui) exportView(path string) {
	if path == "" {
		return
	}
	n, err := writeViewJSONL(path, &u.snap, &u.view, func(i int) connView {
		c, _ := u.m.conn(i, false)
		return c
	})
	if err != nil {
		u.status.notify(err.Error())
		return
	}
	u.status.notify(fmt.Sprintf("exported %d messages to %s", n, path))
}

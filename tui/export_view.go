package tui

import (
	"bufio"
	"encoding/json"
	"errors"
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
// It returns the number of records written. It may run on any goroutine:
// s and v are copies, conn must be safe for concurrent use; stop, if not
// nil, is polled between records (a stopped export returns an error).
func writeViewJSONL(path string, s *snapshot, v *msgView, conn func(int) connView, stop func() bool) (n int, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("tui: export: %w", err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	conns := map[uint32]connView{}
	pr := payloadReader{s: s}
	for row := 0; row < v.rows(); row++ {
		if stop != nil && row&1023 == 0 && stop() {
			err = errors.New("stopped")
			break
		}
		r := s.msg(int(v.at(row)))
		c, ok := conns[r.conn]
		if !ok {
			c = conn(int(r.conn))
			conns[r.conn] = c
		}
		d, p, kept := pr.record(r)
		if !kept {
			d = msgDetail{length: int64(r.length), nFrames: uint32(r.frames), tLast: r.t}
		}
		rec := viewRecord{
			Record: "message", Conn: c.id, Client: c.client.String(), Server: c.server.String(),
			TS: time.Unix(0, d.tLast).UTC().Format(time.RFC3339Nano), From: "client",
			Opcode: opName(r.op), Len: d.length, WireLen: d.wire, Frames: d.nFrames,
			Compressed: r.flags&fCompressed != 0, Masked: r.flags&fMasked != 0,
			Packets: [2]uint64{r.pkt0, max(d.pkt1, r.pkt1())}, Incomplete: r.flags&fIncomplete != 0,
			Truncated: r.flags&fTruncated != 0, Partial: r.flags&(fPayloadCut|fPayloadGone) != 0 || !kept,
		}
		if r.dir() == 1 {
			rec.From = "server"
		}
		if d.hasClose {
			code := d.close
			rec.CloseCode = &code
		}
		for _, a := range s.msgAnoms(&d) {
			rec.Anomalies = append(rec.Anomalies, viewAnomal{a.code, a.detail})
		}
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

// exportView writes the current view on a background job; the status bar
// says when it is done.
func (u *ui) exportView(path string) {
	if path == "" {
		return
	}
	if u.exportJob.running() {
		u.status.notify("an export is still running")
		return
	}
	s, v, m, box := u.snap, u.view, u.m, &u.box
	u.status.notify(fmt.Sprintf("exporting %d messages to %s …", v.rows(), path))
	u.exportJob = u.start(func(j *job) {
		n, err := writeViewJSONL(path, &s, &v, func(i int) connView {
			c, _ := m.conn(i, false)
			return c
		}, j.stopped.Load)
		note := fmt.Sprintf("exported %d messages to %s", n, path)
		if err != nil {
			note = err.Error()
		}
		box.post(func() { box.notes = append(box.notes, note) })
	})
}

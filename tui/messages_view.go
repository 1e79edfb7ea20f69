package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// messagesView is the messages pane: a virtual table over ui.view (the
// filtered message indexes). Row 0 is the header, row i+1 is view.at(i).
// Cells are built on demand for the visible rows only and cached briefly.
type messagesView struct {
	tview.TableContentReadOnly
	u     *ui
	table *tview.Table
	cache map[uint32][]*tview.TableCell
	gen   int // bumped when rendering options change
	cgen  int
}

// Column indexes of the messages pane.
const (
	mcTime = iota
	mcConn
	mcDir
	mcOp
	mcLen
	mcFlags
	mcFrames
	mcPkt
	mcMark
	mcPreview
	mcCount
)

var msgHeader = [mcCount]string{"Time", "Conn", "Dir", "Opcode", "Len", "Z", "Fr", "Pkt", "!", "Preview"}

// previewRunes bounds a preview's length (before the pane clips it).
const previewRunes = 160

func newMessagesView(u *ui) *messagesView {
	v := &messagesView{u: u, cache: make(map[uint32][]*tview.TableCell)}
	v.table = tview.NewTable().SetContent(v).SetFixed(1, 0).SetSelectable(true, false)
	v.table.SetBorder(true)
	v.table.SetSelectionChangedFunc(func(row, _ int) { u.msgSelected(row) })
	v.table.SetSelectedFunc(func(int, int) { u.app.SetFocus(u.detail.text) })
	return v
}

// GetRowCount implements tview.TableContent.
func (v *messagesView) GetRowCount() int { return v.u.view.rows() + 1 }

// GetColumnCount implements tview.TableContent.
func (v *messagesView) GetColumnCount() int { return mcCount }

// invalidate drops cached cells (time mode or search changed).
func (v *messagesView) invalidate() { v.gen++ }

// GetCell implements tview.TableContent.
func (v *messagesView) GetCell(row, col int) *tview.TableCell {
	if col < 0 || col >= mcCount {
		return nil
	}
	if row == 0 {
		h := msgHeader[col]
		if col == mcTime && v.u.relTime {
			h = "Time (rel)"
		}
		return tview.NewTableCell(h).SetSelectable(false).SetAttributes(tcell.AttrBold | tcell.AttrUnderline)
	}
	i := row - 1
	if i < 0 || i >= v.u.view.rows() {
		return nil
	}
	mi := v.u.view.at(i)
	if v.cgen != v.gen || len(v.cache) > 512 {
		clear(v.cache)
		v.cgen = v.gen
	}
	cells, ok := v.cache[mi]
	if !ok {
		cells = v.buildRow(mi)
		v.cache[mi] = cells
	}
	return cells[col]
}

func (v *messagesView) buildRow(mi uint32) []*tview.TableCell {
	s := &v.u.snap
	r := s.msg(int(mi))
	// The preview (and saturated lengths) come from the spill: one short
	// read per row built; rows are cached.
	d, _ := s.readDetail(r, previewBytes, false)
	t := msgRowTexts(s, r, d, v.u.relTime, v.u.connID(int(r.conn)))
	style := tcell.StyleDefault
	switch {
	case r.flags&(fAnom|fIncomplete|fTruncated) != 0:
		style = style.Foreground(tcell.ColorRed)
	case isControl(r.op):
		style = style.Foreground(tcell.ColorGray)
	case r.dir() == 1:
		style = style.Foreground(tcell.ColorTeal)
	}
	cells := make([]*tview.TableCell, mcCount)
	for c := range cells {
		cell := tview.NewTableCell(t[c]).SetStyle(style)
		switch c {
		case mcLen, mcFrames, mcPkt, mcConn:
			cell.SetAlign(tview.AlignRight)
		case mcPreview:
			cell.SetExpansion(1)
		}
		cells[c] = cell
	}
	return cells
}

// msgRowTexts returns the message pane's columns for r, safe for tview. d
// is r's detail record with a preview's worth of payload (nil if not kept).
func msgRowTexts(s *snapshot, r *msgRec, d *msgDetail, rel bool, connID uint64) [mcCount]string {
	var t [mcCount]string
	t[mcTime] = fmtTime(r.t, s.first, rel)
	t[mcConn] = strconv.FormatUint(connID, 10)
	t[mcDir] = dirArrow(r.dir())
	t[mcOp] = opName(r.op)
	t[mcLen] = strconv.FormatInt(msgLen(r, d), 10)
	if r.flags&fCompressed != 0 {
		t[mcFlags] = "z"
	}
	t[mcFrames] = strconv.FormatUint(uint64(msgFrames(r, d)), 10)
	t[mcPkt] = strconv.FormatUint(r.pkt0, 10)
	switch {
	case r.flags&fAnom != 0:
		t[mcMark] = "!"
	case r.flags&(fIncomplete|fTruncated) != 0:
		t[mcMark] = "~"
	}
	t[mcPreview] = preview(r, d)
	return t
}

// msgLen is the payload length (exact from d when r's is saturated).
func msgLen(r *msgRec, d *msgDetail) int64 {
	if d != nil {
		return d.length
	}
	return int64(r.length)
}

// msgFrames is the number of frames (exact from d when r's is saturated).
func msgFrames(r *msgRec, d *msgDetail) uint32 {
	if d != nil {
		return d.nFrames
	}
	return uint32(r.frames)
}

// preview is a one-line, escaped summary of the payload (d may hold only
// its first bytes; nil if the details were not kept).
func preview(r *msgRec, d *msgDetail) string {
	if d == nil {
		return "(details not kept: spill limit)"
	}
	p := d.payload
	length := d.length
	var b strings.Builder
	switch {
	case r.op == 0x8:
		if d.hasClose {
			fmt.Fprintf(&b, "%d %s", d.close, closeName(d.close))
			if len(p) > 2 {
				b.WriteString(" ")
				b.WriteString(safe(p[2:], false, previewRunes))
			}
		} else {
			b.WriteString("(no status code)")
		}
		return b.String()
	case r.flags&fPayloadGone != 0:
		return "(payload not kept: spill limit)"
	case len(p) == 0 && length == 0:
		return ""
	case r.op == 0x2 || (r.op != 0x1 && !isPrintable(p)):
		n := min(len(p), 24)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%02x", p[i])
		}
		if len(p) > n || int64(len(p)) < length {
			b.WriteString(" …")
		}
		return b.String()
	}
	return safe(p, false, previewRunes)
}

// isPrintable reports whether most of p looks like text (for previews of
// ping/pong and continuation payloads).
func isPrintable(p []byte) bool {
	n := 0
	for _, c := range p[:min(len(p), 64)] {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			n++
		}
	}
	return n == 0
}

func closeName(code uint16) string {
	switch code {
	case 1000:
		return "normal"
	case 1001:
		return "going away"
	case 1002:
		return "protocol error"
	case 1003:
		return "unsupported data"
	case 1005:
		return "no status"
	case 1006:
		return "abnormal"
	case 1007:
		return "invalid payload"
	case 1008:
		return "policy violation"
	case 1009:
		return "too big"
	case 1010:
		return "mandatory extension"
	case 1011:
		return "internal error"
	case 1012:
		return "service restart"
	case 1013:
		return "try again later"
	case 1014:
		return "bad gateway"
	case 1015:
		return "TLS handshake"
	}
	return ""
}

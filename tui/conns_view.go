package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// connsView is the connections pane: a virtual table (tview.TableContent)
// whose row 0 is the header, row 1 "all connections" and row i+2 the
// connection ui.connOrder[i] (connections sorted by ID). Rows are built on demand and cached per model
// version.
type connsView struct {
	tview.TableContentReadOnly
	u        *ui
	table    *tview.Table
	cache    map[int][]*tview.TableCell
	cacheVer uint64
}

// Columns of the connections pane, most useful first: in a narrow terminal
// the last ones are clipped (h/l scroll the table sideways).
const (
	ccID = iota
	ccHost
	ccMsgs
	ccBytes
	ccState
	ccAnom
	ccProto
	ccExt
	ccAddr
	ccCount
)

var connHeader = [ccCount]string{"#", "Host/Path", "Msgs →/←", "Bytes →/←", "State", "Anom", "Proto", "Ext", "Client → Server"}

func newConnsView(u *ui) *connsView {
	v := &connsView{u: u, cache: make(map[int][]*tview.TableCell)}
	v.table = tview.NewTable().SetContent(v).SetFixed(1, 0).SetSelectable(true, false)
	v.table.SetBorder(true)
	v.table.Select(1, 0)
	v.table.SetSelectionChangedFunc(func(row, _ int) { u.connSelected(row) })
	v.table.SetSelectedFunc(func(int, int) { u.app.SetFocus(u.msgs.table) })
	return v
}

// GetRowCount implements tview.TableContent.
func (v *connsView) GetRowCount() int { return v.u.snap.nConns + 2 }

// GetColumnCount implements tview.TableContent.
func (v *connsView) GetColumnCount() int { return len(connHeader) }

// GetCell implements tview.TableContent.
func (v *connsView) GetCell(row, col int) *tview.TableCell {
	if col < 0 || col >= len(connHeader) {
		return nil
	}
	if row == 0 {
		return tview.NewTableCell(connHeader[col]).SetSelectable(false).
			SetAttributes(tcell.AttrBold | tcell.AttrUnderline)
	}
	if v.cacheVer != v.u.snap.version || len(v.cache) > 256 {
		clear(v.cache)
		v.cacheVer = v.u.snap.version
	}
	cells, ok := v.cache[row]
	if !ok {
		cells = v.buildRow(row)
		v.cache[row] = cells
	}
	if cells == nil {
		return nil
	}
	return cells[col]
}

func (v *connsView) buildRow(row int) []*tview.TableCell {
	var texts [ccCount]string
	color := tcell.ColorDefault
	if row == 1 {
		_, msgs, anoms := v.u.m.Counts()
		texts[ccID] = "*"
		texts[ccHost] = "all connections"
		texts[ccMsgs] = strconv.FormatUint(msgs, 10)
		texts[ccAnom] = strconv.FormatUint(anoms, 10)
	} else {
		c, ok := v.u.m.conn(v.u.connAt(row), false)
		if !ok {
			return nil
		}
		texts = connRowTexts(&c)
		if c.anomCount > 0 {
			color = tcell.ColorRed
		}
		v.markSecurity(&c, &texts, &color) // security.go
	}
	cells := make([]*tview.TableCell, len(texts))
	for i, t := range texts {
		cell := tview.NewTableCell(escapeTags(t)).SetTextColor(color)
		switch i {
		case ccHost:
			cell.SetMaxWidth(28)
		case ccExt:
			cell.SetMaxWidth(22)
		case ccMsgs, ccBytes:
			cell.SetAlign(tview.AlignRight)
		}
		cells[i] = cell
	}
	return cells
}

// connRowTexts returns the connections pane columns for c (not yet
// tview-escaped, but with control characters made visible).
func connRowTexts(c *connView) [ccCount]string {
	var t [ccCount]string
	t[ccID] = strconv.FormatUint(c.id, 10)
	t[ccAddr] = c.client.String() + " → " + c.server.String()
	if hs := c.hs; hs != nil {
		t[ccHost] = visible([]byte(hs.Host+hs.URI), false, 0)
		t[ccProto] = visible([]byte(hs.Subprotocol), false, 0)
	}
	t[ccExt] = visible([]byte(extText(c)), false, 0)
	s := &c.sum
	t[ccMsgs] = fmt.Sprintf("%d/%d", s.Messages[0], s.Messages[1])
	t[ccBytes] = fmtSize(s.Bytes[0]) + "/" + fmtSize(s.Bytes[1])
	t[ccState] = connState(c)
	if c.anomCount > 0 || s.Anomalies > 0 {
		t[ccAnom] = "!" + strconv.FormatUint(max(c.anomCount, s.Anomalies), 10)
	} else {
		t[ccAnom] = "0"
	}
	return t
}

// extText describes the negotiated extensions: deflate parameters, or the
// accepted extension header values.
func extText(c *connView) string {
	d := c.deflate
	var parts []string
	switch d.Mode {
	case wsdecode.PerMessageDeflate:
		parts = append(parts, "pmd")
	case wsdecode.PerFrameDeflate:
		parts = append(parts, "deflate-frame")
	}
	if d.Mode != wsdecode.DeflateNone {
		if d.ServerNoContextTakeover {
			parts = append(parts, "snct")
		}
		if d.ClientNoContextTakeover {
			parts = append(parts, "cnct")
		}
		if d.ServerMaxWindowBits != 0 {
			parts = append(parts, "sw"+strconv.Itoa(d.ServerMaxWindowBits))
		}
		if d.ClientMaxWindowBits != 0 {
			parts = append(parts, "cw"+strconv.Itoa(d.ClientMaxWindowBits))
		}
		return strings.Join(parts, " ")
	}
	if c.hs != nil {
		return strings.Join(c.hs.AcceptedExtensions, ", ")
	}
	return ""
}

// connState is "open", "closed 1000/1000", "reset", "handshake failed 403",
// or the end reason.
func connState(c *connView) string {
	hs := c.hs
	if hs != nil && !hs.Upgraded {
		if hs.Status == 0 {
			return "no response"
		}
		return "handshake failed " + strconv.Itoa(hs.Status)
	}
	s := &c.sum
	if !s.Ended {
		return "open"
	}
	if s.EndReason == reassembly.EndRST {
		return "reset"
	}
	if s.CloseCodes[0] >= 0 || s.CloseCodes[1] >= 0 {
		return "closed " + closeStr(s.CloseCodes[0]) + "/" + closeStr(s.CloseCodes[1])
	}
	if s.EndReason == "" {
		return "ended"
	}
	return string(s.EndReason)
}

func closeStr(code int) string {
	if code < 0 {
		return "-"
	}
	return strconv.Itoa(code)
}

package tui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rivo/tview"

	"github.com/wsscope/wsscope/reassembly"
	"github.com/wsscope/wsscope/wsdecode"
)

// Detail modes (keys 1..4, v cycles).
const (
	modePayload   = iota // text / pretty JSON / hex for binary
	modeHex              // hex dump with offsets
	modeFrames           // the frames the message was made of
	modeHandshake        // the connection's handshake and validation
	modeCount
)

var modeNames = [modeCount]string{"payload", "hex", "frames", "handshake"}

// detailView is the detail pane: a scrollable text view whose content is
// rebuilt when the selection or the mode changes.
type detailView struct {
	u     *ui
	text  *tview.TextView
	mode  int
	title string // what the pane shows, for its title
	shown struct {
		msg  int64 // message index shown, -1 none
		conn int
		mode int
		ver  uint64
	}
	// The last detail record read (modes switch without re-reading).
	cached struct {
		msg int64
		d   *msgDetail
		err error
	}
}

// detailShow bounds the payload bytes read from the spill and rendered in
// the detail pane (s saves, e exports the whole payload).
const detailShow = 64 << 10

// read returns message msg's detail record with up to detailShow payload
// bytes and its frames.
func (d *detailView) read(msg int64, r *msgRec) (*msgDetail, error) {
	if d.cached.msg == msg && d.cached.d != nil {
		return d.cached.d, nil
	}
	md, err := d.u.snap.readDetail(r, detailShow, true)
	d.cached.msg, d.cached.d, d.cached.err = msg, md, err
	return md, err
}

func newDetailView(u *ui) *detailView {
	d := &detailView{u: u}
	d.text = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetScrollable(true)
	d.text.SetBorder(true)
	d.shown.msg = -2
	d.cached.msg = -1
	return d
}

// update re-renders the pane if what it shows changed. msg is the selected
// message index (-1 none), conn the connection to show when no message is
// selected (-1 none).
func (d *detailView) update(msg int64, conn int, force bool) {
	ver := uint64(0)
	if d.mode == modeHandshake || msg < 0 {
		ver = d.u.snap.version // connection data may change while live
	}
	if !force && d.shown.msg == msg && d.shown.conn == conn && d.shown.mode == d.mode && d.shown.ver == ver {
		return
	}
	d.shown.msg, d.shown.conn, d.shown.mode, d.shown.ver = msg, conn, d.mode, ver
	var body string
	s := &d.u.snap
	d.title = modeNames[d.mode]
	switch {
	case msg >= 0 && int(msg) < s.nMsgs():
		r := s.msg(int(msg))
		md, err := d.read(msg, r)
		switch {
		case d.mode == modeHandshake:
			body = d.connText(int(r.conn))
		case err != nil:
			body = msgHeaderText(d.u, r, nil) + "[red]" + safeString(err.Error()) + "[-]\n"
		case d.mode == modePayload:
			body = msgHeaderText(d.u, r, md) + payloadText(r, md)
		case d.mode == modeHex:
			body = msgHeaderText(d.u, r, md) + hexDump(md.payload) + moreText(md)
		case d.mode == modeFrames:
			body = msgHeaderText(d.u, r, md) + framesText(md)
		}
	case conn >= 0:
		d.title = "connection"
		body = d.connText(conn)
	default:
		d.title = "none"
		body = "[gray]no message selected — select a message (Tab to the messages pane, j/k) or press ? for help[-]\n"
		if ca := s.captureAnoms(200); len(ca) > 0 {
			body += "\n[::u]Capture anomalies[::-]\n"
			for _, a := range ca {
				body += fmt.Sprintf("[red]! %s[-] %s %s (packet %d)\n", safeString(a.code), safeString(a.severity), safeString(a.detail), a.pkt)
			}
		}
	}
	d.text.SetText(body)
	d.text.ScrollToBeginning()
}

func (d *detailView) connText(i int) string {
	c, ok := d.u.m.conn(i, true)
	if !ok {
		return ""
	}
	return handshakeText(&c)
}

// msgHeaderText summarises a message: connection, direction, opcode, sizes,
// flags, packets and its anomalies (each marked "!" so it reads without
// colour). md is its detail record (nil if not kept).
func msgHeaderText(u *ui, r *msgRec, md *msgDetail) string {
	var b strings.Builder
	s := &u.snap
	if md != nil {
		fmt.Fprintf(&b, "[::b]conn %d %s %s[::-]  len %d  wire %d  frames %d  packets %d–%d\n",
			u.connID(int(r.conn)), dirName(r.dir()), opName(r.op), md.length, md.wire, md.nFrames, r.pkt0, md.pkt1)
	} else {
		fmt.Fprintf(&b, "[::b]conn %d %s %s[::-]  len %d  frames %d  packets %d–%d\n",
			u.connID(int(r.conn)), dirName(r.dir()), opName(r.op), r.length, r.frames, r.pkt0, r.pkt1())
	}
	fmt.Fprintf(&b, "time %s (%s)", fmtTime(r.t, s.first, false), fmtTime(r.t, s.first, true))
	var flags []string
	if r.flags&fCompressed != 0 {
		flags = append(flags, "compressed")
	}
	if r.flags&fMasked != 0 {
		flags = append(flags, "masked")
	}
	if r.flags&fIncomplete != 0 {
		flags = append(flags, "[red]INCOMPLETE (bytes lost)[-]")
	}
	if r.flags&fTruncated != 0 {
		flags = append(flags, "[red]TRUNCATED (decoder limit)[-]")
	}
	if r.flags&fPayloadCut != 0 && md != nil {
		flags = append(flags, fmt.Sprintf("[yellow]display keeps first %d bytes[-]", md.payN))
	}
	if r.flags&fPayloadGone != 0 {
		flags = append(flags, "[yellow]payload not kept (spill limit)[-]")
	}
	if len(flags) > 0 {
		b.WriteString("  " + strings.Join(flags, ", "))
	}
	b.WriteString("\n")
	for _, a := range s.msgAnoms(md) {
		fmt.Fprintf(&b, "[red]! %s[-] %s (packet %d)\n", safeString(a.code), safeString(a.detail), a.pkt)
	}
	if r.flags&fAnom != 0 {
		b.WriteString("\n")
	} else {
		b.WriteString("─\n")
	}
	return b.String()
}

// moreText notes payload bytes kept but not rendered (detailShow).
func moreText(md *msgDetail) string {
	if !md.partialPayload() {
		return ""
	}
	return fmt.Sprintf("\n[yellow]… %d more bytes not shown (s saves the payload, e exports the view)[-]\n", md.payN-uint32(len(md.payload)))
}

// payloadText renders the payload: close code and reason, pretty JSON,
// text with visible escapes, or a hex dump for binary.
func payloadText(r *msgRec, md *msgDetail) string {
	p := md.payload
	switch {
	case r.op == uint8(wsdecode.OpClose):
		if !md.hasClose {
			return "close without status code"
		}
		reason := ""
		if len(p) > 2 {
			reason = safe(p[2:], true, 0)
		}
		return fmt.Sprintf("close code %d %s\nreason: %s\n", md.close, closeName(md.close), reason)
	case len(p) == 0:
		if md.length > 0 {
			return "[gray](payload not kept)[-]"
		}
		return "[gray](empty payload)[-]"
	case !md.partialPayload() && looksJSON(p):
		return "[gray]JSON:[-]\n" + prettyJSON(p)
	case r.op == uint8(wsdecode.OpBinary) || (r.op != uint8(wsdecode.OpText) && !utf8.Valid(p)):
		return hexDump(p) + moreText(md)
	}
	return safe(p, true, 0) + moreText(md)
}

func framesText(md *msgDetail) string {
	var b strings.Builder
	b.WriteString("[::u]  # FIN RSV opcode  mask key    header  payload  packets[::-]\n")
	for i, f := range md.frames {
		fin := "0"
		if f.fin {
			fin = "1"
		}
		mask := "-       "
		if f.masked {
			mask = fmt.Sprintf("%02x%02x%02x%02x", f.key[0], f.key[1], f.key[2], f.key[3])
		}
		fmt.Fprintf(&b, "%3d  %s  %d%d%d %-7s %-11s %6d %8d  %d–%d\n", i+1, fin,
			f.rsv>>2&1, f.rsv>>1&1, f.rsv&1, opName(f.op), mask, f.headerLen, f.payLen, f.pkt0, f.pkt1)
	}
	if uint32(md.kFrames) < md.nFrames {
		fmt.Fprintf(&b, "… %d more frames not kept\n", md.nFrames-uint32(md.kFrames))
	}
	return b.String()
}

func yesNo(ok bool) string {
	if ok {
		return "[green]ok[-]"
	}
	return "[red]! INVALID[-]"
}

// handshakeText renders a connection's handshake: request and response
// headers, validation results and the connection's anomalies.
func handshakeText(c *connView) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[::b]conn %d  %s → %s[::-]  state %s\n", c.id, c.client, c.server, escapeTags(connState(c)))
	b.WriteString(securityText(c)) // security.go: findings first, highest risk first
	hs := c.hs
	if hs == nil {
		b.WriteString("handshake not seen\n")
	} else {
		b.WriteString("\n[::u]Request[::-]\n")
		fmt.Fprintf(&b, "%s %s %s\n", safeString(hs.Method), safeString(hs.URI), safeString(hs.Proto))
		writeHeaders(&b, hs.RequestHeaders)
		b.WriteString("\n[::u]Response[::-]\n")
		if hs.Status == 0 {
			b.WriteString("[red]! no response seen[-]\n")
		} else {
			fmt.Fprintf(&b, "%s %d %s\n", safeString(hs.ResponseProto), hs.Status, safeString(hs.Reason))
			writeHeaders(&b, hs.ResponseHeaders)
		}
		b.WriteString("\n[::u]Validation[::-]\n")
		fmt.Fprintf(&b, "upgraded:            %s\n", yesNo(hs.Upgraded))
		fmt.Fprintf(&b, "Sec-WebSocket-Key:   %s %s\n", safeString(hs.Key), yesNo(hs.KeyValid))
		if hs.Status == 101 {
			fmt.Fprintf(&b, "Sec-WebSocket-Accept: %s %s\n", safeString(hs.Accept), yesNo(hs.AcceptValid))
		}
		ver := yesNo(hs.Version == "13")
		fmt.Fprintf(&b, "version:             %s %s\n", safeString(hs.Version), ver)
		fmt.Fprintf(&b, "subprotocols asked:  %s  accepted: %s\n",
			safeString(strings.Join(hs.Protocols, ", ")), safeString(hs.Subprotocol))
		fmt.Fprintf(&b, "extensions asked:    %s\n", safeString(strings.Join(hs.Extensions, ", ")))
		fmt.Fprintf(&b, "extensions accepted: %s\n", safeString(strings.Join(hs.AcceptedExtensions, ", ")))
	}
	if c.deflate.Mode != wsdecode.DeflateNone {
		d := c.deflate
		fmt.Fprintf(&b, "deflate:             %s server_no_context_takeover=%v client_no_context_takeover=%v server_max_window_bits=%d client_max_window_bits=%d\n",
			escapeTags(extText(c)), d.ServerNoContextTakeover, d.ClientNoContextTakeover, bits(d.ServerMaxWindowBits), bits(d.ClientMaxWindowBits))
	}
	s := &c.sum
	fmt.Fprintf(&b, "\n[::u]Traffic[::-]\nclient→server %d messages, %d bytes (%d on the wire)\nserver→client %d messages, %d bytes (%d on the wire)\n",
		s.Messages[0], s.Bytes[0], s.WireBytes[0], s.Messages[1], s.Bytes[1], s.WireBytes[1])
	if len(c.anoms) > 0 || c.anomCount > 0 {
		fmt.Fprintf(&b, "\n[::u]Anomalies (%d)[::-]\n", c.anomCount)
		for _, a := range c.anoms {
			fmt.Fprintf(&b, "[red]! %s[-] %s %s (packet %d)\n", safeString(a.code), safeString(a.severity), safeString(a.detail), a.pkt)
		}
	}
	return b.String()
}

func bits(n int) int {
	if n == 0 {
		return 15
	}
	return n
}

func writeHeaders(b *strings.Builder, hs []reassembly.Header) {
	for _, h := range hs {
		fmt.Fprintf(b, "[aqua]%s[-]: %s\n", safeString(h.Name), safeString(h.Value))
	}
}

package reassembly

import (
	"bytes"
	"strconv"
)

// HTTP phase of a connection: both directions are parsed as HTTP/1.x until
// an Upgrade handshake completes; bodies are skipped without buffering.

type httpConn struct {
	side    [2]hside
	reqs    []reqInfo // requests awaiting a response, oldest first
	changes int
	// forceInfer: a response without a request is taken as the first seen
	// (the request was not captured) instead of waiting for it.
	forceInfer bool
}

const maxPendingRequests = 256
const maxUpgradesPerConn = 64

type reqInfo struct {
	head bool     // HEAD: the response has no body
	up   *upgrade // upgrade request
	// partial is a request whose end was lost: an upgrade if the server
	// answers 101 websocket.
	partial *Handshake
}

// roles
const (
	roleUnknown int8 = iota
	roleClient
	roleServer
	roleMaybeClient // non-HTTP first bytes, possibly WebSocket after an unseen request
)

// side states
const (
	stStart uint8 = iota
	stHead
	stBody
	stChunkLine
	stChunkData
	stChunkEnd
	stTrailer
	stWait // client: bytes held until the upgrade outcome is known
	stWS
)

type hside struct {
	role   int8
	st     uint8
	gapped bool // bytes were lost before the first message boundary
	// startGap counts bytes lost before the first classified byte; they
	// are handed on as a gap if this side turns out to be WebSocket.
	startGap int64
	left     int64 // body / chunk bytes to skip
	scan     int   // header-end search resumes here (offset in pend)
	pend     []byte
	marks    []mark // positions in pend: packet metas and gaps

	// during consume
	curMarks []mark
	curAt    Meta
}

// mark locates bytes in pend: bytes from off on came with at; a gap of gap
// bytes precedes byte off.
type mark struct {
	off int
	at  Meta
	gap int64
}

func (sd *hside) queued() bool { return len(sd.pend) > 0 || len(sd.marks) > 0 }

func (sd *hside) metaAt(off int) Meta {
	if sd.curMarks == nil {
		return sd.curAt
	}
	at := sd.curAt
	for _, m := range sd.curMarks {
		if m.off > off {
			break
		}
		at = m.at
	}
	return at
}

func (a *Assembler) httpOf(c *conn) *httpConn {
	if c.http == nil {
		c.http = &httpConn{}
	}
	return c.http
}

// httpData receives in-order bytes of side s outside the plain WebSocket path.
func (a *Assembler) httpData(c *conn, s int, data []byte, at Meta) {
	hc := a.httpOf(c)
	sd := &hc.side[s]
	if !sd.queued() && sd.st != stWait {
		sd.curMarks, sd.curAt = nil, at
		n := a.consume(c, s, data)
		if c.state != csActive {
			return
		}
		data = data[n:]
	}
	if len(data) > 0 {
		a.addPend(c, s, data, at)
	}
	a.pump(c)
	a.checkPend(c, at)
}

// httpGap receives a gap of side s outside the plain WebSocket path.
func (a *Assembler) httpGap(c *conn, s int, n int64, at Meta) {
	hc := a.httpOf(c)
	sd := &hc.side[s]
	if sd.queued() || sd.st == stWait {
		sd.marks = append(sd.marks, mark{off: len(sd.pend), at: at, gap: n})
		a.pump(c)
		a.checkPend(c, at)
		return
	}
	a.hgap(c, s, n, at)
	if c.state == csActive {
		a.pump(c)
	}
}

func (a *Assembler) addPend(c *conn, s int, data []byte, at Meta) {
	sd := &c.http.side[s]
	if n := len(sd.marks); n == 0 || sd.marks[n-1].at != at || sd.marks[n-1].gap != 0 {
		sd.marks = append(sd.marks, mark{off: len(sd.pend), at: at})
	}
	sd.pend = append(sd.pend, data...)
	a.stats.BufferedBytes += int64(len(data))
	if a.stats.BufferedBytes > a.stats.MaxBufferedObs {
		a.stats.MaxBufferedObs = a.stats.BufferedBytes
	}
}

// checkPend enforces MaxHandshakeBytes (and MaxBufferedTotal, which counts
// held handshake bytes too) on held bytes.
func (a *Assembler) checkPend(c *conn, at Meta) {
	for s := 0; s < 2 && c.state == csActive && c.http != nil; s++ {
		sd := &c.http.side[s]
		overTotal := a.stats.BufferedBytes > a.cfg.MaxBufferedTotal && len(sd.pend) > 0
		if sd.st == stWS || (len(sd.pend) <= a.cfg.MaxHandshakeBytes && len(sd.marks) <= 4096 && !overTotal) {
			continue
		}
		if sd.st == stHead && sd.role == roleServer && len(c.http.reqs) == 0 && !c.http.forceInfer {
			// a response held back for its request: take it as seen
			c.http.forceInfer = true
			a.pump(c)
			s = -1
			continue
		}
		if sd.st == stHead {
			a.stats.Limits++
			a.headLimit(c, s, sd.pend, at)
			return
		}
		if c.cur == nil {
			a.ignore(c) // e.g. a non-HTTP stream waiting for the other side
			return
		}
		a.stats.Limits++
		a.fail(c, s, CodeLimit, "more than "+strconv.Itoa(a.cfg.MaxHandshakeBytes)+" bytes held while waiting for the other side of the handshake (MaxHandshakeBytes)", at)
	}
}

// pump processes held bytes of both sides until nothing changes.
func (a *Assembler) pump(c *conn) {
	for c.state == csActive && c.http != nil {
		hc := c.http
		before := hc.changes
		for s := 0; s < 2 && c.state == csActive; s++ {
			if hc.side[s].queued() {
				a.consumePend(c, s)
			}
		}
		if c.state != csActive || c.http == nil || hc.changes == before {
			return
		}
	}
}

func (a *Assembler) consumePend(c *conn, s int) {
	hc := c.http
	sd := &hc.side[s]
	for len(sd.marks) > 0 || len(sd.pend) > 0 {
		if sd.st == stWait {
			return
		}
		if len(sd.marks) > 0 && sd.marks[0].gap > 0 {
			g := sd.marks[0]
			sd.marks[0].gap = 0
			hc.changes++
			a.hgap(c, s, g.gap, g.at)
			if c.state != csActive {
				return
			}
			continue
		}
		end := len(sd.pend)
		cut := false
		for j := 1; j < len(sd.marks); j++ {
			if sd.marks[j].gap > 0 {
				end, cut = sd.marks[j].off, true
				break
			}
		}
		if end == 0 {
			// a data mark without bytes before a gap mark
			if len(sd.marks) > 0 {
				sd.marks = sd.marks[1:]
			}
			continue
		}
		sd.curMarks = sd.marks
		if len(sd.marks) > 0 {
			sd.curAt = sd.marks[0].at
		}
		n := a.consume(c, s, sd.pend[:end])
		sd.curMarks = nil
		if c.state != csActive || c.http == nil {
			return
		}
		if n > 0 {
			hc.changes++
			sd.shift(n)
			a.stats.BufferedBytes -= int64(n)
		}
		if n == end {
			continue
		}
		if !cut || sd.st != stHead {
			return
		}
		// A header block cut by lost bytes (e.g. snaplen): use what is there.
		rest := end - n
		sd.curMarks = sd.marks
		at := sd.metaAt(0)
		sd.curMarks = nil
		if !a.cutHead(c, s, sd.pend[:rest], at) {
			return
		}
		hc.changes++
		sd.shift(rest)
		a.stats.BufferedBytes -= int64(rest)
	}
}

// cutHead handles a header block whose end was lost: its complete lines are
// parsed as if the block ended there, and the handshake is marked.
func (a *Assembler) cutHead(c *conn, s int, partial []byte, at Meta) bool {
	k := bytes.LastIndexByte(partial, '\n')
	if k < 0 {
		a.hgap(c, s, 1, at) // start line lost: as a gap in the headers
		return false
	}
	head := append(partial[:k+1:k+1], '\r', '\n')
	a.cut = true
	ok := a.message(c, s, head, at)
	a.cut = false
	return ok
}

// shift drops the first n bytes of pend.
func (sd *hside) shift(n int) {
	sd.pend = sd.pend[:copy(sd.pend, sd.pend[n:])]
	for len(sd.marks) > 1 && sd.marks[1].off <= n && sd.marks[0].gap == 0 {
		sd.marks = sd.marks[1:]
	}
	for i := range sd.marks {
		sd.marks[i].off = max(sd.marks[i].off-n, 0)
	}
	if len(sd.pend) == 0 && len(sd.marks) == 1 && sd.marks[0].gap == 0 {
		sd.marks = sd.marks[:0]
	}
	sd.scan = max(sd.scan-n, 0)
	if len(sd.pend) == 0 {
		sd.pend = nil
	}
}

// consume parses bytes of side s and returns how many it used; the rest must
// be held and offered again with more bytes or after the other side moved.
func (a *Assembler) consume(c *conn, s int, b []byte) int {
	hc := c.http
	sd := &hc.side[s]
	pos := 0
	for pos < len(b) {
		if c.state != csActive || c.http == nil {
			return pos
		}
		switch sd.st {
		case stStart:
			cls := classify(b[pos:min(len(b), pos+maxMethodLen+1)])
			if cls == clsNeedMore {
				return pos
			}
			a.classified(c, s, cls)
			hc.changes++
		case stHead:
			from := pos
			if pos == 0 && sd.scan > 3 {
				from = sd.scan - 3
			}
			e := headerEnd(b, from)
			if e < 0 || e-pos > a.cfg.MaxHandshakeBytes {
				if len(b)-pos > a.cfg.MaxHandshakeBytes {
					a.stats.Limits++
					a.headLimit(c, s, b[pos:], sd.metaAt(pos))
					return pos
				}
				if pos == 0 {
					sd.scan = len(b)
				} else {
					sd.scan = len(b) - pos
				}
				return pos
			}
			sd.scan = 0
			if !a.message(c, s, b[pos:e], sd.metaAt(pos)) {
				return pos
			}
			pos = e
			hc.changes++
		case stBody, stChunkData:
			k := int(min(sd.left, int64(len(b)-pos)))
			pos += k
			sd.left -= int64(k)
			if sd.left == 0 {
				if sd.st == stBody {
					sd.st = stHead
				} else {
					sd.st = stChunkEnd
				}
			}
		case stChunkLine, stChunkEnd, stTrailer:
			k := bytes.IndexByte(b[pos:], '\n')
			if k < 0 {
				if len(b)-pos > 4096 {
					a.fail(c, s, CodeMalformedHTTP, "chunked body line too long", sd.metaAt(pos))
				}
				return pos
			}
			line := bytes.TrimRight(b[pos:pos+k], "\r")
			pos += k + 1
			switch sd.st {
			case stChunkEnd:
				if len(line) != 0 {
					a.fail(c, s, CodeMalformedHTTP, "chunk not followed by CRLF", sd.metaAt(pos))
					return pos
				}
				sd.st = stChunkLine
			case stChunkLine:
				if i := bytes.IndexByte(line, ';'); i >= 0 {
					line = line[:i]
				}
				n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
				if err != nil || n < 0 {
					a.fail(c, s, CodeMalformedHTTP, "bad chunk size "+strconv.Quote(string(line)), sd.metaAt(pos))
					return pos
				}
				if n == 0 {
					sd.st = stTrailer
				} else {
					sd.left, sd.st = n, stChunkData
				}
			case stTrailer:
				if len(line) == 0 {
					sd.st = stHead
				}
			}
		case stWait:
			return pos
		case stWS:
			a.deliverHeld(c, s, b[pos:], pos)
			return len(b)
		default:
			return pos
		}
	}
	return pos
}

// deliverHeld hands WebSocket bytes b (starting at offset off of the
// current buffer) to the handler, split by packet.
func (a *Assembler) deliverHeld(c *conn, s int, b []byte, off int) {
	sd := &c.http.side[s]
	u := c.cur
	d := a.dir(c, s)
	if sd.curMarks == nil {
		a.h.Data(&u.pub, d, b, sd.curAt)
		return
	}
	ms := sd.curMarks
	for len(b) > 0 {
		at := sd.metaAt(off)
		n := len(b)
		for _, m := range ms {
			if m.off > off {
				n = min(n, m.off-off)
				break
			}
		}
		a.h.Data(&u.pub, d, b[:n], at)
		b, off = b[n:], off+n
	}
}

// hgap handles n lost bytes of side s at its current parse position.
func (a *Assembler) hgap(c *conn, s int, n int64, at Meta) {
	hc := c.http
	sd := &hc.side[s]
	switch sd.st {
	case stWS:
		a.h.Gap(&c.cur.pub, a.dir(c, s), n, at)
	case stBody, stChunkData:
		if n <= sd.left {
			sd.left -= n
			if sd.left == 0 {
				if sd.st == stBody {
					sd.st = stHead
				} else {
					sd.st = stChunkEnd
				}
			}
			return
		}
		a.fail(c, s, CodeHandshakeGap, "bytes lost across an HTTP message boundary", at)
	case stStart:
		sd.gapped = true
		sd.startGap += n
	case stHead:
		if sd.role == roleServer && c.cur != nil && !c.cur.reported {
			a.fail(c, s, CodeHandshakeGap, strconv.FormatInt(n, 10)+" bytes of the handshake response were lost", at)
			return
		}
		if len(hc.reqs) > 0 && hc.reqs[len(hc.reqs)-1].up != nil && sd.role == roleClient {
			a.fail(c, s, CodeHandshakeGap, strconv.FormatInt(n, 10)+" bytes lost after the upgrade request", at)
			return
		}
		if sd.role == roleClient && len(hc.reqs) == 0 && c.cur == nil {
			// A whole request may have been lost: the server's response
			// decides; later bytes are held, the gap kept in place.
			sd.role, sd.st, sd.gapped = roleMaybeClient, stWait, true
			sd.marks = append(sd.marks, mark{off: len(sd.pend), at: at, gap: n})
			return
		}
		if c.cur == nil {
			a.ignore(c)
			return
		}
		a.fail(c, s, CodeHandshakeGap, strconv.FormatInt(n, 10)+" bytes of HTTP headers were lost", at)
	default:
		a.fail(c, s, CodeHandshakeGap, strconv.FormatInt(n, 10)+" bytes of HTTP were lost", at)
	}
}

// fail gives up on the HTTP phase: the pending handshake, if any, is reported
// as failed with the finding; the connection is ignored from now on.
func (a *Assembler) fail(c *conn, s int, code, detail string, at Meta) {
	if u := c.cur; u != nil && !u.reported {
		a.addUpAnomaly(u, s, code, "error", detail, at)
		a.report(c, u)
	} else if u != nil {
		a.anomaly(c, s, code, "error", detail, at)
	}
	a.ignore(c)
}

// headLimit handles a header block larger than MaxHandshakeBytes.
func (a *Assembler) headLimit(c *conn, s int, partial []byte, at Meta) {
	sd := &c.http.side[s]
	detail := "HTTP header block exceeds " + strconv.Itoa(a.cfg.MaxHandshakeBytes) + " bytes (MaxHandshakeBytes); stopped buffering"
	if sd.role == roleClient && c.cur == nil {
		if k := bytes.LastIndexByte(partial, '\n'); k >= 0 {
			line, hdrs, _ := parseHead(partial[:k+1], a.hdrs)
			a.hdrs = hdrs[:0]
			method, uri, proto, ok := parseRequestLine(line)
			if ok && (hasToken(hdrs, "Upgrade", "websocket") || hasHeader(hdrs, "Sec-WebSocket-Key")) {
				u := a.newUpgrade(c, s)
				if u != nil {
					setRequest(&u.hs, method, uri, proto, hdrs, at)
				}
			}
		}
	}
	a.fail(c, s, CodeLimit, detail, at)
}

// classified records what the first bytes of side s look like.
func (a *Assembler) classified(c *conn, s int, cls int) {
	hc := c.http
	sd, o := &hc.side[s], &hc.side[1-s]
	switch cls {
	case clsRequest:
		sd.startGap = 0
		if o.role == roleClient || o.role == roleMaybeClient {
			a.ignore(c)
			return
		}
		sd.role, sd.st = roleClient, stHead
	case clsResponse:
		sd.startGap = 0
		if o.role == roleServer {
			a.ignore(c)
			return
		}
		sd.role, sd.st = roleServer, stHead
	default:
		switch {
		case sd.gapped && sd.role == roleUnknown && o.role != roleClient:
			// the request may be among the lost bytes
			sd.role, sd.st = roleMaybeClient, stWait
		case o.role == roleServer && sd.role == roleUnknown:
			// Mid-stream: the server's response may be a 101 whose
			// request was not captured; hold these bytes until known.
			sd.role, sd.st = roleMaybeClient, stWait
		case o.role == roleUnknown && c.synSide < 0 && sd.role == roleUnknown:
			sd.role, sd.st = roleMaybeClient, stWait
		default:
			a.ignore(c)
		}
	}
}

// message handles one complete header block of side s; false means it was
// not consumed (waiting for the other side) or the connection was given up.
func (a *Assembler) message(c *conn, s int, head []byte, at Meta) bool {
	hc := c.http
	sd := &hc.side[s]
	line, hdrs, okh := parseHead(head, a.hdrs)
	defer func() { a.hdrs = hdrs[:0] }()
	if sd.role == roleClient {
		method, uri, proto, ok := parseRequestLine(line)
		if !ok || !okh {
			if c.cur == nil {
				a.ignore(c)
			} else {
				a.fail(c, s, CodeMalformedHTTP, "malformed HTTP request", at)
			}
			return false
		}
		if len(hc.reqs) >= maxPendingRequests {
			a.ignore(c)
			return false
		}
		if hasToken(hdrs, "Upgrade", "websocket") || hasHeader(hdrs, "Sec-WebSocket-Key") {
			u := a.newUpgrade(c, s)
			if u == nil {
				a.ignore(c)
				return false
			}
			setRequest(&u.hs, method, uri, proto, hdrs, at)
			if a.cut {
				u.hs.RequestCut = true
				a.addUpAnomaly(u, s, CodeHandshakeGap, "error", "end of the upgrade request lost (not captured); its headers are incomplete", at)
			} else {
				for _, f := range checkRequest(&u.hs) {
					a.addUpAnomaly(u, s, f.code, f.sev, f.detail, at)
				}
			}
			hc.reqs = append(hc.reqs, reqInfo{up: u})
			sd.st = stWait
			return true
		}
		if a.cut {
			hs := &Handshake{RequestCut: true}
			setRequest(hs, method, uri, proto, hdrs, at)
			hc.reqs = append(hc.reqs, reqInfo{partial: hs})
			sd.st = stWait
			return true
		}
		hc.reqs = append(hc.reqs, reqInfo{head: string(method) == "HEAD"})
		return a.body(c, s, hdrs, false, at)
	}
	// server
	proto, status, reason, ok := parseStatusLine(line)
	if !ok || !okh {
		a.fail(c, s, CodeMalformedHTTP, "malformed HTTP response", at)
		return false
	}
	o := &hc.side[1-s]
	have := len(hc.reqs) > 0
	if !have {
		infer := o.role == roleMaybeClient || o.gapped || hc.forceInfer
		if !infer {
			return false // the request is still to come
		}
	}
	if status >= 100 && status < 200 && status != 101 {
		return true
	}
	var r reqInfo
	if have {
		r = hc.reqs[0]
		hc.reqs = hc.reqs[1:]
	}
	// A cut 101 may have lost its Upgrade header: taken as websocket.
	respWS := hasToken(hdrs, "Upgrade", "websocket") || (a.cut && !hasHeader(hdrs, "Upgrade"))
	if status == 101 {
		u := r.up
		if u == nil && r.partial != nil && respWS {
			if u = a.newUpgrade(c, 1-s); u != nil {
				u.hs = *r.partial
				a.addUpAnomaly(u, 1-s, CodeHandshakeGap, "error", "end of the upgrade request lost (not captured); its headers are incomplete", u.hs.RequestAt)
			}
		}
		if u == nil {
			if have || !respWS {
				// 101 to another protocol, or to a plain request
				a.ignore(c)
				return false
			}
			u = a.newUpgrade(c, 1-s)
			if u == nil {
				a.ignore(c)
				return false
			}
			a.addUpAnomaly(u, s, CodeNoRequest, "warning", "101 response seen without its upgrade request (capture started late or request lost)", at)
		}
		setResponse(&u.hs, proto, status, reason, hdrs, at)
		if a.cut {
			a.addUpAnomaly(u, s, CodeHandshakeGap, "error", "end of the 101 response lost (not captured); its headers are incomplete", at)
		} else {
			for _, f := range checkResponse(&u.hs, u.hs.Method != "") {
				a.addUpAnomaly(u, s, f.code, f.sev, f.detail, at)
			}
		}
		u.hs.Upgraded = respWS || !hasHeader(hdrs, "Upgrade")
		c.cur = u
		if !u.hs.Upgraded {
			a.report(c, u)
			a.ignore(c)
			return false
		}
		c.ws = true
		sd.st = stWS
		o.st = stWS
		if o.startGap > 0 {
			o.marks = append([]mark{{off: 0, at: at, gap: o.startGap}}, o.marks...)
			o.startGap = 0
		}
		if o.role != roleClient {
			o.role = roleClient
		}
		hc.reqs = nil
		a.report(c, u)
		return true
	}
	if r.partial != nil {
		a.ignore(c) // a cut plain request: framing of what follows unknown
		return false
	}
	if r.up != nil {
		u := r.up
		setResponse(&u.hs, proto, status, reason, hdrs, at)
		u.hs.Upgraded = false
		a.addUpAnomaly(u, s, CodeRefused, "warning", "upgrade refused with status "+strconv.Itoa(status)+" "+string(reason), at)
		a.report(c, u)
		c.cur = nil
		if o.st == stWait {
			o.st = stHead
		}
	} else if !have {
		// A plain response whose request was not seen.
		if o.role == roleMaybeClient {
			a.ignore(c)
			return false
		}
	}
	if a.cut {
		a.ignore(c) // body framing unknown
		return false
	}
	if r.head || status == 204 || status == 304 {
		sd.st = stHead
		return true
	}
	return a.body(c, s, hdrs, true, at)
}

// body sets up skipping of a message body after its headers.
func (a *Assembler) body(c *conn, s int, hdrs []rawHeader, response bool, at Meta) bool {
	sd := &c.http.side[s]
	n, hasLen, chunked, ok := bodyFraming(hdrs)
	switch {
	case !ok:
		a.fail(c, s, CodeMalformedHTTP, "invalid message body length", at)
		return false
	case chunked:
		sd.st = stChunkLine
	case hasLen && n > 0:
		sd.st, sd.left = stBody, n
	case hasLen || !response:
		sd.st = stHead
	default:
		// body delimited by the end of the connection: no upgrade can follow
		a.ignore(c)
		return false
	}
	return true
}

// newUpgrade starts tracking an upgrade whose client is side clientSide.
func (a *Assembler) newUpgrade(c *conn, clientSide int) *upgrade {
	if len(c.ups) >= maxUpgradesPerConn {
		return nil
	}
	a.nextID++
	a.stats.Upgrades++
	u := &upgrade{serverSide: 1 - clientSide}
	u.pub = Conn{ID: a.nextID, Client: c.key.addr(clientSide), Server: c.key.addr(1 - clientSide)}
	c.clientSide = int8(clientSide)
	c.ups = append(c.ups, u)
	c.cur = u
	for i, an := range c.preAnoms {
		a.addUpAnomaly(u, int(c.preSides[i]), an.Code, an.Severity, an.Detail, an.At)
	}
	c.preAnoms, c.preSides = nil, nil
	return u
}

package tui

// scanWindow is how much of the spill a sequential scan reads at once.
const scanWindow = 1 << 20

// payloadReader reads payloads of many messages from the spill in large
// windows: messages' detail records are laid out in message order, so a
// scan in either direction reads the file sequentially. Not safe for
// concurrent use; the slices it returns are valid until the next call.
type payloadReader struct {
	s      *snapshot
	win    []byte
	winOff int64
	big    []byte
	back   bool // scanning backwards: place windows before the record
}

// payload returns the kept payload bytes of r (nil if none or unreadable).
func (pr *payloadReader) payload(r *msgRec) []byte {
	_, p, _ := pr.record(r)
	return p
}

// record returns r's detail header (without frames) and its kept payload
// bytes; ok is false if the record was not kept or cannot be read.
func (pr *payloadReader) record(r *msgRec) (d msgDetail, payload []byte, ok bool) {
	if r.off == noDetail || pr.s.sp == nil {
		return d, nil, false
	}
	off := int64(r.off)
	end := pr.s.sp.size()
	h := pr.get(off, int(min(maxDetailFixed+2*maxFrameRec, end-off)))
	if h == nil {
		return d, nil, false
	}
	n, err := decodeDetail(h, r, &d, false)
	if err == errShort && int64(len(h)) < end-off {
		if h = pr.get(off, int(min(int64(maxDetailFixed+int(d.kFrames)*maxFrameRec), end-off))); h != nil {
			n, err = decodeDetail(h, r, &d, false)
		}
	}
	if err != nil {
		return d, nil, false
	}
	if d.payN == 0 {
		return d, nil, true
	}
	p := pr.get(off+int64(n), int(d.payN))
	return d, p, p != nil
}

// get returns n stream bytes at off, from the window when it holds them.
func (pr *payloadReader) get(off int64, n int) []byte {
	if off >= pr.winOff && off+int64(n) <= pr.winOff+int64(len(pr.win)) {
		return pr.win[off-pr.winOff:][:n:n]
	}
	end := pr.s.sp.size()
	if n > scanWindow/2 {
		if cap(pr.big) < n {
			pr.big = make([]byte, n)
		}
		b := pr.big[:n]
		if pr.s.sp.readAt(b, off) != nil {
			return nil
		}
		return b
	}
	if pr.win == nil {
		pr.win = make([]byte, scanWindow)
	}
	start := off
	if pr.back {
		start = max(0, off+int64(n)-scanWindow)
	}
	w := pr.win[:cap(pr.win)]
	if rest := end - start; rest < int64(len(w)) {
		w = w[:max(0, rest)]
	}
	if off+int64(n) > start+int64(len(w)) || pr.s.sp.readAt(w, start) != nil {
		pr.win, pr.winOff = pr.win[:0], 0
		return nil
	}
	pr.win, pr.winOff = w, start
	return w[off-start:][:n:n]
}

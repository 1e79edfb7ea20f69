package main

import (
	"strconv"
)

// mix profiles
const (
	profChat = iota
	profStream
	profBulk
	profDeflate
	profIdle
)

// concurrency is the number of connections kept open at once per kind.
var concurrency = map[string]int{"small": 1000, "deflate": 64, "large": 32, "mix": 4000}

// maxDeflateMix caps open permessage-deflate connections in the mix: each
// direction's compressor holds ~1.2 MB.
const maxDeflateMix = 64

// plan chooses a new connection's length and, for the mix, its profile.
func (g *gen) plan(c *conn) {
	switch g.kind {
	case "small":
		c.left = 100 + g.rng.IntN(900)
	case "deflate":
		c.deflate = true
		c.left = 200 + g.rng.IntN(1800)
	case "large":
		c.left = 20 + g.rng.IntN(200)
	case "mix":
		r := g.rng.IntN(100)
		switch {
		case r < 55:
			c.profile = profChat
		case r < 75:
			c.profile = profStream
		case r < 80:
			c.profile = profBulk
		case r < 92:
			c.profile = profDeflate
		default:
			c.profile = profIdle
		}
		if c.profile == profDeflate && g.nDefl >= maxDeflateMix {
			c.profile = profChat
		}
		c.deflate = c.profile == profDeflate
		c.left = 10 + g.rng.IntN(300)
	}
}

var words = []string{"the", "market", "order", "price", "update", "alice", "bob", "carol", "room", "general",
	"hello", "everyone", "this", "is", "message", "from", "server", "client", "status", "ok", "error",
	"retry", "latency", "ms", "queue", "depth", "user", "joined", "left", "typing", "again", "today",
	"deploy", "build", "green", "red", "please", "check", "logs", "thanks", "see", "you", "soon", "and",
	"with", "for", "new", "old", "value", "count", "ticket", "resolved", "open", "closed", "review",
	"merge", "branch", "release", "notes", "fixed", "bug", "in", "parser", "cache"}

// appendTick appends a small JSON market-data message.
func (g *gen) appendTick(b []byte, c *conn) []byte {
	c.nextSeq++
	b = append(b, `{"type":"tick","sym":"S`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(5000)), 10)
	b = append(b, `","seq":`...)
	b = strconv.AppendInt(b, int64(c.nextSeq), 10)
	b = append(b, `,"bid":`...)
	p := 1000 + g.rng.IntN(900000)
	b = strconv.AppendInt(b, int64(p/100), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(10+p%90), 10)
	b = append(b, `,"ask":`...)
	b = strconv.AppendInt(b, int64(p/100+1), 10)
	b = append(b, `,"qty":`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(100000)), 10)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, g.pw.usec, 10)
	return append(b, '}')
}

// appendSub appends a small JSON client request.
func (g *gen) appendSub(b []byte, c *conn) []byte {
	c.nextSeq++
	b = append(b, `{"op":"subscribe","id":`...)
	b = strconv.AppendInt(b, int64(c.nextSeq), 10)
	b = append(b, `,"sym":"S`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(5000)), 10)
	return append(b, `"}`...)
}

// appendChat appends a chat JSON message of about n bytes of text.
func (g *gen) appendChat(b []byte, c *conn, n int) []byte {
	c.nextSeq++
	b = append(b, `{"type":"message","room":"room-`...)
	b = strconv.AppendInt(b, int64(c.id%50), 10)
	b = append(b, `","user":"user-`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(2000)), 10)
	b = append(b, `","id":`...)
	b = strconv.AppendInt(b, int64(c.nextSeq), 10)
	b = append(b, `,"text":"`...)
	start := len(b)
	for len(b)-start < n {
		if len(b) > start {
			b = append(b, ' ')
		}
		b = append(b, words[g.rng.IntN(len(words))]...)
		if g.rng.IntN(8) == 0 {
			b = strconv.AppendInt(b, int64(g.rng.IntN(1000)), 10)
		}
	}
	b = append(b, `","ts":`...)
	b = strconv.AppendInt(b, g.pw.usec, 10)
	return append(b, '}')
}

// binary returns n deterministic pseudo-random bytes (a window of the pool).
func (g *gen) binary(n int) []byte {
	off := g.rng.IntN(len(g.pool) - n)
	return g.pool[off : off+n]
}

// write fills c.buf (and c.dir) with the next write of a connection in the
// data phase.
func (g *gen) write(c *conn) {
	switch g.kind {
	case "small":
		if g.rng.IntN(10) < 3 {
			c.dir = c2s
			for range 1 + g.rng.IntN(2) {
				g.tmp = g.appendSub(g.tmp[:0], c)
				g.message(c, c2s, opText, g.tmp, 1, false)
			}
		} else {
			c.dir = s2c
			for range 1 + g.rng.IntN(8) {
				g.tmp = g.appendTick(g.tmp[:0], c)
				g.message(c, s2c, opText, g.tmp, 1, false)
			}
		}
	case "deflate":
		c.dir = s2c
		if g.rng.IntN(10) < 4 {
			c.dir = c2s
		}
		g.tmp = g.appendChat(g.tmp[:0], c, 40+g.rng.IntN(g.rng.IntN(3000)+1))
		g.message(c, c.dir, opText, g.tmp, 1, false)
	case "large":
		c.dir = s2c
		if g.rng.IntN(4) == 0 {
			c.dir = c2s
		}
		g.message(c, c.dir, opBinary, g.binary(64<<10), 1, false)
	case "mix":
		g.writeMix(c)
	}
}

// writeMix produces one write of a mix connection: usually a message of its
// profile, sometimes fragmented (with a ping between fragments), sometimes
// a ping whose pong follows.
func (g *gen) writeMix(c *conn) {
	r := g.rng.IntN(100)
	d := s2c
	if g.rng.IntN(10) < 4 {
		d = c2s
	}
	c.dir = d
	if r < 6 || (c.profile == profIdle && r < 70) {
		c.pingData = strconv.AppendInt(c.pingData[:0], int64(g.rng.Uint32()), 10)
		c.buf = g.control(c.buf, c, d, opPing, c.pingData)
		c.pongDue = 1 - d
		return
	}
	frags := 1
	if r < 16 {
		frags = 2 + g.rng.IntN(3)
	}
	pingMid := frags > 1 && g.rng.IntN(3) == 0
	switch c.profile {
	case profChat, profIdle:
		for range 1 + g.rng.IntN(3) {
			g.tmp = g.appendChat(g.tmp[:0], c, 10+g.rng.IntN(g.rng.IntN(600)+1))
			g.message(c, d, opText, g.tmp, frags, pingMid)
			frags, pingMid = 1, false
		}
	case profStream:
		if d == c2s {
			g.tmp = g.appendSub(g.tmp[:0], c)
			g.message(c, d, opText, g.tmp, frags, pingMid)
		} else {
			g.message(c, d, opBinary, g.binary(200+g.rng.IntN(g.rng.IntN(16<<10)+1)), frags, pingMid)
		}
	case profBulk:
		if g.rng.IntN(3) == 0 {
			g.message(c, d, opBinary, g.binary(64<<10), frags, pingMid)
		} else {
			g.tmp = g.appendTick(g.tmp[:0], c)
			g.message(c, d, opText, g.tmp, frags, pingMid)
		}
	case profDeflate:
		g.tmp = g.appendChat(g.tmp[:0], c, 40+g.rng.IntN(g.rng.IntN(2000)+1))
		g.message(c, d, opText, g.tmp, frags, pingMid)
	}
}

// Command inflate times the inflation alone of the permessage-deflate
// payloads of a generated capture: the lower bound wsscope's deflate
// decoding is measured against (issue 6: "within 1.3x of the time the
// inflation alone takes on the same payloads").
//
//	go run ./bench/gencap -kind deflate -size 200MB -o F.pcap -zout F.z
//	go run ./bench/inflate [-j N] F.z
//
// It loads F.z (written by gencap -zout) into memory, then inflates every
// message in order per stream with context takeover the way RFC 7692
// requires: payload + 00 00 ff ff (+ an empty final stored block so the
// reader ends cleanly), a pooled flate reader Reset with the last 32 KiB of
// the stream's plaintext as dictionary. -j N spreads streams over N
// goroutines by stream id (N=2 is the two-core bound). Only the inflation
// is timed, not loading the file.
package main

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

const window = 32 << 10

type rec struct {
	stream uint32
	data   []byte
}

func main() {
	j := flag.Int("j", 1, "goroutines (streams are split by id)")
	flag.Parse()
	if flag.NArg() != 1 || *j < 1 {
		fmt.Fprintln(os.Stderr, "usage: inflate [-j N] FILE.z")
		os.Exit(2)
	}
	raw, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "inflate:", err)
		os.Exit(1)
	}
	parts := make([][]rec, *j)
	var in int64
	for off := 0; off < len(raw); {
		if off+8 > len(raw) {
			fmt.Fprintln(os.Stderr, "inflate: truncated record header")
			os.Exit(1)
		}
		id := binary.LittleEndian.Uint32(raw[off:])
		n := int(binary.LittleEndian.Uint32(raw[off+4:]))
		if off+8+n > len(raw) {
			fmt.Fprintln(os.Stderr, "inflate: truncated record")
			os.Exit(1)
		}
		parts[int(id)%*j] = append(parts[int(id)%*j], rec{id, raw[off+8 : off+8+n]})
		in += int64(n)
		off += 8 + n
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	outs := make([]int64, *j)
	msgs := make([]int64, *j)
	errs := make([]error, *j)
	for w := range *j {
		wg.Go(func() { outs[w], msgs[w], errs[w] = inflateAll(parts[w]) })
	}
	wg.Wait()
	el := time.Since(t0).Seconds()
	var out, n int64
	for w := range *j {
		if errs[w] != nil {
			fmt.Fprintln(os.Stderr, "inflate:", errs[w])
			os.Exit(1)
		}
		out += outs[w]
		n += msgs[w]
	}
	fmt.Printf("inflate -j %d: %d messages, %d compressed bytes -> %d bytes in %.3fs (%.0f MB/s of output, %.0f messages/s)\n",
		*j, n, in, out, el, float64(out)/1e6/el, float64(n)/el)
}

// inflateAll inflates recs in order, keeping a window per stream.
func inflateAll(recs []rec) (out, msgs int64, err error) {
	windows := map[uint32][]byte{}
	fr := flate.NewReader(nil)
	var src bytes.Reader
	var in, buf []byte
	for _, r := range recs {
		in = append(append(append(in[:0], r.data...), 0, 0, 0xff, 0xff), 1, 0, 0, 0xff, 0xff)
		src.Reset(in)
		win := windows[r.stream]
		if err := fr.(flate.Resetter).Reset(&src, win); err != nil {
			return out, msgs, err
		}
		buf = buf[:0]
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			n, err := fr.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				break
			}
			if err != nil {
				return out, msgs, fmt.Errorf("stream %d message %d: %w", r.stream, msgs, err)
			}
		}
		out += int64(len(buf))
		msgs++
		win = append(win, buf...)
		if len(win) > window {
			win = append(win[:0], win[len(win)-window:]...)
		}
		windows[r.stream] = win
	}
	return out, msgs, nil
}

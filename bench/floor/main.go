// Command floor measures the read-and-walk floor of the wsscope benchmark:
// it opens a capture with capture.OpenFile and calls Next until io.EOF,
// touching each packet's payload length, and nothing else (no reassembly,
// no WebSocket decoding, no output).
//
//	go run ./bench/floor FILE...
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wsscope/wsscope/capture"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: floor FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		t0 := time.Now()
		src, err := capture.OpenFile(path, capture.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		var pkts, payload uint64
		for {
			p, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "floor:", err)
				os.Exit(1)
			}
			pkts++
			payload += uint64(len(p.Payload))
		}
		st := src.Stats()
		src.Close()
		el := time.Since(t0).Seconds()
		fmt.Printf("%s: %d records, %d TCP packets, %d payload bytes, %d capture bytes in %.3fs (%.0f MB/s)\n",
			path, st.Packets, pkts, payload, st.Bytes, el, float64(st.Bytes)/1e6/el)
	}
}

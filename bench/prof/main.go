// Command prof runs wsscope's export path (capture.OpenFile → pipeline.Run
// → export JSON or text writer) on a capture with output to /dev/null under
// the Go CPU profiler, since the wsscope command has no -cpuprofile flag.
// It omits only main's selection and -c guard sinks.
//
//	go run ./bench/prof -cpuprofile cpu.prof [-text] FILE
//	go tool pprof -top cpu.prof
//	go run ./bench/prof -blockprofile block.prof FILE   # where the stages wait
//	go tool pprof -top block.prof
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/wsscope/wsscope/capture"
	"github.com/wsscope/wsscope/export"
	"github.com/wsscope/wsscope/pipeline"
)

func main() {
	cpu := flag.String("cpuprofile", "", "write a CPU profile to this file")
	mem := flag.String("memprofile", "", "write an allocation profile to this file at the end")
	block := flag.String("blockprofile", "", "write a blocking profile (where the stages wait) to this file at the end")
	text := flag.Bool("text", false, "text writer instead of JSON Lines")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: prof [-cpuprofile F] [-memprofile F] [-blockprofile F] [-text] FILE")
		os.Exit(2)
	}
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, "prof:", err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "prof:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *block != "" {
		runtime.SetBlockProfileRate(1)
	}
	t0 := time.Now()
	src, err := capture.OpenFile(flag.Arg(0), capture.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "prof:", err)
		os.Exit(1)
	}
	var w export.Writer
	if *text {
		tw := export.NewTextWriter(io.Discard)
		tw.Preview = export.DefaultPreview
		w = tw
	} else {
		w = export.NewJSONWriter(io.Discard)
	}
	st, err := pipeline.Run(context.Background(), src, pipeline.Options{}, w)
	if err != nil {
		fmt.Fprintln(os.Stderr, "prof:", err)
		os.Exit(1)
	}
	if err := w.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "prof:", err)
		os.Exit(1)
	}
	src.Close()
	fmt.Fprintf(os.Stderr, "prof: %d messages in %.2fs\n", st.Messages, time.Since(t0).Seconds())
	if *block != "" {
		if f, err := os.Create(*block); err == nil {
			pprof.Lookup("block").WriteTo(f, 0)
			f.Close()
		}
	}
	if *mem != "" {
		f, err := os.Create(*mem)
		if err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
}

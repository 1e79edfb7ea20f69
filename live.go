package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wsscope/wsscope/capture"
)

// openLive opens a live capture on c.iface with the tcpdump filter c.filter
// and a ring of c.bufSize bytes (-B). With c.writeRaw set (-w), every packet
// the kernel filter passes is also saved there as pcapng; closing the
// returned Source completes the file. stop may be called from another
// goroutine to make a blocked Next return io.EOF.
//
// Output is not flushed per record (a write per message would cost more
// than decoding it at 100,000 messages/s): *flush, when set, is called on
// the goroutine running the pipeline about every 100 ms while packets flow
// and whenever none arrived for 100 ms (capture.LiveOptions.Tick), so
// records appear within about 0.1 s; the -w file is flushed then too. This
// needs the pipeline to call Next and the Sinks on one goroutine, which it
// does for live sources (pipeline.Options.Shards 1, set in run.go).
func openLive(c *config, flush *func()) (src capture.Source, stop func() error, err error) {
	iface, filter, rawFile := c.iface, c.filter, c.writeRaw
	opts := capture.LiveOptions{Filter: filter, BufferSize: c.bufSize}
	var saver *rawSaver
	opts.Tick = func(time.Time) {
		if flush != nil && *flush != nil {
			(*flush)()
		}
		if saver != nil {
			saver.flush()
		}
	}
	if rawFile != "" {
		f, err := os.Create(rawFile)
		if err != nil {
			return nil, nil, err
		}
		saver = &rawSaver{f: f, path: rawFile, iface: iface, filter: filter}
		opts.RawPacket = saver.packet
	}
	live, err := capture.OpenLive(iface, opts)
	if err != nil {
		if saver != nil {
			saver.f.Close()
			os.Remove(rawFile)
		}
		return nil, nil, err
	}
	if saver == nil {
		return live, live.Close, nil
	}
	return &savingSource{Source: live, saver: saver}, live.Close, nil
}

// savingSource closes the pcapng file after the live source.
type savingSource struct {
	capture.Source
	saver *rawSaver
}

func (s *savingSource) Close() error {
	err := s.Source.Close()
	if e := s.saver.close(); e != nil && err == nil {
		err = e
	}
	return err
}

// rawSaver writes raw packets to a pcapng file (-w). The writer is created
// with the first packet, whose link type it needs.
type rawSaver struct {
	f             *os.File
	path          string
	iface, filter string
	w             *pcapgo.NgWriter
	err           error
	closed        bool
}

func (s *rawSaver) start(linkType uint16) {
	intf := pcapgo.NgInterface{
		Name:                s.iface,
		Filter:              s.filter,
		OS:                  runtime.GOOS,
		LinkType:            layers.LinkType(linkType),
		TimestampResolution: 9,
		SnapLength:          capture.DefaultSnaplen,
	}
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware: runtime.GOARCH, OS: runtime.GOOS, Application: "wsscope " + version,
	}}
	s.w, s.err = pcapgo.NewNgWriterInterface(s.f, intf, opts)
}

// packet is capture.LiveOptions.RawPacket. The file is flushed by flush,
// from capture.LiveOptions.Tick, so that it is readable while the capture
// runs.
func (s *rawSaver) packet(linkType uint16, t time.Time, data []byte, origLen int) {
	if s.err != nil || s.closed {
		return
	}
	if s.w == nil {
		if s.start(linkType); s.err != nil {
			return
		}
	}
	s.err = s.w.WritePacket(gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(data), Length: origLen}, data)
}

// flush writes out what is buffered.
func (s *rawSaver) flush() {
	if s.err == nil && !s.closed && s.w != nil {
		s.err = s.w.Flush()
	}
}

// close completes the file (an empty capture still gets a valid header).
func (s *rawSaver) close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.w == nil && s.err == nil {
		s.start(uint16(layers.LinkTypeEthernet))
	}
	if s.err == nil {
		s.err = s.w.Flush()
	}
	if err := s.f.Close(); err != nil && s.err == nil {
		s.err = err
	}
	if s.err != nil {
		return fmt.Errorf("%s: %w", s.path, s.err)
	}
	return nil
}

// listInterfaces prints the interfaces live capture can use, like tcpdump -D.
func listInterfaces(env *environ) int {
	ifs, err := capture.Interfaces()
	if err != nil {
		fmt.Fprintf(env.Stderr, "wsscope: %s\n", describe(err))
		return exitError
	}
	for i, ifc := range ifs {
		var flags []string
		if ifc.Up {
			flags = append(flags, "Up")
		}
		if strings.Contains(ifc.Flags, "running") {
			flags = append(flags, "Running")
		}
		if ifc.Loopback {
			flags = append(flags, "Loopback")
		}
		line := fmt.Sprintf("%d.%s", i+1, ifc.Name)
		if len(flags) > 0 {
			line += " [" + strings.Join(flags, ", ") + "]"
		}
		if len(ifc.Addrs) > 0 {
			line += " " + strings.Join(ifc.Addrs, " ")
		}
		fmt.Fprintln(env.Stdout, line)
	}
	return exitOK
}

package main

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/wsscope/wsscope/capture"
)

// openLive opens a live capture on iface. capture.OpenLive is not available
// yet (issue 3): until it lands, -i fails with a clear error.
func openLive(iface, filter, rawFile string) (capture.Source, error) {
	return nil, errors.New("live capture (-i) is not available in this build yet")
}

// listInterfaces prints the network interfaces like tcpdump -D.
func listInterfaces(env *environ) int {
	ifs, err := net.Interfaces()
	if err != nil {
		fmt.Fprintf(env.Stderr, "wsscope: listing interfaces: %v\n", err)
		return exitError
	}
	for i, ifc := range ifs {
		var flags []string
		if ifc.Flags&net.FlagUp != 0 {
			flags = append(flags, "Up")
		}
		if ifc.Flags&net.FlagRunning != 0 {
			flags = append(flags, "Running")
		}
		if ifc.Flags&net.FlagLoopback != 0 {
			flags = append(flags, "Loopback")
		}
		var addrs []string
		if as, err := ifc.Addrs(); err == nil {
			for _, a := range as {
				addrs = append(addrs, a.String())
			}
		}
		line := fmt.Sprintf("%d.%s [%s]", i+1, ifc.Name, strings.Join(flags, ", "))
		if len(addrs) > 0 {
			line += " " + strings.Join(addrs, " ")
		}
		fmt.Fprintln(env.Stdout, line)
	}
	return exitOK
}

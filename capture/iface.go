package capture

import (
	"fmt"
	"net"
	"sort"
)

// Interface describes a network interface that can be captured on.
type Interface struct {
	Name     string
	Index    int      // kernel interface index; 0 for the "any" pseudo-interface
	Flags    string   // e.g. "up|broadcast|multicast|running"
	Addrs    []string // addresses in CIDR notation
	Up       bool
	Loopback bool
}

// Interfaces lists the interfaces OpenLive can capture on, like tcpdump -D:
// sorted by index, followed on Linux by the "any" pseudo-interface (all
// interfaces, captured without link-layer headers).
func Interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("capture: listing interfaces: %w", err)
	}
	out := make([]Interface, 0, len(ifs)+1)
	for _, ifc := range ifs {
		it := Interface{
			Name:     ifc.Name,
			Index:    ifc.Index,
			Flags:    ifc.Flags.String(),
			Up:       ifc.Flags&net.FlagUp != 0,
			Loopback: ifc.Flags&net.FlagLoopback != 0,
		}
		if addrs, err := ifc.Addrs(); err == nil {
			for _, a := range addrs {
				it.Addrs = append(it.Addrs, a.String())
			}
		}
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	if liveSupported {
		out = append(out, Interface{Name: "any", Flags: "pseudo-device: all interfaces", Up: true})
	}
	return out, nil
}

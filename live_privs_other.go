//go:build !linux

package main

import "fmt"

// privDrop is -Z; it is implemented on Linux only, where live capture
// runs without libpcap.
func privDrop(name string) (func() error, error) {
	if name == "" {
		return func() error { return nil }, nil
	}
	return nil, fmt.Errorf("-Z %s: dropping privileges is only supported on Linux", name)
}

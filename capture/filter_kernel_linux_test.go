//go:build linux

package capture

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestCompiledFiltersAcceptedByKernel attaches every golden program to a
// socket: the kernel's checker must accept them (no privileges needed).
func TestCompiledFiltersAcceptedByKernel(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Skipf("no socket: %v", err)
	}
	defer unix.Close(fd)
	n := 0
	for _, lt := range []uint16{linkEthernet, linkRaw, linkLinuxSLL2} {
		for _, expr := range goldenExprs {
			prog, err := compileOwn(expr, lt, 0)
			if err != nil {
				continue
			}
			fp := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
			if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
				t.Errorf("link type %d %q: kernel rejects program: %v", lt, expr, err)
			}
			n++
		}
	}
	if n < 300 {
		t.Errorf("only %d programs attached", n)
	}
}

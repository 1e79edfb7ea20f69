//go:build unix

package tui

import "syscall"

// cpuTime is the process's user+system CPU time in ns: on a shared, loaded
// machine wall-clock ns/op overstates the cost.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

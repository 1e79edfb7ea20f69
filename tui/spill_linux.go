//go:build linux

package tui

import (
	"os"
	"syscall"
)

// openDirect opens path for writing with O_DIRECT (see spill.writer); an
// error where the file system does not take it (tmpfs).
func openDirect(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|syscall.O_DIRECT, 0)
}

//go:build !linux

package tui

import (
	"errors"
	"os"
)

// openDirect: direct I/O is only used on Linux (see spill.writer).
func openDirect(string) (*os.File, error) {
	return nil, errors.New("tui: no direct I/O here")
}

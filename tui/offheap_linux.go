//go:build linux

package tui

import "syscall"

// hugePages asks for transparent huge pages on b (THP "madvise" mode):
// one fault per 2 MiB instead of per 4 KiB page. Best effort.
func hugePages(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }

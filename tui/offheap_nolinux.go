//go:build unix && !linux

package tui

func hugePages([]byte) {}

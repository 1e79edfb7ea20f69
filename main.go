// Command wsscope is a passive WebSocket traffic analyzer: it reads packet
// captures (or sniffs an interface), finds WebSocket connections by their
// HTTP Upgrade handshake, decodes both directions (RFC 6455, RFC 7692
// permessage-deflate) and shows the messages in a terminal UI or writes them
// as text, JSON Lines or HAR. Run "wsscope --help" for usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &environ{
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	if env.StdoutTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			env.StdoutWidth = w
		}
	}
	if env.StderrTTY {
		if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil {
			env.StderrWidth = w
		}
	}
	tuneGC(env) // gctune.go
	code := run(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}

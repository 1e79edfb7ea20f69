package main

import (
	"context"
	"errors"
)

// tuiAvailable reports whether the terminal UI is built in. The tui package
// is being written (issue 5); until main wires it, output falls back to text.
const tuiAvailable = false

func (r *runner) runTUI(ctx context.Context, cancel context.CancelFunc, g *guardSink) error {
	return errors.New("the terminal UI is not available in this build yet")
}

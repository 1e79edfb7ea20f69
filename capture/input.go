package capture

import (
	"bufio"
	"io"
)

// input is a buffered, offset-tracking reader that hands out zero-copy views
// of its buffer. A view returned by peek stays valid until the next peek or
// skip call.
type input struct {
	br  *bufio.Reader
	off int64 // offset of the first byte not yet skipped
}

// peek returns the next n bytes without consuming them. If fewer than n bytes
// remain, it returns what is there and the reason (io.EOF at end of input).
// Callers keep n within the buffer size.
func (in *input) peek(n int) ([]byte, error) {
	return in.br.Peek(n)
}

// skip consumes n bytes (buffered or not), returning the number skipped.
func (in *input) skip(n int) (int, error) {
	d, err := in.br.Discard(n)
	in.off += int64(d)
	return d, err
}

// readFailure returns nil when err only says the input ended (the caller then
// reports truncation) and err itself for a real read failure.
func readFailure(err error) error {
	if err == nil || err == io.EOF {
		return nil
	}
	return err
}

package capture

import (
	"errors"
	"fmt"
)

// FormatError reports a damaged or unsupported capture file. Offset is the
// byte offset of the damaged record or block (or header) in the file; for a
// gzip-compressed file it is an offset into the uncompressed data.
type FormatError struct {
	Path   string // file name as given to OpenFile/OpenReader ("-" for standard input)
	Offset int64
	Err    error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("capture: %s: offset %d: %v", e.Path, e.Offset, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// ErrTruncated is wrapped by FormatErrors for files that end in the middle of
// a header, record or block.
var ErrTruncated = errors.New("truncated")

// truncatedError describes a short read of want bytes where only got were present.
func truncatedError(what string, got, want int) error {
	return fmt.Errorf("%w %s: %d of %d bytes present", ErrTruncated, what, got, want)
}

package tui

// blockLen is the number of records per block of a chunked list.
const blockLen = 4096

// chunked is an append-only list stored in fixed-size blocks: growing it
// never copies records (no memmove, no 2× slack), and a record, once
// appended, is never written again. A copy of the list value taken under the
// model's lock (see snapshot) can therefore be read without the lock while
// the writer keeps appending: block slices are allocated at full length and
// never resliced, and the writer only writes past the copy's length.
type chunked[T any] struct {
	blocks [][]T
	n      int
	alloc  func() []T // returns a block of blockLen records; nil: make
}

func (c *chunked[T]) add(v T) {
	if c.n%blockLen == 0 {
		var b []T
		if c.alloc != nil {
			b = c.alloc()
		} else {
			b = make([]T, blockLen)
		}
		c.blocks = append(c.blocks, b)
	}
	c.blocks[c.n/blockLen][c.n%blockLen] = v
	c.n++
}

// at returns record i (0 ≤ i < len).
func (c *chunked[T]) at(i int) *T { return &c.blocks[i/blockLen][i%blockLen] }

func (c *chunked[T]) len() int { return c.n }

// span copies records [from, from+n) into a new slice.
func (c *chunked[T]) span(from, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = *c.at(from + i)
	}
	return out
}

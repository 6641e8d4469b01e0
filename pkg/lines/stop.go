package lines

import (
	"context"
	"errors"
	"io"
)

// ErrStopped ends a read of a StopReader because its context was cancelled.
var ErrStopped = errors.New("stopped reading")

// StopReader returns a reader of r whose Read returns ErrStopped once ctx is
// cancelled, even while r blocks (a terminal, a pipe from a quiet
// producer). The read in flight is left to finish in the background: its
// data is dropped, and the program is about to end. It is for loops that
// read in their own goroutine (with FlushBeforeRead, say); a Feed does the
// same for loops that take lines in batches.
func StopReader(ctx context.Context, r io.Reader) io.Reader {
	if ctx.Done() == nil {
		return r // never cancelled
	}
	return &ctxReader{ctx: ctx, r: r, done: make(chan readResult, 1)}
}

type ctxReader struct {
	ctx     context.Context
	r       io.Reader
	buf     []byte
	done    chan readResult
	pending bool // a read of buf is in flight
}

type readResult struct {
	n   int
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if !c.pending {
		if c.ctx.Err() != nil {
			return 0, ErrStopped
		}
		if cap(c.buf) < len(p) {
			c.buf = make([]byte, len(p))
		}
		buf := c.buf[:len(p)]
		c.pending = true
		go func() {
			n, err := c.r.Read(buf)
			c.done <- readResult{n, err}
		}()
	}
	select {
	case res := <-c.done:
		return c.take(p, res)
	case <-c.ctx.Done():
		select {
		case res := <-c.done: // input that came with the stop is still handled
			return c.take(p, res)
		default:
			return 0, ErrStopped
		}
	}
}

// take hands over the result of the read that was in flight.
func (c *ctxReader) take(p []byte, res readResult) (int, error) {
	c.pending = false
	return copy(p, c.buf[:res.n]), res.err
}

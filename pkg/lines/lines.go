// Package lines reads newline-terminated lines with a hard maximum length,
// so a hostile or broken producer cannot make a reader hold an unbounded
// line in memory: a longer line is skipped (its bytes counted, not stored)
// and reported as a *TooLongError.
package lines

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// TooLongError reports a line longer than the Reader's maximum. The line was
// consumed; reading continues with the next one.
type TooLongError struct {
	Len int64 // length of the line without its newline
	Max int
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("line is %d bytes, longer than the maximum of %d", e.Len, e.Max)
}

// Reader reads lines of at most Max bytes (not counting the newline).
type Reader struct {
	r   *bufio.Reader
	max int
	n   int64
}

// NewReader returns a Reader for lines of at most max bytes. Its buffer is
// max+1 bytes.
func NewReader(r io.Reader, max int) *Reader {
	size := max + 1
	if size < 16 {
		size = 16
	}
	return &Reader{r: bufio.NewReaderSize(r, size), max: max}
}

// Line returns the number of the line last returned (1-based).
func (r *Reader) Line() int64 { return r.n }

// Next returns the next line without its "\n" (a "\r" before it is kept).
// The slice is valid until the next call. A last line without a newline is
// returned as a line. At the end of input Next returns io.EOF; for a line
// longer than the maximum it returns a *TooLongError, after which reading
// can continue.
func (r *Reader) Next() ([]byte, error) {
	line, err := r.r.ReadSlice('\n')
	if err == nil {
		r.n++
		line = line[:len(line)-1]
		if len(line) > r.max {
			return nil, &TooLongError{Len: int64(len(line)), Max: r.max}
		}
		return line, nil
	}
	if err == io.EOF {
		if len(line) == 0 {
			return nil, io.EOF
		}
		r.n++
		if len(line) > r.max {
			return nil, &TooLongError{Len: int64(len(line)), Max: r.max}
		}
		return line, nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	// Too long: count and drop the rest of the line.
	r.n++
	total := int64(len(line))
	for {
		line, err = r.r.ReadSlice('\n')
		total += int64(len(line))
		switch {
		case err == nil:
			return nil, &TooLongError{Len: total - 1, Max: r.max}
		case err == io.EOF:
			return nil, &TooLongError{Len: total, Max: r.max}
		case !errors.Is(err, bufio.ErrBufferFull):
			return nil, err
		}
	}
}

// FlushBeforeRead returns a reader that flushes w each time it asks r for
// more input. Put between a buffered output and its input source, it keeps a
// streaming pipeline moving: output waits in the buffer only while input is
// at hand, and is written out before the program blocks waiting for more
// (as in `hms-recv | hms-sign verify | …`, where stdin never ends).
// A failed flush is returned as a *FlushError, so that the caller reports
// it as an output error, not an input one.
func FlushBeforeRead(r io.Reader, w interface{ Flush() error }) io.Reader {
	return flushBeforeRead{r, w}
}

type flushBeforeRead struct {
	r io.Reader
	w interface{ Flush() error }
}

func (f flushBeforeRead) Read(p []byte) (int, error) {
	if err := f.w.Flush(); err != nil {
		return 0, &FlushError{err}
	}
	return f.r.Read(p)
}

// FlushError is a failure to write out buffered output (a full disk, a
// closed pipe) met by FlushBeforeRead.
type FlushError struct{ Err error }

func (e *FlushError) Error() string { return "writing output: " + e.Err.Error() }
func (e *FlushError) Unwrap() error { return e.Err }

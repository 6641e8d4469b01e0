// Package lines reads newline-terminated lines with a hard maximum length,
// so a hostile or broken producer cannot make a reader hold an unbounded
// line in memory: a longer line is skipped (its bytes counted, not stored)
// and reported as a *TooLongError. A Feed reads them in the background, so
// that a program can stop waiting for input at a signal.
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
	// Prefix is the line's first Options.KeepPrefix bytes (nil without
	// KeepPrefix), valid until the next call of Next.
	Prefix []byte
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("line is %d bytes, longer than the maximum of %d", e.Len, e.Max)
}

// Options say how a Reader reads lines.
type Options struct {
	// Max is the longest line returned, in bytes, not counting its "\n"
	// (nor, with TrimCR, the "\r" before it).
	Max int
	// TrimCR drops a "\r" at the end of a line, as in CRLF text.
	TrimCR bool
	// KeepPrefix keeps the first KeepPrefix bytes of a line that is too
	// long in its TooLongError, for a caller that records what it refused.
	KeepPrefix int
}

// Reader reads lines of at most Options.Max bytes. Its memory grows with
// the longest line it has read, never past Max plus a little: a line longer
// than that is skipped as it streams by.
type Reader struct {
	r    *bufio.Reader
	o    Options
	n    int64
	long []byte // a line longer than the buffer, put together
	kept []byte // the prefix of a line too long
}

// readBuffer is the most a Reader buffers besides the line it puts
// together, so that a large maximum costs nothing until a line needs it.
const readBuffer = 64 << 10

// NewReader returns a Reader for lines of at most max bytes.
func NewReader(r io.Reader, max int) *Reader { return New(r, Options{Max: max}) }

// New returns a Reader that reads lines from r as o says.
func New(r io.Reader, o Options) *Reader {
	size := min(max(o.Max+2, 16), readBuffer) // room for "\r\n"
	return &Reader{r: bufio.NewReaderSize(r, size), o: o}
}

// Line returns the number of the line last returned (1-based).
func (r *Reader) Line() int64 { return r.n }

// Next returns the next line without its "\n" (a "\r" before it is kept
// unless Options.TrimCR). The slice is valid until the next call. A last
// line without a newline is returned as a line. At the end of input Next
// returns io.EOF; for a line longer than the maximum it returns a
// *TooLongError, after which reading can continue.
func (r *Reader) Next() ([]byte, error) {
	r.long = r.long[:0]
	for {
		chunk, err := r.r.ReadSlice('\n')
		switch {
		case err == nil || err == io.EOF && len(r.long)+len(chunk) > 0:
			r.n++
			line := chunk
			if len(r.long) > 0 {
				r.long = append(r.long, chunk...)
				line = r.long
			}
			return r.finish(line, err == nil)
		case err == io.EOF:
			return nil, io.EOF
		case !errors.Is(err, bufio.ErrBufferFull):
			return nil, err
		}
		if len(r.long)+len(chunk) > r.o.Max+1 { // more than Max, even without a "\r"
			r.n++
			return nil, r.skip(chunk)
		}
		r.long = append(r.long, chunk...)
	}
}

// finish returns the line without its "\n" (and "\r" with TrimCR), or a
// *TooLongError.
func (r *Reader) finish(line []byte, newline bool) ([]byte, error) {
	if newline {
		line = line[:len(line)-1]
	}
	if r.o.TrimCR && len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) > r.o.Max {
		return nil, r.tooLong(int64(len(line)), line)
	}
	return line, nil
}

// skip reads past the rest of a line too long, whose bytes so far are in
// r.long and chunk, counting them.
func (r *Reader) skip(chunk []byte) error {
	r.kept = append(r.kept[:0], r.long[:min(len(r.long), r.o.KeepPrefix)]...)
	r.kept = append(r.kept, chunk[:min(len(chunk), max(r.o.KeepPrefix-len(r.kept), 0))]...)
	total := int64(len(r.long))
	r.long = r.long[:0]
	for {
		total += int64(len(chunk))
		last := chunk[len(chunk)-1]
		var err error
		switch chunk, err = r.r.ReadSlice('\n'); {
		case err == nil:
			total += int64(len(chunk)) - 1
			if len(chunk) > 1 {
				last = chunk[len(chunk)-2]
			}
		case err == io.EOF:
			if len(chunk) > 0 {
				total += int64(len(chunk))
				last = chunk[len(chunk)-1]
			}
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return err
		}
		if r.o.TrimCR && last == '\r' {
			total--
		}
		return r.tooLongErr(total)
	}
}

// tooLong is the error for line, which is n bytes long and fully read.
func (r *Reader) tooLong(n int64, line []byte) error {
	r.kept = append(r.kept[:0], line[:min(len(line), r.o.KeepPrefix)]...)
	return r.tooLongErr(n)
}

func (r *Reader) tooLongErr(n int64) error {
	e := &TooLongError{Len: n, Max: r.o.Max}
	if r.o.KeepPrefix > 0 {
		e.Prefix = r.kept
	}
	return e
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

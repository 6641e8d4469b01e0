// Package signstream is the stream loop of hms-sign: Sign turns each line of
// a stream (or each chunk of lines) into a signed envelope, and Verify passes
// the valid envelopes of a stream through and reports the others. A bad
// line is reported by its number (through a callback) and the loop goes on
// with the rest: good lines are never lost because of a bad one.
//
// Lines are read with package lines, at most message.MaxLineSize bytes each;
// a longer line is skipped unread. Output is buffered, and flushed before
// the loop waits for more input, so that an endless pipeline keeps moving.
// A cancelled context stops the loop at the next line, even while it waits
// for input: every line counted in Stats.Lines was handled, and a rerun
// must start after it.
//
// What is signed and checked is the business of a Scheme and a Check: HMS
// and CheckHMS for hms envelopes (package message), Legacy and CheckLegacy
// for the hms_sys format (package message/legacy).
package signstream

import (
	"bufio"
	"context"
	"errors"
	"io"

	"github.com/hms-toolkit/hms/pkg/lines"
	"github.com/hms-toolkit/hms/pkg/message"
)

// Reject is a line that was not signed, or did not verify; for a chunk that
// could not be signed as a whole, the lines First to Last.
type Reject struct {
	First, Last int64 // line numbers, 1-based; equal but for a chunk
	// Err says why: a *lines.TooLongError for a line over the limit,
	// ErrEmptyLine, ErrNotUTF8, a strictjson error, an error of the scheme;
	// for Verify, a *message.VerifyError but for too-long lines.
	Err    error
	Input  []byte // Verify: the line (nil when too long), valid only during the call
	Length int64  // the line's length in bytes
}

// Stats counts what a run did.
type Stats struct {
	Lines     int64 // lines read (and handled: signed, passed or rejected)
	Envelopes int64 // envelopes written by Sign, or found valid by Verify
	Written   int64 // lines written: envelopes, or with EmitData data lines
	Rejected  int64 // lines rejected
}

var (
	// ErrEmptyLine rejects an empty line where JSON was wanted.
	ErrEmptyLine = errors.New("empty line is not JSON")
	// ErrNotUTF8 rejects a line that is to be a string but is not UTF-8.
	ErrNotUTF8 = errors.New("not valid UTF-8")
)

// ReadError is a failure to read the input.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "reading input: " + e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// WriteError is a failure to write the output (a full disk, a closed pipe:
// errors.Is(err, syscall.EPIPE)).
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "writing output: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// flusher is something buffered to write out before waiting for input.
type flusher interface{ Flush() error }

// flushers flushes each of its writers in turn.
type flushers []flusher

func (fs flushers) Flush() error {
	for _, f := range fs {
		if f == nil {
			continue
		}
		if err := f.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// loop is what Sign and Verify share: the line reader, the buffered output
// and the counts.
type loop struct {
	in       *lines.Reader
	out      *bufio.Writer
	stats    Stats
	onReject func(Reject)
}

// newLoop reads r, stopping when ctx is cancelled, and writes w; before
// each wait for input it flushes the output, then extra.
func newLoop(ctx context.Context, r io.Reader, w io.Writer, extra flusher, onReject func(Reject)) *loop {
	l := &loop{out: bufio.NewWriterSize(w, 64<<10), onReject: onReject}
	l.in = lines.NewReader(lines.FlushBeforeRead(lines.StopReader(ctx, r), flushers{l.out, extra}), message.MaxLineSize)
	return l
}

// next returns the next line, io.EOF, or the error that ends the run. A
// line over the limit is skipped unread and rejected on the way.
func (l *loop) next() ([]byte, error) {
	for {
		line, err := l.in.Next()
		var tl *lines.TooLongError
		switch {
		case err == nil:
			l.stats.Lines++
			return line, nil
		case errors.As(err, &tl):
			l.stats.Lines++
			l.reject(Reject{First: l.in.Line(), Last: l.in.Line(), Err: tl, Length: tl.Len}, 1)
			continue
		case err == io.EOF, errors.Is(err, lines.ErrStopped):
			return nil, err
		}
		var fe *lines.FlushError
		if errors.As(err, &fe) {
			return nil, &WriteError{fe.Err}
		}
		return nil, &ReadError{err}
	}
}

// reject reports r, which stands for n lines.
func (l *loop) reject(r Reject, n int64) {
	l.stats.Rejected += n
	if l.onReject != nil {
		l.onReject(r)
	}
}

// write writes b and a newline.
func (l *loop) write(b []byte) error {
	l.out.Write(b)
	if err := l.out.WriteByte('\n'); err != nil {
		return &WriteError{err}
	}
	l.stats.Written++
	return nil
}

// finish flushes the output and returns the error that ended the run, if
// any: for a stop, the context's error.
func (l *loop) finish(ctx context.Context, err error) (Stats, error) {
	if err == io.EOF {
		err = nil
	}
	if errors.Is(err, lines.ErrStopped) {
		err = ctx.Err()
	}
	if ferr := l.out.Flush(); ferr != nil && err == nil {
		err = &WriteError{ferr}
	}
	return l.stats, err
}

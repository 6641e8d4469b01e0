package signstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/hms-toolkit/hms/pkg/lines"
	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/strictjson"
)

// Scheme makes envelopes: HMS or Legacy. Both refuse what the matching
// verifier would refuse, so every envelope Sign writes verifies.
type Scheme interface {
	// AppendEnvelope appends one envelope line (no newline) for data, a
	// JSON value; on error dst is returned unchanged.
	AppendEnvelope(dst, data []byte) ([]byte, error)
	// AppendData appends the canonical encoding of the JSON value in src,
	// checked as AppendEnvelope will check it once placed depth levels deep
	// in the envelope line; on error dst is returned unchanged.
	AppendData(dst, src []byte, depth int) ([]byte, error)
}

// SignOptions configures Sign.
type SignOptions struct {
	Scheme Scheme
	// Raw takes each line as a string (it must be UTF-8) instead of parsing
	// it as JSON.
	Raw bool
	// Chunk puts Chunk consecutive accepted lines in one envelope, as an
	// array (the last may hold fewer); <= 1 means one line per envelope.
	Chunk int
	// OnReject is called for each line left out, in order; it may be nil.
	OnReject func(Reject)
	// Flush, if set, is flushed after the output before Sign waits for
	// input (a buffered stderr that OnReject writes to).
	Flush interface{ Flush() error }
}

// Sign writes one envelope line to w for each line of r, or for each chunk
// of lines. A line that cannot be signed (not JSON, not UTF-8, too long,
// too deep, …) is passed to OnReject and left out; the others are signed.
// It returns what it did, and an error only when it could not go on: a
// *ReadError, a *WriteError, or ctx's error when ctx was cancelled.
func Sign(ctx context.Context, r io.Reader, w io.Writer, opt SignOptions) (Stats, error) {
	s := &signer{loop: newLoop(ctx, r, w, opt.Flush, opt.OnReject), opt: opt}
	if s.opt.Chunk < 1 {
		s.opt.Chunk = 1
	}
	for {
		line, err := s.next()
		if err != nil {
			if err == io.EOF || errors.Is(err, lines.ErrStopped) {
				// The lines of a partial chunk were read: sign them.
				if eerr := s.emit(); eerr != nil {
					err = eerr
				}
			}
			return s.finish(ctx, err)
		}
		if err := s.add(line); err != nil {
			return s.finish(ctx, err)
		}
	}
}

// signer is the state of one Sign.
type signer struct {
	*loop
	opt       SignOptions
	data, buf []byte
	n         int   // lines in data
	first     int64 // the line number of data's first line
}

// add signs line, or adds it to the chunk and signs the chunk when full.
func (s *signer) add(line []byte) error {
	lineNo := s.in.Line()
	if s.opt.Chunk == 1 && !s.opt.Raw {
		// The common case: the scheme parses the line itself, once.
		env, err := s.opt.Scheme.AppendEnvelope(s.buf[:0], line)
		if err != nil {
			if u := errors.Unwrap(err); u != nil {
				err = u // "data: " says nothing here: the line is the data
			}
			s.rejectLine(lineNo, line, err)
			return nil
		}
		s.buf = env
		s.stats.Envelopes++
		return s.write(env)
	}
	if s.n == 0 {
		s.first = lineNo
		s.data = s.data[:0]
	}
	mark := len(s.data)
	switch {
	case s.opt.Chunk > 1 && s.n == 0:
		s.data = append(s.data, '[')
	case s.opt.Chunk > 1:
		s.data = append(s.data, ',')
	}
	elem, err := s.appendElem(s.data, line)
	if err != nil {
		s.data = s.data[:mark]
		s.rejectLine(lineNo, line, err)
		return nil
	}
	s.data = elem
	if s.n++; s.n == s.opt.Chunk {
		return s.emit()
	}
	return nil
}

// appendElem appends line as data, or as an element of the chunk's array.
func (s *signer) appendElem(dst, line []byte) ([]byte, error) {
	if s.opt.Raw {
		if !utf8.Valid(line) {
			return dst, ErrNotUTF8
		}
		return strictjson.AppendString(dst, string(line)), nil
	}
	depth := message.DataDepth
	if s.opt.Chunk > 1 {
		depth++
	}
	return s.opt.Scheme.AppendData(dst, line, depth)
}

func (s *signer) rejectLine(lineNo int64, line []byte, err error) {
	if !s.opt.Raw && len(bytes.TrimSpace(line)) == 0 {
		err = ErrEmptyLine
	}
	s.reject(Reject{First: lineNo, Last: lineNo, Err: err, Length: int64(len(line))}, 1)
}

// emit signs the data gathered so far, if any, as one envelope.
func (s *signer) emit() error {
	if s.n == 0 {
		return nil
	}
	n := s.n
	s.n = 0
	if s.opt.Chunk > 1 {
		s.data = append(s.data, ']')
	}
	env, err := s.opt.Scheme.AppendEnvelope(s.buf[:0], s.data)
	if err != nil {
		// Lines between first and the last that were rejected on their own
		// are not counted twice.
		s.reject(Reject{First: s.first, Last: s.in.Line(), Err: err}, int64(n))
		return nil
	}
	s.buf = env
	s.stats.Envelopes++
	return s.write(env)
}

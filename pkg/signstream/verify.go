package signstream

import (
	"context"
	"errors"
	"io"

	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/strictjson"
)

// Check verifies one envelope line and returns its data in canonical form,
// valid until the next call; an error is a *message.VerifyError.
type Check func(line []byte) (data []byte, err error)

// VerifyOptions configures Verify.
type VerifyOptions struct {
	Check Check
	// EmitData writes the data of each valid envelope instead of the
	// envelope, and an array one element per line.
	EmitData bool
	// OnReject is called for each line that does not verify, in order; it
	// may be nil.
	OnReject func(Reject)
	// Flush, if set, is flushed after the output before Verify waits for
	// input (a buffered stderr that OnReject writes to).
	Flush interface{ Flush() error }
}

// Verify writes each valid envelope line of r to w byte for byte (or its
// data, with EmitData), and passes every other line to OnReject. It returns
// what it did, and an error only when it could not go on: a *ReadError, a
// *WriteError, or ctx's error when ctx was cancelled.
func Verify(ctx context.Context, r io.Reader, w io.Writer, opt VerifyOptions) (Stats, error) {
	l := newLoop(ctx, r, w, opt.Flush, opt.OnReject)
	for {
		line, err := l.next()
		if err != nil {
			return l.finish(ctx, err)
		}
		if err := l.verifyLine(line, opt); err != nil {
			return l.finish(ctx, err)
		}
	}
}

var errEmptyEnvelope = &message.VerifyError{Reason: message.ReasonMalformed, Err: errors.New("empty line")}

// verifyLine checks line and writes what passes.
func (l *loop) verifyLine(line []byte, opt VerifyOptions) error {
	n := l.in.Line()
	var data []byte
	var err error = errEmptyEnvelope
	if len(line) > 0 {
		data, err = opt.Check(line)
	}
	if err != nil {
		l.reject(Reject{First: n, Last: n, Err: err, Input: line, Length: int64(len(line))}, 1)
		return nil
	}
	l.stats.Envelopes++
	switch {
	case !opt.EmitData:
		return l.write(line)
	case strictjson.KindOf(data) == strictjson.Array:
		return strictjson.SplitArray(data, l.write)
	}
	return l.write(data)
}

package amqpsend

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/hms-toolkit/hms/pkg/lines"
	"github.com/hms-toolkit/hms/pkg/message"
)

// MaxSize is the default limit on a message body: RabbitMQ 4's default
// max_message_size (3.x allowed 128 MiB).
const MaxSize = 16 << 20

// ErrEmpty is reported for an empty line, which is skipped.
var ErrEmpty = errors.New("empty line skipped")

// errStopped is ReadLines' error when done stopped it before the end.
var errStopped = errors.New("stopped before the end of the input")

// LineError is reported for a line that is not sent: Err is ErrEmpty for
// an empty line, a *lines.TooLongError for a line over the size limit.
type LineError struct {
	Line int64
	Err  error
}

func (e *LineError) Error() string {
	if tl, ok := errors.AsType[*lines.TooLongError](e.Err); ok {
		return fmt.Sprintf("line %d: longer than the %d-byte message limit: not sent", e.Line, tl.Max)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// ReadLines reads r line by line (the newline is dropped, a final line
// without one is kept) and sends each as a Message on out, which it closes
// at the end. A line longer than maxSize bytes and an empty line are not
// sent: bad is called with a *LineError. Message ids are the envelope's id
// when the line is an hms envelope (see EnvelopeID), and idPrefix + line
// number otherwise. done, when closed, stops reading early (the error is
// then errStopped).
func ReadLines(r io.Reader, maxSize int, idPrefix string, out chan<- Message, bad func(*LineError), done <-chan struct{}) error {
	defer close(out)
	if maxSize <= 0 {
		maxSize = MaxSize
	}
	lr := lines.NewReader(r, maxSize)
	for {
		line, err := lr.Next()
		n := lr.Line()
		switch {
		case err == io.EOF:
			return nil
		case errors.As(err, new(*lines.TooLongError)):
			bad(&LineError{n, err})
			continue
		case err != nil:
			return err
		case len(line) == 0:
			bad(&LineError{n, ErrEmpty})
			continue
		}
		id := EnvelopeID(line)
		if id == "" {
			id = idPrefix + strconv.FormatInt(n, 10)
		}
		select {
		case out <- Message{Line: n, Body: bytes.Clone(line), MessageID: id}:
		case <-done:
			return errStopped
		}
	}
}

// EnvelopeID returns the id of a line that is a well-formed hms envelope
// (see message.Parse: all its fields, of the right form; the signature is
// not verified, hms-send has no keyring), and "" for any other line. An
// envelope id is 1 to 128 printable ASCII characters, so it always fits
// AMQP's message-id. Any other JSON with an "id" member does not lend it:
// two different bodies must never share a message-id, which consumers use
// to tell duplicates apart.
func EnvelopeID(line []byte) string {
	if len(line) < 2 || line[0] != '{' {
		return ""
	}
	env, err := message.Parse(line)
	if err != nil {
		return ""
	}
	return env.ID
}

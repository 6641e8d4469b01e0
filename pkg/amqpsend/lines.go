package amqpsend

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/hms-toolkit/hms/pkg/lines"
	"github.com/hms-toolkit/hms/pkg/message"
)

// MaxSize is the default limit on a message body: RabbitMQ 4's default
// max_message_size (3.x allowed 128 MiB).
const MaxSize = 16 << 20

// ErrEmpty is reported for an empty line, which is skipped.
var ErrEmpty = errors.New("empty line skipped")

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

// LineMessage is the message of line l of the input (its text copied), or
// the *LineError of a line that is not sent: an empty one, or one over the
// size limit. Its message-id is the envelope's id when the line is an hms
// envelope (see EnvelopeID), and idPrefix + the line number otherwise.
func LineMessage(l lines.Line, idPrefix string) (Message, *LineError) {
	switch {
	case l.Err != nil:
		return Message{}, &LineError{l.Num, l.Err}
	case len(l.Text) == 0:
		return Message{}, &LineError{l.Num, ErrEmpty}
	}
	id := EnvelopeID(l.Text)
	if id == "" {
		id = idPrefix + strconv.FormatInt(l.Num, 10)
	}
	return Message{Line: l.Num, Body: bytes.Clone(l.Text), MessageID: id}, nil
}

// EnvelopeID returns the id of a line that is a well-formed hms envelope
// (see message.Parse: all its fields, of the right form; the signature is
// not verified, hms-send has no keyring), and "" for any other line. An
// envelope id is 1 to 128 printable ASCII characters, so it always fits
// AMQP's message-id. Any other JSON with an "id" member does not lend it:
// two different bodies must not share a message-id, which consumers use to
// tell duplicates apart.
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

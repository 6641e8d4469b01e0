package amqpsend

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// MaxSize is the default limit on a message body: RabbitMQ 4's default
// max_message_size (3.x allowed 128 MiB).
const MaxSize = 16 << 20

// ErrEmpty is reported for an empty line, which is skipped.
var ErrEmpty = errors.New("empty line skipped")

// LineError is reported for a line that is not sent.
type LineError struct {
	Line int64
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ReadLines reads r line by line (the newline is dropped, a final line
// without one is kept) and sends each as a Message on out, which it closes
// at the end. A line longer than maxSize bytes and an empty line are not
// sent: bad is called with a *LineError (wrapping ErrEmpty for the empty
// ones). Message ids are the envelope's "id" when the line is an hms
// envelope, and idPrefix + line number otherwise. done, when closed, stops
// reading early.
func ReadLines(r io.Reader, maxSize int, idPrefix string, out chan<- Message, bad func(*LineError), done <-chan struct{}) error {
	defer close(out)
	if maxSize <= 0 {
		maxSize = MaxSize
	}
	br := bufio.NewReaderSize(r, 256<<10)
	var n int64
	for {
		line, tooLong, err := readLine(br, maxSize)
		if len(line) == 0 && err != nil && !tooLong {
			if err == io.EOF {
				return nil
			}
			return err
		}
		n++
		switch {
		case tooLong:
			bad(&LineError{n, fmt.Errorf("longer than the %d-byte message limit (--max-size): not sent", maxSize)})
		case len(line) == 0:
			bad(&LineError{n, ErrEmpty})
		default:
			id := EnvelopeID(line)
			if id == "" {
				id = idPrefix + strconv.FormatInt(n, 10)
			}
			select {
			case out <- Message{Line: n, Body: line, MessageID: id}:
			case <-done:
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLine returns the next line without its newline, in a fresh slice.
// A line over max bytes is consumed and reported as tooLong with no data.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		frag, e := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(frag) > max+1 || (len(line)+len(frag) == max+1 && frag[len(frag)-1] != '\n') {
				tooLong, line = true, nil
			} else if line == nil && e == nil {
				// The common case: the whole line was in the buffer.
				return bytes.Clone(frag[:len(frag)-1]), false, nil
			} else {
				line = append(line, frag...)
			}
		}
		switch e {
		case bufio.ErrBufferFull:
			continue
		case nil:
			if tooLong {
				return nil, true, nil
			}
			return line[:len(line)-1], false, nil
		default:
			if tooLong {
				return nil, true, e
			}
			return line, false, e
		}
	}
}

// MaxIDLen is the longest message-id AMQP can carry (a short string): a
// longer one cannot even be encoded, and the library drops the connection.
const MaxIDLen = 255

// EnvelopeID returns the "id" field of an hms envelope (a JSON object
// with "id", "ts", "origin", "operation", "data"...) or "" for any other line,
// and for an id longer than MaxIDLen bytes.
func EnvelopeID(line []byte) string {
	if id := envelopeID(line); len(id) <= MaxIDLen {
		return id
	}
	return ""
}

func envelopeID(line []byte) string {
	if len(line) < 2 || line[0] != '{' || !bytes.Contains(line, []byte(`"id"`)) {
		return ""
	}
	var env struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(line, &env) != nil || len(env.ID) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(env.ID, &s) == nil {
		return s
	}
	if env.ID[0] >= '0' && env.ID[0] <= '9' || env.ID[0] == '-' {
		return string(env.ID) // a numeric id, as written
	}
	return ""
}

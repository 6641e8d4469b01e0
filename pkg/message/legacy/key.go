package legacy

import (
	"bytes"
	"fmt"
	"io"

	"github.com/hms-toolkit/hms/pkg/message"
)

// KeyHint is the hint for every error of LoadKey, for a command to print
// as it is.
const KeyHint = "a legacy key file holds the hms_sys key text itself: its UTF-8 bytes, without the final newline, are the key"

// KeyError is the error of LoadKey: what is wrong with the key file, and
// a hint for the user (KeyHint).
type KeyError struct {
	Err  error
	Hint string
}

func (e *KeyError) Error() string { return e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }

// maxKeySize bounds what LoadKey reads: a key text is a line, not a file.
const maxKeySize = 1 << 20

// LoadKey reads a legacy key file: the key text, whose UTF-8 bytes are the
// key, without the file's final newline ("\n" or "\r\n"). Like
// message.LoadKey it warns when the file is readable by group or others
// (see message.OnWarning). It refuses an empty file, a file larger than
// 1 MiB and an hms key file (a likely mix-up). Every error is a *KeyError.
// It is the one reader of legacy keys: hms-sign and hms-store use it.
func LoadKey(path string, opts ...message.LoadOption) ([]byte, error) {
	fail := func(err error) ([]byte, error) { return nil, &KeyError{Err: err, Hint: KeyHint} }
	f, err := message.OpenKeyFile(path, opts...)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeySize+1))
	if err != nil {
		return fail(err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	switch {
	case len(b) > maxKeySize:
		return fail(fmt.Errorf("legacy key file %s is larger than %d bytes", path, maxKeySize))
	case len(b) == 0:
		return fail(fmt.Errorf("legacy key file %s is empty", path))
	case bytes.HasPrefix(b, []byte(message.KeyHeader+" ")):
		return fail(fmt.Errorf("%s is an hms key, not a legacy key text", path))
	}
	return b, nil
}

// Package legacy signs and verifies the message format of the Python hms_sys
// system (the book's DaemonMessage), so hms can take part in, and migrate
// from, a deployment of it.
//
// A legacy message is one JSON object:
//
//	{"data": {...}, "operation": "update", "origin": "artisan", "signature": "<128 hex>"}
//
// where origin may be absent and
//
//	signature = hex(sha512(json.dumps(data, sort_keys=True).encode("utf-8") + key))
//
// with Python's default json.dumps: separators ", " and ": ", keys sorted by
// code point at every level, every character outside printable ASCII written
// as \uXXXX (lower-case hex, surrogate pairs beyond the BMP), integers as
// Python prints them, and numbers with a fraction or exponent as Python's
// repr of the float they parse to (12.345, 1e-07, 1e+16, 1.0). PyDumps
// reproduces those bytes exactly. The key is the UTF-8 bytes of the key text.
//
// WARNING: this scheme is weak and kept only for compatibility. It is a plain
// hash, not a MAC, and it covers data only: operation and origin can be
// changed without detection (an "update" replayed as a "delete"), there is
// no id or time to stop replays, and one key is shared by every party. Use
// package message for anything new.
//
// Parsing is as strict as package message: a duplicate key, invalid UTF-8,
// a lone surrogate, NaN or Infinity in the input is rejected even though
// Python would accept it, because what was signed must be unambiguous.
package legacy

import (
	"bytes"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/hms-toolkit/hms/pkg/message"
	"github.com/hms-toolkit/hms/pkg/strictjson"
)

// Message is a verified legacy message. Operation and Origin are NOT
// authenticated by the legacy signature.
type Message struct {
	Operation string
	Origin    string          // "" when the message has none
	Data      json.RawMessage // canonical encoding (package strictjson) of data
	Signature string
}

// Signature returns the legacy signature of data (a JSON value) under key.
func Signature(data, key []byte) (string, error) {
	d, err := PyDumps(nil, data)
	if err != nil {
		return "", err
	}
	h := sha512.New()
	h.Write(d)
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Sign returns a legacy message line (no newline) for operation, origin and
// data, signed with key, as the Python system writes it:
// {"data": …, "operation": …, "origin": …, "signature": …}. An empty origin
// is left out. It refuses what Verify would refuse (see Signer).
func Sign(operation, origin string, data, key []byte) ([]byte, error) {
	s, err := NewSigner(key, operation, origin)
	if err != nil {
		return nil, err
	}
	return s.AppendSign(nil, data)
}

// Signer writes legacy messages with one key, operation and origin. It
// refuses what Verify would refuse, so that every line it writes verifies:
// data that is not strict JSON or that nests deeper than a message allows
// (strictjson.MaxDepth-message.DataDepth levels), a number beyond the range
// of a double (Python would write Infinity, which is not JSON), and a line
// longer than message.MaxLineSize. It is not safe for concurrent use.
type Signer struct {
	key               []byte
	operation, origin []byte // as JSON strings, the way Python writes them
	p                 strictjson.Parser
	scratch           []byte
}

// NewSigner returns a Signer. Operation and origin are written exactly as
// given, so they must be valid UTF-8; an empty origin leaves the field out.
func NewSigner(key []byte, operation, origin string) (*Signer, error) {
	switch {
	case len(key) == 0:
		return nil, errors.New("empty legacy key")
	case !utf8.ValidString(operation):
		return nil, fmt.Errorf("operation %q is not valid UTF-8", operation)
	case !utf8.ValidString(origin):
		return nil, fmt.Errorf("origin %q is not valid UTF-8", origin)
	}
	s := &Signer{key: bytes.Clone(key), operation: appendPyString(nil, []byte(operation))}
	if origin != "" {
		s.origin = appendPyString(nil, []byte(origin))
	}
	return s, nil
}

// AppendSign appends a message line (no newline) for data, a JSON value,
// to dst. On error dst is returned unchanged.
func (s *Signer) AppendSign(dst, data []byte) ([]byte, error) {
	mark := len(dst)
	dst = append(dst, `{"data": `...)
	dst, err := pyDumps(dst, data, message.DataDepth, true)
	if err != nil {
		return dst[:mark], fmt.Errorf("data: %w", err)
	}
	h := sha512.New()
	h.Write(dst[mark+len(`{"data": `):])
	h.Write(s.key)
	dst = append(dst, `, "operation": `...)
	dst = append(dst, s.operation...)
	if s.origin != nil {
		dst = append(dst, `, "origin": `...)
		dst = append(dst, s.origin...)
	}
	dst = append(dst, `, "signature": "`...)
	dst = hex.AppendEncode(dst, h.Sum(nil))
	dst = append(dst, `"}`...)
	if len(dst)-mark > message.MaxLineSize {
		return dst[:mark], fmt.Errorf("message would be %d bytes, more than the maximum line size %d", len(dst)-mark, message.MaxLineSize)
	}
	return dst, nil
}

// AppendData appends to dst the canonical encoding (package strictjson) of
// the JSON value in src, checked as AppendSign will check it once it is
// placed depth levels deep in a message line: message.DataDepth for the
// data itself, one more for an element of an array of data.
func (s *Signer) AppendData(dst, src []byte, depth int) ([]byte, error) {
	out, err := s.p.AppendCanonicalNested(dst, src, depth)
	if err != nil {
		return dst, err
	}
	if s.scratch, err = pyDumps(s.scratch[:0], src, depth, true); err != nil {
		return dst, err
	}
	return out, nil
}

// Verify checks a legacy message line against key. On failure the error is
// a *message.VerifyError with reason malformed or bad-signature.
func Verify(line, key []byte) (*Message, error) {
	if len(line) > message.MaxLineSize {
		return nil, &message.VerifyError{Reason: message.ReasonTooLong, Err: fmt.Errorf("line is %d bytes, more than the maximum %d", len(line), message.MaxLineSize)}
	}
	malformed := func(format string, args ...any) error {
		return &message.VerifyError{Reason: message.ReasonMalformed, Err: fmt.Errorf(format, args...)}
	}
	var p strictjson.Parser
	members, err := p.Object(line)
	if err != nil {
		return nil, malformed("%v", err)
	}
	var m Message
	var data, sig []byte
	var have [4]bool
	for _, f := range members {
		n := slices.Index([]string{"data", "operation", "origin", "signature"}, string(f.Key))
		if n < 0 {
			return nil, malformed("unknown field %q", f.Key)
		}
		have[n] = true
		if n > 0 && f.Kind != strictjson.String {
			return nil, malformed("field %q is a %v, want a string", f.Key, f.Kind)
		}
		switch n {
		case 0:
			data = f.Raw
			m.Data = json.RawMessage(bytes.Clone(f.Canon))
		case 1:
			m.Operation = string(f.Str)
		case 2:
			m.Origin = string(f.Str)
		case 3:
			sig = bytes.Clone(f.Str)
		}
	}
	for n, name := range []string{"data", "operation", "", "signature"} {
		if name != "" && !have[n] {
			return nil, malformed("missing field %q", name)
		}
	}
	want, err := Signature(data, key)
	if err != nil {
		return nil, malformed("data: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(want), sig) != 1 {
		return nil, &message.VerifyError{Reason: message.ReasonBadSignature, Err: fmt.Errorf("sha512 does not match: data altered, or another key")}
	}
	m.Signature = string(sig)
	return &m, nil
}

package strictjson

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// SyntaxError reports where and why input is not strict JSON.
type SyntaxError struct {
	Offset int // byte offset in the input
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

// ErrDuplicateKey is wrapped by the error for an object with a repeated key.
var ErrDuplicateKey = errors.New("duplicate key")

// DuplicateKeyError names a key that appears twice in one object.
type DuplicateKeyError struct {
	Key    string
	Offset int // offset of the object that holds it
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("invalid JSON: duplicate key %q in the object at offset %d", e.Key, e.Offset)
}

func (e *DuplicateKeyError) Unwrap() error { return ErrDuplicateKey }

func (p *Parser) errAt(i int, msg string) error { return &SyntaxError{Offset: i, Msg: msg} }

func (p *Parser) errExpect(i int, want string) error {
	if i >= len(p.src) {
		return p.errAt(i, "unexpected end of input, want "+want)
	}
	return p.errAt(i, fmt.Sprintf("unexpected %s, want %s", quoteByte(p.src[i]), want))
}

func describe(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c >= 0x80:
		// Not a character of its own: %q would show 0xff as 'ÿ'.
		return fmt.Sprintf("byte 0x%02x", c)
	}
	return fmt.Sprintf("%q", c)
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

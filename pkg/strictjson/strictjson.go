// Package strictjson parses JSON strictly and writes its canonical encoding,
// the byte form that hms signs.
//
// Strict means RFC 8259 with no leniency: a duplicate object key anywhere,
// invalid UTF-8 (raw, or a lone surrogate written as \uXXXX), a control
// character inside a string, trailing data, leading zeros, NaN or Infinity
// are all errors. Such input is rejected, never repaired, because two parsers
// that repair it differently disagree about what was signed (duplicate keys
// are the classic signature-confusion attack).
//
// The canonical encoding of a value (documented in docs/message-format.md):
//
//   - no whitespace outside strings;
//   - object members sorted by key, comparing the keys' UTF-8 bytes (which is
//     Unicode code point order);
//   - strings escaped one way only: \" and \\, the control characters
//     U+0008, U+0009, U+000A, U+000C, U+000D as \b \t \n \f \r, the other
//     controls below U+0020 as \u00XX with lower-case hex; every other
//     character, including non-ASCII, as its raw UTF-8 bytes;
//   - numbers exactly as their literal text in the input (so 1.0 and 1 are
//     different, and a 64-bit or longer integer is never rounded);
//   - true, false, null as themselves.
//
// A Parser reuses its buffers between calls and allocates nothing in the
// steady state; it is not safe for concurrent use.
package strictjson

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"unicode/utf8"
)

// MaxDepth is how deeply arrays and objects may nest.
const MaxDepth = 512

// Kind is the type of a JSON value.
type Kind uint8

const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{"invalid", "null", "boolean", "number", "string", "array", "object"}

func (k Kind) String() string { return kindNames[k] }

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

// Member is one member of a top-level object, as returned by Parser.Object.
// Its slices point into the Parser's buffers and stay valid until the next
// call on that Parser.
type Member struct {
	Key   []byte // the decoded key
	Kind  Kind
	Raw   []byte // the value's bytes in the input
	Canon []byte // the value's canonical encoding
	Str   []byte // for a string value, its decoded text
}

// Parser parses strict JSON, reusing its buffers between calls.
type Parser struct {
	src     []byte
	canon   []byte   // canonical output of the current call
	keys    []byte   // decoded object keys
	members []member // stack of object members being sorted
	tmp     []byte
	strs    []byte // decoded top-level string values
	top     []Member
	spans   []span
}

// span locates a top-level member in Object's buffers.
type span struct {
	k0, k1, r0, r1, c0, c1, s0, s1 int
	kind                           Kind
}

type member struct {
	kStart, kEnd int // decoded key in keys
	start, end   int // `"key":value` in canon
}

// Canonical returns the canonical encoding of the JSON value in src, which
// may be surrounded by whitespace.
func Canonical(src []byte) ([]byte, error) {
	var p Parser
	return p.AppendCanonical(nil, src)
}

// Valid reports whether src is one strict JSON value.
func Valid(src []byte) bool {
	var p Parser
	_, err := p.AppendCanonical(nil, src)
	return err == nil
}

// AppendCanonical appends the canonical encoding of the JSON value in src
// (optionally surrounded by whitespace) to dst.
func (p *Parser) AppendCanonical(dst, src []byte) ([]byte, error) {
	p.src = src
	p.canon = dst
	p.keys = p.keys[:0]
	p.members = p.members[:0]
	i := p.ws(0)
	i, _, err := p.value(i, 0)
	if err != nil {
		return dst, err
	}
	i = p.ws(i)
	if i != len(src) {
		return dst, p.errAt(i, "unexpected data after the value")
	}
	out := p.canon
	p.src, p.canon = nil, nil
	return out, nil
}

// KindOf returns the kind of the JSON value src starts with after whitespace,
// without validating it.
func KindOf(src []byte) Kind {
	for _, c := range src {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return Object
		case '[':
			return Array
		case '"':
			return String
		case 't', 'f':
			return Bool
		case 'n':
			return Null
		}
		if c == '-' || c >= '0' && c <= '9' {
			return Number
		}
		return Invalid
	}
	return Invalid
}

// Object parses src, which must be one JSON object, strictly, and returns its
// members in input order. Every member's value is validated and
// canonicalised; keys are unique (a duplicate is a *DuplicateKeyError).
// The result is valid until the next call on p.
func (p *Parser) Object(src []byte) ([]Member, error) {
	p.src = src
	p.canon = p.canon[:0]
	p.keys = p.keys[:0]
	p.members = p.members[:0]
	p.strs = p.strs[:0]
	spans := p.spans[:0]
	i := p.ws(0)
	if i >= len(src) || src[i] != '{' {
		if i >= len(src) {
			return nil, p.errAt(i, "empty input, want a JSON object")
		}
		return nil, p.errAt(i, "want a JSON object, found "+describe(src[i]))
	}
	objStart := i
	i = p.ws(i + 1)
	if i < len(src) && src[i] == '}' {
		i++
	} else {
		for {
			if i >= len(src) || src[i] != '"' {
				return nil, p.errExpect(i, "a string (object key)")
			}
			k0 := len(p.keys)
			var err error
			p.keys, i, err = p.decodeString(p.keys, i)
			if err != nil {
				return nil, err
			}
			k1 := len(p.keys)
			i = p.ws(i)
			if i >= len(src) || src[i] != ':' {
				return nil, p.errExpect(i, "':' after object key")
			}
			i = p.ws(i + 1)
			r0, c0 := i, len(p.canon)
			var kind Kind
			s0, s1 := 0, 0
			if i < len(src) && src[i] == '"' {
				// Decode once: keep the text, and write it canonically.
				s0 = len(p.strs)
				p.strs, i, err = p.decodeString(p.strs, i)
				if err != nil {
					return nil, err
				}
				s1 = len(p.strs)
				p.canon = p.appendDecoded(p.canon, p.strs[s0:s1], src[r0:i])
				kind = String
			} else if i, kind, err = p.value(i, 1); err != nil {
				return nil, err
			}
			spans = append(spans, span{k0, k1, r0, i, c0, len(p.canon), s0, s1, kind})
			i = p.ws(i)
			if i < len(src) && src[i] == ',' {
				i = p.ws(i + 1)
				continue
			}
			if i < len(src) && src[i] == '}' {
				i++
				break
			}
			return nil, p.errExpect(i, "',' or '}' in object")
		}
	}
	i = p.ws(i)
	if i != len(src) {
		return nil, p.errAt(i, "unexpected data after the object")
	}
	p.spans = spans
	p.top = p.top[:0]
	for _, s := range spans {
		m := Member{Key: p.keys[s.k0:s.k1:s.k1], Kind: s.kind, Raw: src[s.r0:s.r1:s.r1], Canon: p.canon[s.c0:s.c1:s.c1]}
		if s.kind == String {
			m.Str = p.strs[s.s0:s.s1:s.s1]
		}
		for k := range p.top {
			if bytes.Equal(p.top[k].Key, m.Key) {
				return nil, &DuplicateKeyError{Key: string(m.Key), Offset: objStart}
			}
		}
		p.top = append(p.top, m)
	}
	p.src = nil
	return p.top, nil
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

func (p *Parser) errAt(i int, msg string) error { return &SyntaxError{Offset: i, Msg: msg} }

func (p *Parser) errExpect(i int, want string) error {
	if i >= len(p.src) {
		return p.errAt(i, "unexpected end of input, want "+want)
	}
	return p.errAt(i, fmt.Sprintf("unexpected %s, want %s", quoteByte(p.src[i]), want))
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *Parser) ws(i int) int {
	for i < len(p.src) {
		switch p.src[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value parses the value at src[i], appends its canonical form to p.canon and
// returns the offset after it.
func (p *Parser) value(i, depth int) (int, Kind, error) {
	src := p.src
	if i >= len(src) {
		return i, Invalid, p.errAt(i, "unexpected end of input, want a value")
	}
	switch c := src[i]; {
	case c == '{':
		if depth >= MaxDepth {
			return i, Invalid, p.errAt(i, "nesting too deep")
		}
		j, err := p.object(i, depth+1)
		return j, Object, err
	case c == '[':
		if depth >= MaxDepth {
			return i, Invalid, p.errAt(i, "nesting too deep")
		}
		j, err := p.array(i, depth+1)
		return j, Array, err
	case c == '"':
		var err error
		p.canon, i, err = p.canonString(p.canon, i)
		return i, String, err
	case c == 't':
		return p.literal(i, "true", Bool)
	case c == 'f':
		return p.literal(i, "false", Bool)
	case c == 'n':
		return p.literal(i, "null", Null)
	case c == '-' || c >= '0' && c <= '9':
		j, err := p.number(i)
		if err != nil {
			return j, Invalid, err
		}
		p.canon = append(p.canon, src[i:j]...)
		return j, Number, nil
	default:
		return i, Invalid, p.errExpect(i, "a value")
	}
}

func (p *Parser) literal(i int, lit string, k Kind) (int, Kind, error) {
	if !bytes.HasPrefix(p.src[i:], []byte(lit)) {
		return i, Invalid, p.errExpect(i, "a value")
	}
	p.canon = append(p.canon, lit...)
	return i + len(lit), k, nil
}

// number checks the RFC 8259 number grammar and returns the end offset.
func (p *Parser) number(i int) (int, error) {
	src := p.src
	start := i
	if src[i] == '-' {
		i++
	}
	switch {
	case i < len(src) && src[i] == '0':
		i++
		if i < len(src) && src[i] >= '0' && src[i] <= '9' {
			return i, p.errAt(start, "number with a leading zero")
		}
	case i < len(src) && src[i] >= '1' && src[i] <= '9':
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	default:
		return i, p.errExpect(i, "a digit")
	}
	if i < len(src) && src[i] == '.' {
		i++
		if i >= len(src) || src[i] < '0' || src[i] > '9' {
			return i, p.errExpect(i, "a digit after '.'")
		}
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if i >= len(src) || src[i] < '0' || src[i] > '9' {
			return i, p.errExpect(i, "a digit in the exponent")
		}
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	}
	return i, nil
}

func (p *Parser) array(i, depth int) (int, error) {
	src := p.src
	p.canon = append(p.canon, '[')
	i = p.ws(i + 1)
	if i < len(src) && src[i] == ']' {
		p.canon = append(p.canon, ']')
		return i + 1, nil
	}
	for {
		var err error
		i, _, err = p.value(i, depth)
		if err != nil {
			return i, err
		}
		i = p.ws(i)
		if i < len(src) && src[i] == ',' {
			p.canon = append(p.canon, ',')
			i = p.ws(i + 1)
			continue
		}
		if i < len(src) && src[i] == ']' {
			p.canon = append(p.canon, ']')
			return i + 1, nil
		}
		return i, p.errExpect(i, "',' or ']' in array")
	}
}

func (p *Parser) object(i, depth int) (int, error) {
	src := p.src
	objStart := i
	mark := len(p.canon)
	p.canon = append(p.canon, '{')
	base := len(p.members)
	keysBase := len(p.keys)
	i = p.ws(i + 1)
	if i < len(src) && src[i] == '}' {
		p.canon = append(p.canon, '}')
		return i + 1, nil
	}
	sorted := true
	for {
		if i >= len(src) || src[i] != '"' {
			return i, p.errExpect(i, "a string (object key)")
		}
		m := member{kStart: len(p.keys), start: len(p.canon)}
		var err error
		k0 := i
		p.keys, i, err = p.decodeString(p.keys, i)
		if err != nil {
			return i, err
		}
		m.kEnd = len(p.keys)
		p.canon = p.appendDecoded(p.canon, p.keys[m.kStart:m.kEnd], src[k0:i])
		i = p.ws(i)
		if i >= len(src) || src[i] != ':' {
			return i, p.errExpect(i, "':' after object key")
		}
		p.canon = append(p.canon, ':')
		i = p.ws(i + 1)
		i, _, err = p.value(i, depth)
		if err != nil {
			return i, err
		}
		m.end = len(p.canon)
		if n := len(p.members); n > base {
			prev := p.members[n-1]
			c := bytes.Compare(p.keys[prev.kStart:prev.kEnd], p.keys[m.kStart:m.kEnd])
			if c == 0 {
				return i, &DuplicateKeyError{Key: string(p.keys[m.kStart:m.kEnd]), Offset: objStart}
			}
			if c > 0 {
				sorted = false
			}
		}
		p.members = append(p.members, m)
		i = p.ws(i)
		if i < len(src) && src[i] == ',' {
			p.canon = append(p.canon, ',')
			i = p.ws(i + 1)
			continue
		}
		if i < len(src) && src[i] == '}' {
			i++
			break
		}
		return i, p.errExpect(i, "',' or '}' in object")
	}
	if !sorted {
		ms := p.members[base:]
		keys := p.keys
		slices.SortFunc(ms, func(a, b member) int {
			return bytes.Compare(keys[a.kStart:a.kEnd], keys[b.kStart:b.kEnd])
		})
		for n := 1; n < len(ms); n++ {
			if bytes.Equal(keys[ms[n-1].kStart:ms[n-1].kEnd], keys[ms[n].kStart:ms[n].kEnd]) {
				return i, &DuplicateKeyError{Key: string(keys[ms[n].kStart:ms[n].kEnd]), Offset: objStart}
			}
		}
		p.tmp = append(p.tmp[:0], p.canon[mark:]...)
		p.canon = append(p.canon[:mark], '{')
		for n, m := range ms {
			if n > 0 {
				p.canon = append(p.canon, ',')
			}
			p.canon = append(p.canon, p.tmp[m.start-mark:m.end-mark]...)
		}
	}
	p.canon = append(p.canon, '}')
	p.members = p.members[:base]
	p.keys = p.keys[:keysBase]
	return i, nil
}

// appendDecoded appends the canonical form of a string whose decoded text is
// s and whose input (with quotes) is raw. A string without escapes is its
// own canonical form: only '"', '\\' and controls are escaped canonically,
// and none of them can appear unescaped in valid input. Escapes always
// shorten the text, so equal lengths mean there were none.
func (p *Parser) appendDecoded(dst, s, raw []byte) []byte {
	if len(s) == len(raw)-2 {
		return append(dst, raw...)
	}
	return appendString(dst, s)
}

// canonString appends the canonical form of the string at src[i].
func (p *Parser) canonString(dst []byte, i int) ([]byte, int, error) {
	src := p.src
	// Fast path: printable ASCII and valid UTF-8 with no escapes is copied.
	j := i + 1
	for j < len(src) {
		j = plainRun(src, j)
		if j >= len(src) {
			break
		}
		c := src[j]
		if c == '"' {
			return append(dst, src[i:j+1]...), j + 1, nil
		}
		if c < 0x20 || c == '\\' {
			break
		}
		if c < utf8.RuneSelf {
			j++
			continue
		}
		r, n := utf8.DecodeRune(src[j:])
		if r == utf8.RuneError && n <= 1 {
			return dst, j, p.errAt(j, "invalid UTF-8 in string")
		}
		j += n
	}
	var err error
	p.tmp, j, err = p.decodeString(p.tmp[:0], i)
	if err != nil {
		return dst, j, err
	}
	return appendString(dst, p.tmp), j, nil
}

// decodeString appends the decoded text of the string at src[i] to dst.
func (p *Parser) decodeString(dst []byte, i int) ([]byte, int, error) {
	src := p.src
	i++ // opening quote
	for {
		// Copy the run of plain printable ASCII in one go.
		run := i
		i = plainRun(src, i)
		dst = append(dst, src[run:i]...)
		if i >= len(src) {
			return dst, i, p.errAt(i, "unexpected end of input in string")
		}
		c := src[i]
		switch {
		case c == '"':
			return dst, i + 1, nil
		case c == '\\':
			if i+1 >= len(src) {
				return dst, i, p.errAt(i, "unexpected end of input in escape")
			}
			switch e := src[i+1]; e {
			case '"', '\\', '/':
				dst = append(dst, e)
				i += 2
			case 'b':
				dst = append(dst, '\b')
				i += 2
			case 'f':
				dst = append(dst, '\f')
				i += 2
			case 'n':
				dst = append(dst, '\n')
				i += 2
			case 'r':
				dst = append(dst, '\r')
				i += 2
			case 't':
				dst = append(dst, '\t')
				i += 2
			case 'u':
				r, ok := hex4(src[i+2:])
				if !ok {
					return dst, i, p.errAt(i, `invalid \u escape`)
				}
				n := 6
				if r >= 0xD800 && r < 0xDC00 {
					lo, ok := rune(0), false
					if len(src) >= i+12 && src[i+6] == '\\' && src[i+7] == 'u' {
						lo, ok = hex4(src[i+8:])
					}
					if !ok || lo < 0xDC00 || lo > 0xDFFF {
						return dst, i, p.errAt(i, "lone surrogate in \\u escape (not valid Unicode)")
					}
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					n = 12
				} else if r >= 0xDC00 && r <= 0xDFFF {
					return dst, i, p.errAt(i, "lone surrogate in \\u escape (not valid Unicode)")
				}
				dst = utf8.AppendRune(dst, r)
				i += n
			default:
				return dst, i, p.errAt(i, fmt.Sprintf("invalid escape \\%c", e))
			}
		case c < 0x20:
			return dst, i, p.errAt(i, fmt.Sprintf("control character %U in string (must be escaped)", c))
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n <= 1 {
				return dst, i, p.errAt(i, "invalid UTF-8 in string")
			}
			dst = append(dst, src[i:i+n]...)
			i += n
		}
	}
}

// plainRun returns the offset of the first byte at or after i that is a
// quote, a backslash, a control character or non-ASCII, or len(src). It
// looks at eight bytes at a time: strings are most of an envelope's bytes.
func plainRun(src []byte, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(src); i += 8 {
		w := binary.LittleEndian.Uint64(src[i:])
		q := w ^ (ones * '"')
		b := w ^ (ones * '\\')
		// A byte's high bit ends up set when it is non-ASCII, below 0x20,
		// '"' or '\\' (the has-less-than and has-zero-byte tricks). Borrows
		// only carry into higher bytes, so the lowest flag is always exact.
		special := (w | (w - ones*0x20) | ((q - ones) &^ q) | ((b - ones) &^ b)) & highs
		if special != 0 {
			return i + bits.TrailingZeros64(special)/8
		}
	}
	for ; i < len(src); i++ {
		if c := src[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return i
		}
	}
	return i
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

const hexDigits = "0123456789abcdef"

// AppendString appends s, which must be valid UTF-8, as a canonical JSON
// string.
func AppendString(dst []byte, s string) []byte { return appendString(dst, []byte(s)) }

func appendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// SplitArray calls fn with each element of canon, which must be the
// canonical encoding of an array (as AppendCanonical writes it).
func SplitArray(canon []byte, fn func(elem []byte) error) error {
	if len(canon) < 2 || canon[0] != '[' || canon[len(canon)-1] != ']' {
		return errors.New("not a canonical array")
	}
	body := canon[1 : len(canon)-1]
	depth, start, inStr := 0, 0, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				if err := fn(body[start:i]); err != nil {
					return err
				}
				start = i + 1
			}
		}
	}
	if len(body) > 0 {
		return fn(body[start:])
	}
	return nil
}

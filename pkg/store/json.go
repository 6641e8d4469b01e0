package store

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON↔BSON mapping. A JSON value is stored as:
//
//	object            embedded document (0x03), keys in input order
//	array             array (0x04)
//	string            string (0x02)
//	true, false       boolean (0x08)
//	null              null (0x0A)
//	integer literal   int32 (0x10) if it fits, else int64 (0x12) if it fits,
//	                  else a big number (below)
//	other number      double (0x01), the nearest one to the literal, when
//	(has . or e/E)    the literal is within the double range; else a big
//	                  number (1e400 would become +Inf, 1e-400 zero)
//
// A big number is a binary value (0x05) of the user-defined subtype 0x80
// whose bytes are the JSON literal itself, e.g. 18446744073709551616.
// It is exact on every server (FerretDB has no Decimal128, and Decimal128
// holds only 34 digits), never a float; equality matching works on the exact
// literal, ordering and arithmetic do not.
//
// AppendJSON maps back: int32 and int64 as integers, doubles always with a
// '.' or an exponent (so 2.0 stays a double when stored again), big numbers
// as their literal. Values no JSON input produces (ObjectId, dates, Decimal128
// NaN, ...) come out as MongoDB Extended JSON ({"$oid": ...}).

// BigNumberSubtype is the BSON binary subtype of big numbers.
const BigNumberSubtype = 0x80

// MaxDepth is how deeply objects and arrays may nest (MongoDB's limit is
// 100 levels of embedded documents).
const MaxDepth = 100

// ParseMode says which keys ParseJSON accepts.
type ParseMode int

const (
	// Strict rejects keys that start with '$' or contain '.' (operator
	// and path injection) or NUL, and duplicate keys, anywhere.
	Strict ParseMode = iota
	// Operators accepts '$' and '.' in keys, for filters and updates written
	// by the user, and reads {"$oid": "<hex>"} as an ObjectId.
	Operators
)

// SyntaxError is a JSON line that is not a JSON object.
type SyntaxError struct {
	Offset int // byte offset in the line, -1 if the line is valid JSON
	Msg    string
}

func (e *SyntaxError) Error() string {
	if e.Offset < 0 {
		return e.Msg
	}
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset+1, e.Msg)
}

// KeyError is a key that ParseJSON refuses.
type KeyError struct {
	Path string // where, e.g. .a.b[2]
	Key  string
	Msg  string
}

func (e *KeyError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("key %q %s", e.Key, e.Msg)
	}
	return fmt.Sprintf("key %q in %s %s", e.Key, e.Path, e.Msg)
}

// ParseJSON appends to dst the BSON document for the JSON object in line
// (surrounding whitespace allowed) and returns the extended slice. On error
// dst is returned unchanged (up to its length) with a *SyntaxError or a
// *KeyError.
func ParseJSON(dst, line []byte, mode ParseMode) ([]byte, error) {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	p := parser{in: line, out: dst, mode: mode, keys: sc.keys[:0], path: sc.path[:0]}
	defer func() {
		// Drop the references into dst and line before pooling.
		clear(p.keys[:cap(p.keys)])
		clear(p.path[:cap(p.path)])
		sc.keys, sc.path = p.keys[:0], p.path[:0]
	}()
	p.skipSpace()
	if p.i >= len(p.in) {
		return dst, &SyntaxError{-1, "empty line, not a JSON object"}
	}
	if first := p.in[p.i]; first != '{' {
		if err := p.value(0); err != nil {
			return dst, &SyntaxError{p.i, "not a JSON object"}
		}
		if p.skipSpace(); p.i < len(p.in) {
			return dst, &SyntaxError{p.i, "not a JSON object"}
		}
		return dst, &SyntaxError{-1, "a JSON " + kindOf(first) + ", not an object"}
	}
	if err := p.object(0); err != nil {
		return dst, err
	}
	p.skipSpace()
	if p.i < len(p.in) {
		return dst, p.syntax("unexpected %s after the object", p.what())
	}
	return p.out, nil
}

func kindOf(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// scratch is the parser's reusable working memory.
type scratch struct {
	keys [][]byte
	path []pathElem
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{keys: make([][]byte, 0, 32), path: make([]pathElem, 0, 16)}
}}

type parser struct {
	in   []byte
	i    int
	out  []byte
	mode ParseMode
	path []pathElem // object keys and array indexes leading here, for messages
	keys [][]byte   // scratch for duplicate detection
}

func (p *parser) syntax(format string, args ...any) error {
	return &SyntaxError{p.i, fmt.Sprintf(format, args...)}
}

func (p *parser) what() string {
	if p.i >= len(p.in) {
		return "end of line"
	}
	c := p.in[p.i]
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("byte %#02x", c)
	}
	return fmt.Sprintf("%q", c)
}

func (p *parser) skipSpace() {
	for p.i < len(p.in) {
		switch p.in[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// pathElem is an object key (key != nil) or an array index.
type pathElem struct {
	key []byte
	idx int
}

func (p *parser) pathString() string {
	var b []byte
	for _, e := range p.path {
		if e.key == nil {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(e.idx), 10)
			b = append(b, ']')
		} else {
			b = append(b, '.')
			b = append(b, e.key...)
		}
	}
	return string(b)
}

// object parses {...} at p.i as a BSON document appended to p.out.
func (p *parser) object(depth int) error {
	if depth >= MaxDepth {
		return p.syntax("nested deeper than %d levels", MaxDepth)
	}
	start := len(p.out)
	p.out = append(p.out, 0, 0, 0, 0)
	p.i++ // '{'
	nkeys := len(p.keys)
	defer func() { p.keys = p.keys[:nkeys] }()
	p.skipSpace()
	if p.i < len(p.in) && p.in[p.i] == '}' {
		p.i++
		return p.closeDoc(start)
	}
	for {
		p.skipSpace()
		if p.i >= len(p.in) || p.in[p.i] != '"' {
			return p.syntax("expected a string key, found %s", p.what())
		}
		typeAt := len(p.out)
		p.out = append(p.out, 0) // element type, set by value
		kstart := len(p.out)
		if err := p.str(); err != nil {
			return err
		}
		key := p.out[kstart:]
		if err := p.checkKey(key, nkeys); err != nil {
			return err
		}
		p.keys = append(p.keys, key)
		p.out = append(p.out, 0)
		p.skipSpace()
		if p.i >= len(p.in) || p.in[p.i] != ':' {
			return p.syntax("expected ':' after a key, found %s", p.what())
		}
		p.i++
		p.skipSpace()
		if done, err := p.member(pathElem{key: key[:len(key):len(key)]}, typeAt, depth, '}', "object"); done || err != nil {
			return p.finish(start, err)
		}
	}
}

// member parses the value of an object member or array element at elem,
// sets its BSON type at typeAt, and consumes the ',' after it or the
// container's close; done reports the close.
func (p *parser) member(elem pathElem, typeAt, depth int, close byte, container string) (done bool, err error) {
	p.path = append(p.path, elem)
	t, err := p.valueAt(typeAt, depth)
	p.path = p.path[:len(p.path)-1]
	if err != nil {
		return false, err
	}
	p.out[typeAt] = t
	p.skipSpace()
	if p.i >= len(p.in) {
		return false, p.syntax("unterminated %s", container)
	}
	switch p.in[p.i] {
	case ',':
		p.i++
		return false, nil
	case close:
		p.i++
		return true, nil
	}
	return false, p.syntax("expected ',' or '%c' in an %s, found %s", close, container, p.what())
}

// finish closes the document begun at start, unless err.
func (p *parser) finish(start int, err error) error {
	if err != nil {
		return err
	}
	return p.closeDoc(start)
}

func (p *parser) checkKey(key []byte, nkeys int) error {
	switch {
	case bytes.IndexByte(key, 0) >= 0:
		return &KeyError{p.pathString(), string(key), "contains a NUL character"}
	case p.mode == Operators:
	case len(key) > 0 && key[0] == '$':
		return &KeyError{p.pathString(), string(key), "starts with '$' (operators are not data)"}
	case bytes.IndexByte(key, '.') >= 0:
		return &KeyError{p.pathString(), string(key), "contains '.' (a path, not a field name)"}
	}
	for _, k := range p.keys[nkeys:] {
		if bytes.Equal(k, key) {
			return &KeyError{p.pathString(), string(key), "appears twice in the same object"}
		}
	}
	return nil
}

func (p *parser) closeDoc(start int) error {
	p.out = append(p.out, 0)
	n := len(p.out) - start
	if n > math.MaxInt32 {
		return p.syntax("document too large")
	}
	binary.LittleEndian.PutUint32(p.out[start:], uint32(n))
	return nil
}

func (p *parser) array(depth int) error {
	if depth >= MaxDepth {
		return p.syntax("nested deeper than %d levels", MaxDepth)
	}
	start := len(p.out)
	p.out = append(p.out, 0, 0, 0, 0)
	p.i++ // '['
	p.skipSpace()
	if p.i < len(p.in) && p.in[p.i] == ']' {
		p.i++
		return p.closeDoc(start)
	}
	for n := 0; ; n++ {
		p.skipSpace()
		typeAt := len(p.out)
		p.out = append(p.out, 0)
		p.out = strconv.AppendInt(p.out, int64(n), 10)
		p.out = append(p.out, 0)
		if done, err := p.member(pathElem{idx: n}, typeAt, depth, ']', "array"); done || err != nil {
			return p.finish(start, err)
		}
	}
}

// value parses any JSON value, for error messages about non-objects.
func (p *parser) value(depth int) error {
	p.out = append(p.out[:0:0], 0)
	_, err := p.valueAt(0, depth)
	return err
}

// valueAt parses the value at p.i, appends its BSON encoding and returns
// its BSON type.
func (p *parser) valueAt(_ int, depth int) (byte, error) {
	if p.i >= len(p.in) {
		return 0, p.syntax("expected a value, found end of line")
	}
	switch c := p.in[p.i]; {
	case c == '{' && p.mode == Operators && p.objectID():
		return 0x07, nil
	case c == '{':
		return 0x03, p.object(depth + 1)
	case c == '[':
		return 0x04, p.array(depth + 1)
	case c == '"':
		lenAt := len(p.out)
		p.out = append(p.out, 0, 0, 0, 0)
		if err := p.str(); err != nil {
			return 0, err
		}
		p.out = append(p.out, 0)
		binary.LittleEndian.PutUint32(p.out[lenAt:], uint32(len(p.out)-lenAt-4))
		return 0x02, nil
	case c == 't':
		return 0x08, p.literal("true", 1)
	case c == 'f':
		return 0x08, p.literal("false", 0)
	case c == 'n':
		return 0x0A, p.literal("null", -1)
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return 0, p.syntax("expected a value, found %s", p.what())
}

// objectID parses {"$oid": "<24 hex digits>"} (Extended JSON, as find
// prints ObjectIds) at p.i as an ObjectId, in filters; it reports false and
// consumes nothing if the object is anything else.
func (p *parser) objectID() bool {
	q := *p
	q.i++
	q.skipSpace()
	if !bytes.HasPrefix(q.in[q.i:], []byte(`"$oid"`)) {
		return false
	}
	q.i += len(`"$oid"`)
	q.skipSpace()
	if q.i >= len(q.in) || q.in[q.i] != ':' {
		return false
	}
	q.i++
	q.skipSpace()
	if q.i+26 > len(q.in) || q.in[q.i] != '"' || q.in[q.i+25] != '"' {
		return false
	}
	var oid [12]byte
	if _, err := hex.Decode(oid[:], q.in[q.i+1:q.i+25]); err != nil {
		return false
	}
	q.i += 26
	q.skipSpace()
	if q.i >= len(q.in) || q.in[q.i] != '}' {
		return false
	}
	p.i = q.i + 1
	p.out = append(p.out, oid[:]...)
	return true
}

func (p *parser) literal(word string, b int) error {
	if !bytes.HasPrefix(p.in[p.i:], []byte(word)) {
		return p.syntax("expected a value, found %s", p.what())
	}
	p.i += len(word)
	if b >= 0 {
		p.out = append(p.out, byte(b))
	}
	return nil
}

// number parses a JSON number and appends it as int32, int64, double or
// big number (see the mapping above).
func (p *parser) number() (byte, error) {
	start := p.i
	in := p.in
	i := p.i
	if in[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(in) && in[i] == '0' {
		i++
	} else if digits() == 0 {
		p.i = i
		return 0, p.syntax("malformed number")
	}
	isInt := true
	if i < len(in) && in[i] == '.' {
		i++
		isInt = false
		if digits() == 0 {
			p.i = i
			return 0, p.syntax("malformed number: no digits after '.'")
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		isInt = false
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		if digits() == 0 {
			p.i = i
			return 0, p.syntax("malformed number: no digits in the exponent")
		}
	}
	p.i = i
	lit := in[start:i]
	if isInt {
		if n, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
			if n >= math.MinInt32 && n <= math.MaxInt32 {
				p.out = binary.LittleEndian.AppendUint32(p.out, uint32(int32(n)))
				return 0x10, nil
			}
			p.out = binary.LittleEndian.AppendUint64(p.out, uint64(n))
			return 0x12, nil
		}
		return p.big(lit), nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil || (f == 0 && hasNonZeroDigit(lit)) {
		return p.big(lit), nil
	}
	p.out = binary.LittleEndian.AppendUint64(p.out, math.Float64bits(f))
	return 0x01, nil
}

// hasNonZeroDigit reports whether the mantissa of a number literal has a
// non-zero digit (so a zero result means underflow).
func hasNonZeroDigit(lit []byte) bool {
	for _, c := range lit {
		if c == 'e' || c == 'E' {
			return false
		}
		if c >= '1' && c <= '9' {
			return true
		}
	}
	return false
}

func (p *parser) big(lit []byte) byte {
	p.out = binary.LittleEndian.AppendUint32(p.out, uint32(len(lit)))
	p.out = append(p.out, BigNumberSubtype)
	p.out = append(p.out, lit...)
	return 0x05
}

// str parses the JSON string at p.i and appends its UTF-8 bytes (no
// terminator, no length).
func (p *parser) str() error {
	p.i++ // '"'
	in := p.in
	for {
		// Copy the run of plain bytes.
		j := p.i
		for j < len(in) && in[j] != '"' && in[j] != '\\' && in[j] >= 0x20 && in[j] < utf8.RuneSelf {
			j++
		}
		p.out = append(p.out, in[p.i:j]...)
		p.i = j
		if j >= len(in) {
			return p.syntax("unterminated string")
		}
		switch c := in[j]; {
		case c == '"':
			p.i++
			return nil
		case c == '\\':
			if err := p.escape(); err != nil {
				return err
			}
		case c < 0x20:
			return p.syntax("control character %#02x in a string (must be escaped)", c)
		default:
			r, size := utf8.DecodeRune(in[j:])
			if r == utf8.RuneError && size == 1 {
				return p.syntax("invalid UTF-8 in a string")
			}
			p.out = append(p.out, in[j:j+size]...)
			p.i += size
		}
	}
}

func (p *parser) escape() error {
	in := p.in
	if p.i+1 >= len(in) {
		return p.syntax("unterminated string")
	}
	c := in[p.i+1]
	p.i += 2
	switch c {
	case '"', '\\', '/':
		p.out = append(p.out, c)
	case 'b':
		p.out = append(p.out, '\b')
	case 'f':
		p.out = append(p.out, '\f')
	case 'n':
		p.out = append(p.out, '\n')
	case 'r':
		p.out = append(p.out, '\r')
	case 't':
		p.out = append(p.out, '\t')
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return p.syntax("malformed \\u escape")
		}
		if utf16.IsSurrogate(r) {
			var r2 rune = -1
			if p.i+1 < len(in) && in[p.i] == '\\' && in[p.i+1] == 'u' {
				p.i += 2
				if r2, ok = p.hex4(); !ok {
					return p.syntax("malformed \\u escape")
				}
			}
			r = utf16.DecodeRune(r, r2)
			if r == utf8.RuneError {
				return p.syntax("unpaired UTF-16 surrogate in a \\u escape (not representable in UTF-8)")
			}
		}
		p.out = utf8.AppendRune(p.out, r)
	default:
		p.i--
		return p.syntax("invalid escape '\\%c'", c)
	}
	return nil
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.in) {
		return 0, false
	}
	var r rune
	for _, c := range p.in[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	p.i += 4
	return r, true
}

// errBSON is returned by AppendJSON for malformed BSON (never from a server
// that works).
var errBSON = errors.New("malformed BSON document")

package jsonbson

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/hms-toolkit/hms/pkg/strictjson"
)

// ParseJSON appends to dst the BSON document for the JSON object in line
// (surrounding whitespace allowed) and returns the extended slice. On error
// dst is returned unchanged (up to its length) with a
// *strictjson.SyntaxError, a *strictjson.DuplicateKeyError or a *KeyError.
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
	switch {
	case p.i >= len(p.in):
		return dst, p.syntax("empty input, want a JSON object")
	case p.in[p.i] != '{':
		return dst, p.syntax("want a JSON object, found %s", describe(p.in[p.i:]))
	}
	if err := p.object(0); err != nil {
		return dst, err
	}
	p.skipSpace()
	if p.i < len(p.in) {
		return dst, p.syntax("unexpected data after the object")
	}
	return p.out, nil
}

// describe names the value that starts at in[0] (in strictjson's words), or
// in[0] itself when it starts none.
func describe(in []byte) string {
	switch k := strictjson.KindOf(in[:1]); k {
	case strictjson.Null, strictjson.Bool:
		switch {
		case bytes.HasPrefix(in, []byte("null")):
			return "null"
		case bytes.HasPrefix(in, []byte("true")), bytes.HasPrefix(in, []byte("false")):
			return "a boolean"
		}
		return quoteByte(in[0])
	case strictjson.Invalid:
		return quoteByte(in[0])
	case strictjson.Object, strictjson.Array:
		return "an " + k.String()
	default:
		return "a " + k.String()
	}
}

// quoteByte shows an unexpected byte: 'x', or byte 0xff when it is not
// a character of its own.
func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
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

// syntax is a *strictjson.SyntaxError at the current offset.
func (p *parser) syntax(format string, args ...any) error {
	return &strictjson.SyntaxError{Offset: p.i, Msg: fmt.Sprintf(format, args...)}
}

// expected is the error for what is at the current offset when want was
// expected there.
func (p *parser) expected(want string) error {
	if p.i >= len(p.in) {
		return p.syntax("unexpected end of input, want %s", want)
	}
	return p.syntax("unexpected %s, want %s", quoteByte(p.in[p.i]), want)
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

func pathString(path []pathElem) string {
	var b []byte
	for _, e := range path {
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

// object parses {...} at p.i, which holds depth containers, as a BSON
// document appended to p.out.
func (p *parser) object(depth int) error {
	if depth >= MaxDepth {
		return p.syntax("nesting too deep (more than %d levels)", MaxDepth)
	}
	objStart := p.i
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
			return p.expected("a string (object key)")
		}
		typeAt := len(p.out)
		p.out = append(p.out, 0) // element type, set by member
		kstart := len(p.out)
		if err := p.str(); err != nil {
			return err
		}
		key := p.out[kstart:]
		if err := p.checkKey(key, nkeys, objStart); err != nil {
			return err
		}
		p.keys = append(p.keys, key)
		p.out = append(p.out, 0)
		p.skipSpace()
		if p.i >= len(p.in) || p.in[p.i] != ':' {
			return p.expected("':' after object key")
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
	t, err := p.value(depth)
	p.path = p.path[:len(p.path)-1]
	if err != nil {
		return false, err
	}
	p.out[typeAt] = t
	p.skipSpace()
	if p.i < len(p.in) {
		switch p.in[p.i] {
		case ',':
			p.i++
			return false, nil
		case close:
			p.i++
			return true, nil
		}
	}
	return false, p.expected(fmt.Sprintf("',' or '%c' in %s", close, container))
}

// finish closes the document begun at start, unless err.
func (p *parser) finish(start int, err error) error {
	if err != nil {
		return err
	}
	return p.closeDoc(start)
}

func (p *parser) checkKey(key []byte, nkeys, objStart int) error {
	switch {
	case bytes.IndexByte(key, 0) >= 0:
		return &KeyError{pathString(p.path), string(key), "contains a NUL character"}
	case p.mode == Operators:
		if serverCode[string(key)] {
			return &KeyError{pathString(p.path), string(key), "runs code on the server (not allowed)"}
		}
	case len(key) > 0 && key[0] == '$':
		return &KeyError{pathString(p.path), string(key), "starts with '$' (operators are not data)"}
	case bytes.IndexByte(key, '.') >= 0:
		return &KeyError{pathString(p.path), string(key), "contains '.' (a path, not a field name)"}
	}
	for _, k := range p.keys[nkeys:] {
		if bytes.Equal(k, key) {
			return &strictjson.DuplicateKeyError{Key: string(key), Offset: objStart}
		}
	}
	return nil
}

func (p *parser) closeDoc(start int) error {
	p.out = append(p.out, 0)
	n := len(p.out) - start
	if n > math.MaxInt32 {
		return p.syntax("document too large for BSON")
	}
	binary.LittleEndian.PutUint32(p.out[start:], uint32(n))
	return nil
}

// array parses [...] at p.i, which holds depth containers.
func (p *parser) array(depth int) error {
	if depth >= MaxDepth {
		return p.syntax("nesting too deep (more than %d levels)", MaxDepth)
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

// value parses the value at p.i, a member of a container at depth,
// appends its BSON encoding and returns its BSON type.
func (p *parser) value(depth int) (byte, error) {
	if p.i >= len(p.in) {
		return 0, p.expected("a value")
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
	return 0, p.expected("a value")
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
		return p.expected("a value")
	}
	p.i += len(word)
	if b >= 0 {
		p.out = append(p.out, byte(b))
	}
	return nil
}

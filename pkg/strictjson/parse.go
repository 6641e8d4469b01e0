package strictjson

import (
	"bytes"
	"slices"
)

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
	return p.AppendCanonicalNested(dst, src, 0)
}

// AppendCanonicalNested is AppendCanonical for a value that will be placed
// depth arrays or objects deep inside another document (depth 1 for a
// member of a top-level object, such as an envelope's data): the value may
// itself nest only MaxDepth-depth levels, so that the whole document stays
// within MaxDepth. Offsets in errors are counted from the start of src.
func (p *Parser) AppendCanonicalNested(dst, src []byte, depth int) ([]byte, error) {
	p.src = src
	p.canon = dst
	p.keys = p.keys[:0]
	p.members = p.members[:0]
	i := p.ws(0)
	i, _, err := p.value(i, max(depth, 0))
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
		if err := p.sortMembers(base, mark, objStart); err != nil {
			return i, err
		}
	}
	p.canon = append(p.canon, '}')
	p.members = p.members[:base]
	p.keys = p.keys[:keysBase]
	return i, nil
}

// sortMembers puts the members of the object whose canonical form starts at
// p.canon[mark] (its members from p.members[base]) in key order, refusing a
// repeated key.
func (p *Parser) sortMembers(base, mark, objStart int) error {
	ms := p.members[base:]
	keys := p.keys
	slices.SortFunc(ms, func(a, b member) int {
		return bytes.Compare(keys[a.kStart:a.kEnd], keys[b.kStart:b.kEnd])
	})
	for n := 1; n < len(ms); n++ {
		if bytes.Equal(keys[ms[n-1].kStart:ms[n-1].kEnd], keys[ms[n].kStart:ms[n].kEnd]) {
			return &DuplicateKeyError{Key: string(keys[ms[n].kStart:ms[n].kEnd]), Offset: objStart}
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
	return nil
}

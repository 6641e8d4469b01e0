package strictjson

import "bytes"

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

// span locates a top-level member in Object's buffers.
type span struct {
	k0, k1, r0, r1, c0, c1, s0, s1 int
	kind                           Kind
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
	p.spans = p.spans[:0]
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
		var err error
		for more := true; more; {
			if i, more, err = p.topMember(i); err != nil {
				return nil, err
			}
		}
	}
	i = p.ws(i)
	if i != len(src) {
		return nil, p.errAt(i, "unexpected data after the object")
	}
	return p.topMembers(objStart)
}

// topMember parses the member of the top-level object at src[i] and the ','
// or '}' after it, recording where its parts are in p.spans. more is false
// after the closing '}'.
func (p *Parser) topMember(i int) (next int, more bool, err error) {
	src := p.src
	if i >= len(src) || src[i] != '"' {
		return i, false, p.errExpect(i, "a string (object key)")
	}
	k0 := len(p.keys)
	if p.keys, i, err = p.decodeString(p.keys, i); err != nil {
		return i, false, err
	}
	k1 := len(p.keys)
	i = p.ws(i)
	if i >= len(src) || src[i] != ':' {
		return i, false, p.errExpect(i, "':' after object key")
	}
	i = p.ws(i + 1)
	r0, c0 := i, len(p.canon)
	var kind Kind
	s0, s1 := 0, 0
	if i < len(src) && src[i] == '"' {
		// Decode once: keep the text, and write it canonically.
		s0 = len(p.strs)
		if p.strs, i, err = p.decodeString(p.strs, i); err != nil {
			return i, false, err
		}
		s1 = len(p.strs)
		p.canon = p.appendDecoded(p.canon, p.strs[s0:s1], src[r0:i])
		kind = String
	} else if i, kind, err = p.value(i, 1); err != nil {
		return i, false, err
	}
	p.spans = append(p.spans, span{k0, k1, r0, i, c0, len(p.canon), s0, s1, kind})
	i = p.ws(i)
	if i < len(src) && src[i] == ',' {
		return p.ws(i + 1), true, nil
	}
	if i < len(src) && src[i] == '}' {
		return i + 1, false, nil
	}
	return i, false, p.errExpect(i, "',' or '}' in object")
}

// topMembers turns p.spans into Members, refusing a repeated key.
func (p *Parser) topMembers(objStart int) ([]Member, error) {
	src := p.src
	p.top = p.top[:0]
	for _, s := range p.spans {
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

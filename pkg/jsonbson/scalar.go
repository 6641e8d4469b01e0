package jsonbson

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// number parses a JSON number and appends it as int32, int64, double or
// big number (see the mapping in the package comment).
func (p *parser) number() (byte, error) {
	lit, isInt, err := p.scanNumber()
	if err != nil {
		return 0, err
	}
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

// scanNumber checks the RFC 8259 number grammar at p.i, as strictjson does,
// and returns the literal and whether it is an integer (no '.', no
// exponent).
func (p *parser) scanNumber() (lit []byte, isInt bool, err error) {
	in, start := p.in, p.i
	digits := func() int {
		j := p.i
		for p.i < len(in) && in[p.i] >= '0' && in[p.i] <= '9' {
			p.i++
		}
		return p.i - j
	}
	if in[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(in) && in[p.i] == '0':
		p.i++
		if p.i < len(in) && in[p.i] >= '0' && in[p.i] <= '9' {
			p.i = start
			return nil, false, p.syntax("number with a leading zero")
		}
	case digits() == 0:
		return nil, false, p.expected("a digit")
	}
	isInt = true
	if p.i < len(in) && in[p.i] == '.' {
		p.i++
		isInt = false
		if digits() == 0 {
			return nil, false, p.expected("a digit after '.'")
		}
	}
	if p.i < len(in) && (in[p.i] == 'e' || in[p.i] == 'E') {
		p.i++
		isInt = false
		if p.i < len(in) && (in[p.i] == '+' || in[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, false, p.expected("a digit in the exponent")
		}
	}
	return in[start:p.i], isInt, nil
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
			return p.syntax("unexpected end of input in string")
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
			return p.syntax("control character %U in string (must be escaped)", c)
		default:
			r, size := utf8.DecodeRune(in[j:])
			if r == utf8.RuneError && size == 1 {
				return p.syntax("invalid UTF-8 in string")
			}
			p.out = append(p.out, in[j:j+size]...)
			p.i += size
		}
	}
}

// escapes maps the one-letter escapes to their bytes.
var escapes = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// escape parses the escape at p.i (a backslash) and appends its bytes.
func (p *parser) escape() error {
	in := p.in
	if p.i+1 >= len(in) {
		return p.syntax("unexpected end of input in escape")
	}
	c := in[p.i+1]
	if b := escapes[c]; b != 0 {
		p.out = append(p.out, b)
		p.i += 2
		return nil
	}
	if c != 'u' {
		return p.syntax("invalid escape \\%c", c)
	}
	r, ok := hex4(in[p.i+2:])
	if !ok {
		return p.syntax(`invalid \u escape`)
	}
	n := 6
	if utf16.IsSurrogate(r) {
		r2, ok2 := rune(-1), false
		if p.i+8 <= len(in) && in[p.i+6] == '\\' && in[p.i+7] == 'u' {
			r2, ok2 = hex4(in[p.i+8:])
		}
		if r = utf16.DecodeRune(r, r2); !ok2 || r == utf8.RuneError {
			return p.syntax("lone surrogate in \\u escape (not valid Unicode)")
		}
		n = 12
	}
	p.out = utf8.AppendRune(p.out, r)
	p.i += n
	return nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
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
	return r, true
}

// isJSONNumber reports whether b is exactly a JSON number literal.
func isJSONNumber(b []byte) bool {
	if len(b) == 0 || !(b[0] == '-' || b[0] >= '0' && b[0] <= '9') {
		return false
	}
	p := parser{in: b}
	_, _, err := p.scanNumber()
	return err == nil && p.i == len(b)
}

package legacy

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hms-toolkit/hms/pkg/strictjson"
)

// PyDumps appends to dst the bytes of Python's json.dumps(v, sort_keys=True)
// for the JSON value v in src, which must be strict JSON. A number beyond
// the range of a double is written Infinity or -Infinity, as Python does.
func PyDumps(dst, src []byte) ([]byte, error) {
	return pyDumps(dst, src, 0, false)
}

// pyDumps is PyDumps for a value placed depth levels deep in a message
// (see strictjson.AppendCanonicalNested); with finite, a number beyond the
// range of a double is an error rather than Infinity, which is not JSON.
func pyDumps(dst, src []byte, depth int, finite bool) ([]byte, error) {
	var p strictjson.Parser
	if _, err := p.AppendCanonicalNested(nil, src, depth); err != nil {
		return dst, err
	}
	d := dumper{src: src, finite: finite}
	d.i = d.ws(0)
	return d.value(dst)
}

// dumper walks input that strictjson has already validated.
type dumper struct {
	src    []byte
	i      int
	finite bool // refuse numbers that Python would write as Infinity
}

func (d *dumper) ws(i int) int {
	for i < len(d.src) && (d.src[i] == ' ' || d.src[i] == '\t' || d.src[i] == '\n' || d.src[i] == '\r') {
		i++
	}
	return i
}

func (d *dumper) value(dst []byte) ([]byte, error) {
	switch d.src[d.i] {
	case '{':
		return d.object(dst)
	case '[':
		return d.array(dst)
	case '"':
		return appendPyString(dst, d.str(nil)), nil
	case 't':
		d.i += 4
		return append(dst, "true"...), nil
	case 'f':
		d.i += 5
		return append(dst, "false"...), nil
	case 'n':
		d.i += 4
		return append(dst, "null"...), nil
	}
	return d.number(dst)
}

// object writes the object at d.i with its members sorted by key.
func (d *dumper) object(dst []byte) ([]byte, error) {
	src := d.src
	type kv struct{ k, v []byte }
	var ms []kv
	d.i = d.ws(d.i + 1)
	for src[d.i] != '}' {
		k := d.str(nil)
		d.i = d.ws(d.i)
		d.i = d.ws(d.i + 1) // ':'
		v, err := d.value(nil)
		if err != nil {
			return dst, err
		}
		ms = append(ms, kv{k, v})
		d.i = d.ws(d.i)
		if src[d.i] == ',' {
			d.i = d.ws(d.i + 1)
		}
	}
	d.i++
	slices.SortFunc(ms, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
	dst = append(dst, '{')
	for n, m := range ms {
		if n > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendPyString(dst, m.k)
		dst = append(dst, ": "...)
		dst = append(dst, m.v...)
	}
	return append(dst, '}'), nil
}

func (d *dumper) array(dst []byte) ([]byte, error) {
	src := d.src
	dst = append(dst, '[')
	d.i = d.ws(d.i + 1)
	for n := 0; src[d.i] != ']'; n++ {
		if n > 0 {
			dst = append(dst, ", "...)
		}
		var err error
		if dst, err = d.value(dst); err != nil {
			return dst, err
		}
		d.i = d.ws(d.i)
		if src[d.i] == ',' {
			d.i = d.ws(d.i + 1)
		}
	}
	d.i++
	return append(dst, ']'), nil
}

// number writes an integer as written (but -0 as 0, as Python's int does),
// and any other number as Python's repr of the nearest double.
func (d *dumper) number(dst []byte) ([]byte, error) {
	src := d.src
	j := d.i
	isFloat := false
	for j < len(src) && (src[j] == '-' || src[j] == '+' || src[j] == '.' || src[j] == 'e' || src[j] == 'E' || src[j] >= '0' && src[j] <= '9') {
		isFloat = isFloat || src[j] == '.' || src[j] == 'e' || src[j] == 'E'
		j++
	}
	lit := src[d.i:j]
	d.i = j
	if !isFloat {
		if string(lit) == "-0" {
			return append(dst, '0'), nil // Python's int("-0") is 0
		}
		return append(dst, lit...), nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	switch {
	case err != nil && !math.IsInf(f, 0):
		return dst, fmt.Errorf("number %s: %v", lit, err)
	case math.IsInf(f, 0) && d.finite:
		return dst, fmt.Errorf("number %s is beyond the range of a double: the legacy format would write it as %s, which is not JSON", lit, AppendPyFloat(nil, f))
	}
	return AppendPyFloat(dst, f), nil
}

// str decodes the string at d.i (validated input) and appends it to dst.
func (d *dumper) str(dst []byte) []byte {
	src := d.src
	i := d.i + 1
	for src[i] != '"' {
		if src[i] != '\\' {
			dst = append(dst, src[i])
			i++
			continue
		}
		switch e := src[i+1]; e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(src[i+2:])
			if utf16.IsSurrogate(r) {
				r = utf16.DecodeRune(r, hex4(src[i+8:]))
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default:
			dst = append(dst, e)
		}
		i += 2
	}
	d.i = i + 1
	return dst
}

func hex4(b []byte) rune {
	v, _ := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(v)
}

// appendPyString appends s (valid UTF-8) as Python's json.dumps writes a
// string with ensure_ascii=True.
func appendPyString(dst, s []byte) []byte {
	const hexd = "0123456789abcdef"
	u := func(dst []byte, r rune) []byte {
		return append(dst, '\\', 'u', hexd[r>>12&0xF], hexd[r>>8&0xF], hexd[r>>4&0xF], hexd[r&0xF])
	}
	dst = append(dst, '"')
	for len(s) > 0 {
		c := s[0]
		if c >= ' ' && c <= '~' && c != '"' && c != '\\' {
			dst = append(dst, c)
			s = s[1:]
			continue
		}
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			r, n := utf8.DecodeRune(s)
			if r >= 0x10000 {
				hi, lo := utf16.EncodeRune(r)
				dst = u(u(dst, hi), lo)
			} else {
				dst = u(dst, r)
			}
			s = s[n:]
			continue
		}
		s = s[1:]
	}
	return append(dst, '"')
}

// AppendPyFloat appends Python's repr of f, as json.dumps writes floats:
// the shortest digits that round-trip, in positional notation when the
// decimal exponent is in [-4, 16) and in scientific notation (with a sign
// and at least two exponent digits) otherwise; Infinity, -Infinity, NaN.
func AppendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // -d.dddde±XX
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	mant, exps, _ := bytes.Cut(e, []byte("e"))
	exp, _ := strconv.Atoi(string(exps))
	digits := make([]byte, 0, 20)
	digits = append(digits, mant[0])
	if len(mant) > 2 {
		digits = append(digits, mant[2:]...)
	}
	decpt := exp + 1 // digits[0:decpt] are before the point
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			dst = append(dst, "0."...)
			dst = append(dst, bytes.Repeat([]byte("0"), -decpt)...)
			return append(dst, digits...)
		case decpt >= len(digits):
			dst = append(dst, digits...)
			dst = append(dst, bytes.Repeat([]byte("0"), decpt-len(digits))...)
			return append(dst, ".0"...)
		default:
			dst = append(dst, digits[:decpt]...)
			dst = append(dst, '.')
			return append(dst, digits[decpt:]...)
		}
	}
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'e')
	x := decpt - 1
	if x < 0 {
		dst = append(dst, '-')
		x = -x
	} else {
		dst = append(dst, '+')
	}
	if x < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(x), 10)
}

package strictjson

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf8"
)

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
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				dst = append(dst, unescape[e])
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

// unescape maps the letter of a one-letter escape to the byte it stands for.
var unescape = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

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

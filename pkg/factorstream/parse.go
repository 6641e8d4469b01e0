package factorstream

import (
	"math/bits"

	"github.com/hms-toolkit/hms/pkg/factor"
)

// tokenStatus says what ParseToken made of a token.
type tokenStatus uint8

const (
	tokOK         tokenStatus = iota
	tokNotInteger             // not a positive decimal integer (includes 0)
	tokTooLarge               // a decimal integer above 2^128-1
)

// ParseToken parses a positive decimal integer, with an optional leading '+'
// and leading zeros (as GNU factor accepts), in 1..2^128-1.
func ParseToken(tok []byte) (factor.U128, tokenStatus) {
	if len(tok) > 0 && tok[0] == '+' {
		tok = tok[1:]
	}
	if len(tok) == 0 {
		return factor.U128{}, tokNotInteger
	}
	// Fast path: up to 19 digits always fit in 64 bits.
	if len(tok) <= 19 {
		var v uint64
		for _, c := range tok {
			d := c - '0'
			if d > 9 {
				return factor.U128{}, tokNotInteger
			}
			v = v*10 + uint64(d)
		}
		if v == 0 {
			return factor.U128{}, tokNotInteger
		}
		return factor.U128{Lo: v}, tokOK
	}
	var hi, lo uint64
	overflow := false
	for _, c := range tok {
		d := c - '0'
		if d > 9 {
			return factor.U128{}, tokNotInteger
		}
		if overflow {
			continue // keep checking the digits: "1e99…9x" is not an integer
		}
		// (hi,lo) = (hi,lo)*10 + d
		h1, l := bits.Mul64(lo, 10)
		h2, hh := bits.Mul64(hi, 10)
		hh, c1 := bits.Add64(hh, h1, 0)
		l, c2 := bits.Add64(l, uint64(d), 0)
		hh, c3 := bits.Add64(hh, 0, c2)
		if h2 != 0 || c1 != 0 || c3 != 0 {
			overflow = true
			continue
		}
		hi, lo = hh, l
	}
	if overflow {
		return factor.U128{}, tokTooLarge
	}
	if hi|lo == 0 {
		return factor.U128{}, tokNotInteger
	}
	return factor.U128{Hi: hi, Lo: lo}, tokOK
}

// isSpace reports whether c separates tokens (ASCII whitespace).
func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// canonical reports whether tok is already the decimal form of its value,
// so it can be copied to the output as is.
func canonical(tok []byte) bool { return tok[0] != '+' && tok[0] != '0' }

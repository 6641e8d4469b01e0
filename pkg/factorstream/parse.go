package factorstream

import (
	"math/big"
	"math/bits"
	"strconv"

	"github.com/hms-toolkit/hms/pkg/factor"
)

// tokenStatus says what parseToken made of a token.
type tokenStatus uint8

const (
	tokOK         tokenStatus = iota
	tokNotInteger             // not a positive decimal integer (includes 0)
	tokTooLarge               // a decimal integer of more than factor.MaxDigits digits
)

// number is a positive integer from the input: in small when it fits in
// 64 bits (nearly always), in big otherwise.
type number struct {
	small uint64
	big   *big.Int
}

// parseToken parses a positive decimal integer, with an optional leading
// '+' and leading zeros (as GNU factor accepts), of at most
// factor.MaxDigits significant digits.
func parseToken(tok []byte) (number, tokenStatus) {
	if len(tok) > 0 && tok[0] == '+' {
		tok = tok[1:]
	}
	if len(tok) == 0 {
		return number{}, tokNotInteger
	}
	// Fast path: up to 19 digits always fit in 64 bits.
	if len(tok) <= 19 {
		var v uint64
		for _, c := range tok {
			d := c - '0'
			if d > 9 {
				return number{}, tokNotInteger
			}
			v = v*10 + uint64(d)
		}
		if v == 0 {
			return number{}, tokNotInteger
		}
		return number{small: v}, tokOK
	}
	for _, c := range tok {
		if c-'0' > 9 {
			return number{}, tokNotInteger
		}
	}
	for len(tok) > 1 && tok[0] == '0' {
		tok = tok[1:]
	}
	switch {
	case len(tok) > factor.MaxDigits:
		return number{}, tokTooLarge
	case tok[0] == '0':
		return number{}, tokNotInteger
	}
	if v, ok := parseUint64(tok); ok {
		return number{small: v}, tokOK
	}
	b, _ := new(big.Int).SetString(string(tok), 10)
	return number{big: b}, tokOK
}

// parseUint64 parses decimal digits, reporting false on overflow.
func parseUint64(digits []byte) (uint64, bool) {
	if len(digits) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range digits {
		hi, lo := bits.Mul64(v, 10)
		lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
		if hi != 0 || carry != 0 {
			return 0, false
		}
		v = lo
	}
	return v, true
}

// isSpace reports whether c separates tokens (ASCII whitespace).
func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// canonical reports whether tok is already the decimal form of its value,
// so it can be copied to the output as is.
func canonical(tok []byte) bool { return tok[0] != '+' && tok[0] != '0' }

// String returns n in decimal.
func (n number) String() string {
	if n.big != nil {
		return n.big.String()
	}
	return strconv.FormatUint(n.small, 10)
}

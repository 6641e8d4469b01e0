package factor

import (
	"math/big"
	"math/bits"
	"strconv"
)

// U128 is an unsigned 128-bit integer, Hi*2^64 + Lo.
type U128 struct{ Hi, Lo uint64 }

// Max128 is 2^128-1, the largest number this package factors.
var Max128 = U128{^uint64(0), ^uint64(0)}

// From64 returns x as a U128.
func From64(x uint64) U128 { return U128{0, x} }

// IsZero reports whether x == 0.
func (x U128) IsZero() bool { return x.Hi|x.Lo == 0 }

// Cmp compares x and y and returns -1, 0 or +1.
func (x U128) Cmp(y U128) int {
	switch {
	case x.Hi < y.Hi:
		return -1
	case x.Hi > y.Hi:
		return 1
	case x.Lo < y.Lo:
		return -1
	case x.Lo > y.Lo:
		return 1
	}
	return 0
}

// Add returns x+y and the carry out.
func (x U128) Add(y U128) (U128, uint64) {
	lo, c := bits.Add64(x.Lo, y.Lo, 0)
	hi, c := bits.Add64(x.Hi, y.Hi, c)
	return U128{hi, lo}, c
}

// Sub returns x-y and the borrow out.
func (x U128) Sub(y U128) (U128, uint64) {
	lo, b := bits.Sub64(x.Lo, y.Lo, 0)
	hi, b := bits.Sub64(x.Hi, y.Hi, b)
	return U128{hi, lo}, b
}

// Mul64 returns x*y and reports whether it overflowed 128 bits.
func (x U128) Mul64(y uint64) (U128, bool) {
	h1, l1 := bits.Mul64(x.Lo, y)
	h2, l2 := bits.Mul64(x.Hi, y)
	hi, c := bits.Add64(h1, l2, 0)
	return U128{hi, l1}, h2 != 0 || c != 0
}

// Mul returns x*y and reports whether it overflowed 128 bits.
func (x U128) Mul(y U128) (U128, bool) {
	if x.Hi != 0 && y.Hi != 0 {
		return mulLow(x, y), true
	}
	if x.Hi == 0 {
		x, y = y, x
	}
	// y fits in 64 bits.
	return x.Mul64(y.Lo)
}

// mulLow returns x*y mod 2^128.
func mulLow(x, y U128) U128 {
	hi, lo := bits.Mul64(x.Lo, y.Lo)
	hi += x.Lo*y.Hi + x.Hi*y.Lo
	return U128{hi, lo}
}

// DivMod64 returns x/d and x%d for a non-zero 64-bit d.
func (x U128) DivMod64(d uint64) (U128, uint64) {
	qh, r := x.Hi/d, x.Hi%d
	ql, r := bits.Div64(r, x.Lo, d)
	return U128{qh, ql}, r
}

// Mod64 returns x%d for a non-zero 64-bit d.
func (x U128) Mod64(d uint64) uint64 {
	_, r := bits.Div64(x.Hi%d, x.Lo, d)
	return r
}

// Div returns x/y for a non-zero y.
func (x U128) Div(y U128) U128 {
	if y.Hi == 0 {
		q, _ := x.DivMod64(y.Lo)
		return q
	}
	return x.divSlow(y)
}

// divSlow is shift-subtract division; two-word divisors are rare here.
func (x U128) divSlow(y U128) U128 {
	if x.Cmp(y) < 0 {
		return U128{}
	}
	shift := y.LeadingZeros() - x.LeadingZeros()
	d := y.Lsh(uint(shift))
	var q U128
	for i := 0; i <= shift; i++ {
		q = q.Lsh(1)
		if x.Cmp(d) >= 0 {
			x, _ = x.Sub(d)
			q.Lo |= 1
		}
		d = d.Rsh(1)
	}
	return q
}

// LeadingZeros returns the number of leading zero bits of x.
func (x U128) LeadingZeros() int {
	if x.Hi != 0 {
		return bits.LeadingZeros64(x.Hi)
	}
	return 64 + bits.LeadingZeros64(x.Lo)
}

// TrailingZeros returns the number of trailing zero bits of x (128 for 0).
func (x U128) TrailingZeros() int {
	if x.Lo != 0 {
		return bits.TrailingZeros64(x.Lo)
	}
	return 64 + bits.TrailingZeros64(x.Hi)
}

// Lsh returns x<<n.
func (x U128) Lsh(n uint) U128 {
	switch {
	case n == 0:
		return x
	case n >= 128:
		return U128{}
	case n >= 64:
		return U128{x.Lo << (n - 64), 0}
	}
	return U128{x.Hi<<n | x.Lo>>(64-n), x.Lo << n}
}

// Rsh returns x>>n.
func (x U128) Rsh(n uint) U128 {
	switch {
	case n == 0:
		return x
	case n >= 128:
		return U128{}
	case n >= 64:
		return U128{0, x.Hi >> (n - 64)}
	}
	return U128{x.Hi >> n, x.Lo>>n | x.Hi<<(64-n)}
}

// Big returns x as a *big.Int.
func (x U128) Big() *big.Int {
	b := new(big.Int).SetUint64(x.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(x.Lo))
}

// FromBig returns b as a U128; b must be in [0, 2^128).
func FromBig(b *big.Int) U128 {
	lo := new(big.Int).And(b, new(big.Int).SetUint64(^uint64(0)))
	hi := new(big.Int).Rsh(b, 64)
	return U128{hi.Uint64(), lo.Uint64()}
}

// String returns x in decimal.
func (x U128) String() string { return string(AppendU128(nil, x)) }

const pow10_19 = 10000000000000000000

// AppendU128 appends the decimal form of x to dst.
func AppendU128(dst []byte, x U128) []byte {
	if x.Hi == 0 {
		return strconv.AppendUint(dst, x.Lo, 10)
	}
	// x = q*10^19 + r; q < 2^128/10^19 < 2^65, so split once more.
	q, r := x.DivMod64(pow10_19)
	if q.Hi == 0 {
		dst = strconv.AppendUint(dst, q.Lo, 10)
	} else {
		q2, r2 := q.DivMod64(pow10_19)
		dst = strconv.AppendUint(dst, q2.Lo, 10)
		dst = appendPadded19(dst, r2)
	}
	return appendPadded19(dst, r)
}

func appendPadded19(dst []byte, r uint64) []byte {
	var buf [19]byte
	for i := 18; i >= 0; i-- {
		buf[i] = byte('0' + r%10)
		r /= 10
	}
	return append(dst, buf[:]...)
}

package factor

import (
	"math/big"
	"math/bits"
)

// u128 is an unsigned 128-bit integer, hi·2^64 + lo: mont128's numbers.
type u128 struct{ hi, lo uint64 }

func u128From64(x uint64) u128 { return u128{0, x} }

// u128FromBig returns b, which must be in [0, 2^128).
func u128FromBig(b *big.Int) u128 {
	var x u128
	ws := b.Bits()
	if len(ws) > 0 {
		x.lo = uint64(ws[0])
	}
	if len(ws) > 1 {
		x.hi = uint64(ws[1])
	}
	return x
}

func (x u128) big() *big.Int {
	return new(big.Int).SetBits([]big.Word{big.Word(x.lo), big.Word(x.hi)})
}

func (x u128) isZero() bool { return x.hi|x.lo == 0 }

func (x u128) less(y u128) bool { return x.hi < y.hi || x.hi == y.hi && x.lo < y.lo }

// sub returns x-y mod 2^128.
func (x u128) sub(y u128) u128 {
	lo, b := bits.Sub64(x.lo, y.lo, 0)
	hi, _ := bits.Sub64(x.hi, y.hi, b)
	return u128{hi, lo}
}

// trailingZeros returns the number of trailing zero bits of x (128 for 0).
func (x u128) trailingZeros() int {
	if x.lo != 0 {
		return bits.TrailingZeros64(x.lo)
	}
	return 64 + bits.TrailingZeros64(x.hi)
}

func (x u128) lsh(n uint) u128 {
	switch {
	case n == 0:
		return x
	case n >= 128:
		return u128{}
	case n >= 64:
		return u128{x.lo << (n - 64), 0}
	}
	return u128{x.hi<<n | x.lo>>(64-n), x.lo << n}
}

func (x u128) rsh(n uint) u128 {
	switch {
	case n == 0:
		return x
	case n >= 128:
		return u128{}
	case n >= 64:
		return u128{0, x.hi >> (n - 64)}
	}
	return u128{x.hi >> n, x.lo>>n | x.hi<<(64-n)}
}

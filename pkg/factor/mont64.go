package factor

import (
	"math/big"
	"math/bits"
)

// mont64 is Montgomery arithmetic modulo an odd n with R = 2^64.
type mont64 struct {
	n, ninv uint64 // ninv = n⁻¹ mod 2^64
	r1      uint64 // R mod n: 1 in Montgomery form
	r2      uint64 // R² mod n
}

func newMont64(n uint64) *mont64 {
	r1 := -n % n
	_, r2 := bits.Div64(r1, 0, n)
	return &mont64{n: n, ninv: inverse64(n), r1: r1, r2: r2}
}

// mul returns a*b/R mod n for a, b < n.
func (m *mont64) mul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	mh, _ := bits.Mul64(lo*m.ninv, m.n)
	r := hi - mh
	if hi < mh {
		r += m.n
	}
	return r
}

func (m *mont64) to(a uint64) uint64 { return m.mul(a%m.n, m.r2) }

// strongProbablePrime reports whether n is a strong probable prime to base
// a; a multiple of n counts as passing.
func (m *mont64) strongProbablePrime(a uint64) bool {
	n := m.n
	a %= n
	if a == 0 {
		return true
	}
	s := bits.TrailingZeros64(n - 1)
	d := (n - 1) >> uint(s)
	x := m.pow(m.to(a), d)
	minusOne := n - m.r1
	if x == m.r1 || x == minusOne {
		return true
	}
	for ; s > 1; s-- {
		x = m.mul(x, x)
		if x == minusOne {
			return true
		}
		if x == m.r1 {
			return false
		}
	}
	return false
}

func (m *mont64) pow(x, e uint64) uint64 {
	r := m.r1
	for e > 0 {
		if e&1 != 0 {
			r = m.mul(r, x)
		}
		x = m.mul(x, x)
		e >>= 1
	}
	return r
}

func (m *mont64) add(a, b uint64) uint64 {
	s := a + b
	if s >= m.n || s < a {
		s -= m.n
	}
	return s
}

func (m *mont64) sub(a, b uint64) uint64 {
	d := a - b
	if a < b {
		d += m.n
	}
	return d
}

func (m *mont64) one() uint64           { return m.r1 }
func (m *mont64) small(x uint64) uint64 { return m.to(x) }
func (m *mont64) toBig(d uint64) *big.Int {
	return new(big.Int).SetUint64(d)
}

func (m *mont64) inverse(a uint64) (uint64, bool) {
	x, ok := inverseMod64(m.mul(a, 1), m.n) // out of Montgomery form first
	if !ok {
		return 0, false
	}
	return m.to(x), true
}

func (m *mont64) gcd(a uint64) (uint64, bool, bool) {
	d := gcd64(a, m.n)
	return d, d != 1 && d != m.n, d == m.n
}

// inverseMod64 returns a⁻¹ mod n by the extended Euclidean algorithm, and
// false when gcd(a, n) != 1.
func inverseMod64(a, n uint64) (uint64, bool) {
	// Invariants: r0 ≡ s0·a, r1 ≡ s1·a (mod n), the s kept as signed
	// magnitudes (they stay below n).
	r0, r1 := n, a%n
	s0, s1 := uint64(0), uint64(1)
	neg0, neg1 := false, false
	for r1 != 0 {
		q := r0 / r1
		r0, r1 = r1, r0-q*r1
		// s2 = s0 - q*s1, with signs.
		qs := q * s1
		var s2 uint64
		var neg2 bool
		if neg0 == neg1 {
			if s0 >= qs {
				s2, neg2 = s0-qs, neg0
			} else {
				s2, neg2 = qs-s0, !neg0
			}
		} else {
			s2, neg2 = s0+qs, neg0
		}
		s0, s1, neg0, neg1 = s1, s2, neg1, neg2
	}
	if r0 != 1 {
		return 0, false
	}
	if neg0 {
		return n - s0, true
	}
	return s0, true
}

// gcd64 is the binary GCD.
func gcd64(a, b uint64) uint64 {
	if a == 0 {
		return b
	}
	if b == 0 {
		return a
	}
	shift := bits.TrailingZeros64(a | b)
	a >>= uint(bits.TrailingZeros64(a))
	for b != 0 {
		b >>= uint(bits.TrailingZeros64(b))
		if a > b {
			a, b = b, a
		}
		b -= a
	}
	return a << uint(shift)
}

func (m *mont64) iterate(y, c uint64, k int) uint64 {
	for range k {
		y = m.add(m.mul(y, y), c)
	}
	return y
}

func (m *mont64) walk(x, y, q, c uint64, k int) (uint64, uint64) {
	for range k {
		y = m.add(m.mul(y, y), c)
		q = m.mul(q, m.sub(x, y))
	}
	return y, q
}

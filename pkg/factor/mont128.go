package factor

import (
	"math/big"
	"math/bits"
)

// mont128 is Montgomery arithmetic modulo an odd n >= 2^64 with R = 2^128.
type mont128 struct {
	n      u128
	ninv   uint64 // -n⁻¹ mod 2^64
	r1, r2 u128   // R mod n, R² mod n
}

func newMont128(n u128) *mont128 {
	nb := n.big()
	r1 := new(big.Int).Lsh(big.NewInt(1), 128)
	r1.Mod(r1, nb)
	r2 := new(big.Int).Mul(r1, r1)
	r2.Mod(r2, nb)
	return &mont128{n: n, ninv: -inverse64(n.lo), r1: u128FromBig(r1), r2: u128FromBig(r2)}
}

// mul returns a*b/R mod n for a, b < n: montN.mul's word-by-word
// product and reduction, unrolled for two words, in registers.
func (m *mont128) mul(a, b u128) u128 {
	// t = a·b.lo, then reduced by one word: t += q·n, t >>= 64.
	h, t0 := bits.Mul64(a.lo, b.lo)
	h1, l := bits.Mul64(a.hi, b.lo)
	t1, c := bits.Add64(l, h, 0)
	t2 := h1 + c
	q := t0 * m.ninv
	h, l = bits.Mul64(q, m.n.lo)
	_, c = bits.Add64(l, t0, 0)
	carry := h + c
	h, l = bits.Mul64(q, m.n.hi)
	l, c = bits.Add64(l, t1, 0)
	h += c
	t0, c = bits.Add64(l, carry, 0)
	h += c
	t1, c = bits.Add64(t2, h, 0)
	t2 = c
	// t += a·b.hi, then reduced by one more word.
	h, l = bits.Mul64(a.lo, b.hi)
	t0, c = bits.Add64(t0, l, 0)
	carry = h + c
	h, l = bits.Mul64(a.hi, b.hi)
	l, c = bits.Add64(l, t1, 0)
	h += c
	t1, c = bits.Add64(l, carry, 0)
	h += c
	t2, c = bits.Add64(t2, h, 0)
	t3 := c
	q = t0 * m.ninv
	h, l = bits.Mul64(q, m.n.lo)
	_, c = bits.Add64(l, t0, 0)
	carry = h + c
	h, l = bits.Mul64(q, m.n.hi)
	l, c = bits.Add64(l, t1, 0)
	h += c
	lo, c := bits.Add64(l, carry, 0)
	h += c
	hi, c := bits.Add64(t2, h, 0)
	t3 += c
	// The result is below 2n: subtract n once if it is >= n.
	lo2, br := bits.Sub64(lo, m.n.lo, 0)
	hi2, br := bits.Sub64(hi, m.n.hi, br)
	if t3 != 0 || br == 0 {
		return u128{hi2, lo2}
	}
	return u128{hi, lo}
}

func (m *mont128) add(a, b u128) u128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, c := bits.Add64(a.hi, b.hi, c)
	lo2, br := bits.Sub64(lo, m.n.lo, 0)
	hi2, br := bits.Sub64(hi, m.n.hi, br)
	if c != 0 || br == 0 {
		return u128{hi2, lo2}
	}
	return u128{hi, lo}
}

func (m *mont128) one() u128 { return m.r1 }

// small needs no reduction: x < 2^64 <= n.
func (m *mont128) small(x uint64) u128   { return m.mul(u128From64(x), m.r2) }
func (m *mont128) toBig(d u128) *big.Int { return d.big() }

func (m *mont128) sub(a, b u128) u128 {
	lo, br := bits.Sub64(a.lo, b.lo, 0)
	hi, br := bits.Sub64(a.hi, b.hi, br)
	if br != 0 {
		var c uint64
		lo, c = bits.Add64(lo, m.n.lo, 0)
		hi, _ = bits.Add64(hi, m.n.hi, c)
	}
	return u128{hi, lo}
}

func (m *mont128) inverse(a u128) (u128, bool) {
	plain := m.mul(a, u128From64(1))
	x := new(big.Int).ModInverse(plain.big(), m.n.big())
	if x == nil {
		return u128{}, false
	}
	return m.mul(u128FromBig(x), m.r2), true
}

func (m *mont128) gcd(a u128) (u128, bool, bool) {
	d := gcd128(a, m.n)
	return d, d != u128From64(1) && d != m.n, d == m.n
}

func gcd128(a, b u128) u128 {
	if a.isZero() {
		return b
	}
	if b.isZero() {
		return a
	}
	shift := u128{a.hi | b.hi, a.lo | b.lo}.trailingZeros()
	a = a.rsh(uint(a.trailingZeros()))
	for !b.isZero() {
		b = b.rsh(uint(b.trailingZeros()))
		if b.less(a) {
			a, b = b, a
		}
		b = b.sub(a)
	}
	return a.lsh(uint(shift))
}

func (m *mont128) iterate(y, c u128, k int) u128 {
	for range k {
		y = m.add(m.mul(y, y), c)
	}
	return y
}

func (m *mont128) walk(x, y, q, c u128, k int) (u128, u128) {
	for range k {
		y = m.add(m.mul(y, y), c)
		q = m.mul(q, m.sub(x, y))
	}
	return y, q
}

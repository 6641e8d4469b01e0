package factor

import (
	"math/big"
	"math/bits"
)

// limbs is a fixed-width unsigned integer, least significant word first.
// Each width is a separate instantiation of the generic methods, so a
// 5-word number costs 5-word arithmetic; widths grow by about half a step
// so that no number pays for more than 1.5 times its own width. (Two,
// three and four words have arithmetic of their own, unrolled: mont128,
// mont192 and mont256.)
type limbs interface {
	[5]uint64 | [6]uint64 | [8]uint64 |
		[11]uint64 | [16]uint64 | [24]uint64 | [36]uint64 | [53]uint64
}

// maxLimbs is the widest limbs type: 53 words hold every number of up to
// 1,000 decimal digits (10^1000 < 2^3322 < 2^(64*53)).
const maxLimbs = 53

// montN is Montgomery arithmetic modulo an odd n with R = 2^(64·len(L)).
// Values are kept in [0, n).
type montN[L limbs] struct {
	n      L
	ninv   uint64 // -n⁻¹ mod 2^64
	r1, r2 L      // R mod n, R² mod n
}

func newMontN[L limbs](n *big.Int) *montN[L] {
	m := &montN[L]{}
	m.n = limbsFromBig[L](n)
	m.ninv = -inverse64(m.n[0])
	r := new(big.Int).Lsh(big.NewInt(1), uint(64*len(m.n)))
	one := new(big.Int).Mod(r, n)
	m.r1 = limbsFromBig[L](one)
	m.r2 = limbsFromBig[L](one.Mul(one, one).Mod(one, n))
	return m
}

func limbsFromBig[L limbs](b *big.Int) (z L) {
	for i, w := range b.Bits() {
		z[i] = uint64(w)
	}
	return z
}

func limbsToBig[L limbs](x L) *big.Int {
	ws := make([]big.Word, len(x))
	for i := 0; i < len(x); i++ {
		ws[i] = big.Word(x[i])
	}
	return new(big.Int).SetBits(ws)
}

// mul returns a·b/R mod n (CIOS: the product and the reduction interleaved
// word by word, with two extra words of carry).
func (m *montN[L]) mul(a, b L) L {
	var t L
	var t1, t2 uint64 // words len(L) and len(L)+1 of the running sum
	k := len(t)
	for i := 0; i < k; i++ {
		var c uint64
		bi := b[i]
		for j := 0; j < k; j++ {
			hi, lo := bits.Mul64(a[j], bi)
			lo, cc := bits.Add64(lo, t[j], 0)
			hi += cc
			lo, cc = bits.Add64(lo, c, 0)
			t[j], c = lo, hi+cc
		}
		var cc uint64
		t1, cc = bits.Add64(t1, c, 0)
		t2 = cc
		q := t[0] * m.ninv
		hi, lo := bits.Mul64(q, m.n[0])
		_, cc = bits.Add64(lo, t[0], 0)
		c = hi + cc
		for j := 1; j < k; j++ {
			hi, lo := bits.Mul64(q, m.n[j])
			lo, cc := bits.Add64(lo, t[j], 0)
			hi += cc
			lo, cc = bits.Add64(lo, c, 0)
			t[j-1], c = lo, hi+cc
		}
		t[k-1], cc = bits.Add64(t1, c, 0)
		t1 = t2 + cc
	}
	if t1 != 0 || !lessL(t, m.n) {
		t = subL(t, m.n)
	}
	return t
}

func (m *montN[L]) add(a, b L) L {
	var z L
	var c uint64
	for i := 0; i < len(z); i++ {
		z[i], c = bits.Add64(a[i], b[i], c)
	}
	if c != 0 || !lessL(z, m.n) {
		z = subL(z, m.n)
	}
	return z
}

func (m *montN[L]) sub(a, b L) L {
	var z L
	var br uint64
	for i := 0; i < len(z); i++ {
		z[i], br = bits.Sub64(a[i], b[i], br)
	}
	if br != 0 {
		var c uint64
		for i := 0; i < len(z); i++ {
			z[i], c = bits.Add64(z[i], m.n[i], c)
		}
	}
	return z
}

// lessL reports whether a < b.
func lessL[L limbs](a, b L) bool {
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// subL returns a-b mod 2^(64·len(L)).
func subL[L limbs](a, b L) L {
	var br uint64
	for i := 0; i < len(a); i++ {
		a[i], br = bits.Sub64(a[i], b[i], br)
	}
	return a
}

func (m *montN[L]) one() L { return m.r1 }

func (m *montN[L]) small(x uint64) L {
	var v L
	v[0] = x
	if !lessL(v, m.n) { // only when n has one significant word
		v[0] = x % m.n[0]
	}
	return m.mul(v, m.r2)
}

func (m *montN[L]) toBig(d L) *big.Int { return limbsToBig(d) }

func (m *montN[L]) inverse(a L) (L, bool) {
	var plainOne L
	plainOne[0] = 1
	x := new(big.Int).ModInverse(limbsToBig(m.mul(a, plainOne)), limbsToBig(m.n))
	if x == nil {
		return plainOne, false
	}
	return m.mul(limbsFromBig[L](x), m.r2), true
}

func (m *montN[L]) gcd(a L) (L, bool, bool) {
	d, proper, whole := bigGCD(limbsToBig(a), limbsToBig(m.n))
	return limbsFromBig[L](d), proper, whole
}

func (m *montN[L]) iterate(y, c L, k int) L { return iterateWide(m, y, c, k) }
func (m *montN[L]) walk(x, y, q, c L, k int) (L, L) {
	return walkWide(m, x, y, q, c, k)
}

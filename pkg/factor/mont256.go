package factor

import (
	"math/big"
	"math/bits"
)

// u256 is an unsigned integer of four words, w0 the least significant.
type u256 struct{ w0, w1, w2, w3 uint64 }

// u256FromBig returns b, which must be in [0, 2^256).
func u256FromBig(b *big.Int) u256 {
	var w [4]uint64
	for i, x := range b.Bits() {
		w[i] = uint64(x)
	}
	return u256{w[0], w[1], w[2], w[3]}
}

func (u256) fromBig(b *big.Int) u256 { return u256FromBig(b) }

func (x u256) big() *big.Int {
	return new(big.Int).SetBits([]big.Word{big.Word(x.w0), big.Word(x.w1), big.Word(x.w2), big.Word(x.w3)})
}

// mont256 is Montgomery arithmetic modulo an odd n of four words, with
// R = 2^256.
type mont256 struct{ montWide[u256] }

func newMont256(n *big.Int) *mont256 { return &mont256{newMontWide[u256](n, 256)} }

// mul returns a·b/R mod n: montN.mul with the inner loops unrolled.
func (m *mont256) mul(a, b u256) u256 {
	n := &m.n
	var t0, t1, t2, t3, t4 uint64
	for _, bi := range [4]uint64{b.w0, b.w1, b.w2, b.w3} {
		var c, t5 uint64
		t0, c = mulAdd(a.w0, bi, t0, 0)
		t1, c = mulAdd(a.w1, bi, t1, c)
		t2, c = mulAdd(a.w2, bi, t2, c)
		t3, c = mulAdd(a.w3, bi, t3, c)
		t4, t5 = bits.Add64(t4, c, 0)
		q := t0 * m.ninv
		_, c = mulAdd(q, n.w0, t0, 0)
		t0, c = mulAdd(q, n.w1, t1, c)
		t1, c = mulAdd(q, n.w2, t2, c)
		t2, c = mulAdd(q, n.w3, t3, c)
		t3, c = bits.Add64(t4, c, 0)
		t4 = t5 + c
	}
	return m.reduce(t4, u256{t0, t1, t2, t3})
}

// reduce returns carry·R + t mod n for a sum below 2n.
func (m *mont256) reduce(carry uint64, t u256) u256 {
	r0, br := bits.Sub64(t.w0, m.n.w0, 0)
	r1, br := bits.Sub64(t.w1, m.n.w1, br)
	r2, br := bits.Sub64(t.w2, m.n.w2, br)
	r3, br := bits.Sub64(t.w3, m.n.w3, br)
	if carry != 0 || br == 0 {
		return u256{r0, r1, r2, r3}
	}
	return t
}

func (m *mont256) add(a, b u256) u256 {
	s0, c := bits.Add64(a.w0, b.w0, 0)
	s1, c := bits.Add64(a.w1, b.w1, c)
	s2, c := bits.Add64(a.w2, b.w2, c)
	s3, c := bits.Add64(a.w3, b.w3, c)
	return m.reduce(c, u256{s0, s1, s2, s3})
}

func (m *mont256) sub(a, b u256) u256 {
	d0, br := bits.Sub64(a.w0, b.w0, 0)
	d1, br := bits.Sub64(a.w1, b.w1, br)
	d2, br := bits.Sub64(a.w2, b.w2, br)
	d3, br := bits.Sub64(a.w3, b.w3, br)
	mask := -br // add n back when a < b
	d0, c := bits.Add64(d0, m.n.w0&mask, 0)
	d1, c = bits.Add64(d1, m.n.w1&mask, c)
	d2, c = bits.Add64(d2, m.n.w2&mask, c)
	d3, _ = bits.Add64(d3, m.n.w3&mask, c)
	return u256{d0, d1, d2, d3}
}

func (m *mont256) iterate(y, c u256, k int) u256 { return iterateWide(m, y, c, k) }
func (m *mont256) walk(x, y, q, c u256, k int) (u256, u256) {
	return walkWide(m, x, y, q, c, k)
}

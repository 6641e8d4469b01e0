package factor

import (
	"math/big"
	"math/bits"
)

// mont192 and mont256 are montN's arithmetic for three and four words,
// the widths of 39- to 77-digit numbers, unrolled and on structs: Go
// passes a struct of words in registers but an array in memory, and ECM
// spends its time in these calls. Measured when they were written
// (BenchmarkECMCurve, CPU time): a curve on a 60-digit number took 1.3–2.1
// ms with mont256 against 3.2–3.4 ms with montN's loops, and factoring two
// 40- and 44-digit numbers took a third of the time it had with montN.

// u192 is an unsigned integer of three words, w0 the least significant.
type u192 struct{ w0, w1, w2 uint64 }

// u192FromBig returns b, which must be in [0, 2^192).
func u192FromBig(b *big.Int) u192 {
	var w [3]uint64
	for i, x := range b.Bits() {
		w[i] = uint64(x)
	}
	return u192{w[0], w[1], w[2]}
}

func (u192) fromBig(b *big.Int) u192 { return u192FromBig(b) }

func (x u192) big() *big.Int {
	return new(big.Int).SetBits([]big.Word{big.Word(x.w0), big.Word(x.w1), big.Word(x.w2)})
}

// mont192 is Montgomery arithmetic modulo an odd n of three words, with
// R = 2^192.
type mont192 struct{ montWide[u192] }

func newMont192(n *big.Int) *mont192 { return &mont192{newMontWide[u192](n, 192)} }

// mulAdd returns x·y + t + c, which always fits in two words.
func mulAdd(x, y, t, c uint64) (lo, hi uint64) {
	hi, lo = bits.Mul64(x, y)
	var cc uint64
	lo, cc = bits.Add64(lo, t, 0)
	hi += cc
	lo, cc = bits.Add64(lo, c, 0)
	return lo, hi + cc
}

// mul returns a·b/R mod n: montN.mul with the inner loops unrolled.
func (m *mont192) mul(a, b u192) u192 {
	n := &m.n
	var t0, t1, t2, t3 uint64
	for _, bi := range [3]uint64{b.w0, b.w1, b.w2} {
		var c, t4 uint64
		t0, c = mulAdd(a.w0, bi, t0, 0)
		t1, c = mulAdd(a.w1, bi, t1, c)
		t2, c = mulAdd(a.w2, bi, t2, c)
		t3, t4 = bits.Add64(t3, c, 0)
		q := t0 * m.ninv
		_, c = mulAdd(q, n.w0, t0, 0)
		t0, c = mulAdd(q, n.w1, t1, c)
		t1, c = mulAdd(q, n.w2, t2, c)
		t2, c = bits.Add64(t3, c, 0)
		t3 = t4 + c
	}
	return m.reduce(t3, u192{t0, t1, t2})
}

// reduce returns carry·R + t mod n for a sum below 2n.
func (m *mont192) reduce(carry uint64, t u192) u192 {
	r0, br := bits.Sub64(t.w0, m.n.w0, 0)
	r1, br := bits.Sub64(t.w1, m.n.w1, br)
	r2, br := bits.Sub64(t.w2, m.n.w2, br)
	if carry != 0 || br == 0 {
		return u192{r0, r1, r2}
	}
	return t
}

func (m *mont192) add(a, b u192) u192 {
	s0, c := bits.Add64(a.w0, b.w0, 0)
	s1, c := bits.Add64(a.w1, b.w1, c)
	s2, c := bits.Add64(a.w2, b.w2, c)
	return m.reduce(c, u192{s0, s1, s2})
}

func (m *mont192) sub(a, b u192) u192 {
	d0, br := bits.Sub64(a.w0, b.w0, 0)
	d1, br := bits.Sub64(a.w1, b.w1, br)
	d2, br := bits.Sub64(a.w2, b.w2, br)
	mask := -br // add n back when a < b
	d0, c := bits.Add64(d0, m.n.w0&mask, 0)
	d1, c = bits.Add64(d1, m.n.w1&mask, c)
	d2, _ = bits.Add64(d2, m.n.w2&mask, c)
	return u192{d0, d1, d2}
}

func (m *mont192) iterate(y, c u192, k int) u192 { return iterateWide(m, y, c, k) }
func (m *mont192) walk(x, y, q, c u192, k int) (u192, u192) {
	return walkWide(m, x, y, q, c, k)
}

package factor

import (
	"math/big"
	"testing"
)

// checkArith compares one arithmetic with math/big on a, b (reduced mod
// n): Montgomery multiplication, addition, subtraction and inversion, with
// the values taken into Montgomery form and back.
func checkArith[E comparable, A arith[E]](t *testing.T, m A, n, a, b *big.Int, to func(*big.Int) E, from func(E) *big.Int) {
	t.Helper()
	a = new(big.Int).Mod(a, n)
	b = new(big.Int).Mod(b, n)
	ma, mb := to(a), to(b)
	check := func(op string, got E, want *big.Int) {
		if g := from(got); g.Cmp(want.Mod(want, n)) != 0 {
			t.Fatalf("n = %v: %v %s %v = %v, want %v", n, a, op, b, g, want)
		}
	}
	check("*", m.mul(ma, mb), new(big.Int).Mul(a, b))
	check("+", m.add(ma, mb), new(big.Int).Add(a, b))
	check("-", m.sub(ma, mb), new(big.Int).Sub(a, b))
	inv, ok := m.inverse(ma)
	want := new(big.Int).ModInverse(a, n)
	if ok != (want != nil) {
		t.Fatalf("n = %v: inverse of %v: %v, want %v", n, a, ok, want)
	}
	if ok {
		check("⁻¹ (with)", inv, want)
	}
	d, proper, whole := m.gcd(ma)
	g := new(big.Int).GCD(nil, nil, a, n)
	if m.toBig(d).Cmp(g) != 0 || proper != (g.Cmp(big.NewInt(1)) != 0 && g.Cmp(n) != 0) || whole != (g.Cmp(n) == 0) {
		t.Fatalf("n = %v: gcd(%v) = %v %v %v, want %v", n, a, m.toBig(d), proper, whole, g)
	}
}

// montgomery returns x·R mod n and the way back, for R = 2^bits.
func montgomery(n *big.Int, bits int) (to func(*big.Int) *big.Int, from func(*big.Int) *big.Int) {
	r := new(big.Int).Lsh(big.NewInt(1), uint(bits))
	rinv := new(big.Int).ModInverse(r, n)
	to = func(x *big.Int) *big.Int { return new(big.Int).Mod(new(big.Int).Mul(x, r), n) }
	from = func(x *big.Int) *big.Int { return new(big.Int).Mod(new(big.Int).Mul(x, rinv), n) }
	return to, from
}

// FuzzArith checks the three arithmetics against math/big: n is made odd
// and cut to one word, two words, and the width of its bytes.
func FuzzArith(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte{1, 2, 3}, []byte{0xfe})
	f.Add([]byte{3}, []byte{2}, []byte{0})
	f.Add(make([]byte, 40), []byte{7}, []byte{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9})
	f.Fuzz(func(t *testing.T, nb, ab, bb []byte) {
		a, b := new(big.Int).SetBytes(ab), new(big.Int).SetBytes(bb)
		n := new(big.Int).SetBytes(nb)
		n.SetBit(n, 0, 1)
		if n.BitLen() > 64*maxLimbs {
			n.Rsh(n, uint(n.BitLen()-64*maxLimbs))
			n.SetBit(n, 0, 1)
		}
		if n.Cmp(big.NewInt(3)) < 0 {
			return
		}
		n64 := new(big.Int).And(n, new(big.Int).SetUint64(^uint64(0)))
		if n64.Cmp(big.NewInt(3)) >= 0 {
			m := newMont64(n64.Uint64())
			to, from := montgomery(n64, 64)
			checkArith(t, m, n64, a, b,
				func(x *big.Int) uint64 { return to(x).Uint64() },
				func(x uint64) *big.Int { return from(new(big.Int).SetUint64(x)) })
		}
		if n.BitLen() > 64 && n.BitLen() <= 128 {
			to, from := montgomery(n, 128)
			checkArith(t, newMont128(u128FromBig(n)), n, a, b,
				func(x *big.Int) u128 { return u128FromBig(to(x)) },
				func(x u128) *big.Int { return from(x.big()) })
		}
		if n.BitLen() > 128 {
			checkWide(t, n, a, b)
		}
	})
}

// checkWide checks the arithmetic split would give n.
func checkWide(t *testing.T, n, a, b *big.Int) {
	switch w := (n.BitLen() + 63) / 64; {
	case w <= 3:
		to, from := montgomery(n, 192)
		checkArith(t, newMont192(n), n, a, b,
			func(x *big.Int) u192 { return u192FromBig(to(x)) },
			func(x u192) *big.Int { return from(x.big()) })
	case w <= 4:
		to, from := montgomery(n, 256)
		checkArith(t, newMont256(n), n, a, b,
			func(x *big.Int) u256 { return u256FromBig(to(x)) },
			func(x u256) *big.Int { return from(x.big()) })
	case w <= 5:
		checkN[[5]uint64](t, n, a, b)
	case w <= 8:
		checkN[[8]uint64](t, n, a, b)
	default:
		checkN[[53]uint64](t, n, a, b)
	}
}

func checkN[L limbs](t *testing.T, n, a, b *big.Int) {
	var z L
	to, from := montgomery(n, 64*len(z))
	checkArith(t, newMontN[L](n), n, a, b,
		func(x *big.Int) L { return limbsFromBig[L](to(x)) },
		func(x L) *big.Int { return from(limbsToBig(x)) })
}

// TestArithEdges runs the fuzz checks on the edges of each width: moduli
// just below a power of two and just above, operands 0, 1, n-1.
func TestArithEdges(t *testing.T) {
	for _, bits := range []int{2, 63, 64, 65, 127, 128, 129, 191, 192, 193, 255, 256, 257, 320, 511, 3391} {
		for _, delta := range []int64{-1, 1, 3} {
			n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
			n.Add(n, big.NewInt(delta))
			n.SetBit(n, 0, 1)
			if n.BitLen() > 64*maxLimbs || n.Cmp(big.NewInt(3)) < 0 {
				continue
			}
			nm1 := new(big.Int).Sub(n, big.NewInt(1))
			for _, a := range []*big.Int{big.NewInt(0), big.NewInt(1), nm1, new(big.Int).Rsh(n, 1)} {
				for _, b := range []*big.Int{big.NewInt(0), big.NewInt(1), nm1, new(big.Int).Rsh(n, 2)} {
					if n.BitLen() <= 64 {
						to, from := montgomery(n, 64)
						checkArith(t, newMont64(n.Uint64()), n, a, b,
							func(x *big.Int) uint64 { return to(x).Uint64() },
							func(x uint64) *big.Int { return from(new(big.Int).SetUint64(x)) })
					} else if n.BitLen() <= 128 {
						to, from := montgomery(n, 128)
						checkArith(t, newMont128(u128FromBig(n)), n, a, b,
							func(x *big.Int) u128 { return u128FromBig(to(x)) },
							func(x u128) *big.Int { return from(x.big()) })
					} else {
						checkWide(t, n, a, b)
					}
				}
			}
		}
	}
}

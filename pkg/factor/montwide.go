package factor

import "math/big"

// wideInt is a fixed-width integer of several words held in a struct
// (u192, u256), convertible to and from big.Int.
type wideInt[E any] interface {
	comparable
	big() *big.Int
	fromBig(b *big.Int) E // b must fit; the receiver is not used
}

// montWide holds what mont192 and mont256 share: the modulus and the
// operations that are rare enough to go through math/big (setting up a
// curve, a gcd at the end of a stage). Each type adds its own unrolled
// multiplication, addition and subtraction.
type montWide[E wideInt[E]] struct {
	n     E
	nBig  *big.Int
	ninv  uint64 // -n⁻¹ mod 2^64
	rBits uint   // R = 2^rBits
	r1    E      // R mod n
}

func newMontWide[E wideInt[E]](n *big.Int, rBits uint) montWide[E] {
	m := montWide[E]{nBig: new(big.Int).Set(n), ninv: -inverse64(uint64(n.Bits()[0])), rBits: rBits}
	var z E
	m.n = z.fromBig(n)
	m.r1 = m.times(big.NewInt(1), 1)
	return m
}

// times returns x·R^k mod n.
func (m *montWide[E]) times(x *big.Int, k uint) E {
	var z E
	x = new(big.Int).Lsh(x, k*m.rBits)
	return z.fromBig(x.Mod(x, m.nBig))
}

func (m *montWide[E]) one() E             { return m.r1 }
func (m *montWide[E]) small(x uint64) E   { return m.times(new(big.Int).SetUint64(x), 1) }
func (m *montWide[E]) toBig(d E) *big.Int { return d.big() }

// inverse returns a⁻¹ in Montgomery form: a = xR, and (xR)⁻¹·R² = x⁻¹R.
func (m *montWide[E]) inverse(a E) (E, bool) {
	y := new(big.Int).ModInverse(a.big(), m.nBig)
	if y == nil {
		var z E
		return z, false
	}
	return m.times(y, 2), true
}

func (m *montWide[E]) gcd(a E) (E, bool, bool) {
	d, proper, whole := bigGCD(a.big(), m.nBig)
	var z E
	return z.fromBig(d), proper, whole
}

// bigGCD returns gcd(a, n), whether it is a proper factor of n, and
// whether it is n itself.
func bigGCD(a, n *big.Int) (d *big.Int, proper, whole bool) {
	d = new(big.Int).GCD(nil, nil, a, n)
	whole = d.Cmp(n) == 0
	return d, !whole && d.BitLen() > 1, whole
}

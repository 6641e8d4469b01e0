package factor

import (
	"math/big"
)

// arith is Montgomery arithmetic modulo an odd composite n, on residues of
// type E kept in [0, n). The methods of finding a factor (rho, ECM)
// are written once against it and instantiated for one word (mont64), two
// words (mont128), three and four (mont192, mont256) and wider fixed
// widths (montN).
type arith[E comparable] interface {
	mul(a, b E) E
	add(a, b E) E
	sub(a, b E) E
	one() E                // 1, in Montgomery form
	small(x uint64) E      // x mod n, in Montgomery form
	inverse(a E) (E, bool) // a⁻¹ in Montgomery form; false when gcd(a, n) > 1
	// gcd returns gcd(a, n) as a plain integer and whether it is a proper
	// factor (1 < d < n); whole reports d == n.
	gcd(a E) (d E, proper, whole bool)
	toBig(d E) *big.Int // a plain integer (a factor) as a big.Int

	// The steps of Pollard's rho, in each arithmetic's own code (a call
	// per step through the generic code cost rho half its speed):
	// iterate returns y after k steps of y ← y²+c; walk does the same
	// and multiplies the differences x-y into q.
	iterate(y, c E, k int) E
	walk(x, y, q, c E, k int) (E, E)
}

// powMod returns x^e for a small exponent, by square and multiply.
func powMod[E comparable, A arith[E]](m A, x E, e uint64) E {
	r := m.one()
	for e > 0 {
		if e&1 != 0 {
			r = m.mul(r, x)
		}
		x = m.mul(x, x)
		e >>= 1
	}
	return r
}

// iterateWide and walkWide are the steps of rho for the arithmetics of
// three words and more, where a multiplication is long enough that calling
// it through the generic code costs little (one and two words have their
// own loops).
func iterateWide[E comparable, A arith[E]](m A, y, c E, k int) E {
	for range k {
		y = m.add(m.mul(y, y), c)
	}
	return y
}

func walkWide[E comparable, A arith[E]](m A, x, y, q, c E, k int) (E, E) {
	for range k {
		y = m.add(m.mul(y, y), c)
		q = m.mul(q, m.sub(x, y))
	}
	return y, q
}

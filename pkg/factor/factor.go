// Package factor is the arithmetic core of hms-factors: exact prime
// factorization of every integer below 2^128 and the divisors that follow
// from it.
//
// Numbers below 2^64 take the fast path: trial division by the primes below
// 2^11 (a multiply and a compare each), a deterministic Miller–Rabin test
// with a proven base set, and Pollard–Brent rho with Montgomery
// multiplication on math/bits. Larger numbers use the same plan in 128-bit
// Montgomery arithmetic, with a Baillie–PSW test for primality.
package factor

import (
	"math"
	"math/bits"
	"slices"
)

// trialBound: primes below it are found by trial division; a cofactor below
// trialBound² with no such factor is prime.
const trialBound = 2048

// smallPrime holds an odd prime p with p⁻¹ mod 2^64 and ⌊(2^64-1)/p⌋: p
// divides n exactly when n*inv <= lim, and then n/p == n*inv.
type smallPrime struct{ p, inv, lim, sq uint64 }

var smallPrimes = func() []smallPrime {
	var sieve [trialBound]bool
	var ps []smallPrime
	for i := 3; i < trialBound; i += 2 {
		if sieve[i] {
			continue
		}
		for j := i * i; j < trialBound; j += 2 * i {
			sieve[j] = true
		}
		p := uint64(i)
		ps = append(ps, smallPrime{p, inverse64(p), math.MaxUint64 / p, p * p})
	}
	return ps
}()

// inverse64 returns x⁻¹ mod 2^64 for odd x (Newton's iteration, each step
// doubles the correct low bits; x*3^2 is right to 5 bits).
func inverse64(x uint64) uint64 {
	y := x*3 ^ 2
	for i := 0; i < 4; i++ {
		y *= 2 - x*y
	}
	return y
}

// Factor64 appends the prime factors of n, with multiplicity and in
// ascending order, to dst. Factor64(1) and Factor64(0) append nothing.
func Factor64(n uint64, dst []uint64) []uint64 {
	if n < 2 {
		return dst
	}
	tz := bits.TrailingZeros64(n)
	for i := 0; i < tz; i++ {
		dst = append(dst, 2)
	}
	n >>= uint(tz)
	for i := range smallPrimes {
		sp := &smallPrimes[i]
		if sp.sq > n {
			break
		}
		if q := n * sp.inv; q <= sp.lim {
			for { // p divides n: take out every power
				dst = append(dst, sp.p)
				n = q
				if q = n * sp.inv; q > sp.lim {
					break
				}
			}
		}
	}
	if n == 1 {
		return dst
	}
	if n < trialBound*trialBound {
		return append(dst, n)
	}
	mark := len(dst)
	dst = factorLarge64(n, dst)
	if len(dst)-mark > 1 {
		slices.Sort(dst[mark:])
	}
	return dst
}

// factorLarge64 appends the prime factors of n, which is odd and has no
// prime factor below trialBound, in no particular order.
func factorLarge64(n uint64, dst []uint64) []uint64 {
	for n > 1 {
		if n < trialBound*trialBound || isPrimeOdd64(n) {
			return append(dst, n)
		}
		if r := isqrt64(n); r*r == n {
			// A square (often of a large prime) would cost rho its full
			// sqrt(p) steps; take the root and count it twice.
			mark := len(dst)
			dst = factorLarge64(r, dst)
			return append(dst, dst[mark:]...)
		}
		d := uint64(0)
		m := newMont64(n)
		for c := uint64(1); d == 0; c++ {
			d = m.rho(c)
		}
		dst = factorLarge64(d, dst)
		n /= d
	}
	return dst
}

// IsPrime64 reports whether n is prime; it is exact for every uint64.
func IsPrime64(n uint64) bool {
	if n < 2 {
		return false
	}
	if n&1 == 0 {
		return n == 2
	}
	for i := range smallPrimes {
		p := smallPrimes[i].p
		if p*p > n {
			return true
		}
		if n%p == 0 {
			return n == p
		}
	}
	return isPrimeOdd64(n)
}

// isPrimeOdd64 is the Miller–Rabin test for odd n >= 3 with base sets
// that are proven to make it exact: {2, 7, 61} below 4,759,123,141
// (Jaeschke), then the smallest known sets by size (Worley, Sinclair,
// Berg; miller-rabin.appspot.com), ending with Sinclair's seven bases for
// all of 64 bits. Fewer bases for smaller n is what makes ranges like
// 10^12… cheap.
func isPrimeOdd64(n uint64) bool {
	var bases []uint64
	switch {
	case n < 1<<32:
		bases = []uint64{2, 7, 61}
	case n < 350269456337:
		bases = []uint64{4230279247111683200, 14694767155120705706, 16641139526367750375}
	case n < 55245642489451:
		bases = []uint64{2, 141889084524735, 1199124725622454117, 11096072698276303650}
	case n < 7999252175582851:
		bases = []uint64{2, 4130806001517, 149795463772692060, 186635894390467037, 3967304179347715805}
	case n < 585226005592931977:
		bases = []uint64{2, 123635709730000, 9233062284813009, 43835965440333360, 761179012939631437, 1263739024124850375}
	default:
		bases = []uint64{2, 325, 9375, 28178, 450775, 9780504, 1795265022}
	}
	m := newMont64(n)
	for _, a := range bases {
		if !m.strongProbablePrime(a) {
			return false
		}
	}
	return true
}

// mont64 is Montgomery arithmetic modulo an odd n with R = 2^64.
type mont64 struct {
	n, ninv uint64 // ninv = n⁻¹ mod 2^64
	one     uint64 // R mod n
	r2      uint64 // R² mod n
}

func newMont64(n uint64) *mont64 {
	one := -n % n
	_, r2 := bits.Div64(one, 0, n)
	return &mont64{n: n, ninv: inverse64(n), one: one, r2: r2}
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
	minusOne := n - m.one
	if x == m.one || x == minusOne {
		return true
	}
	for ; s > 1; s-- {
		x = m.mul(x, x)
		if x == minusOne {
			return true
		}
		if x == m.one {
			return false
		}
	}
	return false
}

func (m *mont64) pow(x, e uint64) uint64 {
	r := m.one
	for e > 0 {
		if e&1 != 0 {
			r = m.mul(r, x)
		}
		x = m.mul(x, x)
		e >>= 1
	}
	return r
}

// rho runs Pollard–Brent rho with f(x) = x²+c (in Montgomery form) and
// returns a proper factor of n, or 0 if this c failed.
func (m *mont64) rho(c uint64) uint64 {
	const batch = 128
	n := m.n
	c = m.to(c)
	y, x, ys := m.to(2), uint64(0), uint64(0)
	q := m.one
	g := uint64(1)
	f := func(v uint64) uint64 {
		v = m.mul(v, v) + c
		if v >= n || v < c {
			v -= n
		}
		return v
	}
	for r := 1; g == 1; r <<= 1 {
		x = y
		for i := 0; i < r; i++ {
			y = f(y)
		}
		for k := 0; k < r && g == 1; k += batch {
			ys = y
			for i := 0; i < batch && i < r-k; i++ {
				y = f(y)
				q = m.mul(q, absDiff(x, y))
			}
			g = gcd64(q, n)
		}
		if r > 1<<40 { // cannot happen for 64-bit n; a guard, not a limit
			return 0
		}
	}
	if g == n {
		for {
			ys = f(ys)
			g = gcd64(absDiff(x, ys), n)
			if g != 1 {
				break
			}
		}
	}
	if g == n {
		return 0
	}
	return g
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
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

// isqrt64 returns ⌊√n⌋.
func isqrt64(n uint64) uint64 {
	r := uint64(math.Sqrt(float64(n)))
	for r > 0 && (r > math.MaxUint32 || r*r > n) {
		r--
	}
	for r+1 <= math.MaxUint32 && (r+1)*(r+1) <= n {
		r++
	}
	return r
}

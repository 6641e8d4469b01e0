// Package factor is the arithmetic core of hms-factors: exact prime
// factorization of integers of any size up to MaxDigits digits, and the
// divisors that follow from it.
//
// Every number goes through trial division by the primes below 2^11; what
// is left is tested for primality (a deterministic Miller–Rabin test below
// 2^64, Baillie–PSW above) and for being a perfect power, then split by the
// method that is fastest for its size (plan.go): Hart's one-line method for
// small cofactors, Pollard–Brent rho for small factors, and Lenstra's
// elliptic curve method (ECM, stage 1 and 2, ecm.go) for the rest. The
// methods are written once over Montgomery arithmetic (arith.go) in one
// word (mont64), two (mont128), three and four (mont192, mont256, unrolled)
// and wider fixed widths (montN). Curves come from a seeded sequence: the
// same number always gets the same work.
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
		d := split64(n)
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

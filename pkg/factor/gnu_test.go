package factor

import (
	"context"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// sizeClass is a named set of test numbers.
type sizeClass struct {
	name string
	ns   []*big.Int
}

// TestAgreesWithGNUFactorClasses compares Factor with GNU factor (coreutils
// with GMP, required) on thousands of numbers of every kind and size that
// GNU factor finishes in reasonable time: its rho needs about √p steps for
// the second-largest prime factor p, so p stays below 2^32 in numbers
// above 2^80 here, but for a few products of two 48-bit primes.
func TestAgreesWithGNUFactorClasses(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	classes := []sizeClass{
		{"random, 65 to 80 bits", randomBits(r, 65, 80, 1000)},
		{"products of primes of up to 32 bits and one large prime, 81 to 400 bits", productsOfPrimes(r, 81, 400, 32, 600)},
		{"smooth, up to 1000 bits", smooth(r, 1000, 200)},
		{"semiprimes, two primes of 20 to 40 bits", semiprimes(r, 20, 40, 300)},
		{"semiprimes, two 48-bit primes", semiprimes(r, 48, 48, 3)},
		{"prime powers of primes of up to 32 bits, up to 300 bits", primePowers(r, 300, 120)},
		{"Carmichael numbers (6k+1)(12k+1)(18k+1), up to 96 bits", carmichaels(r, 96, 150)},
		{"strong pseudoprimes to many bases", strongPseudoprimes()},
		{"near 2^64 and 2^128", near(r, []int{64, 128}, 400)},
		{"primes of 50 to 100 digits", primesOfDigits(r, 50, 100, 100)},
		{"50 to 100 digits: primes of up to 32 bits and one large prime", productsOfPrimes(r, 167, 333, 32, 300)},
	}
	var in strings.Builder
	total := 0
	for _, c := range classes {
		if len(c.ns) == 0 {
			t.Fatalf("class %q is empty", c.name)
		}
		for _, n := range c.ns {
			in.WriteString(n.String() + "\n")
		}
		total += len(c.ns)
	}
	if total < 3000 {
		t.Fatalf("only %d numbers", total)
	}
	// coreutils 9.1 may print numbers above 2^127 out of input order:
	// compare number by number.
	byN := map[string]string{}
	for _, line := range gnuFactor(t, in.String()) {
		k, _, _ := strings.Cut(line, ":")
		byN[k] = line
	}
	for _, c := range classes {
		for _, n := range c.ns {
			ps, err := Factor(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := formatFactorLine(n, ps), byN[n.String()]; got != want {
				t.Fatalf("%s: got %q, GNU factor says %q", c.name, got, want)
			}
		}
	}
}

func randomBits(r *rand.Rand, lo, hi, count int) []*big.Int {
	var ns []*big.Int
	for range count {
		b := lo + r.IntN(hi-lo+1)
		n := randomInt(r, b)
		n.SetBit(n, b-1, 1)
		ns = append(ns, n)
	}
	return ns
}

// randomInt returns a random number of at most b bits.
func randomInt(r *rand.Rand, b int) *big.Int {
	n := new(big.Int)
	for i := 0; i < b; i += 64 {
		n.Lsh(n, 64).Or(n, new(big.Int).SetUint64(r.Uint64()))
	}
	return n.Rsh(n, uint(n.BitLen()-min(n.BitLen(), b)))
}

// productsOfPrimes returns numbers of lo to hi bits: primes of up to
// maxFactor bits times one large prime that fills the rest.
func productsOfPrimes(r *rand.Rand, lo, hi, maxFactor, count int) []*big.Int {
	var ns []*big.Int
	for len(ns) < count {
		b := lo + r.IntN(hi-lo+1)
		n := big.NewInt(1)
		for n.BitLen() < b-maxFactor-8 {
			n.Mul(n, randomPrime(r, 2+r.IntN(maxFactor-1)))
		}
		if rest := b - n.BitLen(); rest >= 2 {
			n.Mul(n, provablePrime(r, rest))
		}
		ns = append(ns, n)
	}
	return ns
}

func smooth(r *rand.Rand, maxBits, count int) []*big.Int {
	var ns []*big.Int
	for range count {
		n := big.NewInt(1)
		limit := 1 + r.IntN(maxBits)
		for n.BitLen() < limit {
			n.Mul(n, big.NewInt(int64(2+r.IntN(5000))))
		}
		ns = append(ns, n)
	}
	return ns
}

func semiprimes(r *rand.Rand, lo, hi, count int) []*big.Int {
	var ns []*big.Int
	for range count {
		p := randomPrime(r, lo+r.IntN(hi-lo+1))
		q := randomPrime(r, lo+r.IntN(hi-lo+1))
		ns = append(ns, new(big.Int).Mul(p, q))
	}
	return ns
}

// primePowers returns p^k and p^k·q for primes of up to 32 bits.
func primePowers(r *rand.Rand, maxBits, count int) []*big.Int {
	var ns []*big.Int
	for len(ns) < count {
		p := randomPrime(r, 2+r.IntN(31))
		k := 2 + r.IntN(maxBits/p.BitLen())
		n := new(big.Int).Exp(p, big.NewInt(int64(k)), nil)
		if len(ns)%3 == 0 {
			n.Mul(n, randomPrime(r, 2+r.IntN(30)))
		}
		if n.BitLen() <= maxBits+32 {
			ns = append(ns, n)
		}
	}
	return ns
}

// carmichaels returns Chernick's (6k+1)(12k+1)(18k+1) with all three
// factors prime: Carmichael numbers, which fool Fermat tests.
func carmichaels(r *rand.Rand, maxBits, count int) []*big.Int {
	var ns []*big.Int
	for len(ns) < count {
		k := randomInt(r, 1+r.IntN(maxBits/3-5))
		f := func(m int64) *big.Int {
			x := new(big.Int).Mul(k, big.NewInt(m))
			return x.Add(x, big.NewInt(1))
		}
		a, b, c := f(6), f(12), f(18)
		if a.ProbablyPrime(20) && b.ProbablyPrime(20) && c.ProbablyPrime(20) {
			ns = append(ns, new(big.Int).Mul(a, new(big.Int).Mul(b, c)))
		}
	}
	return ns
}

// strongPseudoprimes are composites that pass the strong probable prime
// test to many bases: the least for the prime bases up to 11, 17, 23, 29,
// 31, 41 (Jaeschke; Jiang and Deng, above 2^64).
func strongPseudoprimes() []*big.Int {
	var ns []*big.Int
	for _, s := range []string{
		"2047", "3215031751", "2152302898747", "3474749660383", "341550071728321",
		"3825123056546413051", "318665857834031151167461", "3317044064679887385961981",
	} {
		ns = append(ns, mustBig(s))
	}
	return ns
}

// near returns numbers close to 2^b for each b: the first primes below
// and above it, 2^b±1, and count/2 products p·q of b bits, p of up to 32
// bits.
func near(r *rand.Rand, bs []int, count int) []*big.Int {
	var ns []*big.Int
	for _, b := range bs {
		p := new(big.Int).Lsh(big.NewInt(1), uint(b))
		ns = append(ns, new(big.Int).Sub(p, big.NewInt(1)), p)
		if b <= 64 {
			ns = append(ns, new(big.Int).Add(p, big.NewInt(1)))
		}
		for range count / 2 {
			small := randomPrime(r, 2+r.IntN(31))
			ns = append(ns, new(big.Int).Mul(small, provablePrime(r, b-small.BitLen())))
		}
		below, above := new(big.Int).Set(p), new(big.Int).Set(p)
		for !below.ProbablyPrime(20) {
			below.Sub(below, big.NewInt(1))
		}
		for !above.ProbablyPrime(20) {
			above.Add(above, big.NewInt(1))
		}
		ns = append(ns, below, above)
	}
	return ns
}

func primesOfDigits(r *rand.Rand, lo, hi, count int) []*big.Int {
	var ns []*big.Int
	for range count {
		ns = append(ns, provablePrime(r, (lo+r.IntN(hi-lo+1))*3322/1000))
	}
	return ns
}

// provablePrime returns a prime of about b bits whose p-1 has only small
// factors: GNU factor proves the primality of a large factor by a Lucas
// test that factors p-1, which for a random p can take it hours.
func provablePrime(r *rand.Rand, b int) *big.Int {
	if b <= 40 {
		return randomPrime(r, b)
	}
	for {
		m := big.NewInt(2)
		for m.BitLen() < b-20 {
			m.Mul(m, randomPrime(r, 2+r.IntN(19)))
		}
		m.Mul(m, big.NewInt(int64(r.IntN(1<<19)+1)))
		if p := new(big.Int).Add(m, big.NewInt(1)); p.ProbablyPrime(20) {
			return p
		}
	}
}

package factor

import (
	"context"
	"math/big"
	"math/bits"
	"math/rand/v2"
)

// ecmLevel is a number of curves with the same bounds, aimed at factors
// of a size.
type ecmLevel struct {
	bits   int // the factor size the bounds are best for
	b1     uint64
	curves int
}

// ecmLevels is the schedule for numbers above 2^64, one level per factor
// size. Up to 64 bits the bounds are the measured best (the fewest
// multiplications per factor found, TestTuneECM), above they follow
// GMP-ECM's table. B2 = 100·B1: with stage 2 in affine coordinates it
// took 4% fewer multiplications per factor than 50·B1 at 48 bits and 9%
// fewer at 64 (the counts of curves below are from 50·B1, when the
// levels were measured; 100·B1 needs fewer). Each level runs about half the
// expected number of curves for its size (a factor that size is found at
// the first level for it about two times in five, later levels find it
// faster still); a number uses the levels up to the size of its square
// root, and the last it uses runs until a factor is found.
var ecmLevels = []ecmLevel{
	{bits: 32, b1: 165, curves: 4},     // measured: 8 curves expected
	{bits: 40, b1: 450, curves: 8},     // 16
	{bits: 48, b1: 2200, curves: 10},   // 19
	{bits: 56, b1: 5000, curves: 24},   // 48
	{bits: 64, b1: 12000, curves: 42},  // 84
	{bits: 72, b1: 25000, curves: 150}, // from here on, extrapolated
	{bits: 83, b1: 50000, curves: 300},
	{bits: 100, b1: 250000, curves: 700},
	{bits: 116, b1: 1000000, curves: 1800},
	{bits: 133, b1: 3000000, curves: 5000},
	{bits: 150, b1: 11000000, curves: 10000},
}

// b2 is the stage-2 bound of a level.
func (lv ecmLevel) b2() uint64 { return 100 * lv.b1 }

// rhoSteps is how long Pollard rho runs on a number above 2^64 before ECM
// takes over: it finds factors of up to about 24 bits with fewer
// multiplications than a first curve costs.
const rhoSteps = 4096

// splitWith returns a proper factor of the composite n (not a perfect
// power, no factor below trialBound) held by m: rho for small factors,
// then ECM by levels until a factor is found or ctx is done. With sieve,
// the quadratic sieve takes over from ECM once the levels reach factors
// of a third of n's size (sieveAfter).
func splitWith[E comparable, A arith[E]](ctx context.Context, m A, n *big.Int, sieve bool) (*big.Int, error) {
	if d, ok := rho(m, 1, rhoSteps); ok {
		return m.toBig(d), nil
	}
	nbits := n.BitLen()
	sqrtBits := (nbits + 1) / 2
	sigmas := newSigmas()
	for i, lv := range ecmLevels {
		if sieve && lv.bits > sieveAfter(nbits) {
			if d, err := sieveSplit(ctx, n); d != nil || err != nil {
				return d, err
			}
			sieve = false // the sieve failed (rare): ECM goes on
		}
		last := i == len(ecmLevels)-1 || ecmLevels[i+1].bits > sqrtBits
		for c := 0; last || c < lv.curves; c++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if d, ok := ecmCurve(ctx, m, sigmas.next(), lv.b1, lv.b2()); ok {
				return m.toBig(d), nil
			}
		}
	}
	panic("unreachable: the last level runs until it finds a factor")
}

// sigmas is the sequence of curve parameters: pseudo-random but seeded, so
// the same number always gets the same curves.
type sigmas struct{ r *rand.Rand }

func newSigmas() sigmas { return sigmas{rand.New(rand.NewPCG(0x686d73, 0x65636d))} }

// next returns a sigma in [6, 2^32), where σ²-5 and 4σ fit in a word.
func (s sigmas) next() uint64 { return 6 + s.r.Uint64N(1<<32-6) }

// Below 2^64 the methods by the size of the composite cofactor n (which
// has no prime factor below trialBound), from BenchmarkSplit64 (CPU time
// to split a product of two primes of equal size, the hardest case):
//
//   - below 2^33, Hart's one-line method: 0.9 µs at 24 bits where rho
//     takes 1.6, 5.2 against 6.3 at 32 bits, slower from 36 bits (and a
//     rho fallback for the rare miss). Shanks' SQUFOF, the other method
//     of its kind, was slower than both at every size (1.6, 2.8, 7.0 µs at
//     24, 28, 32 bits);
//   - Pollard–Brent rho for 2048 steps, which finds the factors of up to
//     about 20 bits sooner than a curve would;
//   - from 2^52, ECM with bounds by the size of n: even with rho at 52
//     bits, 168 µs against rho's 227 at 56 bits, 251 against 535 at 62
//     (at 48 bits rho is faster: 55 µs against 72);
//   - rho until it succeeds, for everything else.
const (
	hartBits    = 33
	rho64Steps  = 2048
	ecm64Curves = 200 // a guard: no 64-bit number has needed a tenth of this
)

// ecm64Table holds the ECM bounds for composites below 2^64, smallest
// first: each is the measured best for a factor size (TestTuneECM). A
// number tries a few curves with each whose factor size fits below its
// square root, and runs the last of them until a factor is found.
var ecm64Table = []struct {
	minBits int // for n of at least this many bits
	b1      uint64
	curves  int
}{
	{minBits: 52, b1: 125, curves: 3},
	{minBits: 56, b1: 165, curves: 6},
	{minBits: 62, b1: 205, curves: 0},
}

// split64 returns a proper factor of the odd composite n, which is not a
// square and has no prime factor below trialBound.
func split64(n uint64) uint64 {
	nbits := bits.Len64(n)
	if nbits < hartBits {
		if d := hart(n, hartMaxK(n)); d != 0 {
			return d
		}
	}
	m := newMont64(n)
	if nbits < ecm64Table[0].minBits {
		return rhoUntil(m)
	}
	if d, ok := rho(m, 1, rho64Steps); ok {
		return d
	}
	sigmas := newSigmas()
	curves := 0
	for i, row := range ecm64Table {
		last := i == len(ecm64Table)-1 || ecm64Table[i+1].minBits > nbits
		for c := 0; (last || c < row.curves) && curves < ecm64Curves; c++ {
			curves++
			if d, ok := ecmCurve(context.Background(), m, sigmas.next(), row.b1, 25*row.b1); ok {
				return d
			}
		}
		if last {
			break
		}
	}
	return rhoUntil(m)
}

// rhoUntil runs rho, with another c each time the cycle closes without a
// factor, until it finds one.
func rhoUntil(m *mont64) uint64 {
	for c := uint64(1); ; c++ {
		if d, ok := rho(m, c, 0); ok {
			return d
		}
	}
}

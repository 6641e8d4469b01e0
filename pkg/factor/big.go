package factor

import (
	"context"
	"math/big"
	"math/bits"
	"slices"
)

// MaxDigits is the longest number, in decimal digits, that Factor takes.
// The arithmetic has fixed widths up to that size (53 words); the limit
// also keeps a single primality test or curve within seconds.
const MaxDigits = 1000

// Factor returns the prime factors of n >= 1, with multiplicity and in
// ascending order (none for 1). Numbers of any size up to MaxDigits
// digits are factored exactly; how long it takes depends on the size of
// the second-largest prime factor, and below 2^200 it is bounded by the
// quadratic sieve's time for n's size. When ctx is done Factor stops, between
// steps of the methods that can take long, and returns ctx's error.
func Factor(ctx context.Context, n *big.Int) ([]*big.Int, error) {
	f := factorer{ctx: ctx}
	rest := f.trialDivide(n)
	err := f.cofactor(rest)
	slices.SortFunc(f.primes, (*big.Int).Cmp)
	return f.primes, err
}

// Quick returns the prime factors of n >= 1 when they take no search: when
// what is left after trial division is 1, a prime, or below 2^64. It
// reports false, having done little work, when Factor is needed.
func Quick(n *big.Int) ([]*big.Int, bool) {
	f := factorer{}
	rest := f.trialDivide(n)
	if rest.BitLen() > 64 && !IsPrime(rest) {
		return nil, false
	}
	f.cofactor(rest) // cannot fail: no search is left to do
	slices.SortFunc(f.primes, (*big.Int).Cmp)
	return f.primes, true
}

// IsPrime reports whether n is prime: exact below 2^64; above, by the
// Baillie–PSW test (a strong base-2 test and a strong Lucas test), which
// has no known counterexample.
func IsPrime(n *big.Int) bool {
	if n.Sign() <= 0 {
		return false
	}
	if n.BitLen() <= 64 {
		return IsPrime64(n.Uint64())
	}
	return n.ProbablyPrime(0)
}

type factorer struct {
	ctx    context.Context
	primes []*big.Int
}

func (f *factorer) add64(ps []uint64) {
	for _, p := range ps {
		f.primes = append(f.primes, new(big.Int).SetUint64(p))
	}
}

// trialDivide records the prime factors below trialBound and returns what
// is left. Remainders are taken by products of several small primes, one
// word division per word of n each.
func (f *factorer) trialDivide(n *big.Int) *big.Int {
	if n.BitLen() <= 64 {
		f.add64(Factor64(n.Uint64(), nil))
		return big.NewInt(1)
	}
	n = new(big.Int).Set(n)
	if tz := n.TrailingZeroBits(); tz > 0 {
		for range tz {
			f.primes = append(f.primes, big.NewInt(2))
		}
		n.Rsh(n, tz)
	}
	var q, r big.Int
	for _, g := range trialGroups {
		if n.BitLen() <= 64 {
			break
		}
		rem := modWord(n, g.product)
		for _, p := range g.primes {
			if rem%p != 0 {
				continue
			}
			pb := new(big.Int).SetUint64(p)
			for q.QuoRem(n, pb, &r); r.Sign() == 0; q.QuoRem(n, pb, &r) {
				f.primes = append(f.primes, new(big.Int).Set(pb))
				n.Set(&q)
			}
		}
	}
	if n.BitLen() <= 64 {
		f.add64(Factor64(n.Uint64(), nil))
		return big.NewInt(1)
	}
	return n
}

// trialGroup is a run of odd primes below trialBound and their product,
// which fits in a word.
type trialGroup struct {
	product uint64
	primes  []uint64
}

var trialGroups = func() []trialGroup {
	var gs []trialGroup
	g := trialGroup{product: 1}
	for _, sp := range smallPrimes {
		if hi, _ := bits.Mul64(g.product, sp.p); hi != 0 {
			gs = append(gs, g)
			g = trialGroup{product: 1}
		}
		g.product *= sp.p
		g.primes = append(g.primes, sp.p)
	}
	return append(gs, g)
}()

// modWord returns n mod d for a word d.
func modWord(n *big.Int, d uint64) uint64 {
	ws := n.Bits()
	var r uint64
	for i := len(ws) - 1; i >= 0; i-- {
		_, r = bits.Div64(r, uint64(ws[i]), d)
	}
	return r
}

// cofactor records the prime factors of n, which is 1 or has no prime
// factor below trialBound.
func (f *factorer) cofactor(n *big.Int) error {
	switch {
	case n.BitLen() <= 64:
		if n.Uint64() > 1 {
			f.add64(factorLarge64(n.Uint64(), nil))
		}
		return nil
	case IsPrime(n):
		f.primes = append(f.primes, n)
		return nil
	}
	if r, k := perfectPower(n); k > 1 {
		mark := len(f.primes)
		if err := f.cofactor(r); err != nil {
			return err
		}
		root := f.primes[mark:]
		for range k - 1 {
			f.primes = append(f.primes, root...)
		}
		return nil
	}
	d, err := f.split(n)
	if err != nil {
		return err
	}
	if err := f.cofactor(d); err != nil {
		return err
	}
	return f.cofactor(new(big.Int).Quo(n, d))
}

// perfectPower returns r and the largest prime k with r^k == n when n is
// a perfect power (k == 1 otherwise). A square or cube of a large prime
// would cost the search methods dearly; a root costs microseconds.
func perfectPower(n *big.Int) (*big.Int, int) {
	for _, k := range primesUpTo(uint64(n.BitLen()) / 11) { // roots below trialBound were divided out
		if r, ok := exactRoot(n, int(k)); ok {
			return r, int(k)
		}
	}
	return n, 1
}

// exactRoot returns r with r^k == n if there is one.
func exactRoot(n *big.Int, k int) (*big.Int, bool) {
	if k == 2 {
		r := new(big.Int).Sqrt(n)
		return r, new(big.Int).Mul(r, r).Cmp(n) == 0
	}
	// Newton's method on integers, from above.
	x := new(big.Int).Lsh(big.NewInt(1), uint(n.BitLen()/k+1))
	kk := big.NewInt(int64(k))
	km1 := big.NewInt(int64(k - 1))
	for {
		// y = ((k-1)x + n/x^(k-1)) / k
		t := new(big.Int).Exp(x, km1, nil)
		t.Quo(n, t)
		y := new(big.Int).Mul(x, km1)
		y.Add(y, t).Quo(y, kk)
		if y.Cmp(x) >= 0 {
			break
		}
		x = y
	}
	return x, new(big.Int).Exp(x, kk, nil).Cmp(n) == 0
}

// split returns a proper factor of the composite n (> 2^64, odd, no small
// factors, not a perfect power), in the narrowest arithmetic that holds n.
func (f *factorer) split(n *big.Int) (*big.Int, error) {
	sieve := n.BitLen() <= qsMaxBits
	switch w := (n.BitLen() + 63) / 64; {
	case w <= 2:
		return splitWith(f.ctx, newMont128(u128FromBig(n)), n, sieve)
	case w <= 3:
		return splitWith(f.ctx, newMont192(n), n, sieve)
	case w <= 4:
		return splitWith(f.ctx, newMont256(n), n, sieve)
	case w <= 5:
		return splitN[[5]uint64](f.ctx, n)
	case w <= 6:
		return splitN[[6]uint64](f.ctx, n)
	case w <= 8:
		return splitN[[8]uint64](f.ctx, n)
	case w <= 11:
		return splitN[[11]uint64](f.ctx, n)
	case w <= 16:
		return splitN[[16]uint64](f.ctx, n)
	case w <= 24:
		return splitN[[24]uint64](f.ctx, n)
	case w <= 36:
		return splitN[[36]uint64](f.ctx, n)
	default:
		return splitN[[53]uint64](f.ctx, n)
	}
}

func splitN[L limbs](ctx context.Context, n *big.Int) (*big.Int, error) {
	return splitWith(ctx, newMontN[L](n), n, false)
}

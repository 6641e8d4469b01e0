package factor

import (
	"math/big"
	"sync"
)

// primesUpTo returns the primes <= limit, by a sieve of Eratosthenes over
// the odd numbers.
func primesUpTo(limit uint64) []uint64 {
	if limit < 2 {
		return nil
	}
	composite := make([]bool, limit/2+1) // composite[i]: 2i+1
	ps := []uint64{2}
	for i := uint64(1); 2*i+1 <= limit; i++ {
		if composite[i] {
			continue
		}
		p := 2*i + 1
		ps = append(ps, p)
		for j := p * p / 2; j < uint64(len(composite)); j += p {
			composite[j] = true
		}
	}
	return ps
}

// cache memoizes a value per key, computed once even when several
// goroutines ask at the same time: stage-1 scalars and stage-2 tables are
// shared by every curve and every worker with the same bounds.
type cache[K comparable, V any] struct {
	m sync.Map // K -> *cacheEntry[V]
}

type cacheEntry[V any] struct {
	once sync.Once
	v    V
}

func (c *cache[K, V]) get(k K, make func() V) V {
	e, _ := c.m.LoadOrStore(k, &cacheEntry[V]{})
	entry := e.(*cacheEntry[V])
	entry.once.Do(func() { entry.v = make() })
	return entry.v
}

var stage1Scalars cache[uint64, []uint64]

// stage1Scalar returns the product of the largest powers of the primes
// <= b1 that are <= b1, as little-endian words: the multiplier of ECM
// stage 1.
func stage1Scalar(b1 uint64) []uint64 {
	return stage1Scalars.get(b1, func() []uint64 {
		ps := primesUpTo(b1)
		for i, p := range ps {
			for ps[i] <= b1/p {
				ps[i] *= p
			}
		}
		k := productOf(ps)
		ws := make([]uint64, len(k.Bits()))
		for i, w := range k.Bits() {
			ws[i] = uint64(w)
		}
		return ws
	})
}

// productOf multiplies xs as a balanced tree, so that the cost is that of a
// few multiplications of the final size rather than one per factor.
func productOf(xs []uint64) *big.Int {
	switch len(xs) {
	case 0:
		return big.NewInt(1)
	case 1:
		return new(big.Int).SetUint64(xs[0])
	}
	h := len(xs) / 2
	return new(big.Int).Mul(productOf(xs[:h]), productOf(xs[h:]))
}

// oddPrimeSet is a sieve of the odd numbers up to a limit, one bit each.
type oddPrimeSet []uint64

func newOddPrimeSet(limit uint64) oddPrimeSet {
	n := limit/2 + 1 // bit i: 2i+1
	composite := make(oddPrimeSet, (n+63)/64)
	composite[0] |= 1 // 1 is not prime
	for i := uint64(1); ; i++ {
		p := 2*i + 1
		if p*p > limit {
			break
		}
		if composite[i/64]>>(i%64)&1 != 0 {
			continue
		}
		for j := p * p / 2; j < n; j += p {
			composite[j/64] |= 1 << (j % 64)
		}
	}
	return composite
}

// has reports whether the odd number x is prime.
func (s oddPrimeSet) has(x uint64) bool {
	i := x / 2
	return s[i/64]>>(i%64)&1 == 0
}

// stage2Plan is the work of ECM stage 2 for given bounds, shared by all
// curves: which baby steps pair with which giant steps.
type stage2Plan struct {
	d      uint64    // the giant step
	babies []uint64  // odd j < d/2 coprime to d, ascending
	first  uint64    // the first giant step is first·d
	pairs  [][]uint8 // pairs[i]: the babies paired with giant step first+i
}

var stage2Plans cache[[2]uint64, *stage2Plan]

// stage2For returns the stage-2 plan for primes in (b1, b2], b1 >= 30.
func stage2For(b1, b2 uint64) *stage2Plan {
	return stage2Plans.get([2]uint64{b1, b2}, func() *stage2Plan {
		// The baby steps cost about d/4 point additions, the giant steps
		// (b2-b1)/d: take the cheapest d whose first giant step is >= 1.
		plan := &stage2Plan{d: 30}
		for _, d := range []uint64{60, 210, 2310} {
			if d/2 <= b1 && d/4+(b2-b1)/d < plan.d/4+(b2-b1)/plan.d {
				plan.d = d
			}
		}
		d := plan.d
		for j := uint64(1); j < d/2; j += 2 {
			if gcd64(j, d) == 1 {
				plan.babies = append(plan.babies, j)
			}
		}
		plan.first = (b1 + d/2) / d
		last := (b2 + d/2) / d
		primes := newOddPrimeSet(last*d + d)
		for m := plan.first; m <= last; m++ {
			var js []uint8
			for i, j := range plan.babies {
				lo, hi := m*d-j, m*d+j
				if lo > b1 && lo <= b2 && primes.has(lo) || hi > b1 && hi <= b2 && primes.has(hi) {
					js = append(js, uint8(i))
				}
			}
			plan.pairs = append(plan.pairs, js)
		}
		return plan
	})
}

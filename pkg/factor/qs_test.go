package factor

import (
	"context"
	"flag"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// balancedSemiprime returns p·q for random primes of half of b bits each.
func balancedSemiprime(r *rand.Rand, b int) *big.Int {
	for {
		n := new(big.Int).Mul(randomPrime(r, b/2), randomPrime(r, b-b/2))
		if n.BitLen() == b {
			return n
		}
	}
}

// balancedSemiprimes returns count products of two primes of half of b
// bits each.
func balancedSemiprimes(r *rand.Rand, b, count int) []*big.Int {
	ns := make([]*big.Int, count)
	for i := range ns {
		ns[i] = balancedSemiprime(r, b)
	}
	return ns
}

func TestSieveSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 34))
	sizes := []int{65, 70, 80, 90, 96, 100, 110, 120, 128, 136, 150, 170}
	if testing.Short() {
		sizes = []int{70, 96}
	}
	for _, b := range sizes {
		for i := range 6 {
			var n *big.Int
			switch i {
			case 4: // three primes
				n = new(big.Int).Mul(randomPrime(r, b/3), randomPrime(r, b/3))
				n.Mul(n, randomPrime(r, b-2*(b/3)))
			case 5: // unbalanced
				n = new(big.Int).Mul(randomPrime(r, b/3), randomPrime(r, b-b/3))
			default:
				n = balancedSemiprime(r, b)
			}
			d, err := sieveSplit(context.Background(), n)
			if err != nil || d == nil {
				t.Fatalf("%d bits: sieveSplit(%v) = %v, %v", b, n, d, err)
			}
			if new(big.Int).Mod(n, d).Sign() != 0 || d.Cmp(big.NewInt(1)) <= 0 || d.Cmp(n) >= 0 {
				t.Fatalf("%d bits: sieveSplit(%v) = %v, not a proper factor", b, n, d)
			}
		}
	}
}

// The sieve's largest size, once: a product of two 100-bit primes, which
// ECM would need hours for.
func TestSieveSplitLargest(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of work; the short tests cover the sieve at 70 and 96 bits")
	}
	n := balancedSemiprime(rand.New(rand.NewPCG(56, 78)), qsMaxBits)
	d, err := sieveSplit(context.Background(), n)
	if err != nil || d == nil || new(big.Int).Mod(n, d).Sign() != 0 || d.BitLen() != qsMaxBits/2 {
		t.Fatalf("sieveSplit(%v) = %v, %v", n, d, err)
	}
}

// Primes of the factor base larger than the sieve interval (hit at most
// once a polynomial) are sieved right.
func TestSieveSplitPrimesBeyondInterval(t *testing.T) {
	defer func(s []qsSize) { qsSizes = s }(qsSizes)
	qsSizes = []qsSize{{bits: 64, primes: 400, half: 1024}}
	r := rand.New(rand.NewPCG(5, 6))
	for range 4 {
		n := balancedSemiprime(r, 90)
		if d, err := sieveSplit(context.Background(), n); d == nil || err != nil || new(big.Int).Mod(n, d).Sign() != 0 {
			t.Fatalf("sieveSplit(%v) = %v, %v", n, d, err)
		}
	}
}

// A sieve called off returns ctx's error.
func TestSieveSplitCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := balancedSemiprime(rand.New(rand.NewPCG(9, 10)), 120)
	if d, err := sieveSplit(ctx, n); d != nil || err != context.Canceled {
		t.Fatalf("got %v, %v", d, err)
	}
}

func TestJacobiAndSqrtModPrime(t *testing.T) {
	for _, p := range primesUpTo(2000)[1:] {
		for a := uint64(0); a < 3*p; a += 1 + a/7 {
			want := big.Jacobi(new(big.Int).SetUint64(a), new(big.Int).SetUint64(p))
			if got := jacobi(a, p); got != want {
				t.Fatalf("jacobi(%d, %d) = %d, want %d", a, p, got, want)
			}
			if want >= 0 {
				if r := sqrtModPrime(a, p); r*r%p != a%p {
					t.Fatalf("sqrtModPrime(%d, %d) = %d", a, p, r)
				}
			}
		}
	}
	// Composite n (the multiplier's use: only primes; kept exact anyway).
	for n := uint64(1); n < 500; n += 2 {
		for a := uint64(0); a < 600; a += 7 {
			want := big.Jacobi(new(big.Int).SetUint64(a), new(big.Int).SetUint64(n))
			if got := jacobi(a, n); got != want {
				t.Fatalf("jacobi(%d, %d) = %d, want %d", a, n, got, want)
			}
		}
	}
}

// BenchmarkSieve compares the quadratic sieve with rho and ECM (the way
// splitWith runs them) on products of two primes of equal size: the CPU
// time to split one.
var (
	qsBits   = flag.Int("qs.bits", 0, "BenchmarkSieve: this size only")
	qsPrimes = flag.Float64("qs.primes", 1, "BenchmarkSieve: scale qsSizes' factor bases")
	qsHalf   = flag.Int("qs.half", 0, "BenchmarkSieve: this sieve interval (its half) at every size")
	qsNoECM  = flag.Bool("qs.noecm", false, "BenchmarkSieve: the sieve only")
	qsAfter  = flag.Float64("qs.after", sieveAfterShare, "BenchmarkSieveAfter: ECM before the sieve up to factors of n's bits / this")
)

func BenchmarkSieve(b *testing.B) {
	defer func(s []qsSize) { qsSizes = s }(slices.Clone(qsSizes))
	for i := range qsSizes {
		qsSizes[i].primes = int(float64(qsSizes[i].primes) * *qsPrimes)
		if *qsHalf > 0 {
			qsSizes[i].half = *qsHalf
		}
	}
	for _, bits := range []int{72, 80, 88, 96, 104, 112, 120, 128, 136, 144, 152, 160, 176, 192} {
		if *qsBits != 0 && bits != *qsBits {
			continue
		}
		ns := balancedSemiprimes(rand.New(rand.NewPCG(uint64(bits), 1)), bits, 16)
		b.Run(fmt.Sprintf("%d-bits/qs", bits), func(b *testing.B) {
			defer cpuTime(b)()
			for i := 0; i < b.N; i++ {
				if d, _ := sieveSplit(context.Background(), ns[i%len(ns)]); d == nil {
					b.Fatal("no factor")
				}
			}
		})
		if *qsNoECM || bits > 144 { // ECM takes seconds a number above
			continue
		}
		b.Run(fmt.Sprintf("%d-bits/ecm", bits), func(b *testing.B) {
			defer cpuTime(b)()
			for i := 0; i < b.N; i++ {
				n := ns[i%len(ns)]
				var err error
				if n.BitLen() <= 128 {
					_, err = splitWith(context.Background(), newMont128(u128FromBig(n)), n, false)
				} else {
					_, err = splitWith(context.Background(), newMont192(n), n, false)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Factor through the sieve's range: products of 2 to 4 primes of 12 to 88
// bits, with repeats, of up to 176 bits (the sieve's largest sizes take
// seconds; TestSieveSplitLargest has one), come out
// whole, prime and sorted. The primes' product and primality are the
// check (GNU factor needs minutes for many of these).
func TestFactorThroughSieve(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	count := 120
	if testing.Short() {
		count = 30
	}
	for range count {
		n := big.NewInt(1)
		var want []*big.Int
		for k := 2 + r.IntN(3); len(want) < k; {
			p := randomPrime(r, 12+r.IntN(77))
			if new(big.Int).Mul(n, p).BitLen() > 176 {
				break
			}
			n.Mul(n, p)
			want = append(want, p)
			if r.IntN(8) == 0 && new(big.Int).Mul(n, p).BitLen() <= 176 {
				n.Mul(n, p)
				want = append(want, p)
			}
		}
		if n.BitLen() > 140 && testing.Short() || len(want) < 2 {
			continue
		}
		got := factorBig(t, n)
		slices.SortFunc(want, (*big.Int).Cmp)
		if !slices.EqualFunc(got, want, func(a, b *big.Int) bool { return a.Cmp(b) == 0 }) {
			t.Fatalf("Factor(%v) = %v, want %v", n, got, want)
		}
	}
}

// BenchmarkSieveAfter measures how far ECM should look before the sieve
// takes over: Factor's CPU time on products of two primes whose smaller
// one has every size from 24 bits to half of n's (two of each, every 4
// bits), with ECM up to factors of n's bits / -qs.after (default: the
// setting).
func BenchmarkSieveAfter(b *testing.B) {
	defer func(s float64) { sieveAfterShare = s }(sieveAfterShare)
	sieveAfterShare = *qsAfter
	for _, bits := range []int{96, 128, 160, 192} {
		if *qsBits != 0 && bits != *qsBits {
			continue
		}
		r := rand.New(rand.NewPCG(uint64(bits), 2))
		var ns []*big.Int
		for f := 24; f <= bits/2; f += 4 {
			for range 2 {
				ns = append(ns, new(big.Int).Mul(randomPrime(r, f), randomPrime(r, bits-f)))
			}
		}
		b.Run(fmt.Sprintf("%d-bits", bits), func(b *testing.B) {
			defer cpuTime(b)()
			for i := 0; i < b.N; i++ {
				for _, n := range ns {
					factorBig(b, n)
				}
			}
		})
	}
}

// BenchmarkFactorBalanced is Factor on products of two primes of equal
// size, all the way (trial division, primality, rho, ECM's first levels,
// the sieve): the hard rows of scripts/bench-factors.sh, in process.
func BenchmarkFactorBalanced(b *testing.B) {
	for _, bits := range []int{96, 128} {
		ns := balancedSemiprimes(rand.New(rand.NewPCG(uint64(bits), 3)), bits, 20)
		b.Run(fmt.Sprintf("%d-bits", bits), func(b *testing.B) {
			defer cpuTime(b)()
			for i := 0; i < b.N; i++ {
				factorBig(b, ns[i%len(ns)])
			}
		})
	}
}

// FuzzSieveArith checks the sieve's word arithmetic against math/big:
// division of 128 bits by a word, inverses and square roots mod a prime,
// Jacobi symbols and subtraction mod p.
func FuzzSieveArith(f *testing.F) {
	f.Add(uint64(1), uint64(2), uint64(3), uint32(5))
	f.Add(^uint64(0), ^uint64(0), uint64(1<<32-5), uint32(1<<31-1))
	primes := primesUpTo(1 << 16)
	f.Fuzz(func(t *testing.T, hi, lo, a uint64, pick uint32) {
		p := primes[1+int(pick)%(len(primes)-1)] // odd
		v := u128{hi, lo}
		q, r := divWord128(v, p)
		wq, wr := new(big.Int).QuoRem(v.big(), new(big.Int).SetUint64(p), new(big.Int))
		if q.big().Cmp(wq) != 0 || r != wr.Uint64() {
			t.Fatalf("divWord128(%v, %d) = %v, %d; want %v, %v", v.big(), p, q.big(), r, wq, wr)
		}
		bp := new(big.Int).SetUint64(p)
		ba := new(big.Int).SetUint64(a)
		if got, want := jacobi(a, p), big.Jacobi(ba, bp); got != want {
			t.Fatalf("jacobi(%d, %d) = %d, want %d", a, p, got, want)
		}
		if a%p != 0 {
			if inv := inverseModWord(a, p); inv*(a%p)%p != 1 {
				t.Fatalf("inverseModWord(%d, %d) = %d", a, p, inv)
			}
			if big.Jacobi(ba, bp) == 1 {
				if s := sqrtModPrime(a, p); s*s%p != a%p {
					t.Fatalf("sqrtModPrime(%d, %d) = %d", a, p, s)
				}
			}
		}
		x, y := uint32(a%p), uint32(lo%(p+1)) // subMod32 takes b <= p
		want := (int64(x) - int64(y)) % int64(p)
		if want < 0 {
			want += int64(p)
		}
		if got := subMod32(x, y, uint32(p)); int64(got) != want {
			t.Fatalf("subMod32(%d, %d, %d) = %d, want %d", x, y, p, got, want)
		}
	})
}

package factor

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// BenchmarkSplit64 backs the plan of split64 (plan.go): the CPU time to
// split semiprimes of two primes of equal size, by the size of n, for each
// method that could do it below 2^64 — Hart's one-line method, Shanks'
// SQUFOF (here only as the peer Hart's method was chosen over), Pollard–
// Brent rho, ECM with split64's bounds — and for split64 itself.
//
//	go test -run XXX -bench Split64 ./pkg/factor/
func BenchmarkSplit64(b *testing.B) {
	methods := []struct {
		name  string
		split func(n uint64) uint64
	}{
		{"hart", func(n uint64) uint64 { return hart(n, hartMaxK(n)) }},
		{"squfof", squfof},
		{"rho", func(n uint64) uint64 { return rhoUntil(newMont64(n)) }},
		{"ecm", ecmOnly64},
		{"split64", split64},
	}
	for _, nbits := range []int{24, 28, 32, 36, 40, 44, 48, 52, 56, 62} {
		r := rand.New(rand.NewPCG(uint64(nbits), 64))
		ns := make([]uint64, 256)
		for i := 0; i < len(ns); {
			p := randomPrime(r, nbits/2).Uint64()
			q := randomPrime(r, nbits-nbits/2).Uint64()
			if p != q { // split64 takes no squares
				ns[i] = p * q
				i++
			}
		}
		for _, m := range methods {
			if m.name == "hart" && nbits > 42 || m.name == "ecm" && nbits < 32 {
				continue // out of its range: hart overflows, ECM has no bounds
			}
			b.Run(fmt.Sprintf("%d-bits/%s", nbits, m.name), func(b *testing.B) {
				missed := 0
				defer cpuTime(b)()
				for i := 0; i < b.N; i++ {
					n := ns[i%len(ns)]
					if d := m.split(n); d <= 1 || d >= n || n%d != 0 {
						missed++
					}
				}
				b.ReportMetric(float64(missed)/float64(b.N), "missed/op")
			})
		}
	}
}

// ecmOnly64 is split64's ECM without the rho that precedes it.
func ecmOnly64(n uint64) uint64 {
	m := newMont64(n)
	s := newSigmas()
	b1 := ecm64B1(max(bits.Len64(n), ecm64Table[0].minBits))
	for {
		if d, ok := ecmCurve(context.Background(), m, s.next(), b1, 25*b1); ok {
			return d
		}
	}
}

// ecm64B1 is the B1 split64 ends with for n of nbits.
func ecm64B1(nbits int) uint64 {
	b1 := uint64(0)
	for _, row := range ecm64Table {
		if nbits >= row.minBits {
			b1 = row.b1
		}
	}
	return b1
}

// squfof is Shanks' square forms factorization with Gower and Wagstaff's
// multipliers (the textbook version): for comparison only.
func squfof(n uint64) uint64 {
	for _, k := range []uint64{1, 3, 5, 7, 11, 3 * 5, 3 * 7, 3 * 11, 5 * 7, 5 * 11, 7 * 11,
		3 * 5 * 7, 3 * 5 * 11, 3 * 7 * 11, 5 * 7 * 11, 3 * 5 * 7 * 11} {
		if n > (1<<62)/k {
			break
		}
		if d := squfofK(n, k); d > 1 && d < n {
			return d
		}
	}
	return 0
}

func squfofK(n, k uint64) uint64 {
	d := k * n
	p0 := isqrt64(d)
	p, pPrev := p0, p0
	q, qPrev := d-p0*p0, uint64(1)
	if q == 0 {
		return gcd64(n, p0)
	}
	bound := 6 * isqrt64(2*isqrt64(d))
	var r uint64
	i := uint64(2)
	for ; i < bound; i++ {
		b := (p0 + p) / q
		p = b*q - p
		qOld := q
		q = qPrev + b*(pPrev-p)
		if i&1 == 0 && maybeSquare(q) {
			if r = isqrt64(q); r*r == q {
				break
			}
		}
		qPrev, pPrev = qOld, p
	}
	if i >= bound {
		return 0
	}
	b := (p0 - p) / r
	p = b*r + p
	pPrev, qPrev = p, r
	q = (d - p*p) / r
	for i = 0; i < bound; i++ {
		b := (p0 + p) / q
		pPrev = p
		p = b*q - p
		qOld := q
		q = qPrev + b*(pPrev-p)
		qPrev = qOld
		if p == pPrev {
			break
		}
	}
	return gcd64(n, qPrev)
}

func TestSqufof(t *testing.T) {
	for _, n := range []uint64{11111 * 22229, 2147483647 * 3, 1000003 * 1000033, 4294967291 * 65521} {
		if d := squfof(n); d <= 1 || d >= n || n%d != 0 {
			t.Errorf("squfof(%d) = %d", n, d)
		}
	}
}

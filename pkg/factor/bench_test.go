package factor

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
)

// go test -bench . ./pkg/factor/

func BenchmarkFactor64Random(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	ns := make([]uint64, 4096)
	for i := range ns {
		ns[i] = r.Uint64()
	}
	var ps []uint64
	defer cpuTime(b)()
	for i := 0; i < b.N; i++ {
		ps = Factor64(ns[i%len(ns)], ps[:0])
	}
}

func BenchmarkFactor64Near1e12(b *testing.B) {
	var ps []uint64
	defer cpuTime(b)()
	for i := 0; i < b.N; i++ {
		ps = Factor64(1e12+uint64(i%1000000), ps[:0])
	}
}

func BenchmarkFactor64Near1e7(b *testing.B) {
	var ps []uint64
	defer cpuTime(b)()
	for i := 0; i < b.N; i++ {
		ps = Factor64(1e7+uint64(i%1000000), ps[:0])
	}
}

func BenchmarkDivisorsOf18401055938125660800(b *testing.B) {
	ps := Factor64(18401055938125660800, nil)
	var ds []uint64
	for i := 0; i < b.N; i++ {
		ds = Divisors64(ps, ds[:0])
	}
}

func BenchmarkFactor128Semiprime(b *testing.B) {
	// (2^31-1) * (2^89-1): rho finds the 31-bit factor.
	n := mustBig("1329227995165945853261116920683298817")
	for i := 0; i < b.N; i++ {
		factorBig(b, n)
	}
}

// BenchmarkECMCurve runs one curve (B1 = 2000, B2 = 50·B1) in the
// arithmetic of each width above two words: the cost of a curve as
// numbers grow.
func BenchmarkECMCurve(b *testing.B) {
	for _, digits := range []int{40, 60, 90, 300} {
		// 10^(digits-1) + 1 is only a modulus here: a curve does the same
		// work whether or not it finds a factor.
		n := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits-1)), nil)
		n.Add(n, big.NewInt(1))
		b.Run(fmt.Sprintf("%d-digits", digits), func(b *testing.B) {
			var curve func(sigma uint64)
			switch w := (n.BitLen() + 63) / 64; {
			case w == 3:
				curve = curveIn(newMont192(n))
			case w == 4:
				curve = curveIn(newMont256(n))
			case w <= 5:
				curve = curveIn(newMontN[[5]uint64](n))
			default:
				curve = curveIn(newMontN[[16]uint64](n))
			}
			defer cpuTime(b)()
			for i := 0; i < b.N; i++ {
				curve(uint64(6 + i))
			}
		})
	}
}

func curveIn[E comparable, A arith[E]](m A) func(sigma uint64) {
	return func(sigma uint64) { ecmCurve(context.Background(), m, sigma, 2000, 100000) }
}

package factor

import (
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

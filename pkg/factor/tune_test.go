package factor

import (
	"context"
	"flag"
	"fmt"
	"math/big"
	mathrand "math/rand"
	"math/rand/v2"
	"strings"
	"testing"
)

var (
	tuneECM = flag.String("ecm.tune", "", "measure ECM bounds for factors of these bit sizes (e.g. 40,48,64) and print the expected cost")
	tuneB1  = flag.String("ecm.b1", "85,165,300,700,1500,3000,6000,11000", "with -ecm.tune: the values of B1 to try")
	tuneB2  = flag.String("ecm.b2", "25,50,100", "with -ecm.tune: the ratios B2/B1 to try")
	family  = flag.String("ecm.family", "", "compare Suyama's curves with random curves on factors of these bit sizes (e.g. 32,40,48)")
)

// countingArith counts multiplications: the cost of a curve in
// multiplications does not depend on the width of the numbers or on the
// load of the machine, so bounds are chosen by it.
type countingArith[E comparable, A arith[E]] struct {
	arith A
	muls  *int64
}

func (c countingArith[E, A]) mul(a, b E) E            { *c.muls++; return c.arith.mul(a, b) }
func (c countingArith[E, A]) add(a, b E) E            { return c.arith.add(a, b) }
func (c countingArith[E, A]) sub(a, b E) E            { return c.arith.sub(a, b) }
func (c countingArith[E, A]) one() E                  { return c.arith.one() }
func (c countingArith[E, A]) small(x uint64) E        { *c.muls++; return c.arith.small(x) }
func (c countingArith[E, A]) inverse(a E) (E, bool)   { *c.muls += 100; return c.arith.inverse(a) }
func (c countingArith[E, A]) gcd(a E) (E, bool, bool) { *c.muls += 100; return c.arith.gcd(a) }
func (c countingArith[E, A]) toBig(d E) *big.Int      { return c.arith.toBig(d) }
func (c countingArith[E, A]) iterate(y, cc E, k int) E {
	*c.muls += int64(k)
	return c.arith.iterate(y, cc, k)
}
func (c countingArith[E, A]) walk(x, y, q, cc E, k int) (E, E) {
	*c.muls += 2 * int64(k)
	return c.arith.walk(x, y, q, cc, k)
}

// curvesToFind runs curves with bounds b1, b2 on p·q until one finds a
// factor, and returns how many it took and the multiplications spent.
func curvesToFind(n *big.Int, b1, b2 uint64, seed uint64) (curves int, muls int64) {
	m := countingArith[u128, *mont128]{newMont128(u128FromBig(n)), &muls}
	s := sigmas{rand.New(rand.NewPCG(seed, 1))}
	for {
		curves++
		if _, ok := ecmCurve(context.Background(), m, s.next(), b1, b2); ok {
			return curves, muls
		}
	}
}

// randomCurvesToFind is curvesToFind with random curves instead of
// Suyama's: a24 and the starting x drawn uniformly (a point on the curve
// or on its twist; X-only arithmetic works on both).
func randomCurvesToFind(n *big.Int, b1, b2 uint64, seed uint64) (curves int, muls int64) {
	mm := newMont128(u128FromBig(n))
	m := countingArith[u128, *mont128]{mm, &muls}
	r := rand.New(rand.NewPCG(seed, 2))
	residue := func() u128 {
		return mm.mul(u128FromBig(new(big.Int).Rand(r2(r), n)), mm.r2)
	}
	for {
		curves++
		a24 := residue() // a24 = 0 or 1 (singular) has chance 2/n
		c := curve[u128, countingArith[u128, *mont128]]{m: m, a24: a24}
		if _, ok := c.run(xz[u128]{residue(), mm.one()}, b1, b2); ok {
			return curves, muls
		}
	}
}

// r2 adapts a math/rand/v2 source to the math/rand one big.Int.Rand takes.
func r2(r *rand.Rand) *mathrand.Rand { return mathrand.New(mathrand.NewSource(int64(r.Uint64()))) }

// TestCurveFamily backs the choice of Suyama's parametrization: on the
// same numbers and bounds it needs fewer curves than random curves.
//
//	go test -run CurveFamily -ecm.family 32,40,48 -v ./pkg/factor/
func TestCurveFamily(t *testing.T) {
	if *family == "" {
		return
	}
	r := rand.New(rand.NewPCG(13, 14))
	const samples = 200
	for _, pb := range numbers(*family) {
		b1 := ecmLevels[len(ecmLevels)-1].b1
		for _, lv := range ecmLevels {
			if lv.bits >= int(pb) {
				b1 = lv.b1
				break
			}
		}
		var suyamaCurves, randomCurves, suyamaMuls, randomMuls int64
		for i := range samples {
			n := new(big.Int).Mul(randomPrime(r, int(pb)), randomPrime(r, 127-int(pb)))
			c, m := curvesToFind(n, b1, 50*b1, uint64(i))
			suyamaCurves, suyamaMuls = suyamaCurves+int64(c), suyamaMuls+m
			c, m = randomCurvesToFind(n, b1, 50*b1, uint64(i))
			randomCurves, randomMuls = randomCurves+int64(c), randomMuls+m
		}
		t.Logf("p %d bits, B1 %d, B2 50xB1, %d numbers: Suyama %.1f curves (%.0f kmul), random %.1f curves (%.0f kmul): %.2fx the curves",
			pb, b1, samples, float64(suyamaCurves)/samples, float64(suyamaMuls)/samples/1000,
			float64(randomCurves)/samples, float64(randomMuls)/samples/1000, float64(randomCurves)/float64(suyamaCurves))
	}
}

func TestTuneECM(t *testing.T) {
	if *tuneECM == "" {
		return
	}
	sizes, b1s, ratios := numbers(*tuneECM), numbers(*tuneB1), numbers(*tuneB2)
	r := rand.New(rand.NewPCG(11, 12))
	const samples = 60
	for _, pb := range sizes {
		var ns []*big.Int
		for range samples {
			p := randomPrime(r, int(pb))
			q := randomPrime(r, 127-int(pb))
			ns = append(ns, new(big.Int).Mul(p, q))
		}
		for _, b1 := range b1s {
			for _, ratio := range ratios {
				var curves, muls int64
				for i, n := range ns {
					c, m := curvesToFind(n, b1, b1*ratio, uint64(i))
					curves += int64(c)
					muls += m
				}
				t.Logf("p %d bits  B1 %6d  B2 %3dxB1: %7.1f curves, %8.0f kmul/curve, %9.0f kmul expected",
					pb, b1, ratio, float64(curves)/samples, float64(muls)/float64(curves)/1000, float64(muls)/samples/1000)
			}
		}
	}
}

func numbers(s string) []uint64 {
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		var x uint64
		fmt.Sscan(f, &x)
		out = append(out, x)
	}
	return out
}

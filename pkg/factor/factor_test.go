package factor

import (
	"context"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// bruteDivisors is the book's algorithm: every d in [1, n] dividing n.
func bruteDivisors(n uint64) []uint64 {
	var ds []uint64
	for d := uint64(1); d <= n; d++ {
		if n%d == 0 {
			ds = append(ds, d)
		}
	}
	return ds
}

func TestBruteForceAgreement(t *testing.T) {
	limit := uint64(100000)
	// Sieve divisors for every n <= limit at once: O(n log n).
	all := make([][]uint64, limit+1)
	for d := uint64(1); d <= limit; d++ {
		for m := d; m <= limit; m += d {
			all[m] = append(all[m], d)
		}
	}
	var pf []uint64
	var ds []uint64
	for n := uint64(1); n <= limit; n++ {
		pf = Factor64(n, pf[:0])
		ds = Divisors64(pf, ds[:0])
		if !slices.Equal(ds, all[n]) {
			t.Fatalf("divisors(%d) = %v, want %v", n, ds, all[n])
		}
		if IsPrime64(n) != (len(all[n]) == 2) {
			t.Fatalf("IsPrime64(%d) = %v", n, IsPrime64(n))
		}
		if NumDivisors(pf) != uint64(len(all[n])) {
			t.Fatalf("NumDivisors(%d) = %d", n, NumDivisors(pf))
		}
	}
	// And the literal book algorithm on a few.
	for _, n := range []uint64{1, 2, 16, 97, 1001, 65536, 99991} {
		if got := Divisors64(Factor64(n, nil), nil); !slices.Equal(got, bruteDivisors(n)) {
			t.Fatalf("divisors(%d) = %v", n, got)
		}
	}
}

// factorBig factors n with no deadline.
func factorBig(t testing.TB, n *big.Int) []*big.Int {
	t.Helper()
	ps, err := Factor(context.Background(), n)
	if err != nil {
		t.Fatalf("Factor(%v): %v", n, err)
	}
	return ps
}

// checkFactorization verifies that ps are primes whose product is n.
func checkFactorization(t *testing.T, n *big.Int, ps []*big.Int) {
	t.Helper()
	prod := big.NewInt(1)
	for i, p := range ps {
		if !p.ProbablyPrime(20) {
			t.Fatalf("%v: factor %v is not prime", n, p)
		}
		if i > 0 && ps[i-1].Cmp(p) > 0 {
			t.Fatalf("%v: factors not ascending: %v", n, ps)
		}
		prod.Mul(prod, p)
	}
	if prod.Cmp(n) != 0 {
		t.Fatalf("%v: product of %v is %v", n, ps, prod)
	}
}

func TestHardCases(t *testing.T) {
	// Checked for a valid factorization (primes whose product is n).
	for _, s := range []string{
		"561", "41041", "825265", "321197185", "3215031751", // Carmichael numbers
		"3825123056546413051",                        // strong pseudoprime to the prime bases 2..23
		"18446744047939747781",                       // two ~32-bit primes
		"1208925819614629174706189",                  // 106710329^3
		"9223372036854775783", "9223371994482243049", // prime, 3037000493^2
		"79228162514264337593543950336",           // 2^96
		"2417851639229258349412352",               // 2^81
		"340282366920938463463374607431768211297", // largest prime below 2^128
	} {
		u := mustBig(s)
		checkFactorization(t, u, factorBig(t, u))
	}
	exact := map[string]string{
		"561":                  "3 11 17",
		"3825123056546413051":  "149491 747451 34233211",
		"18446744073709551615": "3 5 17 257 641 65537 6700417",
		"18446744073709551557": "18446744073709551557",
		"18446744030759878681": "4294967291 4294967291",
		"170141183460469231731687303715884105727": "170141183460469231731687303715884105727",
		"340282366920938463463374607431768211455": "3 5 17 257 641 65537 274177 6700417 67280421310721",
		"18401055938125660800":                    "2 2 2 2 2 2 2 3 3 3 3 5 5 7 7 11 13 17 19 23 29 31 37 41",
		"340282366920938461286658806734041124249": "18446744073709551557 18446744073709551557",
		"5316911983139663487003542222693990401":   "2305843009213693951 2305843009213693951",
	}
	for s, want := range exact {
		u := mustBig(s)
		ps := factorBig(t, u)
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != want {
			t.Errorf("Factor128(%s) = %v, want %s", s, got, want)
		}
	}
	pf := Factor64(18401055938125660800, nil)
	if d := NumDivisors(pf); d != 184320 {
		t.Fatalf("NumDivisors(18401055938125660800) = %d, want 184320", d)
	}
	if !IsPrime64(18446744073709551557) || IsPrime64(18446744073709551615) || IsPrime64(3825123056546413051) {
		t.Fatal("IsPrime64 wrong on a hard case")
	}
	if !IsPrime(mustBig("170141183460469231731687303715884105727")) {
		t.Fatal("2^127-1 is prime")
	}
}

func TestCubesOfLargePrimes(t *testing.T) {
	for _, p := range []uint64{2097143, 2642239, 4294967291, 18446744073709551557, 1<<61 - 1} {
		pb := new(big.Int).SetUint64(p)
		for k := 2; k <= 3; k++ {
			n := new(big.Int).Exp(pb, big.NewInt(int64(k)), nil)
			if n.BitLen() > 128 {
				continue
			}
			ps := factorBig(t, n)
			checkFactorization(t, n, ps)
			if len(ps) != k {
				t.Fatalf("%v = %v", n, ps)
			}
		}
	}
}

func TestRandomSelfConsistent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ps []uint64
	for i := 0; i < 20000; i++ {
		n := r.Uint64() >> (r.UintN(63))
		ps = Factor64(n, ps[:0])
		prod := uint64(1)
		for _, p := range ps {
			if !new(big.Int).SetUint64(p).ProbablyPrime(20) {
				t.Fatalf("%d: %d not prime", n, p)
			}
			var hi uint64
			hi, prod = bits.Mul64(prod, p)
			if hi != 0 {
				t.Fatalf("%d: overflow", n)
			}
		}
		if n > 0 && prod != n {
			t.Fatalf("%d: product %d of %v", n, prod, ps)
		}
	}
}

// gnuFactor runs GNU factor on ns (one per line) and returns its output lines.
func gnuFactor(t *testing.T, input string) []string {
	t.Helper()
	path, err := exec.LookPath("factor")
	if err != nil {
		t.Fatalf("GNU coreutils factor is required for this test: %v", err)
	}
	cmd := exec.Command(path)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("factor: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

func formatFactorLine(n *big.Int, ps []*big.Int) string {
	b := n.Append(nil, 10)
	b = append(b, ':')
	for _, p := range ps {
		b = append(b, ' ')
		b = p.Append(b, 10)
	}
	return string(b)
}

func TestAgreesWithGNUFactor64(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const perSize = 1600 // 63 sizes: 100,800 numbers
	var in strings.Builder
	var ns []uint64
	for b := 2; b <= 64; b++ {
		for i := 0; i < perSize; i++ {
			// exactly b bits
			n := r.Uint64()>>(64-b) | 1<<(b-1)
			ns = append(ns, n)
			in.WriteString(strconv.FormatUint(n, 10))
			in.WriteByte('\n')
		}
	}
	want := gnuFactor(t, in.String())
	if len(want) != len(ns) {
		t.Fatalf("factor printed %d lines for %d numbers", len(want), len(ns))
	}
	var ps []uint64
	var qs []*big.Int
	for i, n := range ns {
		ps = Factor64(n, ps[:0])
		qs = qs[:0]
		for _, p := range ps {
			qs = append(qs, new(big.Int).SetUint64(p))
		}
		if got := formatFactorLine(new(big.Int).SetUint64(n), qs); got != want[i] {
			t.Fatalf("got %q, GNU factor says %q", got, want[i])
		}
	}
}

// randomPrime returns a random prime of exactly b bits (b >= 2).
func randomPrime(r *rand.Rand, b int) *big.Int {
	for {
		n := new(big.Int)
		for i := 0; i < b; i += 32 {
			n.Lsh(n, 32).Or(n, big.NewInt(int64(r.Uint32())))
		}
		n.SetBit(n, b-1, 1)
		mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(b)), big.NewInt(1))
		n.And(n, mask)
		if n.ProbablyPrime(20) {
			return n
		}
	}
}

func mustBig(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return b
}

// Numbers with more than 1024 divisors take the merging path of Divisors64:
// check it against generating and sorting.
func TestMergedDivisors(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	small := []uint64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47}
	check := func(n uint64) {
		ps := Factor64(n, nil)
		got := mergedDivisors64(ps)
		want := sortedDivisors64(ps, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("%d: merged divisors differ (%d vs %d)", n, len(got), len(want))
		}
	}
	check(18401055938125660800)
	for i := 0; i < 300; i++ {
		n := uint64(1)
		for {
			p := small[r.IntN(len(small))]
			hi, lo := bits.Mul64(n, p)
			if hi != 0 {
				break
			}
			n = lo
		}
		check(n)
	}
}

package factor

import "math"

// hartMultiplier scales Hart's k: 4620 = 2²·3·5·7·11 makes s²-kn a square
// far more often than k itself would (Neumann's observation).
const hartMultiplier = 4620

// hart is Hart's one-line factoring: for k = 1, 2, …, s = ⌈√(kn)⌉; when
// s² mod n is a square t², gcd(s-t, n) is a factor. It returns 0 after
// maxK steps without one. n must be odd, composite and not a square, and
// maxK·hartMultiplier·n below 2^64 (hartMaxK).
func hart(n uint64, maxK uint64) uint64 {
	sqrtN := math.Sqrt(float64(n))
	for k := uint64(hartMultiplier); k <= maxK*hartMultiplier; k += hartMultiplier {
		s := uint64(sqrtN*math.Sqrt(float64(k))) + 1
		m := s*s - k*n // s² mod kn, < 2s+1 (s is ⌈√(kn)⌉ or one more)
		if !maybeSquare(m) {
			continue
		}
		t := isqrt64(m)
		if t*t != m {
			continue
		}
		if d := gcd64(s-t, n); d > 1 && d < n {
			return d
		}
	}
	return 0
}

// maybeSquare is a quick filter: false when x is no square mod 64, 63, 65
// or 11 (which leaves about 1 number in 100 to test for a square root).
func maybeSquare(x uint64) bool {
	return squareMod64>>(x%64)&1 != 0 &&
		squareMod63>>(x%63)&1 != 0 &&
		squareMod65[(x%65)/64]>>(x%65%64)&1 != 0 &&
		squareMod11>>(x%11)&1 != 0
}

var (
	squareMod64 = squaresMod(64)[0]
	squareMod63 = squaresMod(63)[0]
	squareMod65 = squaresMod(65)
	squareMod11 = squaresMod(11)[0]
)

// squaresMod returns the set of squares mod m as a bitset.
func squaresMod(m uint64) [2]uint64 {
	var set [2]uint64
	for i := uint64(0); i < m; i++ {
		r := i * i % m
		set[r/64] |= 1 << (r % 64)
	}
	return set
}

// hartMaxK is the most steps hart may take on n before k·n overflows;
// Hart's method needs about n^(1/3) of them when n has no factor below
// that (true here below 2^33: trial division went to 2^11).
func hartMaxK(n uint64) uint64 { return (^uint64(0) / n) / hartMultiplier }

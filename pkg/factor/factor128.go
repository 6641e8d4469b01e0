package factor

import (
	"math/big"
	"math/bits"
	"slices"
)

// Factor128 appends the prime factors of n, with multiplicity and in
// ascending order, to dst. Numbers below 2^64 take Factor64's path.
func Factor128(n U128, dst []U128) []U128 {
	if n.Hi == 0 {
		var buf [64]uint64
		for _, p := range Factor64(n.Lo, buf[:0]) {
			dst = append(dst, From64(p))
		}
		return dst
	}
	mark := len(dst)
	tz := n.TrailingZeros()
	for i := 0; i < tz; i++ {
		dst = append(dst, From64(2))
	}
	n = n.Rsh(uint(tz))
	for i := range smallPrimes {
		p := smallPrimes[i].p
		for {
			q, r := n.DivMod64(p)
			if r != 0 {
				break
			}
			dst = append(dst, From64(p))
			n = q
		}
		if n.Hi == 0 {
			break
		}
	}
	dst = factorLarge128(n, dst)
	slices.SortFunc(dst[mark:], U128.Cmp)
	return dst
}

// factorLarge128 appends the prime factors of odd n in no particular order.
func factorLarge128(n U128, dst []U128) []U128 {
	if n.Hi == 0 {
		var buf [64]uint64
		for _, p := range Factor64(n.Lo, buf[:0]) {
			dst = append(dst, From64(p))
		}
		return dst
	}
	if isPrime128(n) {
		return append(dst, n)
	}
	// Perfect powers (squares and cubes of large primes are the usual
	// ones) would cost rho sqrt(p) steps; root them out first.
	nb := n.Big()
	for k := 2; k <= 127; k++ {
		if r, ok := exactRoot(nb, k); ok {
			var sub []U128
			sub = factorLarge128(FromBig(r), sub)
			for i := 0; i < k; i++ {
				dst = append(dst, sub...)
			}
			return dst
		}
		if nb.BitLen()/k < 11 { // roots below trialBound were divided out
			break
		}
	}
	m := newMont128(n)
	// Pollard p-1 first: a few milliseconds, and it splits at once the
	// numbers whose factors p have a smooth p-1, which rho may need
	// minutes for (99999999999999999999999999999999999999 is one).
	d := m.pminus1(20000)
	for c := uint64(1); d.IsZero(); c++ {
		d = m.rho(c)
	}
	dst = factorLarge128(d, dst)
	return factorLarge128(n.Div(d), dst)
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

// IsPrime128 reports whether n is prime: exact below 2^64; above, a strong
// base-2 test followed by Baillie–PSW (math/big), which has no known
// counterexample.
func IsPrime128(n U128) bool {
	if n.Hi == 0 {
		return IsPrime64(n.Lo)
	}
	if n.Lo&1 == 0 {
		return false
	}
	for i := range smallPrimes {
		if n.Mod64(smallPrimes[i].p) == 0 {
			return false
		}
	}
	return isPrime128(n)
}

func isPrime128(n U128) bool {
	if !newMont128(n).strongProbablePrime2() {
		return false
	}
	return n.Big().ProbablyPrime(0)
}

// mont128 is Montgomery arithmetic modulo an odd n >= 2^64 with R = 2^128.
type mont128 struct {
	n, ninv U128 // ninv = -n⁻¹ mod 2^128
	one, r2 U128 // R mod n, R² mod n
}

func newMont128(n U128) *mont128 {
	// n⁻¹ mod 2^128 by Newton's iteration from the 64-bit inverse.
	inv := From64(inverse64(n.Lo))
	two := From64(2)
	t, _ := two.Sub(mulLow(n, inv))
	inv = mulLow(inv, t)
	neg, _ := U128{}.Sub(inv)
	nb := n.Big()
	r := new(big.Int).Lsh(big.NewInt(1), 128)
	one := new(big.Int).Mod(r, nb)
	r2 := new(big.Int).Mul(one, one)
	r2.Mod(r2, nb)
	return &mont128{n: n, ninv: neg, one: FromBig(one), r2: FromBig(r2)}
}

// mul returns a*b/R mod n for a, b < n.
func (m *mont128) mul(a, b U128) U128 {
	t3, t2, t1, t0 := mul128x128(a, b)
	mm := mulLow(U128{t1, t0}, m.ninv)
	u3, u2, u1, u0 := mul128x128(mm, m.n)
	// (t + u) / 2^128; the low half sums to 0 mod 2^128 by construction.
	_, c := bits.Add64(t0, u0, 0)
	_, c = bits.Add64(t1, u1, c)
	lo, c := bits.Add64(t2, u2, c)
	hi, c := bits.Add64(t3, u3, c)
	r := U128{hi, lo}
	if c != 0 || r.Cmp(m.n) >= 0 {
		r, _ = r.Sub(m.n)
	}
	return r
}

func mul128x128(a, b U128) (r3, r2, r1, r0 uint64) {
	h00, l00 := bits.Mul64(a.Lo, b.Lo)
	h01, l01 := bits.Mul64(a.Lo, b.Hi)
	h10, l10 := bits.Mul64(a.Hi, b.Lo)
	h11, l11 := bits.Mul64(a.Hi, b.Hi)
	r0 = l00
	var c1, c2 uint64
	r1, c1 = bits.Add64(h00, l01, 0)
	r1, c2 = bits.Add64(r1, l10, 0)
	r2, c := bits.Add64(h01, h10, c1)
	r3 = h11 + c
	r2, c = bits.Add64(r2, l11, c2)
	r3 += c
	return
}

func (m *mont128) add(a, b U128) U128 {
	s, c := a.Add(b)
	if c != 0 || s.Cmp(m.n) >= 0 {
		s, _ = s.Sub(m.n)
	}
	return s
}

func (m *mont128) strongProbablePrime2() bool {
	n := m.n
	nm1, _ := n.Sub(From64(1))
	s := nm1.TrailingZeros()
	d := nm1.Rsh(uint(s))
	two := m.add(m.one, m.one)
	x := m.one
	for i := 127 - d.LeadingZeros(); i >= 0; i-- {
		x = m.mul(x, x)
		if d.Rsh(uint(i)).Lo&1 != 0 {
			x = m.mul(x, two)
		}
	}
	minusOne, _ := n.Sub(m.one)
	if x == m.one || x == minusOne {
		return true
	}
	for ; s > 1; s-- {
		x = m.mul(x, x)
		if x == minusOne {
			return true
		}
		if x == m.one {
			return false
		}
	}
	return false
}

// rho is mont64.rho in 128 bits; it returns a proper factor or zero.
func (m *mont128) rho(c uint64) U128 {
	const batch = 128
	n := m.n
	cm := m.mul(From64(c), m.r2)
	y := m.mul(From64(2), m.r2)
	var x, ys U128
	q := m.one
	g := From64(1)
	one := From64(1)
	f := func(v U128) U128 { return m.add(m.mul(v, v), cm) }
	for r := 1; g == one; r <<= 1 {
		x = y
		for i := 0; i < r; i++ {
			y = f(y)
		}
		for k := 0; k < r && g == one; k += batch {
			ys = y
			for i := 0; i < batch && i < r-k; i++ {
				y = f(y)
				q = m.mul(q, absDiff128(x, y))
			}
			g = gcd128(q, n)
		}
	}
	if g == n {
		for {
			ys = f(ys)
			g = gcd128(absDiff128(x, ys), n)
			if g != one {
				break
			}
		}
	}
	if g == n {
		return U128{}
	}
	return g
}

func absDiff128(a, b U128) U128 {
	if a.Cmp(b) < 0 {
		a, b = b, a
	}
	d, _ := a.Sub(b)
	return d
}

func gcd128(a, b U128) U128 {
	if a.IsZero() {
		return b
	}
	if b.IsZero() {
		return a
	}
	shift := U128{a.Hi | b.Hi, a.Lo | b.Lo}.TrailingZeros()
	a = a.Rsh(uint(a.TrailingZeros()))
	for !b.IsZero() {
		b = b.Rsh(uint(b.TrailingZeros()))
		if a.Cmp(b) > 0 {
			a, b = b, a
		}
		b, _ = b.Sub(a)
	}
	return a.Lsh(uint(shift))
}

// pminus1 is stage 1 of Pollard's p-1 method with bound b1: it returns a
// proper factor of n or zero. It checks the GCD every 64 primes and
// replays a window prime by prime when all factors appeared at once.
func (m *mont128) pminus1(b1 uint64) U128 {
	one := From64(1)
	var primes []uint64
	sieve := make([]bool, b1+1)
	for p := uint64(2); p <= b1; p++ {
		if !sieve[p] {
			primes = append(primes, p)
			for j := p * p; j <= b1; j += p {
				sieve[j] = true
			}
		}
	}
	power := func(p uint64) uint64 { // largest p^k <= b1
		pk := p
		for pk <= b1/p {
			pk *= p
		}
		return pk
	}
	gcdMinusOne := func(x U128) U128 {
		xm1, _ := x.Sub(m.one) // (x-1)R mod n, same GCD with n as x-1
		if x.Cmp(m.one) < 0 {
			xm1, _ = xm1.Add(m.n)
		}
		return gcd128(xm1, m.n)
	}
	x := m.add(m.one, m.one) // 2
	for i := 0; i < len(primes); i += 64 {
		end := min(i+64, len(primes))
		saved := x
		for _, p := range primes[i:end] {
			x = m.pow(x, power(p))
		}
		g := gcdMinusOne(x)
		if g == one {
			continue
		}
		if g != m.n {
			return g
		}
		x = saved
		for _, p := range primes[i:end] {
			x = m.pow(x, power(p))
			if g := gcdMinusOne(x); g != one {
				if g == m.n {
					return U128{}
				}
				return g
			}
		}
		return U128{}
	}
	return U128{}
}

func (m *mont128) pow(x U128, e uint64) U128 {
	r := m.one
	for e > 0 {
		if e&1 != 0 {
			r = m.mul(r, x)
		}
		x = m.mul(x, x)
		e >>= 1
	}
	return r
}

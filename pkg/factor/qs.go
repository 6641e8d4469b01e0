package factor

import (
	"context"
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// The self-initialising quadratic sieve (SIQS), for composites of 65 to
// qsMaxBits bits. Its time depends on the size of n alone, where ECM's
// depends on the size of the factor it finds: for a product of two primes
// of equal size it wins by far (BenchmarkSieve; sieveAfter for the
// handover from ECM).
//
// With A = q_1···q_s (primes of the factor base) close to √(2kn)/M and B
// with B² ≡ kn (mod A), Q(x) = (Ax+B)² − kn = A·g(x), and g(x) is about
// M·√(kn/2) in size on x ∈ [−M, M). The sieve marks the x where g(x) is
// made of factor-base primes, and one prime below lpMax more (a partial
// relation: two with the same large prime make a full one). With more
// relations Y² ≡ ∏p^e than primes, linear algebra over GF(2) finds
// subsets whose product is a square X² ≡ Y² (mod n), and gcd(X−Y, n) is
// a proper factor half the time. Each A gives 2^(s−1) polynomials, the B
// going through ±B_1 ± … ± B_s in Gray-code order, so that the roots of a
// polynomial come from those of the last by one addition a prime.

// qsSize is the factor base and sieve interval for a size of n.
type qsSize struct {
	bits   int // n's size in bits
	primes int // the factor base
	half   int // the sieve interval is x ∈ [−half, half)
}

// qsSizes are measured (BenchmarkSieve); the size of the factor base is
// interpolated between rows.
var qsSizes = []qsSize{
	{bits: 64, primes: 70, half: 8192},
	{bits: 80, primes: 110, half: 8192},
	{bits: 96, primes: 255, half: 16384},
	{bits: 112, primes: 420, half: 16384},
	{bits: 128, primes: 660, half: 16384},
	{bits: 144, primes: 1050, half: 32768},
	{bits: 160, primes: 1650, half: 32768},
	{bits: 176, primes: 2400, half: 65536},
	{bits: 192, primes: 3400, half: 65536},
}

// qsLargeMult bounds the large prime of a partial relation: below
// qsLargeMult times the largest prime of the factor base.
const qsLargeMult = 40

// qsExtra is how many relations beyond the number of columns are
// gathered: each is one more dependency, and each dependency splits n
// with probability at least one half. When none does, another qsExtra
// are gathered, up to qsRounds times.
const (
	qsExtra  = 12
	qsRounds = 4
)

func qsSizeFor(nbits int) qsSize {
	i := 0
	for i+1 < len(qsSizes) && qsSizes[i+1].bits <= nbits {
		i++
	}
	s := qsSizes[i]
	if i+1 < len(qsSizes) && nbits > s.bits {
		t := qsSizes[i+1]
		s.primes += (t.primes - s.primes) * (nbits - s.bits) / (t.bits - s.bits)
	}
	return s
}

// qsRel is a relation y² ≡ (−1)^e₀ ∏ p_c (mod n) over the columns c (with
// repetition), times lp² when it joins two partial relations.
type qsRel struct {
	y    *big.Int
	cols []uint32 // column 0 is the sign, column j+1 the prime fb[j]
	lp   uint64   // 1 for a full relation
}

// siqs is the state of one factorisation.
type siqs struct {
	n, kn *big.Int
	half  int

	// The factor base: fb[0] = 2, then the odd primes p with kn a square
	// mod p, with √kn mod p, log2 p rounded, and p⁻¹ mod 2^32 and
	// ⌊(2^32−1)/p⌋ for the divisibility test x·p⁻¹ ≤ ⌊(2^32−1)/p⌋.
	fb        []uint32
	sqrtKN    []uint32
	logp      []uint8
	pinv      []uint32
	plim      []uint32
	sieveFrom int    // the primes below are not sieved (they cost much and give little)
	lpMax     uint64 // the bound of large primes
	start     byte   // each byte of the sieve starts at 128 − threshold

	// The current A and polynomial.
	a     *big.Int
	aIdx  []int      // indices in fb of A's primes
	inA   []bool     // inA[j]: fb[j] divides A (not sieved)
	bl    []*big.Int // B_l
	bainv [][]uint32 // 2·B_l·A⁻¹ mod p
	signs []bool     // B_l is subtracted (l >= 1)
	b     *big.Int   // B = B_0 ± B_1 ± … ± B_(s−1)
	root1 []uint32   // the sieve indices i = x + half of the roots of g mod p
	root2 []uint32

	target *big.Int        // √(2kn)/half, the best A
	usedA  map[string]bool // the sets of primes of the A used so far
	rng    *rand.Rand
	sieve  []byte
	rels   []qsRel
	parts  map[uint64]qsRel // partial relations by large prime
	y, g   big.Int          // check's scratch
}

// sieveSplit returns a proper factor of the odd composite n (no prime
// factor below trialBound, not a perfect power), or nil when the sieve
// fails (it has not been seen to: each round of qsExtra more relations
// gives that many more chances of one half). It stops with ctx's error
// when ctx is done.
func sieveSplit(ctx context.Context, n *big.Int) (*big.Int, error) {
	q, d := newSIQS(n)
	if d != nil {
		return d, nil
	}
	need := len(q.fb) + 1 + qsExtra
	maxPolys := 200 * need // a guard against a sieve that finds nothing
	polys := 0
	for round := 0; round < qsRounds; round++ {
		for len(q.rels) < need {
			if !q.nextA() || polys > maxPolys {
				return nil, nil
			}
			for i := 0; i < 1<<(len(q.aIdx)-1) && len(q.rels) < need; i++ {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				if i > 0 {
					q.nextB(i)
				}
				q.sieveAndCollect()
				polys++
			}
		}
		if d := q.combine(ctx); d != nil || ctx.Err() != nil {
			return d, ctx.Err()
		}
		need += qsExtra
	}
	return nil, nil
}

// newSIQS chooses the multiplier and the factor base of n and sets up the
// sieve. When a prime of the factor base divides n, it returns that prime.
func newSIQS(n *big.Int) (*siqs, *big.Int) {
	size := qsSizeFor(n.BitLen())
	k := qsMultiplier(n)
	q := &siqs{
		n:     n,
		kn:    new(big.Int).Mul(n, new(big.Int).SetUint64(k)),
		half:  size.half,
		usedA: map[string]bool{},
		rng:   rand.New(rand.NewPCG(0x717369, uint64(n.BitLen()))),
		parts: map[uint64]qsRel{},
	}
	q.fb = append(q.fb, 2)
	q.sqrtKN = append(q.sqrtKN, 1)
	q.logp = append(q.logp, 1)
	q.pinv = append(q.pinv, 0)
	q.plim = append(q.plim, 0)
	for limit := uint64(16 * size.primes); len(q.fb) < size.primes; limit *= 2 {
		q.fb, q.sqrtKN, q.logp, q.pinv, q.plim = q.fb[:1], q.sqrtKN[:1], q.logp[:1], q.pinv[:1], q.plim[:1]
		for _, p := range primesUpTo(limit)[1:] {
			if len(q.fb) == size.primes {
				break
			}
			if modWord(n, p) == 0 {
				return nil, new(big.Int).SetUint64(p)
			}
			r := modWord(q.kn, p)
			if r != 0 && jacobi(r, p) != 1 {
				continue
			}
			q.fb = append(q.fb, uint32(p))
			q.sqrtKN = append(q.sqrtKN, uint32(sqrtModPrime(r, p)))
			q.logp = append(q.logp, uint8(math.Round(math.Log2(float64(p)))))
			q.pinv = append(q.pinv, uint32(inverse64(p)))
			q.plim = append(q.plim, math.MaxUint32/uint32(p))
		}
	}
	for q.sieveFrom = 1; q.fb[q.sieveFrom] < 30; q.sieveFrom++ {
	}
	pmax := uint64(q.fb[len(q.fb)-1])
	q.lpMax = min(qsLargeMult*pmax, pmax*pmax)

	// g(x) is at most about half·√(kn/2); a candidate must have all but
	// a large prime and the unsieved small primes' share of it sieved.
	logG := float64(q.kn.BitLen()-1)/2 + math.Log2(float64(q.half))
	thresh := logG - math.Log2(float64(q.lpMax)) - 2
	q.start = byte(128 - int(math.Round(thresh)))
	q.sieve = make([]byte, 2*q.half)

	q.target = new(big.Int).Lsh(q.kn, 1)
	q.target.Sqrt(q.target)
	q.target.Quo(q.target, big.NewInt(int64(q.half)))
	nfb := len(q.fb)
	q.inA = make([]bool, nfb)
	q.root1 = make([]uint32, nfb)
	q.root2 = make([]uint32, nfb)
	return q, nil
}

// qsMultiplier returns the k (odd, squarefree, small) for which kn has the
// most small primes as quadratic residues, which makes g(x) smooth more
// often (the Knuth–Schroeppel function).
func qsMultiplier(n *big.Int) uint64 {
	var primes, nmod []uint64 // the odd primes below 300, and n mod each
	for _, sp := range smallPrimes {
		if sp.p >= 300 {
			break
		}
		primes = append(primes, sp.p)
		nmod = append(nmod, modWord(n, sp.p))
	}
	n8 := modWord(n, 8)
	best, bestScore := uint64(1), math.Inf(-1)
	for k := uint64(1); k < 80; k += 2 {
		if !squarefree(k) {
			continue
		}
		score := -0.5 * math.Log(float64(k))
		switch k * n8 % 8 {
		case 1:
			score += 2 * math.Ln2
		case 5:
			score += math.Ln2
		default:
			score += 0.5 * math.Ln2
		}
		for i, p := range primes {
			lp := math.Log(float64(p))
			switch r := k % p * nmod[i] % p; {
			case r == 0:
				score += lp / float64(p)
			case jacobi(r, p) == 1:
				score += 2 * lp / float64(p-1)
			}
		}
		if score > bestScore {
			best, bestScore = k, score
		}
	}
	return best
}

func squarefree(k uint64) bool {
	for p := uint64(2); p*p <= k; p++ {
		if k%(p*p) == 0 {
			return false
		}
	}
	return true
}

// nextA picks a new A: s−1 random primes of the size that makes s of them
// about the target, and the last to bring A closest to it. It reports
// false when it finds no A not used before.
func (q *siqs) nextA() bool {
	tbits := float64(q.target.BitLen())
	s := 2
	for float64(tbits)/float64(s) > math.Log2(float64(q.fb[len(q.fb)*3/4])) {
		s++
	}
	want := math.Exp2(tbits / float64(s))
	mid, _ := slices.BinarySearch(q.fb, uint32(min(want, math.MaxUint32)))
	var pool []int // the primes around want that do not divide k
	for j := max(q.sieveFrom, mid-max(3*s, 8)); j < min(len(q.fb)-1, mid+max(3*s, 8)); j++ {
		if q.sqrtKN[j] != 0 {
			pool = append(pool, j)
		}
	}
	if len(pool) < s {
		return false
	}
	for range 100 {
		idx := make([]int, 0, s)
		a := big.NewInt(1)
		for i := range s - 1 { // s−1 distinct primes of the pool, at random
			k := i + q.rng.IntN(len(pool)-i)
			pool[i], pool[k] = pool[k], pool[i]
			idx = append(idx, pool[i])
			a.Mul(a, big.NewInt(int64(q.fb[pool[i]])))
		}
		// The last prime: the one nearest target/a.
		rest := new(big.Int).Quo(q.target, a)
		if !rest.IsUint64() || rest.Uint64() > uint64(q.fb[len(q.fb)-1]) {
			continue
		}
		j, _ := slices.BinarySearch(q.fb, uint32(rest.Uint64()))
		j = min(max(j, q.sieveFrom), len(q.fb)-1)
		for slices.Contains(idx, j) || q.sqrtKN[j] == 0 {
			if j++; j == len(q.fb) {
				break
			}
		}
		if j == len(q.fb) {
			continue
		}
		idx = append(idx, j)
		slices.Sort(idx)
		key := string(binary.LittleEndian.AppendUint64(nil, uint64(idx[0])))
		for _, i := range idx[1:] {
			key += string(binary.LittleEndian.AppendUint64(nil, uint64(i)))
		}
		if q.usedA[key] {
			continue
		}
		q.usedA[key] = true
		q.setA(idx)
		return true
	}
	return false
}

// setA computes the B_l and the roots of the first polynomial of A.
func (q *siqs) setA(idx []int) {
	for _, j := range q.aIdx {
		q.inA[j] = false
	}
	q.aIdx = idx
	q.a = big.NewInt(1)
	for _, j := range idx {
		q.inA[j] = true
		q.a.Mul(q.a, big.NewInt(int64(q.fb[j])))
	}
	s := len(idx)
	q.bl = make([]*big.Int, s)
	q.b = new(big.Int)
	for l, j := range idx {
		p := uint64(q.fb[j])
		aq := new(big.Int).Quo(q.a, big.NewInt(int64(p)))
		t := uint64(q.sqrtKN[j]) * inverseModWord(modWord(aq, p), p) % p
		q.bl[l] = aq.Mul(aq, new(big.Int).SetUint64(t))
		q.b.Add(q.b, q.bl[l])
	}
	q.signs = make([]bool, s)
	if len(q.bainv) != s {
		q.bainv = make([][]uint32, s)
		for l := range q.bainv {
			q.bainv[l] = make([]uint32, len(q.fb))
		}
	}
	half := uint64(q.half)
	for j := 1; j < len(q.fb); j++ {
		if q.inA[j] {
			continue
		}
		p := uint64(q.fb[j])
		ainv := inverseModWord(modWord(q.a, p), p)
		for l := range s {
			q.bainv[l][j] = uint32(2 * modWord(q.bl[l], p) % p * ainv % p)
		}
		b := modWord(q.b, p)
		t := uint64(q.sqrtKN[j])
		q.root1[j] = uint32(((t+p-b)%p*ainv + half) % p)
		q.root2[j] = uint32(((2*p-t-b)%p*ainv + half) % p)
	}
}

// nextB moves to polynomial i of the current A (i >= 1): B_l flips sign
// for l = 1 + the trailing zeros of i, and every root moves by ∓2·B_l/A.
func (q *siqs) nextB(i int) {
	l := 1 + bits.TrailingZeros(uint(i))
	minus := q.signs[l]
	q.signs[l] = !minus
	two := new(big.Int).Lsh(q.bl[l], 1)
	if minus { // B += 2B_l: the roots move down by 2·B_l/A
		q.b.Add(q.b, two)
	} else {
		q.b.Sub(q.b, two)
	}
	fb := q.fb[1:]
	d, r1, r2 := q.bainv[l][1:len(q.fb)], q.root1[1:len(q.fb)], q.root2[1:len(q.fb)]
	for j, p := range fb {
		dj := d[j]
		if !minus {
			dj = p - dj
		}
		r1[j] = subMod32(r1[j], dj, p)
		r2[j] = subMod32(r2[j], dj, p)
	}
}

// subMod32 returns a−b mod p for a, b <= p < 2^31.
func subMod32(a, b, p uint32) uint32 {
	x := a - b
	return x + p&uint32(int32(x)>>31)
}

// sieveAndCollect sieves the current polynomial and keeps the relations
// it finds.
func (q *siqs) sieveAndCollect() {
	s := q.sieve
	s[0] = q.start
	for i := 1; i < len(s); i *= 2 { // fill by doubling copies
		copy(s[i:], s[:i])
	}
	for j := q.sieveFrom; j < len(q.fb); j++ {
		if q.inA[j] {
			continue
		}
		p, lg := int(q.fb[j]), q.logp[j]
		r1, r2 := int(q.root1[j]), int(q.root2[j])
		if r1 > r2 {
			r1, r2 = r2, r1
		}
		if r1 == r2 { // p divides k: one root
			for i := uint(r1); i < uint(len(s)); i += uint(p) {
				s[i] += lg
			}
			continue
		}
		if r2-r1 >= len(s) { // p is larger than the interval
			if r1 < len(s) {
				s[r1] += lg
			}
			continue
		}
		// Both roots in one pass: s[i] and s[i+d] as lo[i] and hi[i].
		hi := s[r2-r1:]
		lo := s[:len(hi)]
		i := uint(r1)
		for ; i < uint(len(hi)); i += uint(p) {
			lo[i] += lg
			hi[i] += lg
		}
		if i < uint(len(s)) {
			s[i] += lg
		}
	}
	const high = 0x8080808080808080 // the bytes at or above the threshold
	for i := 0; i+32 <= len(s); i += 32 {
		w := binary.LittleEndian.Uint64(s[i:]) | binary.LittleEndian.Uint64(s[i+8:]) |
			binary.LittleEndian.Uint64(s[i+16:]) | binary.LittleEndian.Uint64(s[i+24:])
		if w&high == 0 {
			continue
		}
		for k := i; k < i+32; k++ {
			if s[k]&0x80 != 0 {
				q.check(k)
			}
		}
	}
}

// check factors g(x) at the sieve index i over the factor base and keeps
// the relation if it is full or partial.
func (q *siqs) check(i int) {
	y, g := &q.y, &q.g
	y.SetInt64(int64(i - q.half))
	y.Mul(y, q.a)
	y.Add(y, q.b)
	g.Mul(y, y)
	g.Sub(g, q.kn)
	g.Quo(g, q.a) // exact: B² ≡ kn (mod A)
	cols := make([]uint32, 0, 32)
	if g.Sign() < 0 {
		cols = append(cols, 0)
		g.Neg(g)
	}
	if g.BitLen() > 128 || g.Sign() == 0 {
		return
	}
	v := u128FromBig(g)
	for _, j := range q.aIdx {
		cols = append(cols, uint32(j+1))
	}
	if tz := v.trailingZeros(); tz > 0 {
		v = v.rsh(uint(tz))
		for range tz {
			cols = append(cols, 1)
		}
	}
	ui := uint32(i)
	for j := 1; j < len(q.fb); j++ {
		p := q.fb[j]
		if j >= q.sieveFrom && !q.inA[j] {
			// g(x) ≡ 0 (mod p) exactly when i is one of the roots.
			if (ui+p-q.root1[j])*q.pinv[j] > q.plim[j] && (ui+p-q.root2[j])*q.pinv[j] > q.plim[j] {
				continue
			}
		}
		for {
			d, r := divWord128(v, uint64(p))
			if r != 0 {
				break
			}
			v = d
			cols = append(cols, uint32(j+1))
		}
	}
	if v.hi != 0 || v.lo >= q.lpMax {
		return
	}
	rel := qsRel{y: new(big.Int).Mod(y, q.n), cols: cols, lp: 1}
	if v.lo == 1 {
		q.rels = append(q.rels, rel)
		return
	}
	other, ok := q.parts[v.lo]
	if !ok {
		q.parts[v.lo] = rel
		return
	}
	rel.y.Mul(rel.y, other.y).Mod(rel.y, q.n)
	rel.cols = append(rel.cols, other.cols...)
	rel.lp = v.lo
	q.rels = append(q.rels, rel)
}

// divWord128 returns v/p and v mod p.
func divWord128(v u128, p uint64) (u128, uint64) {
	hi, r := v.hi/p, v.hi%p
	lo, r := bits.Div64(r, v.lo, p)
	return u128{hi, lo}, r
}

// combine finds the dependencies among the relations and returns the
// first proper factor they give, or nil.
func (q *siqs) combine(ctx context.Context) *big.Int {
	ncols := len(q.fb) + 1
	for _, dep := range gf2Dependencies(ctx, q.rels, ncols) {
		x, y := big.NewInt(1), big.NewInt(1)
		exps := make([]int, ncols)
		for _, r := range dep {
			rel := q.rels[r]
			x.Mul(x, rel.y).Mod(x, q.n)
			y.Mul(y, new(big.Int).SetUint64(rel.lp)).Mod(y, q.n)
			for _, c := range rel.cols {
				exps[c]++
			}
		}
		square := true
		for c := 1; c < ncols; c++ {
			if exps[c]%2 != 0 {
				square = false
				break
			}
			if exps[c] > 0 {
				pe := new(big.Int).Exp(big.NewInt(int64(q.fb[c-1])), big.NewInt(int64(exps[c]/2)), q.n)
				y.Mul(y, pe).Mod(y, q.n)
			}
		}
		if !square || exps[0]%2 != 0 {
			continue
		}
		d := new(big.Int).Sub(x, y)
		d.GCD(nil, nil, d.Abs(d), q.n)
		if d.Cmp(big.NewInt(1)) > 0 && d.Cmp(q.n) < 0 {
			return d
		}
	}
	return nil
}

// gf2Dependencies returns sets of relations whose columns add up to even
// counts, by Gaussian elimination over GF(2) on the rows, each carrying
// the set of relations it is the sum of. Relations with a column that no
// other relation has are in no such set; they are removed first, and the
// columns that are left are renumbered, which makes the matrix smaller.
func gf2Dependencies(ctx context.Context, rels []qsRel, ncols int) [][]int {
	odd := make([][]uint32, len(rels)) // the columns of odd count
	for r, rel := range rels {
		odd[r] = oddColumns(rel.cols)
	}
	live, count := pruneSingletons(odd, ncols)
	renumber := make([]int, ncols)
	width := 0
	for c := range ncols {
		if count[c] > 0 {
			renumber[c] = width
			width++
		}
	}

	cw := (width + 63) / 64
	rw := (len(live) + 63) / 64
	rows := make([][]uint64, len(live))
	for i, r := range live {
		row := make([]uint64, cw+rw)
		for _, c := range odd[r] {
			c := renumber[c]
			row[c/64] |= 1 << (c % 64)
		}
		row[cw+i/64] |= 1 << (i % 64)
		rows[i] = row
	}
	pivot := 0
	for c := 0; c < width && pivot < len(rows); c++ {
		if c%256 == 0 && ctx.Err() != nil { // seconds at 60 digits
			return nil
		}
		w, bit := c/64, uint64(1)<<(c%64)
		p := pivot
		for p < len(rows) && rows[p][w]&bit == 0 {
			p++
		}
		if p == len(rows) {
			continue
		}
		rows[p], rows[pivot] = rows[pivot], rows[p]
		pr := rows[pivot]
		for _, row := range rows[pivot+1:] {
			if row[w]&bit != 0 {
				for k := w; k < len(row); k++ {
					row[k] ^= pr[k]
				}
			}
		}
		pivot++
	}
	var deps [][]int
	for _, row := range rows[pivot:] {
		var dep []int
		for k, word := range row[cw:] {
			for word != 0 {
				dep = append(dep, live[k*64+bits.TrailingZeros64(word)])
				word &= word - 1
			}
		}
		deps = append(deps, dep)
	}
	return deps
}

// oddColumns returns the columns that occur an odd number of times.
func oddColumns(cols []uint32) []uint32 {
	c := slices.Clone(cols)
	slices.Sort(c)
	var odd []uint32
	for i := 0; i < len(c); {
		j := i
		for j < len(c) && c[j] == c[i] {
			j++
		}
		if (j-i)%2 == 1 {
			odd = append(odd, c[i])
		}
		i = j
	}
	return odd
}

// pruneSingletons returns the rows that have no column of their own, the
// rows left having none either, and how many of them have each column.
func pruneSingletons(odd [][]uint32, ncols int) (live []int, count []int) {
	live = make([]int, 0, len(odd))
	for r := range odd {
		live = append(live, r)
	}
	count = make([]int, ncols)
	for changed := true; changed; {
		clear(count)
		for _, r := range live {
			for _, c := range odd[r] {
				count[c]++
			}
		}
		kept := live[:0]
		for _, r := range live {
			if !slices.ContainsFunc(odd[r], func(c uint32) bool { return count[c] == 1 }) {
				kept = append(kept, r)
			}
		}
		changed = len(kept) < len(live)
		live = kept
	}
	return live, count
}

// jacobi returns the Jacobi symbol (a/n) for odd n.
func jacobi(a, n uint64) int {
	a %= n
	j := 1
	for a != 0 {
		tz := bits.TrailingZeros64(a)
		a >>= uint(tz)
		if tz%2 == 1 && (n%8 == 3 || n%8 == 5) {
			j = -j
		}
		if a%4 == 3 && n%4 == 3 {
			j = -j
		}
		a, n = n%a, a
	}
	if n != 1 {
		return 0
	}
	return j
}

// powModWord returns x^e mod p for p < 2^32.
func powModWord(x, e, p uint64) uint64 {
	r := uint64(1)
	x %= p
	for ; e > 0; e >>= 1 {
		if e&1 != 0 {
			r = r * x % p
		}
		x = x * x % p
	}
	return r
}

// inverseModWord returns x⁻¹ mod p for x coprime to p < 2^32.
func inverseModWord(x, p uint64) uint64 {
	a, b := int64(x%p), int64(p)
	u, v := int64(1), int64(0)
	for b != 0 {
		t := a / b
		a, b = b, a-t*b
		u, v = v, u-t*v
	}
	if u < 0 {
		u += int64(p)
	}
	return uint64(u)
}

// sqrtModPrime returns a square root of the quadratic residue a mod the
// odd prime p < 2^32 (Tonelli–Shanks).
func sqrtModPrime(a, p uint64) uint64 {
	a %= p
	if a == 0 {
		return 0
	}
	if p%4 == 3 {
		return powModWord(a, (p+1)/4, p)
	}
	q, s := p-1, 0
	for q%2 == 0 {
		q, s = q/2, s+1
	}
	z := uint64(2)
	for powModWord(z, (p-1)/2, p) != p-1 {
		z++
	}
	c, r, t := powModWord(z, q, p), powModWord(a, (q+1)/2, p), powModWord(a, q, p)
	for t != 1 {
		i, tt := 0, t
		for tt != 1 {
			tt, i = tt*tt%p, i+1
		}
		b := c
		for range s - i - 1 {
			b = b * b % p
		}
		r, c = r*b%p, b*b%p
		t, s = t*c%p, i
	}
	return r
}

// qsMaxBits is the largest n the sieve splits (60 digits: seconds, where
// ECM needs hours for a product of two 100-bit primes); above, ECM alone.
// Up to it, g(x) fits in 128 bits.
const qsMaxBits = 200

// sieveAfter is the factor size, in bits, up to which ECM looks for a
// factor of an n of nbits before the sieve takes over: ECM finds a factor
// that small in a fraction of the sieve's time. Measured with
// BenchmarkSieveAfter (n of 96, 128, 160 and 192 bits, smaller factor of
// every size): a third of n's bits was the best of 1/2.4, 1/2.6, 1/2.8,
// 1/3, 1/3.3, 1/3.4 and 1/4 from 128 bits on; at 96 bits the sieve alone
// was faster (28 ms against 30.5 with the first level, for the 36
// numbers), so up to 100 bits no curve runs.
func sieveAfter(nbits int) int {
	if nbits <= 100 {
		return 0
	}
	return int(float64(nbits) / sieveAfterShare)
}

var sieveAfterShare = 3.0 // changed by BenchmarkSieveAfter only

package factor

import (
	"context"
	"math/bits"
)

// Lenstra's elliptic curve method, on Montgomery curves By² = x³ + Ax² + x
// in X:Z coordinates (no y, no inversions in the loops). A curve finds a
// prime factor p of n when the order of its group mod p is smooth: all its
// prime factors <= B1 but one <= B2. Curves come from Suyama's
// parametrization, whose group orders are all divisible by 12, which makes
// them smooth more often than those of random curves: random curves
// needed 1.65, 1.27 and 1.40 times as many curves for factors of 32, 40
// and 48 bits on the same numbers and bounds (TestCurveFamily, 200
// numbers each).

// xz is a point in projective X:Z coordinates.
type xz[E any] struct{ x, z E }

// curve is a Montgomery curve given by a24 = (A+2)/4, over the arithmetic m.
// The long loops give up early when done is closed.
type curve[E comparable, A arith[E]] struct {
	m    A
	a24  E
	done <-chan struct{}
}

// stopped reports whether the work was called off.
func (c *curve[E, A]) stopped() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// dbl returns 2P (2M+2S and one multiplication by a24).
func (c *curve[E, A]) dbl(p xz[E]) xz[E] {
	m := c.m
	s := m.add(p.x, p.z)
	d := m.sub(p.x, p.z)
	ss := m.mul(s, s)
	dd := m.mul(d, d)
	t := m.sub(ss, dd) // 4XZ
	return xz[E]{m.mul(ss, dd), m.mul(t, m.add(dd, m.mul(c.a24, t)))}
}

// add returns P+Q given P-Q (4M+2S; 3M+2S when P-Q has Z = 1).
func (c *curve[E, A]) add(p, q, diff xz[E]) xz[E] {
	m := c.m
	u := m.mul(m.sub(p.x, p.z), m.add(q.x, q.z))
	v := m.mul(m.add(p.x, p.z), m.sub(q.x, q.z))
	s := m.add(u, v)
	d := m.sub(u, v)
	x := m.mul(s, s)
	if diff.z != m.one() {
		x = m.mul(diff.z, x)
	}
	return xz[E]{x, m.mul(diff.x, m.mul(d, d))}
}

// ladder returns [k]P and [k+1]P for k >= 1 given as little-endian words,
// by Montgomery's ladder: the two points always differ by P.
func (c *curve[E, A]) ladder(p xz[E], k []uint64) (xz[E], xz[E]) {
	top := len(k) - 1
	for top > 0 && k[top] == 0 {
		top--
	}
	r0, r1 := p, c.dbl(p)
	for i := top; i >= 0; i-- {
		w := k[i]
		b := 63
		if i == top {
			b = 62 - bits.LeadingZeros64(w) // below the leading 1
		}
		if i%16 == 0 && c.stopped() {
			break
		}
		for ; b >= 0; b-- {
			if w>>uint(b)&1 != 0 {
				r0, r1 = c.add(r0, r1, p), c.dbl(r1)
			} else {
				r0, r1 = c.dbl(r0), c.add(r0, r1, p)
			}
		}
	}
	return r0, r1
}

// suyama returns the curve and starting point (x0 : 1) of Suyama's
// parametrization for sigma >= 6:
//
//	u = σ²-5, v = 4σ, x0 = u³/v³, a24 = (v-u)³(3u+v) / (16u³v).
//
// The two inverses come from one. If it does not exist, gcd(n, …) may be
// a factor: found reports it (ok is false either way).
func suyama[E comparable, A arith[E]](m A, sigma uint64) (c curve[E, A], p xz[E], found E, ok, proper bool) {
	u := m.small(sigma*sigma - 5)
	v := m.small(4 * sigma)
	u3 := m.mul(m.mul(u, u), u)
	v3 := m.mul(m.mul(v, v), v)
	t := m.mul(m.mul(m.small(16), u3), v)
	w := m.mul(t, v3)
	wi, ok := m.inverse(w)
	if !ok {
		found, proper, _ = m.gcd(w)
		return c, p, found, false, proper
	}
	vmu := m.sub(v, u)
	num := m.mul(m.mul(m.mul(vmu, vmu), vmu), m.add(m.add(m.add(u, u), u), v))
	c = curve[E, A]{m: m, a24: m.mul(num, m.mul(wi, v3))}
	p = xz[E]{m.mul(u3, m.mul(wi, t)), m.one()}
	return c, p, found, true, false
}

// ecmCurve runs one curve, stage 1 to b1 and stage 2 to b2, and returns a
// proper factor of n if it finds one. When ctx is done it returns early,
// with nothing.
func ecmCurve[E comparable, A arith[E]](ctx context.Context, m A, sigma, b1, b2 uint64) (E, bool) {
	c, p, d, ok, proper := suyama(m, sigma)
	if !ok {
		return d, proper
	}
	c.done = ctx.Done()
	return c.run(p, b1, b2)
}

// run runs stage 1 to b1 and stage 2 to b2 from the point p, and returns
// a proper factor of n if it finds one.
func (c *curve[E, A]) run(p xz[E], b1, b2 uint64) (E, bool) {
	m := c.m
	q, _ := c.ladder(p, stage1Scalar(b1))
	if d, proper, whole := m.gcd(q.z); proper || whole || b2 <= b1 || c.stopped() {
		return d, proper
	}
	d, proper, _ := m.gcd(c.stage2(q, stage2For(b1, b2)))
	return d, proper
}

// stage2 is the standard continuation: with giant steps of D and the baby
// steps j < D/2 coprime to D, every prime p = mD ± j in (B1, B2] divides
// the order of Q mod a factor exactly when x([mD]Q) = x([j]Q) there. It
// returns the product of x_g - x_j over the (m, j) of the plan, the points
// made affine (x = X/Z) in batches by Montgomery's trick, so that a pair
// costs one multiplication (it took two in X:Z coordinates) and a point
// four and a share of an inversion. A batch whose Zs have no inverse mod
// n holds a point that is the identity mod a factor: stage2 then returns
// the product of those Zs, which the caller's gcd turns into that factor.
func (c *curve[E, A]) stage2(q xz[E], plan *stage2Plan) E {
	m := c.m
	babies := make([]xz[E], 0, len(plan.babies))
	q2 := c.dbl(q)
	prev, cur := q, q // [j-2]Q, [j]Q for odd j (x([-1]Q) = x([1]Q))
	for j, next := uint64(1), 0; next < len(plan.babies); j += 2 {
		if j > 1 {
			prev, cur = cur, c.add(cur, q2, prev)
		}
		if j == plan.babies[next] {
			babies = append(babies, cur)
			next++
		}
	}
	bx, zs, ok := c.affine(babies, nil)
	if !ok {
		return zs
	}
	g, _ := c.ladder(q, []uint64{plan.d})
	gm, gm1 := c.ladder(g, []uint64{plan.first})
	const batch = 128
	giants := make([]xz[E], 0, batch)
	var gx []E
	acc := m.one()
	for start := 0; start < len(plan.pairs) && !c.stopped(); start += batch {
		giants = giants[:0]
		for range min(batch, len(plan.pairs)-start) {
			giants = append(giants, gm)
			gm, gm1 = gm1, c.add(gm1, g, gm)
		}
		if gx, zs, ok = c.affine(giants, gx[:0]); !ok {
			return zs
		}
		for i, js := range plan.pairs[start : start+len(giants)] {
			for _, j := range js {
				acc = m.mul(acc, m.sub(gx[i], bx[j]))
			}
		}
	}
	return acc
}

// affine appends X/Z of each point to xs (three multiplications a point
// and one inversion in all). When the product of the Zs has no inverse mod
// n it returns that product and false.
func (c *curve[E, A]) affine(ps []xz[E], xs []E) ([]E, E, bool) {
	m := c.m
	if len(ps) == 0 {
		return xs, m.one(), true
	}
	prefix := make([]E, len(ps)) // prefix[i] = Z_0···Z_i
	zs := m.one()
	for i, p := range ps {
		zs = m.mul(zs, p.z)
		prefix[i] = zs
	}
	inv, ok := m.inverse(zs) // 1/(Z_0···Z_i) for i from the last down
	if !ok {
		return xs, zs, false
	}
	at := len(xs)
	xs = append(xs, make([]E, len(ps))...)
	for i := len(ps) - 1; i > 0; i-- {
		xs[at+i] = m.mul(ps[i].x, m.mul(inv, prefix[i-1]))
		inv = m.mul(inv, ps[i].z)
	}
	xs[at] = m.mul(ps[0].x, inv)
	return xs, zs, true
}

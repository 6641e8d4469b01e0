package factor

// rho runs Pollard–Brent rho with f(x) = x²+c and returns a proper factor
// of n. It fails (ok == false) when the cycle closes without one (try
// another c) or after about maxSteps steps (0: no limit). Differences are
// multiplied together and one GCD is taken per batch; when a batch
// overshoots (the GCD is n), the batch is replayed step by step.
func rho[E comparable, A arith[E]](m A, c uint64, maxSteps int) (d E, ok bool) {
	const batch = 128
	cm := m.small(c)
	f := func(v E) E { return m.add(m.mul(v, v), cm) }
	y := m.small(2)
	var x, ys E
	q := m.one()
	steps := 0
	for r := 1; ; r <<= 1 {
		x = y
		y = m.iterate(y, cm, r)
		for k := 0; k < r; k += batch {
			ys = y
			y, q = m.walk(x, y, q, cm, min(batch, r-k))
			g, proper, whole := m.gcd(q)
			if proper {
				return g, true
			}
			if whole {
				return rhoReplay(m, f, x, ys)
			}
		}
		steps += 2 * r
		if maxSteps > 0 && steps >= maxSteps {
			return d, false
		}
	}
}

// rhoReplay walks a batch again one step at a time from ys, for the first
// difference that shares a factor with n.
func rhoReplay[E comparable, A arith[E]](m A, f func(E) E, x, ys E) (d E, ok bool) {
	for {
		ys = f(ys)
		g, proper, whole := m.gcd(m.sub(x, ys))
		if proper {
			return g, true
		}
		if whole {
			return d, false // the cycle closed: all factors at once
		}
	}
}

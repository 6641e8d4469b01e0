package factor

import "slices"

// Divisors64 appends every divisor of the number whose ascending prime
// factors (with multiplicity) are primes to dst, in ascending order,
// 1 and the number itself included.
func Divisors64(primes []uint64, dst []uint64) []uint64 {
	if NumDivisors(primes) > 1024 {
		return append(dst, mergedDivisors64(primes)...)
	}
	return sortedDivisors64(primes, dst)
}

// sortedDivisors64 generates the divisors and sorts them: no allocation
// when dst has room, the better choice for the usual few dozen divisors.
func sortedDivisors64(primes []uint64, dst []uint64) []uint64 {
	mark := len(dst)
	dst = append(dst, 1)
	for i := 0; i < len(primes); {
		p := primes[i]
		j := i
		for j < len(primes) && primes[j] == p {
			j++
		}
		// Multiply the divisors so far by p, p², …, p^e.
		count := len(dst) - mark
		pk := uint64(1)
		for e := 0; e < j-i; e++ {
			pk *= p
			for _, d := range dst[mark : mark+count] {
				dst = append(dst, d*pk)
			}
		}
		i = j
	}
	slices.Sort(dst[mark:])
	return dst
}

// mergedDivisors64 builds the sorted divisors without sorting: for each
// prime power p^e, the divisors so far D become the merge of D, D·p, …,
// D·p^e, each of them already sorted. For 184,320 divisors this is several
// times faster than generating and sorting.
func mergedDivisors64(primes []uint64) []uint64 {
	total := NumDivisors(primes)
	bufs := [3][]uint64{make([]uint64, 0, total), make([]uint64, 0, total), make([]uint64, 0, total)}
	d := append(bufs[0], 1) // the divisors of the primes so far
	free := [2]int{1, 2}
	dIdx := 0
	for i := 0; i < len(primes); {
		p := primes[i]
		j := i
		for j < len(primes) && primes[j] == p {
			j++
		}
		cur, curIdx := d, dIdx
		pk := uint64(1)
		for e := 0; e < j-i; e++ {
			pk *= p
			// out = merge(cur, d·pk), in a buffer that is neither d nor cur.
			outIdx := free[0]
			if outIdx == curIdx {
				outIdx = free[1]
			}
			out := bufs[outIdx][:0]
			a, b := 0, 0
			for a < len(cur) && b < len(d) {
				if x, y := cur[a], d[b]*pk; x < y {
					out = append(out, x)
					a++
				} else {
					out = append(out, y)
					b++
				}
			}
			out = append(out, cur[a:]...)
			for ; b < len(d); b++ {
				out = append(out, d[b]*pk)
			}
			bufs[outIdx] = out
			cur, curIdx = out, outIdx
			free = [2]int{}
			k := 0
			for x := 0; x < 3; x++ {
				if x != dIdx && x != curIdx {
					free[k] = x
					k++
				}
			}
			if k == 1 {
				free[1] = free[0]
			}
		}
		d, dIdx = cur, curIdx
		k := 0
		for x := 0; x < 3; x++ {
			if x != dIdx {
				free[k] = x
				k++
			}
		}
		i = j
	}
	return d
}

// Divisors128 is Divisors64 for numbers up to 2^128-1.
func Divisors128(primes []U128, dst []U128) []U128 {
	mark := len(dst)
	dst = append(dst, From64(1))
	for i := 0; i < len(primes); {
		p := primes[i]
		j := i
		for j < len(primes) && primes[j] == p {
			j++
		}
		count := len(dst) - mark
		pk := From64(1)
		for e := 0; e < j-i; e++ {
			pk, _ = pk.Mul(p) // pk divides n < 2^128: no overflow
			for _, d := range dst[mark : mark+count] {
				v, _ := d.Mul(pk)
				dst = append(dst, v)
			}
		}
		i = j
	}
	slices.SortFunc(dst[mark:], U128.Cmp)
	return dst
}

// NumDivisors returns how many divisors the number with the given ascending
// prime factors has (1 and itself included).
func NumDivisors[T comparable](primes []T) uint64 {
	n := uint64(1)
	for i := 0; i < len(primes); {
		j := i
		for j < len(primes) && primes[j] == primes[i] {
			j++
		}
		n *= uint64(j - i + 1)
		i = j
	}
	return n
}

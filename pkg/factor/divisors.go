package factor

import "slices"

// Divisors64 appends every divisor of the number whose ascending prime
// factors (with multiplicity) are primes to dst, in ascending order,
// 1 and the number itself included.
func Divisors64(primes []uint64, dst []uint64) []uint64 {
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

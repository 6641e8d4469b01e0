package factor

import (
	"container/heap"
	"math/big"
	"slices"
)

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

// NumDivisors returns how many divisors the number with the given ascending
// prime factors has (1 and itself included).
func NumDivisors(primes []uint64) uint64 {
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

// MaxListedDivisors is the most divisors EachDivisor lists: a number with
// more would take terabytes to print.
const MaxListedDivisors = 1 << 40

// primePower is p^e.
type primePower struct {
	p *big.Int
	e int
}

// powers groups ascending primes into prime powers.
func powers(primes []*big.Int) []primePower {
	var pps []primePower
	for _, p := range primes {
		if k := len(pps) - 1; k >= 0 && pps[k].p.Cmp(p) == 0 {
			pps[k].e++
		} else {
			pps = append(pps, primePower{p, 1})
		}
	}
	return pps
}

// CountDivisors returns how many divisors the number with the given
// ascending prime factors has (1 and itself included), or false when there
// are more than MaxListedDivisors.
func CountDivisors(primes []*big.Int) (uint64, bool) {
	n := uint64(1)
	for _, pp := range powers(primes) {
		if n > MaxListedDivisors/uint64(pp.e+1) {
			return 0, false
		}
		n *= uint64(pp.e + 1)
	}
	return n, true
}

// EachDivisor calls yield with every divisor of the number whose ascending
// prime factors are primes, in ascending order, 1 and the number included,
// until yield returns false. It holds about the square root of their count
// in memory, not all of them: the prime powers are split into two groups
// whose divisor lists A and B are about equally long, and the products a·b
// are merged in order with a heap over A. The caller must check the count
// with CountDivisors first. The yielded value is not retained.
func EachDivisor(primes []*big.Int, yield func(*big.Int) bool) {
	pps := powers(primes)
	// Largest exponents first, each to the group with fewer divisors.
	slices.SortStableFunc(pps, func(a, b primePower) int { return b.e - a.e })
	var ga, gb []primePower
	na, nb := 1, 1
	for _, pp := range pps {
		if na <= nb {
			ga, na = append(ga, pp), na*(pp.e+1)
		} else {
			gb, nb = append(gb, pp), nb*(pp.e+1)
		}
	}
	as, bs := divisorsOf(ga), divisorsOf(gb)
	h := &productHeap{as: as, bs: bs}
	h.push(0, 0)
	for h.Len() > 0 {
		top := heap.Pop(h).(product)
		if !yield(top.v) {
			return
		}
		if top.j+1 < len(bs) {
			h.push(top.i, top.j+1)
		}
		if top.j == 0 && top.i+1 < len(as) {
			h.push(top.i+1, 0)
		}
	}
}

// divisorsOf returns the divisors of a product of prime powers, ascending.
func divisorsOf(pps []primePower) []*big.Int {
	ds := []*big.Int{big.NewInt(1)}
	for _, pp := range pps {
		count := len(ds)
		pk := big.NewInt(1)
		for range pp.e {
			pk = new(big.Int).Mul(pk, pp.p)
			for _, d := range ds[:count] {
				ds = append(ds, new(big.Int).Mul(d, pk))
			}
		}
	}
	slices.SortFunc(ds, (*big.Int).Cmp)
	return ds
}

// product is as[i]·bs[j].
type product struct {
	v    *big.Int
	i, j int
}

type productHeap struct {
	as, bs []*big.Int
	items  []product
}

func (h *productHeap) push(i, j int) {
	heap.Push(h, product{new(big.Int).Mul(h.as[i], h.bs[j]), i, j})
}

func (h *productHeap) Len() int           { return len(h.items) }
func (h *productHeap) Less(a, b int) bool { return h.items[a].v.Cmp(h.items[b].v) < 0 }
func (h *productHeap) Swap(a, b int)      { h.items[a], h.items[b] = h.items[b], h.items[a] }
func (h *productHeap) Push(x any)         { h.items = append(h.items, x.(product)) }
func (h *productHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

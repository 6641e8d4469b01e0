package factorstream

import (
	"bytes"
	"context"
	"math/big"
	"strconv"

	"github.com/hms-toolkit/hms/pkg/factor"
)

// divisorCheck tells whether a value is the divisor list of its key, by
// factoring the key and comparing the list with the one its factors give,
// divisor by divisor, without making the whole list. Its scratch slices
// are reused from line to line.
type divisorCheck struct {
	items  [][]byte
	primes []uint64
	divs   []uint64
	digits []byte
}

// verify returns "" when val (a valid list) is the list of the divisors of
// n from 2 to n/2, and what is wrong with it otherwise. The error is ctx's,
// when it is done while a large key is factored.
func (dc *divisorCheck) verify(ctx context.Context, n number, val []byte) (string, error) {
	dc.items = dc.items[:0]
	if len(val) > 0 {
		for item := range bytes.SplitSeq(val, []byte{','}) {
			dc.items = append(dc.items, item)
		}
	}
	for i := 1; i < len(dc.items); i++ {
		if compareDecimal(dc.items[i-1], dc.items[i]) >= 0 {
			return "not in ascending order", nil
		}
	}
	const wrong = "not its list of divisors (from 2 to n/2)"
	matched := 0
	match := func(d []byte) bool {
		if matched < len(dc.items) && bytes.Equal(dc.items[matched], d) {
			matched++
			return true
		}
		matched = -1
		return false
	}
	if n.big == nil {
		dc.primes = factor.Factor64(n.small, dc.primes[:0])
		dc.divs = factor.Divisors64(dc.primes, dc.divs[:0])
		for _, d := range dc.divs[1:max(len(dc.divs)-1, 1)] {
			if !match(strconv.AppendUint(dc.digits[:0], d, 10)) {
				break
			}
		}
		if cap(dc.divs) > 1<<16 {
			dc.divs = nil
		}
	} else {
		primes, err := factor.Factor(ctx, n.big)
		if err != nil {
			return "", err
		}
		if _, ok := factor.CountDivisors(primes); !ok {
			return wrong, nil // more divisors than a line can hold
		}
		factor.EachDivisor(primes, func(d *big.Int) bool {
			if d.IsInt64() && d.Int64() == 1 || d.Cmp(n.big) == 0 {
				return true
			}
			dc.digits = d.Append(dc.digits[:0], 10)
			return match(dc.digits)
		})
	}
	if matched != len(dc.items) {
		return wrong, nil
	}
	return "", nil
}

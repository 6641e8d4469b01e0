package factorstream

import (
	"fmt"
	"math/big"
	"strconv"

	"github.com/hms-toolkit/hms/pkg/factor"
)

// Format is an output format.
type Format int

const (
	// Divisors is the book's format: 16:[2, 4, 8] — every divisor d with
	// 2 <= d <= n/2, ascending.
	Divisors Format = iota
	// Factor is GNU coreutils factor's format: 12: 2 2 3.
	Factor
	// JSON is one object per line: {"n":16,"factors":[2,4,8]} (the
	// divisors of Divisors, every integer exact).
	JSON
	// TSV is a Hadoop key/value line: 16<TAB>2,4,8.
	TSV
)

// Formats names the formats for flags and help.
var Formats = []string{"divisors", "factor", "json", "tsv"}

// ParseFormat returns the format with the given name.
func ParseFormat(name string) (Format, error) {
	for i, f := range Formats {
		if f == name {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("unknown format %q (want one of: divisors, factor, json, tsv)", name)
}

func (f Format) String() string { return Formats[f] }

// formatter turns numbers into output lines; each worker has its own, so
// the scratch slices are reused without locking.
type formatter struct {
	format Format
	primes []uint64
	divs   []uint64
}

// open appends what comes between the number and its list.
func (f *formatter) open(dst []byte) []byte {
	switch f.format {
	case Divisors:
		return append(dst, ":["...)
	case JSON:
		return append(dst, `,"factors":[`...)
	case TSV:
		return append(dst, '\t')
	}
	return append(dst, ':')
}

// sep appends what comes before an element of the list; first reports
// whether it is the first.
func (f *formatter) sep(dst []byte, first bool) []byte {
	switch {
	case f.format == Factor:
		return append(dst, ' ')
	case first:
		return dst
	case f.format == Divisors:
		return append(dst, ", "...)
	}
	return append(dst, ',')
}

func (f *formatter) close(dst []byte) []byte {
	switch f.format {
	case Divisors:
		return append(dst, "]\n"...)
	case JSON:
		return append(dst, "]}\n"...)
	}
	return append(dst, '\n')
}

// head appends the start of a line, up to its list: key is the number in
// decimal.
func (f *formatter) head(dst, key []byte) []byte {
	if f.format == JSON {
		dst = append(dst, `{"n":`...)
	}
	return f.open(append(dst, key...))
}

// appendLine64 appends the output line for n; tok is n's input token,
// copied as is when it is already canonical.
func (f *formatter) appendLine64(dst []byte, n uint64, tok []byte) []byte {
	if tok != nil && canonical(tok) {
		dst = f.head(dst, tok)
	} else {
		var key [20]byte
		dst = f.head(dst, strconv.AppendUint(key[:0], n, 10))
	}
	f.primes = factor.Factor64(n, f.primes[:0])
	ps := f.primes
	if f.format == Factor {
		for _, p := range ps {
			dst = strconv.AppendUint(append(dst, ' '), p, 10)
		}
		return f.close(dst)
	}
	if len(ps) <= 1 { // 1 and primes have no divisors in 2..n/2
		return f.close(dst)
	}
	f.divs = factor.Divisors64(ps, f.divs[:0])
	for i, d := range f.divs[1 : len(f.divs)-1] {
		dst = strconv.AppendUint(f.sep(dst, i == 0), d, 10)
	}
	if cap(f.divs) > 1<<16 { // don't keep a 184,320-divisor array around
		f.divs = nil
	}
	return f.close(dst)
}

// appendBig appends the line of n > 2^64, whose decimal form is key and
// whose ascending prime factors are primes. The divisor formats list the
// divisors as they are generated: when the line grows past flushSize,
// spill is given what there is and returns the buffer to go on in (a nil
// spill keeps it all); its error ends the line. The caller has checked the
// divisor count.
func (f *formatter) appendBig(dst, key []byte, n *big.Int, primes []*big.Int, spill func([]byte) ([]byte, error)) ([]byte, error) {
	dst = f.head(dst, key)
	if f.format == Factor {
		for _, p := range primes {
			dst = p.Append(append(dst, ' '), 10)
		}
		return f.close(dst), nil
	}
	first := true
	var err error
	factor.EachDivisor(primes, func(d *big.Int) bool {
		if d.IsInt64() && d.Int64() == 1 || d.Cmp(n) == 0 {
			return true // the list is of the divisors from 2 to n/2
		}
		dst = d.Append(f.sep(dst, first), 10)
		first = false
		if spill != nil && len(dst) >= flushSize {
			dst, err = spill(dst)
		}
		return err == nil
	})
	return f.close(dst), err
}

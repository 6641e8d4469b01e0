package factorstream

import (
	"fmt"
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
	format  Format
	primes  []uint64
	divs    []uint64
	primesL []factor.U128
	divsL   []factor.U128
}

// prefix and separator bytes per format, around the divisor list.
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

func (f *formatter) sep(dst []byte) []byte {
	switch f.format {
	case Divisors:
		return append(dst, ", "...)
	case Factor:
		return append(dst, ' ')
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

// appendLine appends the output line for n; tok is n's input token, copied
// as is when it is already canonical.
func (f *formatter) appendLine(dst []byte, n factor.U128, tok []byte) []byte {
	if f.format == JSON {
		dst = append(dst, `{"n":`...)
	}
	if tok != nil && canonical(tok) {
		dst = append(dst, tok...)
	} else {
		dst = factor.AppendU128(dst, n)
	}
	dst = f.open(dst)
	if n.Hi != 0 {
		dst = f.appendBig(dst, n)
		return f.close(dst)
	}
	f.primes = factor.Factor64(n.Lo, f.primes[:0])
	ps := f.primes
	if f.format == Factor {
		for _, p := range ps {
			dst = append(dst, ' ')
			dst = strconv.AppendUint(dst, p, 10)
		}
		return f.close(dst)
	}
	if len(ps) <= 1 { // 1 and primes have no divisors in 2..n/2
		return f.close(dst)
	}
	f.divs = factor.Divisors64(ps, f.divs[:0])
	ds := f.divs[1 : len(f.divs)-1]
	for i, d := range ds {
		if i > 0 {
			dst = f.sep(dst)
		}
		dst = strconv.AppendUint(dst, d, 10)
	}
	if cap(f.divs) > 1<<16 { // don't keep a 184,320-divisor array around
		f.divs = nil
	}
	return f.close(dst)
}

func (f *formatter) appendBig(dst []byte, n factor.U128) []byte {
	f.primesL = factor.Factor128(n, f.primesL[:0])
	ps := f.primesL
	if f.format == Factor {
		for _, p := range ps {
			dst = append(dst, ' ')
			dst = factor.AppendU128(dst, p)
		}
		return dst
	}
	if len(ps) <= 1 {
		return dst
	}
	f.divsL = factor.Divisors128(ps, f.divsL[:0])
	ds := f.divsL[1 : len(f.divsL)-1]
	for i, d := range ds {
		if i > 0 {
			dst = f.sep(dst)
		}
		dst = factor.AppendU128(dst, d)
	}
	if cap(f.divsL) > 1<<16 {
		f.divsL = nil
	}
	return dst
}

package factorstream

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/hms-toolkit/hms/pkg/factor"
)

// ReduceOptions configures Reduce.
type ReduceOptions struct {
	Name    string // prefixes diagnostics: "hms-factors reduce"
	Summary bool   // gather the totals of ReduceStats.Summary
}

// ReduceStats counts what Reduce saw.
type ReduceStats struct {
	Numbers    int64 // distinct keys written
	Duplicates int64 // lines merged into the line before (same key, same value)
	Disagree   int64 // lines whose value disagreed with an earlier one for the key
	Invalid    int64 // lines that are not NUMBER<TAB>DIVISORS

	Primes       int64
	Perfect      []factor.U128 // in the order seen (WriteSummary sorts them)
	MostDivisors factor.U128   // smallest number with the most divisors
	MaxDivisors  int64         // its divisor count, 1 and itself included
}

// Reduce reads key-sorted tsv lines (NUMBER<TAB>d1,d2,…), as Hadoop
// Streaming hands them to a reducer, and writes each key once. Lines with
// the same key must carry the same value; a disagreement is reported on
// errw naming the key, and counted. Keys need only be grouped, not sorted
// numerically (sort(1)'s text order is fine).
func Reduce(r io.Reader, w, errw io.Writer, opt ReduceOptions) (ReduceStats, error) {
	if opt.Name == "" {
		opt.Name = "hms-factors reduce"
	}
	var st ReduceStats
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriterSize(w, 64<<10)
	var prevKey, prevVal []byte
	havePrev := false
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer (a 184,320-divisor value is
			// 2.2 MB): gather it whole.
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && err != io.EOF {
			return st, err
		}
		if len(line) == 0 && err == io.EOF {
			break
		}
		body := bytes.TrimSuffix(line, []byte{'\n'})
		body = bytes.TrimSuffix(body, []byte{'\r'})
		key, val, ok := bytes.Cut(body, []byte{'\t'})
		n, kst := ParseToken(key)
		switch {
		case len(body) == 0:
			// blank lines carry nothing
		case !ok || kst != tokOK || !canonical(key) || !validList(val):
			st.Invalid++
			fmt.Fprintf(errw, "%s: line %d: %s is not NUMBER<TAB>DIVISORS as hms-factors --format tsv writes\n",
				opt.Name, lineNo, quoteShort(body))
		case havePrev && bytes.Equal(key, prevKey):
			if bytes.Equal(val, prevVal) {
				st.Duplicates++
			} else {
				st.Disagree++
				fmt.Fprintf(errw, "%s: line %d: key %s: values disagree: %s, then %s\n",
					opt.Name, lineNo, key, quoteShort(prevVal), quoteShort(val))
			}
		default:
			if _, err := bw.Write(body); err != nil {
				return st, err
			}
			if err := bw.WriteByte('\n'); err != nil {
				return st, err
			}
			st.Numbers++
			if opt.Summary {
				st.add(n, val)
			}
			prevKey = append(prevKey[:0], key...)
			prevVal = append(prevVal[:0], val...)
			havePrev = true
		}
		if err == io.EOF {
			break
		}
	}
	return st, bw.Flush()
}

func (st *ReduceStats) add(n factor.U128, val []byte) {
	count := int64(1) // n itself
	if n != factor.From64(1) {
		// 1, n, and the listed ones: commas+1 of them.
		count = 3 + int64(bytes.Count(val, []byte{','}))
		if len(val) == 0 {
			count = 2
			st.Primes++
		}
	}
	if count > st.MaxDivisors || count == st.MaxDivisors && n.Cmp(st.MostDivisors) < 0 {
		st.MaxDivisors, st.MostDivisors = count, n
	}
	// Perfect: 1 + the listed divisors sum to n. Stop once past n.
	if len(val) == 0 {
		return
	}
	sum := factor.From64(1)
	for _, d := range bytes.Split(val, []byte{','}) {
		v, _ := ParseToken(d)
		var c uint64
		sum, c = sum.Add(v)
		if c != 0 || sum.Cmp(n) > 0 {
			return
		}
	}
	if sum == n {
		st.Perfect = append(st.Perfect, n)
	}
}

// WriteSummary prints the totals gathered with ReduceOptions.Summary.
func (st *ReduceStats) WriteSummary(w io.Writer) {
	sorted := slices.SortedFunc(slices.Values(st.Perfect), factor.U128.Cmp)
	perfect := make([]string, 0, len(sorted))
	for i, p := range sorted {
		if i == 10 {
			perfect = append(perfect, "…")
			break
		}
		perfect = append(perfect, p.String())
	}
	fmt.Fprintf(w, "numbers:       %d\n", st.Numbers)
	fmt.Fprintf(w, "primes:        %d\n", st.Primes)
	if len(perfect) > 0 {
		fmt.Fprintf(w, "perfect:       %d (%s)\n", len(st.Perfect), strings.Join(perfect, ", "))
	} else {
		fmt.Fprintf(w, "perfect:       0\n")
	}
	if st.Numbers > 0 {
		fmt.Fprintf(w, "most divisors: %s (%d divisors, 1 and itself included)\n", st.MostDivisors, st.MaxDivisors)
	}
}

// validList reports whether v is empty or a comma-separated list of
// canonical positive integers.
func validList(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	prevComma := true
	for _, c := range v {
		switch {
		case c == ',':
			if prevComma {
				return false
			}
			prevComma = true
		case c >= '0' && c <= '9':
			if prevComma && c == '0' {
				return false
			}
			prevComma = false
		default:
			return false
		}
	}
	return !prevComma
}

func quoteShort(b []byte) string {
	if len(b) > 60 {
		return strconv.Quote(string(b[:60]) + "…")
	}
	return strconv.Quote(string(b))
}

package factorstream

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/hms-toolkit/hms/pkg/lines"
)

// ReduceOptions configures Reduce.
type ReduceOptions struct {
	Name    string // prefixes diagnostics: "hms-factors reduce"
	Summary bool   // gather the totals of ReduceStats.Summary
	// Writer names what writes the lines Reduce reads, for the report of
	// a line that is not one: "hms-factors --format tsv"; "": none named.
	Writer string
}

// ReduceStats counts what Reduce saw.
type ReduceStats struct {
	Numbers    int64 // keys written
	Duplicates int64 // lines merged into the line before (same key, same value)
	Wrong      int64 // values that are not the divisor list of their key
	OutOfOrder int64 // lines whose key breaks the sort order of the keys before
	Invalid    int64 // lines that are not NUMBER<TAB>DIVISORS

	// Stopped reports that ctx was done before all the input was read:
	// the lines before ResumeLine were handled.
	Stopped    bool
	ResumeLine int64

	Primes       int64
	Perfect      []*big.Int // in the order seen (WriteSummary sorts them)
	MostDivisors *big.Int   // smallest number with the most divisors
	MaxDivisors  int64      // its divisor count, 1 and itself included
}

// MaxReduceLine is the longest line Reduce takes, in bytes: a divisor
// list of about three million 20-digit numbers.
const MaxReduceLine = 64 << 20

// Reduce reads tsv lines (NUMBER<TAB>d1,d2,…) sorted by key, as Hadoop
// Streaming hands them to a reducer or sort(1) sorts them, and writes each
// key once. Each value is checked: it must be the divisor list of its key
// (the key is factored to see). Lines that are not NUMBER<TAB>DIVISORS,
// lists that are unsorted or wrong, and keys out of order (a key that
// could have come earlier, in text or in numeric order, so that its lines
// are not all together) are reported on errw with their line and counted;
// a correct line whose key is out of order is still written. When ctx is
// done Reduce stops between lines (Stats.Stopped).
func Reduce(ctx context.Context, r io.Reader, w, errw io.Writer, opt ReduceOptions) (ReduceStats, error) {
	if opt.Name == "" {
		opt.Name = "hms-factors reduce"
	}
	rd := &reducer{ctx: ctx, opt: opt, errw: errw, w: bufio.NewWriterSize(w, 64<<10)}
	in := lines.NewReader(lines.FlushBeforeRead(r, rd.w), MaxReduceLine)
	for ctx.Err() == nil {
		line, err := in.Next()
		var tooLong *lines.TooLongError
		switch {
		case err == io.EOF:
			return rd.st, rd.w.Flush()
		case errors.As(err, &tooLong):
			rd.st.Invalid++
			rd.report(in.Line(), "%d bytes long, more than the %d a line may have", tooLong.Len, MaxReduceLine)
			continue
		case err != nil:
			rd.w.Flush()
			return rd.st, err
		}
		if err := rd.line(in.Line(), bytes.TrimSuffix(line, []byte{'\r'})); err != nil {
			if ctx.Err() != nil { // stopped while a key was factored
				rd.st.Stopped, rd.st.ResumeLine = true, in.Line()
				return rd.st, rd.w.Flush()
			}
			return rd.st, err
		}
	}
	rd.st.Stopped, rd.st.ResumeLine = true, in.Line()+1
	return rd.st, rd.w.Flush()
}

// reducer is the state of one Reduce: the key of the line before, the
// value written for it, and the order the keys have kept so far.
type reducer struct {
	ctx  context.Context
	opt  ReduceOptions
	errw io.Writer
	w    *bufio.Writer
	st   ReduceStats

	key, val []byte // the last key, and the value written for it
	written  bool   // a value was written for key
	order    keyOrder
	check    divisorCheck
}

func (rd *reducer) report(line int64, format string, args ...any) {
	if err := rd.w.Flush(); err == nil { // keep stdout and stderr in step
		fmt.Fprintf(rd.errw, "%s: line %d: %s\n", rd.opt.Name, line, fmt.Sprintf(format, args...))
	}
}

// line handles one line; it returns only write errors and ctx's.
func (rd *reducer) line(no int64, body []byte) error {
	if len(body) == 0 {
		return nil // blank lines carry nothing
	}
	key, val, ok := bytes.Cut(body, []byte{'\t'})
	n, st := parseToken(key)
	if !ok || st != tokOK || !canonical(key) || !validList(val) {
		rd.st.Invalid++
		if rd.opt.Writer != "" {
			rd.report(no, "%s is not NUMBER<TAB>DIVISORS as %s writes", quoteShort(body), rd.opt.Writer)
		} else {
			rd.report(no, "%s is not NUMBER<TAB>DIVISORS", quoteShort(body))
		}
		return nil
	}
	same := rd.key != nil && bytes.Equal(key, rd.key)
	if same && rd.written && bytes.Equal(val, rd.val) {
		rd.st.Duplicates++
		return nil
	}
	if !same {
		if !rd.order.next(key) {
			rd.st.OutOfOrder++
			rd.report(no, "key %s is out of order: the keys must come sorted (sort, or Hadoop's shuffle), so that the lines of a key are together", describe(key))
		}
		rd.key, rd.written = append(rd.key[:0], key...), false
	}
	verdict, err := rd.check.verify(rd.ctx, n, val)
	if err != nil {
		return err
	}
	switch {
	case verdict != "":
		rd.st.Wrong++
		rd.report(no, "key %s: %s: %s", describe(key), quoteShort(val), verdict)
		return nil
	case rd.written: // right, but so was the value before: cannot differ
		rd.st.Duplicates++
		return nil
	}
	rd.written, rd.val = true, append(rd.val[:0], val...)
	rd.st.Numbers++
	if rd.opt.Summary {
		rd.st.add(n, val)
	}
	if _, err := rd.w.Write(body); err != nil {
		return err
	}
	return rd.w.WriteByte('\n')
}

// keyOrder follows whether the keys so far ascend in text order (Hadoop's
// and sort(1)'s) or in numeric order (sort -n); it takes whichever they
// keep. A key that is not above the largest so far in an order they kept
// is out of order: in sorted input a key's lines are together, so this is
// also how a key that comes again later is found.
type keyOrder struct {
	seen            bool
	text, num       bool   // the keys ascend in this order so far
	maxText, maxNum []byte // the largest key in each order
}

func (o *keyOrder) next(key []byte) bool {
	if !o.seen {
		o.seen, o.text, o.num = true, true, true
		o.maxText, o.maxNum = append(o.maxText[:0], key...), append(o.maxNum[:0], key...)
		return true
	}
	inText, inNum := bytes.Compare(key, o.maxText) > 0, compareDecimal(key, o.maxNum) > 0
	if !(o.text && inText || o.num && inNum) {
		return false
	}
	o.text, o.num = o.text && inText, o.num && inNum
	if inText {
		o.maxText = append(o.maxText[:0], key...)
	}
	if inNum {
		o.maxNum = append(o.maxNum[:0], key...)
	}
	return true
}

// compareDecimal compares canonical decimal numbers (no leading zeros).
func compareDecimal(a, b []byte) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return bytes.Compare(a, b)
}

func (st *ReduceStats) add(n number, val []byte) {
	nb := n.big
	if nb == nil {
		nb = new(big.Int).SetUint64(n.small)
	}
	count := int64(1) // n itself
	if n.big != nil || n.small != 1 {
		// 1, n, and the listed ones: commas+1 of them.
		count = 3 + int64(bytes.Count(val, []byte{','}))
		if len(val) == 0 {
			count = 2
			st.Primes++
		}
	}
	if count > st.MaxDivisors || count == st.MaxDivisors && nb.Cmp(st.MostDivisors) < 0 {
		st.MaxDivisors, st.MostDivisors = count, nb
	}
	// Perfect: 1 + the listed divisors sum to n. Stop once past n.
	if len(val) == 0 {
		return
	}
	sum, d := big.NewInt(1), new(big.Int)
	for _, s := range bytes.Split(val, []byte{','}) {
		d.SetString(string(s), 10)
		if sum.Add(sum, d).Cmp(nb) > 0 {
			return
		}
	}
	if sum.Cmp(nb) == 0 {
		st.Perfect = append(st.Perfect, nb)
	}
}

// WriteSummary prints the totals gathered with ReduceOptions.Summary.
func (st *ReduceStats) WriteSummary(w io.Writer) {
	sorted := slices.SortedFunc(slices.Values(st.Perfect), (*big.Int).Cmp)
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

package factorstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hms-toolkit/hms/pkg/factor"
)

// reference is the obvious serial implementation, for comparison: split on
// whitespace, parse with math/big, list the divisors by brute force for small
// n (or trust the formatter for big n, checked elsewhere).
func reference(t testing.TB, input string, opt Options) (out, errs string) {
	var o, e strings.Builder
	f := &formatter{format: opt.Format}
	for i, line := range strings.SplitAfter(input, "\n") {
		fields := strings.FieldsFunc(line, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
		if opt.DropKey && len(fields) > 0 {
			trimmed := strings.TrimLeft(line, " \r\v\f\t")
			if strings.HasPrefix(trimmed, fields[0]+"\t") {
				fields = fields[1:]
			}
		}
		for _, tok := range fields {
			s := strings.TrimPrefix(tok, "+")
			b, ok := new(big.Int).SetString(s, 10)
			if !ok || s == "" || s[0] == '-' || s[0] == '+' || strings.ContainsAny(s, "_xXoObB") {
				fmt.Fprintf(&e, "hms-factors: line %d: %s\n", i+1, tokenError{i + 1, trunc(tok), tokNotInteger, len(tok), false}.message())
				continue
			}
			if b.Sign() == 0 {
				fmt.Fprintf(&e, "hms-factors: line %d: %s\n", i+1, tokenError{i + 1, trunc(tok), tokNotInteger, len(tok), false}.message())
				continue
			}
			if len(b.String()) > factor.MaxDigits {
				fmt.Fprintf(&e, "hms-factors: line %d: %s\n", i+1, tokenError{i + 1, trunc(tok), tokTooLarge, len(tok), false}.message())
				continue
			}
			o.Write(referenceLine(t, f, b))
		}
	}
	return o.String(), e.String()
}

// referenceLine is the line for b, by math/big and the formatter.
func referenceLine(t testing.TB, f *formatter, b *big.Int) []byte {
	if b.IsUint64() {
		return f.appendLine64(nil, b.Uint64(), nil)
	}
	ps, err := factor.Factor(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := f.appendBig(nil, b.Append(nil, 10), b, ps, nil)
	return line
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

func run(t testing.TB, r io.Reader, opt Options) (string, string, Stats) {
	return runContext(t, context.Background(), r, opt)
}

func runContext(t testing.TB, ctx context.Context, r io.Reader, opt Options) (string, string, Stats) {
	var out, errs bytes.Buffer
	st, err := Run(ctx, r, &out, &errs, opt)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out.String(), errs.String(), st
}

func TestBookFormat(t *testing.T) {
	out, errs, st := run(t, strings.NewReader("11 16 101\n102 1001\t1000001\n\n  1000000001\n1"), Options{Workers: 3})
	want := `11:[]
16:[2, 4, 8]
101:[]
102:[2, 3, 6, 17, 34, 51]
1001:[7, 11, 13, 77, 91, 143]
1000001:[101, 9901]
1000000001:[7, 11, 13, 19, 77, 91, 133, 143, 209, 247, 1001, 1463, 1729, 2717, 19019, 52579, 368053, 578369, 683527, 999001, 4048583, 4784689, 6993007, 7518797, 10989011, 12987013, 52631579, 76923077, 90909091, 142857143]
1:[]
`
	if out != want || errs != "" || st.Numbers != 8 {
		t.Fatalf("got %q, %q, %+v", out, errs, st)
	}
}

func TestOrderAndErrorsManyWorkers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var in strings.Builder
	for i := 0; i < 60000; i++ {
		switch r.IntN(1000) {
		case 0:
			in.WriteString("12a")
		case 1:
			in.WriteString("0")
		default:
			fmt.Fprint(&in, r.Uint64()>>r.UintN(64))
		}
		if r.IntN(7) == 0 {
			in.WriteByte('\n')
		} else {
			in.WriteByte(" \t"[r.IntN(2)])
		}
	}
	for _, format := range []Format{Divisors, Factor} {
		opt := Options{Workers: 4, Format: format}
		wantOut, wantErr := reference(t, in.String(), opt)
		// Small, odd-sized reads exercise the chunk boundaries.
		got, gotErr, st := run(t, iotest.HalfReader(strings.NewReader(in.String())), opt)
		if got != wantOut {
			t.Fatalf("%v: output differs from the serial reference", format)
		}
		if gotErr != wantErr {
			t.Fatalf("%v: errors differ:\n%s\nwant\n%s", format, gotErr, wantErr)
		}
		if st.Invalid == 0 || st.Numbers+st.Invalid != 60000 {
			t.Fatalf("stats %+v", st)
		}
	}
}

func TestLongLinesAndTokens(t *testing.T) {
	// One 3 MB line of numbers: no scanner limit.
	var in strings.Builder
	for i := 0; i < 300000; i++ {
		fmt.Fprintf(&in, "%d ", 1000000+i)
	}
	in.WriteString("\n12\n")
	want, _ := reference(t, in.String(), Options{})
	got, errs, _ := run(t, strings.NewReader(in.String()), Options{Workers: 2})
	if got != want || errs != "" {
		t.Fatal("long line output differs")
	}
	// A 3 MB token is rejected without being kept, and what follows is fine.
	big := "7 " + strings.Repeat("9", 3<<20) + " 8\n" + strings.Repeat("x", 2<<20) + "\n9"
	got, errs, st := run(t, strings.NewReader(big), Options{Workers: 2})
	if got != "7:[]\n8:[2, 4]\n9:[3]\n" || st.Invalid != 2 {
		t.Fatalf("got %q %+v", got, st)
	}
	if !strings.Contains(errs, `line 1: "9999999999999999999999999999999999999999999999999999999999999999…" (`) ||
		!strings.Contains(errs, "is too large") || !strings.Contains(errs, "line 2: \"xxxx") {
		t.Fatalf("errors: %s", errs)
	}
}

func TestDropKey(t *testing.T) {
	in := "0\t12 13\n6\t16\n12\n 9\t25\n4 8\t10\n"
	got, _, _ := run(t, strings.NewReader(in), Options{DropKey: true, Format: Factor})
	want := "12: 2 2 3\n13: 13\n16: 2 2 2 2\n12: 2 2 3\n25: 5 5\n4: 2 2\n8: 2 2 2\n10: 2 5\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestEmptyInput(t *testing.T) {
	for _, in := range []string{"", "\n", "  \t\n\n"} {
		got, errs, st := run(t, strings.NewReader(in), Options{Workers: 2})
		if got != "" || errs != "" || st != (Stats{}) {
			t.Fatalf("%q: got %q %q %+v", in, got, errs, st)
		}
	}
}

func TestFormats(t *testing.T) {
	in := "16 11 1 340282366920938463463374607431768211455 18446744073709551557"
	cases := map[Format]string{
		JSON: `{"n":16,"factors":[2,4,8]}` + "\n" + `{"n":11,"factors":[]}` + "\n" + `{"n":1,"factors":[]}` + "\n",
		TSV:  "16\t2,4,8\n11\t\n1\t\n",
		Factor: "16: 2 2 2 2\n11: 11\n1:\n340282366920938463463374607431768211455: 3 5 17 257 641 65537 274177 6700417 67280421310721\n" +
			"18446744073709551557: 18446744073709551557\n",
	}
	for f, want := range cases {
		got, _, _ := run(t, strings.NewReader(in), Options{Format: f})
		if !strings.HasPrefix(got, want) {
			t.Errorf("%v: got %q", f, got)
		}
	}
}

// A slow writer must not make Run buffer the whole input: the window is
// bounded, so an endless reader is read only so far ahead.
func TestBoundedWindow(t *testing.T) {
	src := &countingReader{}
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 100)
		io.ReadFull(pr, buf) // read a little, then stop reading
		pr.CloseWithError(io.ErrClosedPipe)
	}()
	_, err := Run(context.Background(), src, pw, io.Discard, Options{Workers: 2})
	if err == nil {
		t.Fatal("expected the write error")
	}
	if src.n > 64<<20 {
		t.Fatalf("read %d bytes ahead of a stalled writer", src.n)
	}
}

// countingReader yields "1 2 3 …" forever.
type countingReader struct {
	i int
	n int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	k := 0
	for k+21 < len(p) {
		r.i++
		k += copy(p[k:], fmt.Sprintf("%d\n", r.i))
	}
	r.n += int64(k)
	return k, nil
}

func TestParseToken(t *testing.T) {
	ok := map[string]string{"1": "1", "+12": "12", "007": "7",
		"18446744073709551615": "18446744073709551615", "000000000000000000000000012": "12",
		strings.Repeat("9", factor.MaxDigits):         strings.Repeat("9", factor.MaxDigits),
		"+0" + strings.Repeat("9", factor.MaxDigits):  strings.Repeat("9", factor.MaxDigits),
		"340282366920938463463374607431768211455":     "340282366920938463463374607431768211455",
		"0000340282366920938463463374607431768211455": "340282366920938463463374607431768211455",
		"18446744073709551616":                        "18446744073709551616"}
	for in, want := range ok {
		n, st := parseToken([]byte(in))
		if st != tokOK || n.String() != want {
			t.Errorf("ParseToken(%q) = %v, %v", in, n, st)
		}
	}
	bad := map[string]tokenStatus{"": tokNotInteger, "+": tokNotInteger, "0": tokNotInteger, "000": tokNotInteger,
		"-5": tokNotInteger, "12a": tokNotInteger, "1.5": tokNotInteger, "0x10": tokNotInteger, "++1": tokNotInteger,
		strings.Repeat("9", factor.MaxDigits+1): tokTooLarge, "000" + strings.Repeat("9", factor.MaxDigits+1): tokTooLarge,
		"9999999999999999999999999999999999999999999a": tokNotInteger, "１２": tokNotInteger,
		strings.Repeat("0", 30): tokNotInteger, "+" + strings.Repeat("9", factor.MaxDigits+1) + "x": tokNotInteger}
	for in, want := range bad {
		if _, st := parseToken([]byte(in)); st != want {
			t.Errorf("ParseToken(%q) status %v, want %v", in, st, want)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"1", "+12", "007", "0", "-5", "12a", "1.5", "0x10",
		"340282366920938463463374607431768211455", "340282366920938463463374607431768211456", "18446744073709551616"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, st := parseToken([]byte(s))
		digits := strings.TrimPrefix(s, "+")
		isNum := digits != "" && strings.Trim(digits, "0123456789") == ""
		if !isNum {
			if st != tokNotInteger {
				t.Fatalf("%q: status %v", s, st)
			}
			return
		}
		b, _ := new(big.Int).SetString(digits, 10)
		switch {
		case b.Sign() == 0:
			if st != tokNotInteger {
				t.Fatalf("%q: zero accepted", s)
			}
		case len(b.String()) > factor.MaxDigits:
			if st != tokTooLarge {
				t.Fatalf("%q: status %v, want too large", s, st)
			}
		default:
			if st != tokOK || n.String() != b.String() {
				t.Fatalf("%q: got %v (%v)", s, n, st)
			}
		}
	})
}

// FuzzRun checks the whole input parser (chunking, line numbers, keys)
// against the serial reference on arbitrary bytes, read in small pieces.
func FuzzRun(f *testing.F) {
	f.Add("12 13\n0\t14 +7\n\n 0x10 1.5 99999999999999999999999999999999999999999\n", false)
	f.Add("0\t12\n8\t1 2 3", true)
	f.Add("\r\n\v\f", false)
	f.Fuzz(func(t *testing.T, in string, dropKey bool) {
		for _, tok := range strings.Fields(in) {
			if n, st := parseToken([]byte(tok)); st == tokOK && n.big != nil && n.big.BitLen() > 100 {
				// A random large number can take ECM hours to factor; the
				// parser is what is under test here.
				return
			}
		}
		opt := Options{Workers: 3, DropKey: dropKey, Format: Factor}
		wantOut, wantErr := reference(t, in, opt)
		got, gotErr, _ := run(t, iotest.OneByteReader(strings.NewReader(in)), opt)
		if got != wantOut || gotErr != wantErr {
			t.Fatalf("input %q:\ngot  %q %q\nwant %q %q", in, got, gotErr, wantOut, wantErr)
		}
	})
}

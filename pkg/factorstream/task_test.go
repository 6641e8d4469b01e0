package factorstream

import (
	"bufio"
	"context"
	"io"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hms-toolkit/hms/pkg/factor"
)

// Products of a 14-digit and a 17-digit prime: a few milliseconds of ECM
// each, too long for trial division, so each becomes a task.
var hardNumbers = []string{
	"221201513916583038961836672247", "283815408279922593767125515937",
	"142222533730541398086440140139", "192035724039320396911033757491",
}

// The product of two 40-digit primes: ECM needs hours, so it never
// finishes in a test.
const tooHard = "3142443419509694922703904316225011557604515080316042899120949192357866282678941"

// Hard numbers of one chunk are factored on several workers at once: each
// task waits at the start until another is running too, which never
// happens if one worker takes them all.
func TestTasksRunInParallel(t *testing.T) {
	both := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	running := 0
	opt := Options{Workers: 2, Format: Factor, taskStarted: func(*task) {
		mu.Lock()
		running++
		if running == 2 {
			once.Do(func() { close(both) })
		}
		mu.Unlock()
		select {
		case <-both:
		case <-time.After(time.Minute):
			t.Error("no second task ran beside the first within a minute")
		}
	}}
	in := strings.Join(hardNumbers, " 7\n") + "\n"
	want, _ := reference(t, in, opt)
	got, errs, st := run(t, strings.NewReader(in), opt)
	if got != want || errs != "" || st.Numbers != int64(2*len(hardNumbers)-1) {
		t.Fatalf("got %q, %q, %+v; want %q", got, errs, st, want)
	}
}

// A line is written as soon as the lines before it are: while the second
// number is still being factored, the first is already out, and the third
// waits for the second.
func TestWrittenWhenReady(t *testing.T) {
	release := make(chan struct{})
	opt := Options{Workers: 2, Format: Factor, taskStarted: func(*task) { <-release }}
	pr, pw := io.Pipe()
	done := make(chan error)
	go func() {
		_, err := Run(context.Background(), strings.NewReader("12\n"+hardNumbers[0]+"\n13\n"), pw, io.Discard, opt)
		pw.CloseWithError(err)
		done <- err
	}()
	out := bufio.NewReader(pr)
	if line, err := out.ReadString('\n'); line != "12: 2 2 3\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release)
	rest, err := io.ReadAll(out)
	if err != nil || string(rest) != hardNumbers[0]+": 11989243529407 18449997564402121\n13: 13\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A number past its deadline is given up; the others, tasks too, are not
// affected. The one that must finish has a 20-bit factor that rho finds in
// microseconds, so that the deadline holds a wide margin on a busy machine.
func TestDeadline(t *testing.T) {
	const easyTask = "1152924963371360703540649" // 1000003 × 1152921504606846883, above 2^64
	in := "12 " + tooHard + "\n" + easyTask + " 13\n"
	got, errs, st := run(t, strings.NewReader(in), Options{Workers: 2, Format: Factor, Deadline: 2 * time.Second})
	want := "12: 2 2 3\n" + easyTask + ": 1000003 1152921504606846883\n13: 13\n"
	if got != want || st.Failed != 1 || st.Numbers != 3 {
		t.Fatalf("got %q, %+v", got, st)
	}
	if errs != "hms-factors: line 1: gave up on 31424434195096949227…678941 (79 digits) after 2s\n" {
		t.Fatalf("errors %q", errs)
	}
}

// Stopped while a number is in flight and the grace is over: the lines
// before it are written, and the run says where to resume.
func TestStopInFlight(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	work, giveUp := context.WithCancel(context.Background())
	opt := Options{Workers: 2, Format: Factor, Work: work, taskStarted: func(*task) { stop(); giveUp() }}
	got, _, st := runContext(t, ctx, strings.NewReader("12\n13 "+tooHard+" 14\n15\n"), opt)
	if got != "12: 2 2 3\n13: 13\n" || !st.Stopped || st.ResumeLine != 2 || !st.ResumeMidLine {
		t.Fatalf("got %q, %+v", got, st)
	}
}

// Under --hadoop a status line goes out while the output waits on a long
// search, naming the line.
func TestStatusWhileWaiting(t *testing.T) {
	ticks := make(chan time.Time)
	started := make(chan struct{})
	release := make(chan struct{})
	errs := &syncBuffer{}
	opt := Options{Workers: 2, Format: Factor, statusTicks: ticks, taskStarted: func(*task) {
		close(started)
		<-release
	}}
	done := make(chan error)
	go func() {
		_, err := Run(context.Background(), strings.NewReader("12\n"+hardNumbers[1]+"\n"), io.Discard, errs, opt)
		done <- err
	}()
	<-started
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(errs.String(), "reporter:status:hms-factors: line 2: factoring "+hardNumbers[1]+", ") {
		if time.Now().After(deadline) {
			t.Fatalf("no status line: %q", errs.String())
		}
		select {
		case ticks <- time.Now():
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Numbers above 2^64 with many divisors are listed as the divisors are
// generated (by the writer, in bounded memory), and agree with the list
// made in memory and sorted.
func TestManyDivisorsStreamed(t *testing.T) {
	// 2^70·3^10·5^5·7^3: above 2^64, 71·11·6·4 = 18,744 divisors.
	n := big.NewInt(1)
	for _, pe := range [][2]int64{{2, 70}, {3, 10}, {5, 5}, {7, 3}} {
		n.Mul(n, new(big.Int).Exp(big.NewInt(pe[0]), big.NewInt(pe[1]), nil))
	}
	ps, _ := factor.Factor(context.Background(), n)
	if c, _ := factor.CountDivisors(ps); c <= inlineDivisors {
		t.Fatalf("only %d divisors", c)
	}
	for _, f := range []Format{Divisors, JSON, TSV} {
		got, errs, _ := run(t, strings.NewReader(n.String()+" 12"), Options{Format: f})
		want := string(sortedLine(f, n, ps)) + string((&formatter{format: f}).appendLine64(nil, 12, nil))
		if got != want || errs != "" {
			t.Fatalf("%v: lines differ (%d and %d bytes), %q", f, len(got), len(want), errs)
		}
	}
}

// sortedLine makes the line of n by listing all divisors and sorting them.
func sortedLine(f Format, n *big.Int, ps []*big.Int) []byte {
	ds := []*big.Int{big.NewInt(1)}
	for i := 0; i < len(ps); {
		j := i
		for j < len(ps) && ps[j].Cmp(ps[i]) == 0 {
			j++
		}
		count := len(ds)
		pk := big.NewInt(1)
		for range j - i {
			pk = new(big.Int).Mul(pk, ps[i])
			for _, d := range ds[:count] {
				ds = append(ds, new(big.Int).Mul(d, pk))
			}
		}
		i = j
	}
	slices.SortFunc(ds, (*big.Int).Cmp)
	fm := &formatter{format: f}
	line := fm.head(nil, n.Append(nil, 10))
	for i, d := range ds[1 : len(ds)-1] {
		line = d.Append(fm.sep(line, i == 0), 10)
	}
	return fm.close(line)
}

// More divisors than can be listed: an error in the divisor formats, the
// prime factors in the factor format.
func TestTooManyDivisors(t *testing.T) {
	n := big.NewInt(1)
	for _, p := range firstPrimes(41) {
		n.Mul(n, big.NewInt(p))
	}
	got, errs, st := run(t, strings.NewReader(n.String()+" 12"), Options{Format: TSV})
	if got != "12\t2,3,4,6\n" || st.Failed != 1 || !strings.Contains(errs, "has more than 1099511627776 divisors, too many to list") {
		t.Fatalf("got %q, %q, %+v", got, errs, st)
	}
	got, _, _ = run(t, strings.NewReader(n.String()), Options{Format: Factor})
	if !strings.HasSuffix(got, " 173 179\n") {
		t.Fatalf("got %q", got)
	}
}

func firstPrimes(k int) []int64 {
	var ps []int64
	for c := int64(2); len(ps) < k; c++ {
		if big.NewInt(c).ProbablyPrime(0) {
			ps = append(ps, c)
		}
	}
	return ps
}

// syncBuffer is a strings.Builder that a test can read while Run writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

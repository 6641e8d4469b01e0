// Package factorscmd is the command line of hms-factors. Main is separate from
// package main so the testscript harness can run it in-process.
package factorscmd

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/factorstream"
)

const description = `Prints the divisors of each number, one line per number, in input order:

   $ hms-factors 16 11 1
   16:[2, 4, 8]
   11:[]
   1:[]

Numbers come from the arguments or, with none, from stdin: any whitespace
separates them, any count per line, lines of any length. Every n from 1 to
2^128-1 is handled exactly; anything else is reported on stderr with its line
number, the rest is still processed, and the exit status is 1.

The divisors listed are those from 2 to n/2 (the book's factors_of). Formats:
   divisors  16:[2, 4, 8]                 (default, byte-identical to the book)
   factor    12: 2 2 3                    (prime factors, as GNU factor prints them)
   json      {"n":16,"factors":[2,4,8]}   (exact integers)
   tsv       16<TAB>2,4,8                 (Hadoop key/value)

Hadoop Streaming: use it as the mapper (--format tsv; --drop-key with
NLineInputFormat; --hadoop for counters) and 'hms-factors reduce' as the
reducer. Spark: rdd.pipe("hms-factors --format tsv"); empty input gives
empty output and exit status 0.`

// Main runs hms-factors as the process.
func Main() int { return cmdutil.Main(Run) }

// Run runs hms-factors with args on the given streams.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cmdutil.RunApp(ctx, App(), args, stdin, stdout, stderr)
}

// App is the definition of hms-factors: flags, help and actions.
func App() *cli.App {
	app := cmdutil.NewApp("hms-factors", "divisors and prime factors of numbers, in input order, in parallel")
	app.UsageText = "hms-factors [options] [NUMBER...]\nhms-factors reduce [--summary] [--hadoop] < sorted.tsv"
	app.Description = description
	app.Flags = []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "divisors",
			Usage: "output `FORMAT`: divisors, factor, json or tsv"},
		&cli.IntFlag{Name: "workers", Aliases: []string{"w"}, Value: runtime.GOMAXPROCS(0),
			Usage: "factor on `N` workers (output order is input order regardless)"},
		&cli.BoolFlag{Name: "skip-invalid", Usage: "skip invalid tokens silently (the book's behaviour): only their count is reported, exit status 0"},
		&cli.BoolFlag{Name: "hadoop", Usage: "write Hadoop Streaming counters (reporter:counter:hms-factors,…) to stderr"},
		&cli.BoolFlag{Name: "drop-key", Usage: "drop the first token of each line when a TAB follows it (Hadoop NLineInputFormat's offset<TAB>line)"},
		&cli.BoolFlag{Name: "progress", Usage: "show the count and rate on stderr (only when stderr is a terminal)"},
	}
	app.Action = factors
	usage := app.OnUsageError
	app.OnUsageError = func(c *cli.Context, err error, sub bool) error {
		err = usage(c, err, sub)
		// "-5" reads as an unknown flag: say how to pass it as a number.
		if e, ok := err.(*cmdutil.Error); ok && negativeNumberFlag.MatchString(e.Error()) {
			return e.WithHint("a negative number looks like a flag: put -- before the numbers (hms-factors -- -5); it is not a positive integer anyway")
		}
		return err
	}
	app.Commands = []*cli.Command{{
		Name:      "reduce",
		Usage:     "Hadoop Streaming reducer: merge key-sorted tsv lines, checking duplicates agree",
		UsageText: "hms-factors reduce [--summary] [--hadoop] < sorted.tsv",
		Description: `Reads NUMBER<TAB>DIVISORS lines (hms-factors --format tsv) grouped by key,
as Hadoop hands them to a reducer or sort(1) sorts them, and writes each number
once. Lines for the same number must carry the same divisors: a disagreement
is reported on stderr naming the number, and the exit status is 1.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "summary", Usage: "print totals to stderr: numbers, primes, perfect numbers, the number with the most divisors"},
			&cli.BoolFlag{Name: "hadoop", Usage: "write Hadoop Streaming counters to stderr"},
		},
		Action: reduce,
	}}
	return cmdutil.Prepare(app)
}

func factors(c *cli.Context) error {
	format, err := factorstream.ParseFormat(c.String("format"))
	if err != nil {
		return cmdutil.Fatalf("%v", err).WithHint("see 'hms-factors --help'")
	}
	workers := c.Int("workers")
	if workers < 1 {
		return cmdutil.Fatalf("--workers must be at least 1, not %d", workers)
	}
	opt := factorstream.Options{
		Format:      format,
		Workers:     workers,
		DropKey:     c.Bool("drop-key"),
		SkipInvalid: c.Bool("skip-invalid"),
		Name:        "hms-factors",
		Unit:        "line",
	}
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	if c.Bool("progress") && cmdutil.IsTerminal(stderr) {
		opt.Progress = stderr
	}
	var st factorstream.Stats
	if c.NArg() == 0 {
		st, err = factorstream.Run(c.App.Reader, stdout, stderr, opt)
	} else {
		st, err = factorArgs(c.Args().Slice(), stdout, stderr, opt)
	}
	if c.Bool("hadoop") {
		fmt.Fprintf(stderr, "reporter:counter:hms-factors,numbers,%d\n", st.Numbers)
		fmt.Fprintf(stderr, "reporter:counter:hms-factors,invalid,%d\n", st.Invalid)
	}
	if err != nil {
		if cmdutil.IsBrokenPipe(err) {
			return err
		}
		return cmdutil.Fatalf("%v", err)
	}
	if st.Invalid > 0 {
		if opt.SkipInvalid {
			fmt.Fprintf(stderr, "hms-factors: skipped %d invalid %s\n", st.Invalid, cmdutil.Plural(st.Invalid, "token"))
			return nil
		}
		return cmdutil.Partial
	}
	return nil
}

// factorArgs factors the arguments, one per "line" so that errors name the
// argument. An empty (or blank) argument is no number, as GNU factor says
// too, but the stream would see only whitespace: the runs of arguments
// between blank ones go through the stream in turn, and each blank one is
// reported in its place.
func factorArgs(args []string, stdout, stderr io.Writer, opt factorstream.Options) (factorstream.Stats, error) {
	// Flag parsing stops at the first number; a "--" after it is no number
	// either (GNU factor drops it too).
	if i := slices.Index(args, "--"); i >= 0 {
		args = slices.Delete(slices.Clone(args), i, i+1)
	}
	opt.Unit = "argument"
	var total factorstream.Stats
	for i := 0; i < len(args); {
		if strings.TrimSpace(args[i]) == "" {
			total.Invalid++
			if !opt.SkipInvalid {
				fmt.Fprintf(stderr, "hms-factors: argument %d: %q is not a positive integer\n", i+1, args[i])
			}
			i++
			continue
		}
		j := i
		var run []string
		for ; j < len(args) && strings.TrimSpace(args[j]) != ""; j++ {
			run = append(run, strings.ReplaceAll(args[j], "\n", " "))
		}
		opt.FirstLine = i + 1
		st, err := factorstream.Run(strings.NewReader(strings.Join(run, "\n")+"\n"), stdout, stderr, opt)
		total.Numbers += st.Numbers
		total.Invalid += st.Invalid
		if err != nil {
			return total, err
		}
		i = j
	}
	return total, nil
}

func reduce(c *cli.Context) error {
	if c.NArg() > 0 {
		return cmdutil.Fatalf("reduce reads stdin and takes no arguments").WithHint("hms-factors reduce < sorted.tsv")
	}
	stderr := c.App.ErrWriter
	st, err := factorstream.Reduce(c.App.Reader, c.App.Writer, stderr, factorstream.ReduceOptions{
		Name:    "hms-factors reduce",
		Summary: c.Bool("summary"),
	})
	if c.Bool("hadoop") {
		for _, kv := range []struct {
			name string
			n    int64
		}{
			// Hadoop sums a group's counters over map and reduce tasks, so
			// these must not reuse the mapper's names (numbers, invalid).
			{"keys", st.Numbers}, {"duplicates", st.Duplicates}, {"disagreements", st.Disagree}, {"bad_lines", st.Invalid},
		} {
			fmt.Fprintf(stderr, "reporter:counter:hms-factors,%s,%d\n", kv.name, kv.n)
		}
	}
	if err != nil {
		if cmdutil.IsBrokenPipe(err) {
			return err
		}
		return cmdutil.Fatalf("%v", err)
	}
	if c.Bool("summary") {
		st.WriteSummary(stderr)
	}
	if st.Invalid > 0 || st.Disagree > 0 {
		return cmdutil.Partial
	}
	return nil
}

var negativeNumberFlag = regexp.MustCompile(`^flag provided but not defined: -[0-9]`)

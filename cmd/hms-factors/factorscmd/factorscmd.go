// Package factorscmd is the command line of hms-factors. Main is separate from
// package main so the testscript harness can run it in-process.
package factorscmd

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/factor"
	"github.com/hms-toolkit/hms/pkg/factorstream"
)

var description = fmt.Sprintf(`Prints the divisors of each number, one line per number, in input order:

   $ hms-factors 16 11 1
   16:[2, 4, 8]
   11:[]
   1:[]

Numbers come from the arguments or, with none, from stdin: any whitespace
separates them, any count per line, lines of any length. Every positive
integer of up to %d digits is factored exactly; anything else is reported
on stderr with its line number, the rest is still processed, and the exit
status is 1. Each line is written as soon as the lines before it are: a
number that takes long (the product of two large primes) holds up only
what follows it, while the workers go on with the rest; --deadline gives
up on such a number (reported like an invalid one).

The divisors listed are those from 2 to n/2 (the book's factors_of). Formats:
   divisors  16:[2, 4, 8]                 (default, byte-identical to the book)
   factor    12: 2 2 3                    (prime factors, as GNU factor prints them)
   json      {"n":16,"factors":[2,4,8]}   (exact integers)
   tsv       16<TAB>2,4,8                 (Hadoop key/value)

Hadoop Streaming: use it as the mapper (--format tsv; --drop-key with
NLineInputFormat; --hadoop for counters and status) and 'hms-factors reduce'
as the reducer. Spark: rdd.pipe("hms-factors --format tsv"); empty input
gives empty output and exit status 0.`, factor.MaxDigits)

// hadoopStatusEvery is how often --hadoop reports a task at work on one
// number: well within Hadoop's 600 s task timeout.
const hadoopStatusEvery = time.Minute

// Main runs hms-factors as the process.
func Main() int { return cmdutil.Main(Run) }

// Run runs hms-factors with args on the given streams.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := App()
	hintNegativeNumbers(app, args)
	return cmdutil.RunApp(ctx, app, args, stdin, stdout, stderr)
}

// App is the definition of hms-factors: flags, help and actions.
func App() *cli.App {
	app := cmdutil.NewApp("hms-factors", "divisors and prime factors of numbers, in input order, in parallel")
	app.UsageText = "hms-factors [options] [NUMBER...]\nhms-factors reduce [--summary] [--hadoop] < sorted.tsv"
	app.Description = description
	app.Flags = []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "divisors",
			Usage: "output `FORMAT`: divisors, factor, json or tsv"},
		&cli.IntFlag{Name: "workers", Aliases: []string{"w"}, Value: runtime.GOMAXPROCS(0), DefaultText: "the number of CPUs",
			Usage: "factor on `N` workers (output order is input order regardless)"},
		&cli.DurationFlag{Name: "deadline", DefaultText: "none",
			Usage: "give up on a number not factored after `D` (e.g. 10s): it is reported with its line and left out, exit status 1"},
		&cli.BoolFlag{Name: "skip-invalid", Usage: "skip invalid tokens silently (the book's behaviour): only their count is reported, exit status 0"},
		&cli.BoolFlag{Name: "hadoop", Usage: "write Hadoop Streaming counters (reporter:counter:hms-factors,…) to stderr, and a status line (reporter:status:…) every minute while one number takes long"},
		&cli.BoolFlag{Name: "drop-key", Usage: "drop the first token of each line when a TAB follows it (Hadoop NLineInputFormat's offset<TAB>line)"},
		cmdutil.ProgressFlag("show the count and rate on stderr (only when stderr is a terminal)"),
		cmdutil.StopGraceFlag(),
	}
	app.Action = factors
	app.Commands = []*cli.Command{reduceCommand()}
	return cmdutil.Prepare(app)
}

// hintNegativeNumbers makes a usage error say how to pass a negative
// number when the arguments hold one before "--": urfave/cli reads "-5"
// as an unknown flag.
func hintNegativeNumbers(app *cli.App, args []string) {
	end := len(args)
	if i := slices.Index(args, "--"); i >= 0 {
		end = i
	}
	if !slices.ContainsFunc(args[min(1, end):end], isNegativeNumber) {
		return
	}
	usage := app.OnUsageError
	app.OnUsageError = func(c *cli.Context, err error, sub bool) error {
		err = usage(c, err, sub)
		if e, ok := err.(*cmdutil.Error); ok {
			return e.WithHint("a negative number looks like a flag: put -- before the numbers (hms-factors -- -5); it is not a positive integer anyway")
		}
		return err
	}
}

func isNegativeNumber(arg string) bool {
	return len(arg) > 1 && arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9'
}

func factors(c *cli.Context) error {
	format, err := factorstream.ParseFormat(c.String("format"))
	if err != nil {
		return cmdutil.Fatalf("%v", err).WithHint("see 'hms-factors --help'")
	}
	if workers := c.Int("workers"); workers < 1 {
		return cmdutil.Fatalf("--workers must be at least 1, not %d", workers)
	}
	if d := c.Duration("deadline"); d < 0 {
		return cmdutil.UsageErrorf(c, "--deadline must not be negative, not %v", d)
	}
	ctx := c.Context
	work, cancel := cmdutil.WorkContext(ctx, c.Duration("stop-grace"))
	defer cancel()
	opt := factorstream.Options{
		Format:      format,
		Workers:     c.Int("workers"),
		DropKey:     c.Bool("drop-key"),
		SkipInvalid: c.Bool("skip-invalid"),
		Name:        "hms-factors",
		Unit:        "line",
		Deadline:    c.Duration("deadline"),
		Work:        work,
	}
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	if c.Bool("progress") {
		opt.Progress = stderr
	}
	if c.Bool("hadoop") {
		opt.StatusEvery = hadoopStatusEvery
	}
	var st factorstream.Stats
	if c.NArg() == 0 {
		st, err = factorstream.Run(ctx, c.App.Reader, stdout, stderr, opt)
	} else {
		st, err = factorArgs(ctx, c.Args().Slice(), stdout, stderr, opt)
	}
	if c.Bool("hadoop") {
		fmt.Fprintf(stderr, "reporter:counter:hms-factors,numbers,%d\n", st.Numbers)
		fmt.Fprintf(stderr, "reporter:counter:hms-factors,invalid,%d\n", st.Invalid)
		fmt.Fprintf(stderr, "reporter:counter:hms-factors,failed,%d\n", st.Failed)
	}
	return factorsResult(ctx, st, err, opt.SkipInvalid, c.NArg() > 0, stderr)
}

// factorsResult turns the outcome of a run into the command's error.
func factorsResult(ctx context.Context, st factorstream.Stats, err error, skipInvalid, args bool, stderr io.Writer) error {
	switch {
	case cmdutil.IsBrokenPipe(err):
		return err
	case err != nil:
		return cmdutil.Fatalf("%v", err)
	case st.Stopped:
		return stopped(ctx, st, args)
	case st.Failed > 0:
		return cmdutil.Partial
	case st.Invalid > 0 && skipInvalid:
		fmt.Fprintf(stderr, "hms-factors: skipped %d invalid %s\n", st.Invalid, cmdutil.Plural(st.Invalid, "token"))
	case st.Invalid > 0:
		return cmdutil.Partial
	}
	return nil
}

// stopped is the error of a run stopped by a signal: what was written, and
// where to resume.
func stopped(ctx context.Context, st factorstream.Stats, args bool) error {
	where := "line"
	if args {
		where = "argument"
	}
	if args {
		return cmdutil.Stopped(ctx, "the numbers before %s %d were written, the rest not", where, st.ResumeLine)
	}
	hint := fmt.Sprintf("resume with: tail -n +%d INPUT | hms-factors ...", st.ResumeLine)
	if st.ResumeMidLine {
		return cmdutil.Stopped(ctx, "the lines before line %d and the first numbers of it were written, the rest not", st.ResumeLine).
			WithHint(hint + fmt.Sprintf(" (the first numbers of line %d come out again)", st.ResumeLine))
	}
	return cmdutil.Stopped(ctx, "the lines before line %d were written, the rest not", st.ResumeLine).WithHint(hint)
}

// factorArgs factors the arguments, one per "line" so that errors name the
// argument. An empty (or blank) argument is no number, as GNU factor says
// too, but the stream would see only whitespace: the runs of arguments
// between blank ones go through the stream in turn, and each blank one is
// reported in its place.
func factorArgs(ctx context.Context, args []string, stdout, stderr io.Writer, opt factorstream.Options) (factorstream.Stats, error) {
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
		st, err := factorstream.Run(ctx, strings.NewReader(strings.Join(run, "\n")+"\n"), stdout, stderr, opt)
		total.Numbers += st.Numbers
		total.Invalid += st.Invalid
		total.Failed += st.Failed
		if err != nil || st.Stopped {
			total.Stopped, total.ResumeLine, total.ResumeMidLine = st.Stopped, st.ResumeLine, st.ResumeMidLine
			return total, err
		}
		i = j
	}
	return total, nil
}

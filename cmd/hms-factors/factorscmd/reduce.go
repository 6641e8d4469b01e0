package factorscmd

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/factorstream"
)

func reduceCommand() *cli.Command {
	return &cli.Command{
		Name:      "reduce",
		Usage:     "Hadoop Streaming reducer: merge key-sorted tsv lines, checking every value",
		UsageText: "hms-factors reduce [--summary] [--hadoop] < sorted.tsv",
		Description: `Reads NUMBER<TAB>DIVISORS lines (hms-factors --format tsv) sorted by key,
as Hadoop hands them to a reducer or sort(1) sorts them (text or numeric
order), and writes each number once. Every value is checked by factoring its
key: a list that is not the number's divisors from 2 to n/2 (wrong, unsorted
or malformed), and a key out of order (so that its lines are not together),
are reported on stderr with their line, and the exit status is 1. A right
line whose key is out of order is still written.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v", "summary"}, Usage: "print totals to stderr: numbers, primes, perfect numbers, the number with the most divisors"},
			&cli.BoolFlag{Name: "hadoop", Usage: "write Hadoop Streaming counters to stderr"},
		},
		Action: reduce,
	}
}

func reduce(c *cli.Context) error {
	if c.NArg() > 0 {
		return cmdutil.Fatalf("reduce reads stdin and takes no arguments").WithHint("hms-factors reduce < sorted.tsv")
	}
	stderr := c.App.ErrWriter
	st, err := factorstream.Reduce(c.Context, c.App.Reader, c.App.Writer, stderr, factorstream.ReduceOptions{
		Name:    "hms-factors reduce",
		Summary: c.Bool("verbose"),
		Writer:  "hms-factors --format tsv",
	})
	if c.Bool("hadoop") {
		for _, kv := range []struct {
			name string
			n    int64
		}{
			// Hadoop sums a group's counters over map and reduce tasks, so
			// these must not reuse the mapper's names (numbers, invalid).
			{"keys", st.Numbers}, {"duplicates", st.Duplicates}, {"disagreements", st.Wrong},
			{"out_of_order", st.OutOfOrder}, {"bad_lines", st.Invalid},
		} {
			fmt.Fprintf(stderr, "reporter:counter:hms-factors,%s,%d\n", kv.name, kv.n)
		}
	}
	switch {
	case cmdutil.IsBrokenPipe(err):
		return err
	case err != nil:
		return cmdutil.Fatalf("%v", err)
	case st.Stopped:
		return cmdutil.Stopped(c.Context, "the input from line %d on was not handled", st.ResumeLine).
			WithHint(fmt.Sprintf("resume with: tail -n +%d INPUT | hms-factors reduce", st.ResumeLine))
	}
	if c.Bool("verbose") {
		st.WriteSummary(stderr)
	}
	if st.Invalid > 0 || st.Wrong > 0 || st.OutOfOrder > 0 {
		return cmdutil.Partial
	}
	return nil
}

package storecmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hms-toolkit/hms/pkg/cmdutil"
	"github.com/hms-toolkit/hms/pkg/store"
)

func collectionFlag() cli.Flag {
	return &cli.StringFlag{Name: "collection", Aliases: []string{"c"}, Usage: "collection `NAME` (required)"}
}

func loadFlags() []cli.Flag {
	return append(connFlags(), collectionFlag(),
		&cli.IntFlag{Name: "batch", Value: 1000, Usage: "write `N` documents per bulk write"},
		&cli.StringFlag{Name: "failed", Usage: "write the lines read and not stored to `FILE`, for a rerun"},
		cmdutil.ProgressFlag("show lines read and stored, the rate, and how long the server has been busy (on a terminal)"),
		cmdutil.VerboseFlag("report writes that wait for the server for more than 5s"),
		cmdutil.StopGraceFlag(),
	)
}

const stopHelp = `

SIGINT/SIGTERM stop reading at once; the lines already read are written
for up to --stop-grace, then the write in flight is cut short (a second
signal cuts it at once). The summary says what was stored, and from which
line to run again (--failed FILE gets the lines read and not stored);
storing a line again changes nothing, so running again is harmless.`

func insertCommand() *cli.Command {
	return &cli.Command{
		Name:      "insert",
		Usage:     "store each JSON line of stdin as a document; already stored ones are left as they are",
		UsageText: "hms-store insert --collection NAME [--id-field FIELD | --new-ids] < records.jsonl",
		Description: `Each line is a JSON object. Its _id is the value of --id-field, else the
line's own _id, else an id computed from its content, so storing the same
record again counts as "already present" and changes nothing. Ids are
compared as the server compares them (8 and 8.0 are one id): the first
line with an id is stored. Lines that are not JSON objects or have keys
starting with '$' or containing '.' are rejected (named on stderr); the
rest is stored. A summary goes to stderr.` + stopHelp,
		Flags: append(loadFlags(),
			&cli.StringFlag{Name: "id-field", Usage: "use top-level `FIELD` as the document's _id"},
			&cli.BoolFlag{Name: "new-ids", Usage: "give lines without an _id a new ObjectId, not one computed from their content\n\t(faster on FerretDB; storing the same input again then stores it twice)"},
		),
		Action: func(c *cli.Context) error {
			if c.IsSet("id-field") && c.Bool("new-ids") {
				return cmdutil.UsageErrorf(c, "--id-field and --new-ids exclude each other")
			}
			return load(c, store.LoadOptions{Mode: store.Insert, IDField: c.String("id-field"), NewIDs: c.Bool("new-ids")})
		},
	}
}

func upsertCommand() *cli.Command {
	return &cli.Command{
		Name:      "upsert",
		Usage:     "store each JSON line of stdin as the new state of the record with its key",
		UsageText: "hms-store upsert --collection NAME --key FIELDS [--mode replace|merge] < records.jsonl",
		Description: `Each line is a JSON object identified by its --key fields. --mode replace
(default) makes the line the whole document; --mode merge sets the line's
top-level fields and keeps the others. New keys are inserted in bulk; a
unique index on the key fields (created if missing) tells which keys exist,
and only those cost a per-document update. On the dev server (FerretDB)
such updates are slow: see docs/hms-store.md, and --progress.` + stopHelp,
		Flags: append(loadFlags(),
			&cli.StringFlag{Name: "key", Usage: "top-level `FIELDS` F[,G...] that identify a record (required)"},
			&cli.StringFlag{Name: "mode", Value: "replace", Usage: "`MODE`: replace (the line becomes the whole document) or merge (set the line's fields, keep the others)"},
			&cli.BoolFlag{Name: "no-index", Usage: "do not create the unique index on the key (every line is then a slow single upsert)"},
		),
		Action: func(c *cli.Context) error {
			if err := cmdutil.Require(c, "collection", "key"); err != nil {
				return err
			}
			o := store.LoadOptions{Keys: splitList(c.String("key")), NoIndex: c.Bool("no-index")}
			switch c.String("mode") {
			case "replace":
				o.Mode = store.Replace
			case "merge":
				o.Mode = store.Merge
			default:
				return cmdutil.UsageErrorf(c, "--mode must be replace or merge, not %q", c.String("mode"))
			}
			if len(o.Keys) == 0 {
				return cmdutil.UsageErrorf(c, "--key names no field")
			}
			return load(c, o)
		},
	}
}

// load runs insert or upsert: flags, the load itself, the summary.
func load(c *cli.Context, o store.LoadOptions) error {
	if c.NArg() > 0 {
		return cmdutil.Fatalf("unexpected argument %q (input is read from stdin)", c.Args().First()).
			WithHint("hms-store " + c.Command.Name + " -c COLLECTION < records.jsonl")
	}
	var err error
	if o.Collection, err = checkCollection(c); err != nil {
		return err
	}
	if o.Batch = c.Int("batch"); o.Batch <= 0 {
		return cmdutil.UsageErrorf(c, "--batch must be positive")
	}
	out := newConsole(c)
	lr := &loadRun{c: c, o: &o, out: out}
	if path := c.String("failed"); path != "" {
		f, err := cmdutil.CreateOutput("--failed", path, c.App.Reader)
		if err != nil {
			return err
		}
		defer f.Close()
		lr.failed, lr.failedFile = bufio.NewWriter(f), f
		o.KeepText = true
	}
	lr.hook()
	cl, err := connect(c)
	if err != nil {
		return err
	}
	defer closeClient(cl)
	work, cancel := cmdutil.WorkContext(c.Context, c.Duration("stop-grace"))
	defer cancel()
	o.Stop = c.Context.Done() // the first signal stops the reading; writes run on under work
	defer out.noticeStop(c, func() bool { return o.Meter.Waiting() > 0 }, "the lines read get up to %v to be written")()
	stopProgress := out.startProgress(c, o.Meter.Written, "line", lr.status)
	st, err := cl.Load(work, c.App.Reader, o)
	stopProgress()
	return lr.finish(st, err, work)
}

// loadRun is what load reports while it runs and when it ends.
type loadRun struct {
	c          *cli.Context
	o          *store.LoadOptions
	out        *console
	failed     *bufio.Writer // --failed
	failedFile *os.File
	failedN    int64
	failedErr  error
	retrying   bool
}

// hook sets the load's callbacks: lines not stored, retries, slow writes.
func (r *loadRun) hook() {
	o, out := r.o, r.out
	o.Meter = &store.Meter{}
	o.Report = func(e store.LineError) {
		if e.Outcome != store.NotStored {
			out.printf("%v", e)
		}
		if r.failed != nil && e.Outcome != store.Rejected && r.failedErr == nil {
			r.failed.Write(e.Text)
			r.failedErr = r.failed.WriteByte('\n')
			r.failedN++
		}
	}
	o.OnRetry = func(err error) {
		if !r.retrying {
			out.printf("write failed, retrying for up to %v: %v", r.c.Duration(flagRetryFor), err)
			r.retrying = true
		}
	}
	o.Progress = func(store.Stats) {
		if r.retrying {
			out.printf("writing again")
			r.retrying = false
		}
	}
	if r.c.Bool("verbose") {
		o.OnSlowWrite = func(w store.SlowWrite) {
			what := fmt.Sprintf("lines %d-%d: %d %s", w.First, w.Last, w.Docs, cmdutil.Plural(w.Docs, w.Kind))
			if w.Done {
				out.printf("%s took %v", what, w.Waited.Round(time.Second/10))
				return
			}
			out.printf("%s waiting for the server for %v", what, w.Waited.Round(time.Second))
			out.slowHint(w.Kind != "insert")
		}
	}
}

func (r *loadRun) status() string {
	m := r.o.Meter
	return fmt.Sprintf("%s: read %d, stored %d%s", r.c.App.Name, m.Read(), m.Written(), waitingText(m.Waiting()))
}

// finish prints the summary and returns the load's outcome.
func (r *loadRun) finish(st store.Stats, err error, work context.Context) error {
	if r.failed != nil {
		if ferr := r.failed.Flush(); r.failedErr == nil {
			r.failedErr = ferr
		}
	}
	summary := fmt.Sprintf("read %d, inserted %d", st.Read, st.Inserted)
	if r.o.Mode != store.Insert {
		summary += fmt.Sprintf(", updated %d", st.Updated)
	}
	summary += fmt.Sprintf(", already present %d, rejected %d, failed %d", st.Present, st.Rejected, st.Failed)
	if st.NotStored > 0 {
		summary += fmt.Sprintf(", not stored %d", st.NotStored)
	}
	r.out.printf("%s", summary)
	switch {
	case r.failedErr != nil:
		return cmdutil.Fatalf("--failed %s: %v", r.c.String("failed"), r.failedErr)
	case err == nil && st.Rejected+st.Failed > 0:
		return cmdutil.Partial
	case err == nil:
		return nil
	case cmdutil.StopSignal(r.c.Context) != nil:
		return r.stopped(st, work)
	case errors.Is(err, store.ErrIndex):
		return cmdutil.Fatalf("%v", err).WithHint("remove the duplicate keys, or pass --no-index")
	case errors.Is(err, store.ErrNamespace):
		return cmdutil.Fatalf("%v", err).WithHint("choose another --collection")
	}
	where, hint := r.rerun(st, nil)
	return cmdutil.Fatalf("%v; %s", err, where).WithHint(hint)
}

// stopped is the error of a load that a signal stopped before it was done.
func (r *loadRun) stopped(st store.Stats, work context.Context) error {
	where, hint := r.rerun(st, context.Cause(work))
	return cmdutil.Stopped(r.c.Context, "%s", where).WithHint(hint)
}

// rerun says which lines were not stored, and how to finish the job; cut
// is why the write in flight was cut short, if known.
func (r *loadRun) rerun(st store.Stats, cut error) (where, hint string) {
	if st.NotStored > 0 {
		where = fmt.Sprintf("%d of the lines read %s not stored, from line %d on", st.NotStored, wasWere(st.NotStored), st.FirstNotStored)
		if st.MaybeStored > 0 && cut != nil {
			where += fmt.Sprintf(" (the server may have stored the %d of the write cut short; %v)", st.MaybeStored, cut)
		} else if st.MaybeStored > 0 {
			where += fmt.Sprintf(" (the server may have stored the %d of the write cut short)", st.MaybeStored)
		}
	} else {
		where = "every line read was stored or rejected"
	}
	if !st.AtEOF {
		where += fmt.Sprintf("; the input after line %d was not read", st.LastLine)
	}
	command := "hms-store " + r.c.Command.Name + " ..."
	switch {
	case r.failedN > 0 && st.AtEOF:
		where += fmt.Sprintf("; %s in %s", theLines(r.failedN), r.c.String("failed"))
		hint = fmt.Sprintf("store %s: %s < %s", r.c.String("failed"), command, r.c.String("failed"))
	case r.failedN > 0:
		where += fmt.Sprintf("; %s in %s", theLines(r.failedN), r.c.String("failed"))
		hint = fmt.Sprintf("store %s, then the input from line %d on (tail -n +%d INPUT | %s)",
			r.c.String("failed"), st.LastLine+1, st.LastLine+1, command)
	default:
		from := st.LastLine + 1
		if st.NotStored > 0 {
			from = st.FirstNotStored
		}
		hint = fmt.Sprintf("run again from line %d: tail -n +%d INPUT | %s", from, from, command)
	}
	if r.o.NewIDs {
		return where, hint + "; but with --new-ids a line stored again is stored twice"
	}
	return where, hint + "; storing a line again changes nothing, so running again is harmless"
}

// theLines names the lines written to --failed.
func theLines(n int64) string {
	return fmt.Sprintf("the %d %s not stored %s", n, cmdutil.Plural(n, "line"), isAre(n))
}

func wasWere(n int64) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func isAre(n int64) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
